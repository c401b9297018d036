#!/usr/bin/env bash
# alertd's rule engine vs vmalert, same Prometheus, same generated rules (1,000 and 5,000
# alerting rules, 50 per group, 15 s interval). Needs a Release build of alertd:
#   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-release --target alertd
#   bench/rules/run_rules_bench.sh                 # RUNS=3 RULES=1000,5000 by default
# Remote write: 4,000 alerting + 1,000 recording rules, both targets writing to a receiving
# Prometheus (--web.enable-remote-write-receiver), checked at the receiver after each run:
#   RULES=5000 bench/rules/run_rules_bench.sh --recording 1000 --remote-write
# Env: RUNS, RULES, ALERTD (binary), SHARED_BENCH (the shared harness, default ../shared/bench)
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-3}
RULES=${RULES:-1000,5000}
ALERTD=${ALERTD:-../../build-release/alertd}
exec /usr/bin/python3 rules_engine_bench.py --alertd "$ALERTD" --rules "$RULES" --runs "$RUNS" \
  --interval 15 --warmup 50 --window 60 "$@"
