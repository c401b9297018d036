#!/usr/bin/env bash
# Ingest benchmark: Alertmanager 0.25, alertd on SQLite and alertd on PostgreSQL 15 side by
# side in the same run (ratios against Alertmanager in every table, and alertd-pg against
# alertd). Not part of the test suite.
#
#   bench/run_ingest.sh [path/to/alertd]      # default: build-release/alertd
#
# Workloads (bench/ingest.py, copied from the shared load scripts):
#   1. 10,000 distinct alerts re-posted each round (as Prometheus resends), batches of 64,
#      10 rounds, 4 keep-alive connections: alerts/s, POST p50/p99, CPU us per alert.
#   2. 50,000 distinct alerts, 3 rounds: RSS at 50k, and GET /api/v2/alerts of 50,000 alerts.
#   3. 100,000 distinct alerts, 2 rounds: RSS with 100,000 active alerts.
# alertd-pg stores into a PostgreSQL 15 server this script starts on 127.0.0.1 (a free port, a
# temporary directory, Debian's default settings: fsync and synchronous_commit on) and stops at
# the end; each run gets a fresh database (bench/pg_alertd.sh). The PostgreSQL server's CPU
# (postmaster and all its processes) is reported beside alertd-pg's own.
# Env: RUNS (default 3), QUICK=1 (tiny smoke run), BENCH_RESULTS_DIR (results as json/md),
# HISTORY=1: only alertd with its history (the default) against alertd-nohistory
# (storage.history_retention: 0s), the cost of recording the history.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
RUNS=${RUNS:-3}
ALERTD=${1:-$(cd .. && pwd)/build-release/alertd}
[[ -x "$ALERTD" ]] || { echo "no alertd binary at $ALERTD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

source ./pg_server.sh  # PGDIR, PGPORT; stopped on exit
export BENCH_ALERTD=$ALERTD BENCH_PG_DIR=$PGDIR BENCH_PG_PORT=$PGPORT

AM_CMD="prometheus-alertmanager --config.file={config} --storage.path={datadir} --web.listen-address={listen} --cluster.listen-address= --log.level=warn"
# {datadir} is a fresh empty directory per run; alertd's database goes inside it.
ALERTD_CMD="$ALERTD --config {config} --storage {datadir}/alertd.db --listen {listen} --log-level warn"
ALERTD_PG_CMD="$PWD/pg_alertd.sh {config} {datadir} {listen}"
TARGETS=(--target alertmanager "http://127.0.0.1:$(port)" "$AM_CMD"
         --target alertd "http://127.0.0.1:$(port)" "$ALERTD_CMD"
         --target alertd-pg "http://127.0.0.1:$(port)" "$ALERTD_PG_CMD"
         --pg-target alertd-pg --pg-pidfile "$PGDIR/data/postmaster.pid" --ratio alertd-pg/alertd)

if [[ "${HISTORY:-0}" == 1 ]]; then
  NOHIST_CMD="sh -c 'cp {config} {workdir}/nohistory.yml && printf \"storage:\\n  history_retention: 0s\\n\" >>{workdir}/nohistory.yml && exec $ALERTD --config {workdir}/nohistory.yml --storage {datadir}/alertd.db --listen {listen} --log-level warn'"
  TARGETS=(--target alertd-nohistory "http://127.0.0.1:$(port)" "$NOHIST_CMD"
           --target alertd "http://127.0.0.1:$(port)" "$ALERTD_CMD" --ratio alertd/alertd-nohistory)
  echo "== ingest, history on and off: 10k distinct alerts, batches of 64, 10 rounds, 4 connections"
  "$PY" ingest.py "${TARGETS[@]}" --runs "$RUNS" -N 10000 -B 64 -R 10 -C 4
  echo "== ingest, history on and off: 10k new alerts per round (every alert a 'received' event)"
  "$PY" ingest.py "${TARGETS[@]}" --runs "$RUNS" -N 10000 -B 64 -R 1 -C 4
  exit 0
fi
if [[ "${QUICK:-0}" == 1 ]]; then
  "$PY" ingest.py "${TARGETS[@]}" --runs 1 -N 2000 -R 2 --no-save
  exit 0  # the EXIT trap stops PostgreSQL
fi
echo "== ingest: 10k distinct alerts, batches of 64, 10 rounds, 4 connections"
"$PY" ingest.py "${TARGETS[@]}" --runs "$RUNS" -N 10000 -B 64 -R 10 -C 4
echo "== ingest: 50k distinct alerts, batches of 64, 3 rounds, 4 connections (RSS, GET of 50k)"
"$PY" ingest.py "${TARGETS[@]}" --runs "$RUNS" -N 50000 -B 64 -R 3 -C 4
echo "== ingest: 100k distinct alerts, 2 rounds (RSS with 100,000 active alerts)"
"$PY" ingest.py "${TARGETS[@]}" --runs 1 -N 100000 -B 64 -R 2 -C 4
