#!/usr/bin/python3
"""Rule evaluation spread over alertd replicas: the same R rules (the shared harness's
generated file, against its exporter and Prometheus) evaluated by one alertd node and then by
NODES nodes (cluster:, one PostgreSQL database per run), each node's CPU measured over the
same window. Reported: the single node's CPU per evaluation cycle, each replica's, and the
busiest replica's against the single node (the goal: at most 40% with three nodes).

Every run also checks that the nodes together have each of the R alerts firing exactly once
(each rule group evaluated by one node), and that every group was evaluated in the window.

Usage (bench/rules/run_rule_spread.sh starts PostgreSQL):
  rule_spread.py --alertd BIN --pg-dir DIR --pg-port PORT [--rules 5000] [--nodes 3]
                 [--runs 3] [--window 60] [--warmup 50] [--interval 15]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "..", "shared", "bench"))
sys.path.insert(0, os.path.join(SHARED, "rules"))
sys.path.insert(0, SHARED)
import benchlib as bl  # noqa: E402
import rules_bench as rb  # noqa: E402

SHARDS = 64


def psql(args, sql):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", args.pg_dir, "-p",
           str(args.pg_port), "-U", "postgres", "-d", "postgres", "-c", sql]
    if os.getuid() == 0:
        cmd = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"] + cmd
    subprocess.run(cmd, check=True)


def get(url):
    st, body = bl.http_request(url)
    if st != 200:
        raise RuntimeError("%s: HTTP %s" % (url, st))
    return json.loads(body)


def wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return
        except (OSError, RuntimeError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def start_nodes(args, infra, rule_file, n, db, workdir):
    nodes = []
    for i in range(n):
        port = bl.free_port()
        cfg = os.path.join(workdir, "node%d.yml" % i)
        with open(cfg, "w") as f:
            f.write("""datasource:
  url: %s
  timeout: 10s
  max_concurrent_queries: 8
evaluation:
  interval: %ds
rule_files: ['%s']
route:
  receiver: none
receivers:
  - name: none
server:
  listen: 127.0.0.1:%d
storage:
  postgres:
    dsn: "host=127.0.0.1 port=%d dbname=%s user=alertd"
    password_file: %s/alertd-password
cluster:
  node_name: node%d
  lease: 15s
