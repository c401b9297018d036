#!/usr/bin/env bash
# Rule evaluation spread over alertd replicas (bench/rules/rule_spread.py): R rules on one node,
# then on NODES nodes sharing one PostgreSQL, CPU per evaluation cycle per node. Not part of
# the test suite.
#
#   bench/rules/run_rule_spread.sh [path/to/alertd]    # default: build-release/alertd
# Env: RULES (default 5000), NODES (3), RUNS (3), WINDOW (60), WARMUP (50).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
ALERTD=${1:-$(cd ../.. && pwd)/build-release/alertd}
[[ -x "$ALERTD" ]] || { echo "no alertd binary at $ALERTD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
source ../pg_server.sh  # PGDIR, PGPORT; stopped on exit
"$PY" rule_spread.py --alertd "$ALERTD" --pg-dir "$PGDIR" --pg-port "$PGPORT" \
  --rules "${RULES:-5000}" --nodes "${NODES:-3}" --runs "${RUNS:-3}" \
  --window "${WINDOW:-60}" --warmup "${WARMUP:-50}"
