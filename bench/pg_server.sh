# Sourced by the benchmarks that run alertd on PostgreSQL: starts a PostgreSQL 15 server on
# 127.0.0.1 (a free port, a temporary directory, Debian's default settings: fsync and
# synchronous_commit on), with a user `alertd` whose password is in $PGDIR/alertd-password,
# and stops it when the sourcing script exits. Sets PGDIR, PGPORT, PGBIN and as_pg (runs a
# command as the postgres user when the script runs as root). Needs `port` (prints a free
# port) defined before.
# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
PGBIN=/usr/lib/postgresql/15/bin
[[ -x $PGBIN/postgres ]] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql)" >&2; exit 2; }
as_pg() { if [[ $(id -u) == 0 ]]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi; }
PGDIR=$(mktemp -d /tmp/alertd-bench-pg-XXXXXX)  # under /tmp: the postgres user must reach it
PGPORT=$(port)
stop_pg() {
  [[ -f $PGDIR/data/postmaster.pid ]] && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null
  rm -rf "$PGDIR"
}
trap stop_pg EXIT
[[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDIR"
head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$PGDIR/alertd-password"
chmod 600 "$PGDIR/alertd-password"; [[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDIR/alertd-password"
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --pwfile="$PGDIR/alertd-password" >"$PGDIR/initdb.log"
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
  -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDIR" start >/dev/null
as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$PGPORT" -U postgres -d postgres \
  -c "CREATE USER alertd PASSWORD '$(cat "$PGDIR/alertd-password")'"
