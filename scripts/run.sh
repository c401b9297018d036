#!/usr/bin/env bash
# Sets up alertd (Debian packages, release build) and runs the demo: a local Prometheus
# scraping a demo exporter that goes down after 30 s, alertd on examples/alertd.yml with its
# embedded SQLite database (data/alertd.db), and a sink standing in for Slack, PagerDuty, a
# webhook receiver and an SMTP server. Watch TargetDown go pending -> firing -> notified;
# acknowledge it with the curl line the README gives; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p data/demo
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
/usr/bin/python3 examples/demo/sink.py --port 19099 --smtp-port 12525 & pids+=($!)
/usr/bin/python3 examples/demo/exporter.py --port 19100 --up-for 30 --down-for "${DEMO_DOWN_FOR:-300}" & pids+=($!)
prometheus --config.file=examples/demo/prometheus.yml --storage.tsdb.path=data/demo/prometheus \
  --web.listen-address=127.0.0.1:19090 >data/demo/prometheus.log 2>&1 & pids+=($!)
echo "demo: Prometheus on http://127.0.0.1:19090 (log: data/demo/prometheus.log), alertd on http://127.0.0.1:9095"
build/alertd --config examples/alertd.yml "$@"