""" % (infra.prom_url, args.interval, rule_file, port, args.pg_port, db, args.pg_dir, i))
        p = bl.Proc("%s --config %s --log-level warn" % (args.alertd, cfg),
                    os.path.join(workdir, "node%d.log" % i))
        nodes.append({"name": "node%d" % i, "url": "http://127.0.0.1:%d" % port, "proc": p})
    for nd in nodes:
        bl.wait_http_ok(nd["url"] + "/-/ready", 120, nd["proc"].popen)

    def balanced():
        names = sorted(x["name"] for x in nodes)
        for nd in nodes:
            i = names.index(nd["name"])
            want = SHARDS // n + (1 if i < SHARDS % n else 0)
            if len(get(nd["url"] + "/api/v1/cluster")["owned"]) != want:
                return False
        return True

    wait(balanced, 120, "the shards to balance")
    return nodes


def evaluations(url):
    """prometheus_rule_evaluations_total by rule group."""
    out = {}
    for name, labels, v in bl.scrape(url + "/metrics", ("prometheus_rule_evaluations_total",)):
        if name == "prometheus_rule_evaluations_total" and "rule_group" in labels:
            out[labels["rule_group"]] = v
    return out


def one_run(args, infra, rule_file, n, run):
    db = "spread_%d_%d" % (n, run)
    psql(args, "CREATE DATABASE %s OWNER alertd" % db)
    workdir = os.path.join(infra.workdir, "spread-%d-%d" % (n, run))
    os.makedirs(workdir, exist_ok=True)
    nodes = start_nodes(args, infra, rule_file, n, db, workdir)
    try:
        time.sleep(args.warmup)
        ev0 = {nd["name"]: evaluations(nd["url"]) for nd in nodes}
        cw = bl.CpuWindow([nd["proc"].pid for nd in nodes])
        time.sleep(args.window)
        cpu = cw.finish()
        ev1 = {nd["name"]: evaluations(nd["url"]) for nd in nodes}
        cycles = cpu["elapsed"] / args.interval
        per_node = {nd["name"]: cpu["per_pid"].get(nd["proc"].pid, 0) / cycles for nd in nodes}
        # Each group evaluated in the window, by exactly one node.
        groups = set().union(*(set(e) for e in ev1.values()))
        by = {g: [nm for nm in ev1 if ev1[nm].get(g, 0) > ev0[nm].get(g, 0)] for g in groups}
        bad_groups = sorted(g for g, who in by.items() if len(who) != 1)
        firing = {}
        for nd in nodes:
            for a in get(nd["url"] + "/api/v1/alerts")["data"]["alerts"]:
                if a["state"] == "firing":
                    key = json.dumps(a["labels"], sort_keys=True)
                    firing[key] = firing.get(key, 0) + 1
        res = {
            "nodes": n,
            "cpu_s_per_cycle": per_node,
            "max_cpu_s_per_cycle": max(per_node.values()),
            "groups": len(groups),
            "groups_not_once": len(bad_groups),
            "alerts_firing": len(firing),
            "alerts_twice": sum(1 for c in firing.values() if c > 1),
        }
        res["ok"] = (not bad_groups and res["alerts_firing"] == args.rules
                     and res["alerts_twice"] == 0)
        bl.log("  %d node(s) run %d: cpu/cycle %s, groups %d (%d not evaluated exactly once), "
               "firing alerts %d/%d (%d on two nodes): %s" % (
                   n, run + 1, ", ".join("%s %.3f s" % kv for kv in sorted(per_node.items())),
                   len(groups), len(bad_groups), res["alerts_firing"], args.rules,
                   res["alerts_twice"], "OK" if res["ok"] else "FAIL"))
        return res
    finally:
        for nd in nodes:
            nd["proc"].stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alertd", required=True)
    ap.add_argument("--pg-dir", required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--rules", type=int, default=5000)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=50)
    ap.add_argument("--interval", type=int, default=15)
    # The shared harness's workload settings (rules_bench.py's defaults).
    ap.add_argument("--per-group", type=int, default=50)
    ap.add_argument("--for", dest="for_dur", default="30s")
    ap.add_argument("--scrape-interval", default="5s")
    ap.add_argument("--idle-window", type=int, default=10)
    ap.add_argument("--exporter-groups", type=int, default=1000)
    ap.add_argument("--exporter-members", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    infra = rb.Infra(args)
    results = {1: [], args.nodes: []}
    try:
        infra.start()
        rule_file = rb.rule_file(infra, args.rules)
        for run in range(args.runs):
            for n in (1, args.nodes):
                bl.log("spread: R=%d on %d node(s), run %d/%d" % (args.rules, n, run + 1, args.runs))
                results[n].append(one_run(args, infra, rule_file, n, run))
    finally:
        infra.stop()
    single = statistics.median(r["max_cpu_s_per_cycle"] for r in results[1])
    spread_max = statistics.median(r["max_cpu_s_per_cycle"] for r in results[args.nodes])
    spread_mean = statistics.median(statistics.mean(r["cpu_s_per_cycle"].values())
                                    for r in results[args.nodes])
    ok = all(r["ok"] for rs in results.values() for r in rs)
    print("\nrule evaluation spread: R=%d rules, interval %ds, window %.0fs, %d runs (median)"
          % (args.rules, args.interval, args.window, args.runs))
    print("| | CPU per cycle | against one node |")
    print("|---|---|---|")
    print("| one node | %.3f s | 1.00× |" % single)
    print("| %d nodes, busiest | %.3f s | %.2f× |" % (args.nodes, spread_max, spread_max / single))
    print("| %d nodes, mean | %.3f s | %.2f× |" % (args.nodes, spread_mean, spread_mean / single))
    print("each group evaluated by exactly one node, each alert firing once: %s"
          % ("OK" if ok else "FAIL"))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
