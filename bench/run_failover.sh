#!/usr/bin/env bash
# Failover of alertd replicas (cluster:) on one PostgreSQL: kill -9 of the node owning a
# group, then the time until that group's next due notification arrives from the node that
# took it over (bench/failover.py). Not part of the test suite.
#
#   bench/run_failover.sh [path/to/alertd]      # default: build-release/alertd
# Env: RUNS (default 5), LEASE (default 15s), NODES (default 3).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
ALERTD=${1:-$(cd .. && pwd)/build-release/alertd}
[[ -x "$ALERTD" ]] || { echo "no alertd binary at $ALERTD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
source ./pg_server.sh  # PGDIR, PGPORT; stopped on exit
"$PY" failover.py --alertd "$ALERTD" --pg-dir "$PGDIR" --pg-port "$PGPORT" \
  --runs "${RUNS:-5}" --lease "${LEASE:-15s}" --nodes "${NODES:-3}"
