#!/usr/bin/python3
"""Starts alertd for the rule-evaluation benchmark with vmalert-style flags.

The shared harness (../shared/bench/rules/rules_bench.py) starts each evaluator from one
command with placeholders ({datasource_url} {rule_file} {interval} {listen} {workdir}) and
measures the PID it started. alertd takes a config file, so this writes one into the run's
work directory and then exec()s alertd in place: the PID, and so every CPU and RSS number,
is alertd's own.

  alertd_rules_launch.py --alertd BIN --datasource-url URL --rule FILE --interval 15s \
      --listen 127.0.0.1:PORT --workdir DIR [--max-concurrent-queries N] \
      [--remote-write-url URL] [--external-label NAME=VALUE ...]

--remote-write-url adds one `remote_write:` entry (default queue settings), so recording rules
are evaluated and their samples, ALERTS and ALERTS_FOR_STATE are sent there;
--external-label sets evaluation.external_labels (added to those series and to alerts).
"""
import argparse
import json
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
ap.add_argument("--remote-write-url")
ap.add_argument("--external-label", action="append", default=[], metavar="NAME=VALUE")
a = ap.parse_args()
ext = [x.split("=", 1) for x in a.external_label]
if any(len(x) != 2 or not x[0] for x in ext):
    ap.error("--external-label takes NAME=VALUE")

os.makedirs(a.workdir, exist_ok=True)
cfg = os.path.join(a.workdir, "alertd.yml")
# JSON strings are valid YAML scalars, so values need no escaping rules of their own.
external_labels = ("  external_labels:\n" if ext else "") + "".join(
    "    %s: %s\n" % (json.dumps(k), json.dumps(v)) for k, v in ext)
with open(cfg, "w") as f:
    f.write("""datasource:
  url: %s
  timeout: 10s
  max_concurrent_queries: %d
evaluation:
  interval: %s
%srule_files:
  - '%s'
storage:
  path: %s
server:
  listen: %s
route:
  receiver: none
receivers:
  - name: none
%s""" % (a.datasource_url, a.max_concurrent_queries, a.interval,
       external_labels,
       a.rule, os.path.join(a.workdir, "alertd.db"), a.listen,
       "remote_write:\n  - url: %s\n" % json.dumps(a.remote_write_url) if a.remote_write_url else ""))
os.execv(a.alertd, [a.alertd, "--config", cfg, "--log-level", a.log_level])
