#!/usr/bin/env bash
# Notification benchmark: alerts -> grouping -> webhook fan-out, alertd side by side with
# Alertmanager 0.25 in the same run (ratios against Alertmanager in every table). Not part of
# the test suite. bench/notify.py and bench/sink.py are the shared load scripts, unchanged.
#
#   bench/run_notify.sh [path/to/alertd]      # default: build-release/alertd
#
# Workloads (group_wait 1s, group_by [group], one webhook receiver, send_resolved false):
#   1. 10,000 alerts over 500 groups (20 per group): POST -> last notification at the sink.
#   2. 10,000 one-alert groups (Alertmanager's measured baseline: 3.49 s, 0.42 ms CPU per
#      notification, 562 MiB RSS).
# Reported per target: POST -> last group's notification, CPU seconds and CPU ms per
# notification, RSS peak. Env: RUNS (default 3), QUICK=1 (smoke run), BENCH_RESULTS_DIR.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
RUNS=${RUNS:-3}
ALERTD=${1:-$(cd .. && pwd)/build-release/alertd}
[[ -x "$ALERTD" ]] || { echo "no alertd binary at $ALERTD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

AM_CMD="prometheus-alertmanager --config.file={config} --storage.path={datadir} --web.listen-address={listen} --cluster.listen-address= --log.level=warn"
ALERTD_CMD="$ALERTD --config {config} --storage {datadir}/alertd.db --listen {listen} --log-level warn"
TARGETS=(--target alertmanager "http://127.0.0.1:$(port)" "$AM_CMD"
         --target alertd "http://127.0.0.1:$(port)" "$ALERTD_CMD")

if [[ "${QUICK:-0}" == 1 ]]; then
  "$PY" notify.py "${TARGETS[@]}" --runs 1 -G 100 -A 5 --group-wait 1s --no-save
  exit 0
fi
"$PY" notify.py "${TARGETS[@]}" --runs "$RUNS" -G 500 -A 20 --group-wait 1s --group-interval 1s
"$PY" notify.py "${TARGETS[@]}" --runs "$RUNS" -G 10000 -A 1 --group-wait 1s --group-interval 1s
