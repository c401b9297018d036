#!/usr/bin/env bash
# Starts alertd on the benchmark's PostgreSQL server (bench/run_ingest.sh starts the server and
# exports BENCH_ALERTD, BENCH_PG_DIR, BENCH_PG_PORT): a fresh database per run, named after
# the run's work directory, and alertd.yml = the benchmark's Alertmanager config plus
# storage.postgres. Replaces itself with alertd, so the PID bench/ingest.py holds is alertd's.
#
#   bench/pg_alertd.sh CONFIG DATADIR LISTEN
set -euo pipefail
config=$1 datadir=$2 listen=$3
: "${BENCH_ALERTD:?} ${BENCH_PG_DIR:?} ${BENCH_PG_PORT:?}"
db=bench_$(basename "$(dirname "$datadir")" | tr -c 'A-Za-z0-9\n' _ | tr 'A-Z' 'a-z')
as_pg=()
[[ $(id -u) == 0 ]] && as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
"${as_pg[@]}" psql -X -q -v ON_ERROR_STOP=1 -h "$BENCH_PG_DIR" -p "$BENCH_PG_PORT" -U postgres \
  -d postgres -c "CREATE DATABASE $db OWNER alertd" >&2
{
  cat "$config"
  printf 'storage:\n  postgres:\n    dsn: "host=127.0.0.1 port=%s dbname=%s user=alertd"\n' \
    "$BENCH_PG_PORT" "$db"
  printf '    password_file: %s/alertd-password\n' "$BENCH_PG_DIR"
} >"$datadir/alertd-pg.yml"
exec "$BENCH_ALERTD" --config "$datadir/alertd-pg.yml" --storage "$datadir/alertd.db" \
  --listen "$listen" --log-level warn
