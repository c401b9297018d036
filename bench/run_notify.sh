#!/usr/bin/env bash
# Notification benchmark: alerts -> grouping -> webhook fan-out, alertd side by side with
# Alertmanager 0.25 in the same run (ratios against Alertmanager in every table). Not part of
# the test suite. bench/notify.py is the shared load script (plus --sink and two derived
# timings).
#
# The sink: both targets of a run post to the same sink process, bench/notify_sink.cc, built
# here with the system compiler (SINK=py uses bench/sink.py instead). It records exactly what
# sink.py records (CLOCK_MONOTONIC timestamp once a body is read, per-groupKey first/last
# notification, alert counts, distinct label sets) and answers the same control endpoints,
# but costs about 18 us of CPU per webhook POST where sink.py costs about 50 us and tops out
# near 20,000 POSTs/s on one core: on a 2-core machine sink.py took a large share of the
# CPU a 10,000-notification burst has, capping both targets.
#
#   bench/run_notify.sh [path/to/alertd]      # default: build-release/alertd
#
# Workloads (group_wait 1s, group_by [group], one webhook receiver, send_resolved false):
#   1. 10,000 alerts over 500 groups (20 per group): POST -> last notification at the sink.
#   2. 10,000 one-alert groups (Alertmanager's measured baseline: 3.49 s, 0.42 ms CPU per
#      notification, 562 MiB RSS).
# Reported per target: POST -> last group's notification, CPU seconds and CPU ms per
# notification, RSS peak. Env: RUNS (default 3), QUICK=1 (smoke run), SINK=py,
# BENCH_RESULTS_DIR, HISTORY=1: alertd with its history (the default) against
# alertd-nohistory (storage.history_retention: 0s) instead of Alertmanager.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
RUNS=${RUNS:-3}
ALERTD=${1:-$(cd .. && pwd)/build-release/alertd}
[[ -x "$ALERTD" ]] || { echo "no alertd binary at $ALERTD (build with -DCMAKE_BUILD_TYPE=Release)" >&2; exit 2; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

SINK_ARGS=()
if [[ "${SINK:-c}" != py ]]; then
  sink_src=$(pwd)/notify_sink.cc
  sink_bin=${TMPDIR:-/tmp}/alertd-notify-sink-$(sha1sum "$sink_src" | cut -c1-12)
  if [[ ! -x "$sink_bin" ]]; then
    c++ -O2 -std=c++20 -pthread "$sink_src" -o "$sink_bin.tmp.$$" && mv "$sink_bin.tmp.$$" "$sink_bin"
  fi
  SINK_ARGS=(--sink "$sink_bin")
fi

AM_CMD="prometheus-alertmanager --config.file={config} --storage.path={datadir} --web.listen-address={listen} --cluster.listen-address= --log.level=warn"
ALERTD_CMD="$ALERTD --config {config} --storage {datadir}/alertd.db --listen {listen} --log-level warn"
TARGETS=(--target alertmanager "http://127.0.0.1:$(port)" "$AM_CMD"
         --target alertd "http://127.0.0.1:$(port)" "$ALERTD_CMD")

if [[ "${HISTORY:-0}" == 1 ]]; then
  NOHIST_CMD="sh -c 'cp {config} {workdir}/nohistory.yml && printf \"storage:\\n  history_retention: 0s\\n\" >>{workdir}/nohistory.yml && exec $ALERTD --config {workdir}/nohistory.yml --storage {datadir}/alertd.db --listen {listen} --log-level warn'"
  TARGETS=(--target alertd-nohistory "http://127.0.0.1:$(port)" "$NOHIST_CMD"
           --target alertd "http://127.0.0.1:$(port)" "$ALERTD_CMD")
fi
if [[ "${QUICK:-0}" == 1 ]]; then
  "$PY" notify.py "${TARGETS[@]}" "${SINK_ARGS[@]}" --runs 1 -G 100 -A 5 --group-wait 1s --no-save
  exit 0
fi
"$PY" notify.py "${TARGETS[@]}" "${SINK_ARGS[@]}" --runs "$RUNS" -G 500 -A 20 --group-wait 1s --group-interval 1s
"$PY" notify.py "${TARGETS[@]}" "${SINK_ARGS[@]}" --runs "$RUNS" -G 10000 -A 1 --group-wait 1s --group-interval 1s
