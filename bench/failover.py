#!/usr/bin/python3
"""Failover time of alertd replicas: NODES alertd processes (cluster:, lease LEASE) on one
PostgreSQL database, a webhook sink in this process. Each run:
  1. waits until the nodes hold their shares of the 64 shards;
  2. picks an alert name whose aggregation group (group_by: [alertname]) lies in a shard of
     the node holding the most shards, posts it to every node and waits for its notification;
  3. posts a second alert into the same group to every node and at once kill -9s the group's
     owner: that notification is due at the group's next tick (group_interval 1s);
  4. measures the time from the kill to the notification carrying the second alert, from the
     node that took the group over.
The goal is failover <= lease + 1 s. Prints each run and the median and maximum.

Usage: failover.py --alertd BIN --pg-dir DIR --pg-port PORT [--runs N] [--lease 15s] [--nodes 3]
"""
import argparse
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port  # noqa: E402

SHARDS = 64


def shard_of(key):
    """core/cluster.h ShardOf: FNV-1a 64 of the key, modulo the shard count."""
    h = 14695981039346656037
    for b in key.encode():
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % SHARDS




def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return
        except OSError:
            pass
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {what}")


class Sink:
    """Records (monotonic time, alertnames, instances, externalURL) of every webhook."""

    def __init__(self):
        self.records = []
        self.lock = threading.Lock()
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.monotonic()
                with sink.lock:
                    sink.records.append((now, body["groupLabels"].get("alertname"),
                                         [a["labels"].get("instance") for a in body["alerts"]],
                                         body["externalURL"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def find(self, name, instance):
        with self.lock:
            for t, n, insts, url in self.records:
                if n == name and instance in insts:
                    return t, url
        return None


def psql(args, sql):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", args.pg_dir, "-p",
           str(args.pg_port), "-U", "postgres", "-d", "postgres", "-c", sql]
    if os.getuid() == 0:
        cmd = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"] + cmd
    subprocess.run(cmd, check=True)


def one_run(args, run, sink, workdir):
    db = f"failover_{run}"
    psql(args, f"CREATE DATABASE {db} OWNER alertd")
    nodes = []
    for i in range(args.nodes):
        port = free_port()
        cfg = os.path.join(workdir, f"node{i}-{run}.yml")
        with open(cfg, "w") as f:
            f.write(f"""route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: 'http://127.0.0.1:{sink.port}/', send_resolved: false}}]
server:
  listen: 127.0.0.1:{port}
storage:
  path: {workdir}/node{i}-{run}.db
  postgres:
    dsn: "host=127.0.0.1 port={args.pg_port} dbname={db} user=alertd"
    password_file: {args.pg_dir}/alertd-password
cluster:
  node_name: node{i}
  lease: {args.lease}
""")
        log = open(os.path.join(workdir, f"node{i}-{run}.log"), "w")
        p = subprocess.Popen([args.alertd, "--config", cfg, "--log-level", "warn"], stdout=log,
                             stderr=subprocess.STDOUT)
        nodes.append({"name": f"node{i}", "url": f"http://127.0.0.1:{port}", "proc": p,
                      "external": f"http://127.0.0.1:{port}"})
    share = {n["name"]: SHARDS // args.nodes + (1 if i < SHARDS % args.nodes else 0)
             for i, n in enumerate(nodes)}

    def balanced(live):
        return all(len(get(n["url"] + "/api/v1/cluster")["owned"]) == want(n, live)
                   for n in live)

    def want(n, live):
        names = sorted(x["name"] for x in live)
        i = names.index(n["name"])
        return SHARDS // len(live) + (1 if i < SHARDS % len(live) else 0)

    wait(lambda: balanced(nodes), 60, "the shards to balance")
    victim = max(nodes, key=lambda n: share[n["name"]])
    owned = set(get(victim["url"] + "/api/v1/cluster")["owned"])
    name = next(f"Failover{run}_{k}" for k in range(10000)
                if shard_of('{}:{alertname="' + f"Failover{run}_{k}" + '"}') in owned)
    for n in nodes:
        post(n["url"] + "/api/v2/alerts", [{"labels": {"alertname": name, "instance": "1"}}])
    wait(lambda: sink.find(name, "1"), 30, "the first notification")
    assert sink.find(name, "1")[1] == victim["external"], "the group's owner did not send it"
    for n in nodes:
        post(n["url"] + "/api/v2/alerts", [{"labels": {"alertname": name, "instance": "2"}}])
    t_kill = time.monotonic()
    victim["proc"].send_signal(signal.SIGKILL)
    victim["proc"].wait()
    wait(lambda: sink.find(name, "2"), 120, "the notification after the kill")
    t, url = sink.find(name, "2")
    assert url != victim["external"]
    for n in nodes:
        if n is not victim:
            n["proc"].send_signal(signal.SIGTERM)
            n["proc"].wait(timeout=30)
    return t - t_kill


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertd", required=True)
    ap.add_argument("--pg-dir", required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lease", default="15s")
    ap.add_argument("--nodes", type=int, default=3)
    args = ap.parse_args()
    lease_s = float(args.lease.rstrip("s"))
    sink = Sink()
    results = []
    with tempfile.TemporaryDirectory(prefix="alertd-failover-") as workdir:
        for run in range(args.runs):
            d = one_run(args, run, sink, workdir)
            results.append(d)
            print(f"run {run + 1}: failover {d:.2f} s (lease {lease_s:g} s)", flush=True)
    med, worst = statistics.median(results), max(results)
    print(f"failover over {args.runs} runs, {args.nodes} nodes, lease {lease_s:g} s: median "
          f"{med:.2f} s, max {worst:.2f} s; goal <= lease + 1 s = {lease_s + 1:g} s: "
          f"{'met' if worst <= lease_s + 1 else 'missed'}")


if __name__ == "__main__":
    main()
