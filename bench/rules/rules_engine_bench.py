#!/usr/bin/python3
"""alertd's rule engine vs vmalert on the same rules and the same Prometheus.

Runs the shared harness (../shared/bench/rules/rules_bench.py: exporter with 20 000 series,
Prometheus scraping it, generated rule files) with two targets, vmalert first (the ratio
baseline) and alertd. Every option of rules_bench.py is accepted, plus --alertd BIN.

alertd keeps the alerts it evaluates in its own store instead of POSTing them to an
Alertmanager, so the notifier sink sees none of them; for alertd the alert check counts the
firing alerts of its Prometheus-compatible /api/v1/alerts instead (as the harness does for
Prometheus's own rule manager).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "..", "shared", "bench"))
sys.path.insert(0, os.path.join(SHARED, "rules"))
sys.path.insert(0, SHARED)
import benchlib as bl  # noqa: E402
import rules_bench as rb  # noqa: E402

OWN_API_TARGETS = set()  # base URLs whose alerts are read from /api/v1/alerts

_measure = rb.measure


def measure(infra, eval_metrics_url, pid, n_rules, extra_pids):
    res = _measure(infra, eval_metrics_url, pid, n_rules, extra_pids)
    base = eval_metrics_url[: -len("/metrics")]
    if base in OWN_API_TARGETS:
        st, body = bl.http_request(base + "/api/v1/alerts")
        firing = sum(1 for x in json.loads(body)["data"]["alerts"] if x.get("state") == "firing")
        res["sink_distinct_alerts"] = res["distinct_alerts"]
        res["distinct_alerts"] = firing
        res["alerts_ok"] = firing == n_rules
    return res


rb.measure = measure


def main():
    argv = sys.argv[1:]
    alertd = os.path.join(HERE, "..", "..", "build-release", "alertd")
    if "--alertd" in argv:
        i = argv.index("--alertd")
        alertd = argv[i + 1]
        del argv[i:i + 2]
    alertd = os.path.abspath(alertd)
    with_vmalert = "--no-vmalert" not in argv
    if not with_vmalert:
        argv.remove("--no-vmalert")
    vm_url = "http://127.0.0.1:%d" % bl.free_port()
    al_url = "http://127.0.0.1:%d" % bl.free_port()
    OWN_API_TARGETS.add(al_url)
    launch = os.path.join(HERE, "alertd_rules_launch.py")
    targets = [
        "--target", "vmalert", vm_url,
        "vmalert -httpListenAddr={listen} -datasource.url={datasource_url} "
        "-notifier.url={notifier_url} -rule={rule_file} -evaluationInterval={interval} "
        "-loggerLevel=WARN",
        "--target", "alertd", al_url,
        "/usr/bin/python3 %s --alertd %s --datasource-url {datasource_url} --rule {rule_file} "
        "--interval {interval} --listen {listen} --workdir {workdir}" % (launch, alertd),
    ]
    if not with_vmalert:
        targets = targets[4:]
    sys.argv = [sys.argv[0]] + targets + argv
    rb.main()


if __name__ == "__main__":
    main()
