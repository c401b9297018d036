#!/usr/bin/python3
"""How long alertd's web page takes to render 10,000 alerts in 500 groups in headless Chromium.

    /usr/bin/python3 bench/web_render.py --alertd build/alertd [--runs 7] [--alerts 10000 --groups 500]

Starts an alertd on a free 127.0.0.1 port in a temp dir (group_by: [group], a receiver with no
integration), posts the alerts, then loads the page --runs times in one Chromium and reads the
page's performance marks: `alertd-rendered-alerts` (the last group is in the DOM) and
`alertd-rendered-alerts-painted` (the frame after it, laid out and painted), both counted
from navigation start. Prints each run and the medians. --expand-all measures ?expand=all too
(every alert of every group in the DOM, not only the group headers).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "web"))
from lib import Proc, free_port, get_json, http, start_chromium, wait_for  # noqa: E402


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_alerts(n, groups):
    now = time.time()
    out = []
    for i in range(n):
        g = i % groups
        out.append({
            "labels": {"alertname": f"BenchAlert{g % 25}", "group": f"g{g:03d}", "instance": f"host-{i:05d}:9100",
                       "job": "node", "severity": ["critical", "warning", "info"][i % 3], "team": f"team-{g % 7}"},
            "annotations": {"summary": f"Instance host-{i:05d} of group g{g:03d} is unhappy",
                            "description": "The value has been above the threshold for more than 5 minutes.",
                            "runbook_url": f"https://runbooks.example.org/bench/{g % 25}"},
            "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
            "startsAt": iso(now - 60 - i), "endsAt": iso(now + 7200),
        })
    return out


def measure(driver, url, expand):
    driver.get(url + ("/?expand=all" if expand else "/"))
    wait_for(lambda: driver.execute_script("return document.documentElement.dataset.painted"), 60,
             "the page to render")
    m = driver.execute_script("""
      const g = (n) => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
      return [g('alertd-rendered-alerts'), g('alertd-rendered-alerts-painted'),
              document.documentElement.dataset.renderedGroups, document.querySelectorAll('#groups .alert').length];""")
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertd", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--alerts", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--expand-all", action="store_true")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="alertd-web-bench-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(os.path.join(d, "alertd.yml"), "w") as f:
        f.write(f"""
storage:
  path: {d}/alertd.db
server:
  listen: 127.0.0.1:{port}
route:
  receiver: nowhere
  group_by: [group]
  group_wait: 1h
receivers:
  - name: nowhere
""")
    alertd = Proc("alertd", [os.path.abspath(args.alertd), "--config", os.path.join(d, "alertd.yml")],
                  os.path.join(d, "alertd.log"), cwd=d)
    driver = None
    try:
        wait_for(lambda: http("GET", url + "/-/ready", timeout=2)[0] == 200, 60, "alertd to be ready")
        alerts = make_alerts(args.alerts, args.groups)
        for i in range(0, len(alerts), 1000):
            st, _, body = http("POST", url + "/api/v2/alerts", alerts[i:i + 1000], timeout=60)
            if st != 200:
                raise SystemExit(f"posting alerts: {st} {body}")
        wait_for(lambda: len(get_json(url + "/api/v2/alerts/groups")) == args.groups, 60,
                 f"{args.groups} groups")
        t = time.monotonic()
        st, _, _ = http("GET", url + "/api/v2/alerts/groups", timeout=60)
        print(f"GET /api/v2/alerts/groups alone: {(time.monotonic() - t) * 1000:.0f} ms (urllib)")
        driver = start_chromium()
        for expand in ([False, True] if args.expand_all else [False]):
            rendered, painted = [], []
            measure(driver, url, expand)  # warm-up: the browser's first start and cache
            for r in range(args.runs):
                dom, paint, groups, shown = measure(driver, url, expand)
                rendered.append(dom)
                painted.append(paint)
                print(f"{'expand=all ' if expand else ''}run {r + 1}: last group in the DOM {dom:.0f} ms, "
                      f"painted {paint:.0f} ms ({groups} groups, {shown} alert rows)", flush=True)
            print(f"{'expand=all: ' if expand else ''}median over {args.runs} runs, {args.alerts} alerts in "
                  f"{args.groups} groups: rendered {statistics.median(rendered):.0f} ms, "
                  f"painted {statistics.median(painted):.0f} ms after navigation start")
    finally:
        if driver:
            driver.quit()
        alertd.stop()


if __name__ == "__main__":
    main()
