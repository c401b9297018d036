#!/usr/bin/python3
"""A demo target for Prometheus: serves /metrics, then plays dead for a while, then recovers.

The timeline (seconds after start) makes the TargetDown rule of examples/alerts.yml go
pending -> firing -> resolved within a few minutes:
  0 .. --up-for          answers scrapes (up == 1)
  .. + --down-for        answers 503 (up == 0): TargetDown goes pending, then firing
  afterwards             answers again: TargetDown resolves
Also exports http_requests_total and a latency histogram so the other example rules have data.
"""
import argparse
import http.server
import random
import sys
import time

START = time.monotonic()
ARGS = None
REQUESTS = {"200": 0, "500": 0}


def phase():
    t = time.monotonic() - START
    if t < ARGS.up_for:
        return "up"
    if t < ARGS.up_for + ARGS.down_for:
        return "down"
    return "recovered"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        p = phase()
        if p == "down":
            self.send_error(503, "demo outage")
            return
        REQUESTS["200"] += random.randint(90, 110)
        REQUESTS["500"] += random.randint(0, 2)
        lines = [
            "# TYPE http_requests_total counter",
            'http_requests_total{code="200"} %d' % REQUESTS["200"],
            'http_requests_total{code="500"} %d' % REQUESTS["500"],
            "# TYPE demo_phase gauge",
            'demo_phase{phase="%s"} 1' % p,
        ]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=19100)
    ap.add_argument("--up-for", type=float, default=30)
    ap.add_argument("--down-for", type=float, default=300)
    ARGS = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print(f"exporter: serving on 127.0.0.1:{ARGS.port}; down after {ARGS.up_for:.0f}s "
          f"for {ARGS.down_for:.0f}s", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
