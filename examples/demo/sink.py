#!/usr/bin/python3
"""Stands in for Slack, PagerDuty, a webhook receiver and an SMTP server, and prints one line
per notification so the demo's story can be followed:
  POST /slack                     Slack incoming webhook
  POST /pagerduty/v2/enqueue      PagerDuty Events API v2 (answers 202 like PagerDuty)
  POST /webhook                   Alertmanager webhook payload v4
  SMTP on --smtp-port             email (aiosmtpd, Debian's python3-aiosmtpd)
"""
import argparse
import email
import email.policy
import http.server
import json
import sys
import threading
import time


def say(kind, text):
    print(f"{time.strftime('%H:%M:%S')} {kind:<10} {text}", flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        try:
            doc = json.loads(body)
        except ValueError:
            self.send_error(400, "bad json")
            return
        if self.path.startswith("/pagerduty"):
            p = doc.get("payload") or {}
            say("pagerduty", f"{doc.get('event_action')} dedup_key={doc.get('dedup_key', '')[:12]}… "
                f"{p.get('summary', '')}")
            out = json.dumps({"status": "success", "message": "Event processed",
                              "dedup_key": doc.get("dedup_key")}).encode()
            self.send_response(202)
        elif self.path.startswith("/slack"):
            att = (doc.get("attachments") or [{}])[0]
            say("slack", f"{doc.get('channel', '')} {att.get('title', doc.get('text', ''))}")
            out = b"ok"
            self.send_response(200)
        else:
            names = [a.get("labels", {}).get("alertname") for a in doc.get("alerts", [])]
            say("webhook", f"{doc.get('receiver')} {doc.get('status')} {names}")
            out = b""
            self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, fmt, *args):
        pass


def start_smtp(port):
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        say("smtp", "python3-aiosmtpd is not installed: no SMTP server")
        return None

    class Mail:
        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            say("email", f"to={','.join(envelope.rcpt_tos)} subject={msg['Subject']}")
            return "250 Message accepted for delivery"

    c = Controller(Mail(), hostname="127.0.0.1", port=port)
    c.start()
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=19099)
    ap.add_argument("--smtp-port", type=int, default=12525)
    args = ap.parse_args()
    smtp = start_smtp(args.smtp_port)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    say("sink", f"HTTP on 127.0.0.1:{args.port}, SMTP on 127.0.0.1:{args.smtp_port}")
    try:
        srv.serve_forever()
    finally:
        if smtp:
            smtp.stop()


if __name__ == "__main__":
    sys.exit(main())
