#!/usr/bin/python3
"""Starts alertd for the rule-evaluation benchmark with vmalert-style flags.

The shared harness (../shared/bench/rules/rules_bench.py) starts each evaluator from one
command with placeholders ({datasource_url} {rule_file} {interval} {listen} {workdir}) and
measures the PID it started. alertd takes a config file, so this writes one into the run's
work directory and then exec()s alertd in place: the PID, and so every CPU and RSS number,
is alertd's own.

  alertd_rules_launch.py --alertd BIN --datasource-url URL --rule FILE --interval 15s \
      --listen 127.0.0.1:PORT --workdir DIR [--max-concurrent-queries N]
"""
import argparse
import os

ap = argparse.ArgumentParser()
ap.add_argument("--alertd", required=True)
ap.add_argument("--datasource-url", required=True)
ap.add_argument("--rule", required=True)
ap.add_argument("--interval", default="15s")
ap.add_argument("--listen", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--max-concurrent-queries", type=int, default=8)
ap.add_argument("--log-level", default="warn")
a = ap.parse_args()

os.makedirs(a.workdir, exist_ok=True)
cfg = os.path.join(a.workdir, "alertd.yml")
with open(cfg, "w") as f:
    f.write("""datasource:
  url: %s
  timeout: 10s
  max_concurrent_queries: %d
evaluation:
  interval: %s
rule_files:
  - '%s'
storage:
  path: %s
server:
  listen: %s
route:
  receiver: none
receivers:
  - name: none
""" % (a.datasource_url, a.max_concurrent_queries, a.interval, a.rule,
       os.path.join(a.workdir, "alertd.db"), a.listen))
os.execv(a.alertd, [a.alertd, "--config", cfg, "--log-level", a.log_level])
