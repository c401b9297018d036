#!/usr/bin/python3
"""alertd's web page in a real browser: headless Chromium (selenium) against a real alertd that
gets its alerts from a real Prometheus, with a webhook sink as receiver.

    /usr/bin/python3 tests/web/web_test.py --alertd build/alertd --artifacts DIR

Two scenario families, each with one alertd and one Chromium: "open" (no auth; Prometheus,
acks, silences, filters, escaping, rules and status) and "auth" (tokens with roles). Every
test saves a screenshot DIR/<test>.png. Exits 1 when a test fails or a tool is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (Proc, ToolMissing, WebhookSink, free_port, get_json, http, need_tool,  # noqa: E402
                 start_chromium, wait_for)

from selenium.webdriver.common.by import By  # noqa: E402

PROM_RULES = """
groups:
  - name: web-test
    interval: 1s
    rules:
      - alert: WebDiskFull
        expr: label_replace(vector(1), "instance", "db-1", "", "") or label_replace(vector(1), "instance", "db-2", "", "")
        labels:
          severity: critical
        annotations:
          summary: "Disk of {{ $labels.instance }} is full"
          runbook_url: https://runbooks.example.org/disk-full
      - alert: WebHighLatency
        expr: label_replace(vector(1), "instance", "api-1", "", "")
        labels:
          severity: warning
        annotations:
          summary: "p99 latency of {{ $labels.instance }} above 2s"
          description: "Requests are slow."
      - alert: WebCertExpiry
        expr: label_replace(vector(1), "instance", "edge-1", "", "")
        labels:
          severity: info
        annotations:
          summary: "Certificate of {{ $labels.instance }} expires soon"
"""

ALERTD_RULES = """
groups:
  - name: alertd-web
    interval: 1s
    rules:
      - alert: AlertdWebWatchdog
        expr: vector(1)
        labels:
          severity: none
        annotations:
          summary: "alertd evaluates its own rules"
"""


def alertd_config(port, sink_port, db, extra_server=""):
    return f"""
datasource:
  url: http://127.0.0.1:{{prom_port}}
evaluation:
  interval: 1s
rule_files: [alertd-rules.yml]
storage:
  path: {db}
server:
  listen: 127.0.0.1:{port}
{extra_server}
route:
  receiver: sink
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      escalation: critical
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{sink_port}/sink
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:{sink_port}/pager
  - name: managers
    webhook_configs:
      - url: http://127.0.0.1:{sink_port}/managers
escalation_policies:
  - name: critical
    steps:
      - after: 30m
        receivers: [managers]
"""


class Env:
    """One alertd (and for "open" a Prometheus) in a temp dir, a webhook sink, one Chromium."""

    def __init__(self, args, family, with_prometheus, server_extra=""):
        self.args = args
        self.family = family
        self.dir = tempfile.mkdtemp(prefix=f"alertd-web-{family}-")
        self.procs = []
        self.sink = WebhookSink()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prom_url = None
        prom_port = free_port()
        cfg = alertd_config(self.port, self.sink.port, os.path.join(self.dir, "alertd.db"), server_extra)
        cfg = cfg.replace("{prom_port}", str(prom_port))
        self.write("alertd.yml", cfg)
        self.write("alertd-rules.yml", ALERTD_RULES)
        if with_prometheus:
            self.write("rules.yml", PROM_RULES)
            self.write("prometheus.yml", f"""
global:
  scrape_interval: 15s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: ["127.0.0.1:{self.port}"]
""")
            self.prom_url = f"http://127.0.0.1:{prom_port}"
            self.procs.append(Proc("prometheus", [
                need_tool("prometheus"), "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
                "--storage.tsdb.path=" + os.path.join(self.dir, "prom"),
                f"--web.listen-address=127.0.0.1:{prom_port}", f"--web.external-url=http://127.0.0.1:{prom_port}/",
                "--rules.alert.resend-delay=1s",
                "--log.level=warn"], os.path.join(self.dir, "prometheus.log"), cwd=self.dir))
        self.alertd = Proc("alertd", [args.alertd, "--config", os.path.join(self.dir, "alertd.yml")],
                           os.path.join(self.dir, "alertd.log"), cwd=self.dir)
        self.procs.append(self.alertd)
        wait_for(lambda: self._ready(), 30, "alertd to be ready")
        if self.prom_url:
            wait_for(lambda: http("GET", self.prom_url + "/-/ready")[0] == 200, 30, "Prometheus to be ready")
        self.driver = start_chromium()
        self.driver.set_page_load_timeout(20)

    def _ready(self):
        if not self.alertd.alive():
            raise AssertionError("alertd exited:\n" + self.alertd.tail())
        return http("GET", self.url + "/-/ready", timeout=2)[0] == 200

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def stop(self):
        try:
            self.driver.quit()
        except Exception:
            pass
        for p in reversed(self.procs):
            p.stop()
        self.sink.stop()

    # ---- API ----
    def api(self, path, token=None):
        return get_json(self.url + path, token=token)

    def alerts(self, *filters, token=None):
        q = urllib.parse.urlencode([("filter", f) for f in filters])
        return self.api("/api/v2/alerts" + ("?" + q if q else ""), token=token)

    def fingerprint(self, **labels):
        for a in self.alerts():
            if all(a["labels"].get(k) == v for k, v in labels.items()):
                return a["fingerprint"]
        raise AssertionError(f"no alert with labels {labels}")

    # ---- browser ----
    def open(self, query="", wait_view="alerts"):
        """Loads the page (fresh) and waits until the view has rendered."""
        d = self.driver
        d.get(self.url + "/" + query)
        wait_for(lambda: d.execute_script("return document.documentElement.dataset.renderedView") == wait_view,
                 15, f"the {wait_view} view to render")

    def rendered(self):
        return int(self.driver.execute_script("return document.documentElement.dataset.rendered || '0'"))

    def wait_rerender(self, after, what="the page to render again"):
        return wait_for(lambda: self.rendered() > after, 15, what)

    def page_fingerprints(self):
        return [e.get_attribute("data-fingerprint") for e in self.driver.find_elements(By.CSS_SELECTOR, "#groups .alert")]

    def row(self, fp):
        return self.driver.find_element(By.CSS_SELECTOR, f'#groups .alert[data-fingerprint="{fp}"]')

    def dialog_open(self, dialog_id):
        return self.driver.execute_script(f"return document.getElementById('{dialog_id}').open")

    def console_errors(self):
        """Console entries that mean script errors or CSP refusals (not failed requests)."""
        bad = ("Content Security Policy", "Refused", "Uncaught", "TypeError", "ReferenceError")
        return [e for e in self.driver.get_log("browser") if any(b in e.get("message", "") for b in bad)]

    def screenshot(self, name):
        os.makedirs(self.args.artifacts, exist_ok=True)
        self.driver.save_screenshot(os.path.join(self.args.artifacts, name + ".png"))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def fill(el, text):
    el.clear()
    el.send_keys(text)


# ---------------------------------------------------------------- family "open"

def prom_alerts(env):
    body = get_json(env.prom_url + "/api/v1/alerts")
    return [a for a in body["data"]["alerts"] if a["state"] == "firing"]


def test_lists_prometheus_alerts(env):
    firing = wait_for(lambda: (lambda a: a if len(a) == 4 else None)(prom_alerts(env)), 30,
                      "Prometheus to fire its 4 alerts")
    wanted = {json.dumps(a["labels"], sort_keys=True) for a in firing}
    wait_for(lambda: wanted <= {json.dumps(a["labels"], sort_keys=True) for a in env.alerts()}, 30,
             "alertd to receive Prometheus's alerts")
    env.open()
    by_fp = {a["fingerprint"]: a for a in env.alerts()}

    def shown():
        return {json.dumps(by_fp[fp]["labels"], sort_keys=True) for fp in env.page_fingerprints() if fp in by_fp}
    wait_for(lambda: wanted <= shown(), 20, "the page to list every alert Prometheus fires")
    text = env.driver.find_element(By.ID, "groups").text
    for s in ["Disk of db-1 is full", "p99 latency of api-1 above 2s", "WebCertExpiry", "pager"]:
        check(s in text, f"page does not show {s!r}")
    rb = env.driver.find_elements(By.CSS_SELECTOR, '#groups a[href="https://runbooks.example.org/disk-full"]')
    check(len(rb) == 2, f"expected the runbook link on both WebDiskFull alerts, found {len(rb)}")
    gen = env.driver.find_elements(By.XPATH, "//*[@id='groups']//a[text()='source']")
    check(gen and all(g.get_attribute("href").startswith(env.prom_url) for g in gen),
          "generatorURL links to Prometheus missing")


def test_escalation_shown(env):
    env.open()
    def esc_text():
        for g in env.driver.find_elements(By.CSS_SELECTOR, "#groups .group"):
            if "WebDiskFull" in g.text:
                e = g.find_elements(By.CSS_SELECTOR, ".escalation")
                return e[0].text if e else None
    t = wait_for(esc_text, 20, "the WebDiskFull group to show its escalation")
    check("critical" in t and "managers" in t, f"escalation line lacks policy or next receivers: {t!r}")


def test_ack_button(env):
    fp = env.fingerprint(alertname="WebHighLatency")
    env.open()
    env.row(fp).find_element(By.CSS_SELECTOR, "button.action.ack").click()
    wait_for(lambda: env.dialog_open("ack-dialog"), 5, "the ack form to open")
    form = env.driver.find_element(By.ID, "ack-form")
    fill(form.find_element(By.NAME, "comment"), "looking at it from the web page")
    fill(form.find_element(By.NAME, "by"), "ann")
    form.find_element(By.CSS_SELECTOR, 'select[name="expires_in"] option[value="1h"]').click()
    env.driver.find_element(By.ID, "ack-submit").click()

    def ack():
        for a in env.api("/api/v1/acks")["acks"]:
            if a["fingerprint"] == fp:
                return a
    a = wait_for(ack, 10, "the ack to show in GET /api/v1/acks")
    check(a["comment"] == "looking at it from the web page", f"ack comment {a['comment']!r}")
    check(a["by"] == "ann", f"ack by {a['by']!r}")
    check(a["expiresAt"], "ack has no expiry although 1 hour was chosen")
    wait_for(lambda: "acknowledged by ann" in env.row(fp).text, 10, "the row to show the ack")
    check("looking at it from the web page" in env.row(fp).text, "the row does not show the ack's note")
    env.screenshot("ack_button_acked")
    env.row(fp).find_element(By.CSS_SELECTOR, "button.action.unack").click()
    wait_for(lambda: not ack(), 10, "the ack to be taken back")
    wait_for(lambda: env.row(fp).find_elements(By.CSS_SELECTOR, "button.action.ack"), 10,
             "the Acknowledge button to come back")


def group_el(env, alertname):
    for g in env.driver.find_elements(By.CSS_SELECTOR, "#groups .group"):
        if f"alertname={alertname}" in g.find_element(By.CSS_SELECTOR, ".group-head").text:
            return g
    raise AssertionError(f"no group of {alertname} on the page")


def test_group_ack(env):
    fps = {env.fingerprint(alertname="WebDiskFull", instance=i) for i in ("db-1", "db-2")}
    env.open()
    group_el(env, "WebDiskFull").find_element(By.CSS_SELECTOR, "button.ack-group").click()
    wait_for(lambda: env.dialog_open("ack-dialog"), 5, "the group ack form to open")
    fill(env.driver.find_element(By.CSS_SELECTOR, '#ack-form textarea[name="comment"]'), "whole group")
    env.driver.find_element(By.ID, "ack-submit").click()

    def acked():
        return {a["fingerprint"] for a in env.api("/api/v1/acks")["acks"] if a["comment"] == "whole group"}
    wait_for(lambda: acked() == fps, 10, f"both WebDiskFull alerts acknowledged (got {acked()})")
    err = env.driver.find_element(By.ID, "ack-error").text
    check(not err, f"group ack error shown: {err}")
    wait_for(lambda: "2 acknowledged" in group_el(env, "WebDiskFull").text, 10, "the group to show 2 acknowledged")
    env.screenshot("group_ack_acked")
    group_el(env, "WebDiskFull").find_element(By.CSS_SELECTOR, "button.unack-group").click()
    wait_for(lambda: not acked(), 10, "the group's acks to be taken back")


def test_silence_form_and_preview(env):
    amtool = need_tool("amtool")
    fps_disk = {env.fingerprint(alertname="WebDiskFull", instance=i): i for i in ("db-1", "db-2")}
    env.open()
    group_el(env, "WebDiskFull").find_element(By.CSS_SELECTOR, "button.silence-group").click()
    wait_for(lambda: env.dialog_open("silence-dialog"), 5, "the silence form to open")
    d = env.driver
    m = d.find_element(By.ID, "silence-matchers")
    check(m.get_attribute("value").strip() == 'alertname="WebDiskFull"',
          f"matchers not prefilled from the group's labels: {m.get_attribute('value')!r}")
    preview = d.find_element(By.ID, "silence-preview")
    wait_for(lambda: preview.get_attribute("data-state") == "done" and preview.get_attribute("data-count") == "2",
             10, "the preview to list the group's 2 alerts")
    m.send_keys('\ninstance=~"db-1|api-1"')
    wait_for(lambda: preview.get_attribute("data-state") == "done"
             and "instance" in (preview.get_attribute("data-matchers") or ""), 10, "the preview to follow the edit")
    previewed = {li.get_attribute("data-fingerprint") for li in preview.find_elements(By.CSS_SELECTOR, "li[data-fingerprint]")}
    check(len(previewed) == 1, f"preview should match exactly db-1's alert, lists {previewed}")
    fill(d.find_element(By.ID, "silence-duration"), "1h")
    fill(d.find_element(By.ID, "silence-createdby"), "web-test")
    fill(d.find_element(By.ID, "silence-comment"), "disk swap on db-1")
    env.screenshot("silence_form_preview")
    d.find_element(By.ID, "silence-submit").click()
    wait_for(lambda: not env.dialog_open("silence-dialog"), 10, "the silence form to close after creating")

    out = subprocess.run([amtool, "silence", "query", "-o", "json", "--alertmanager.url=" + env.url],
                         capture_output=True, text=True, timeout=20)
    check(out.returncode == 0, f"amtool failed: {out.stderr}")
    sils = [s for s in json.loads(out.stdout) if s.get("comment") == "disk swap on db-1"]
    check(len(sils) == 1, f"amtool silence query does not show the silence: {out.stdout[:500]}")
    sil = sils[0]
    ms = sorted((x["name"], x["value"], x["isRegex"]) for x in sil["matchers"])
    check(ms == [("alertname", "WebDiskFull", False), ("instance", "db-1|api-1", True)], f"matchers {ms}")
    check(sil["createdBy"] == "web-test", f"createdBy {sil['createdBy']!r}")

    def silenced():
        return {a["fingerprint"] for a in env.alerts() if sil["id"] in a["status"]["silencedBy"]}
    wait_for(lambda: silenced() == previewed, 15,
             f"the alerts the silence silences ({silenced()}) to equal the preview ({previewed})")
    check(fps_disk[next(iter(previewed))] == "db-1", "the previewed alert is not db-1's")
    env.silence_id = sil["id"]
    # The alert's badge links to the silence.
    wait_for(lambda: env.driver.find_elements(By.CSS_SELECTOR, f'#groups a.silence-link[data-silence="{sil["id"]}"]'),
             10, "the silenced badge linking to the silence")


def test_url_filter(env):
    env.open('?filter=severity="critical"&receiver=pager&silenced=false')
    want = {a["fingerprint"] for a in env.alerts('severity="critical"') if not a["status"]["silencedBy"]}
    check(len(want) == 1, f"expected one unsilenced critical alert after the silence test, got {want}")
    wait_for(lambda: set(env.page_fingerprints()) == want, 10,
             f"the page to show only the unsilenced critical alert {want}")
    check(env.driver.find_element(By.ID, "filter-input").get_attribute("value") == 'severity="critical"',
          "the filter input does not show the URL's filter")
    check(not env.driver.find_element(By.CSS_SELECTOR, '#alert-filter input[name="silenced"]').is_selected(),
          "the silenced checkbox does not follow silenced=false")
    env.screenshot("url_filter_critical")
    env.open('?filter=alertname=~"Web(HighLatency|CertExpiry)"')
    want = {a["fingerprint"] for a in env.alerts('alertname=~"Web(HighLatency|CertExpiry)"')}
    check(len(want) == 2, f"API lists {want}")
    wait_for(lambda: set(env.page_fingerprints()) == want, 10, "the page to show the regex filter's 2 alerts")


def test_silences_tab_extend_expire(env):
    sid = getattr(env, "silence_id", None)
    check(sid, "no silence from the silence test")
    env.open(f"?tab=silences&silence={sid}", wait_view="silences")
    card = wait_for(lambda: env.driver.find_element(By.CSS_SELECTOR, f'.card[data-silence="{sid}"]'), 10, "the silence card")
    check("highlight" in card.get_attribute("class"), "the linked silence is not highlighted")
    check("disk swap on db-1" in card.text and "web-test" in card.text, "card lacks comment or creator")
    check("left" in card.text, "card does not show the remaining time")
    before = env.api(f"/api/v2/silence/{sid}")["endsAt"]
    card.find_element(By.CSS_SELECTOR, "button.extend").click()
    wait_for(lambda: env.dialog_open("silence-dialog"), 5, "the extend form")
    fill(env.driver.find_element(By.ID, "silence-duration"), "3h")
    env.driver.find_element(By.ID, "silence-submit").click()
    wait_for(lambda: env.api(f"/api/v2/silence/{sid}")["endsAt"] > before, 10, "the silence to end later")
    active = [s for s in env.api("/api/v2/silences") if s["status"]["state"] == "active"]
    check([s["id"] for s in active] == [sid], f"extending made another silence: {[s['id'] for s in active]}")
    env.open(f"?tab=silences&silence={sid}", wait_view="silences")
    b = env.driver.find_element(By.CSS_SELECTOR, f'.card[data-silence="{sid}"] button.expire')
    b.click()
    check(env.api(f"/api/v2/silence/{sid}")["status"]["state"] == "active", "one press expired the silence")
    b.click()
    wait_for(lambda: env.api(f"/api/v2/silence/{sid}")["status"]["state"] == "expired", 10, "the silence to expire")
    env.open("?tab=silences&sfilter=" + urllib.parse.quote('alertname="nothing-like-this"'), wait_view="silences")
    check(not env.driver.find_elements(By.CSS_SELECTOR, ".card.silence"), "the matcher filter did not filter silences")


def test_escaping_and_csp(env):
    payload = [{
        "labels": {"alertname": "WebXss", "severity": "warning",
                   "payload": "<script>window.__xss=1</script>",
                   "img": '<img src=x onerror="window.__xss=2">'},
        "annotations": {"summary": '<img src=x onerror="window.__xss=3">',
                        "description": "<b>not bold</b>",
                        "runbook_url": "javascript:window.__xss=4"},
        "generatorURL": "http://127.0.0.1:1/graph",
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
    }]
    st, _, body = http("POST", env.url + "/api/v2/alerts", payload)
    check(st == 200, f"posting the alert: {st} {body}")
    env.driver.get_log("browser")  # drop earlier entries
    env.open('?filter=alertname="WebXss"')
    fp = env.fingerprint(alertname="WebXss")
    wait_for(lambda: fp in env.page_fingerprints(), 10, "the WebXss alert on the page")
    row = env.row(fp)
    t = row.text
    for s in ["<script>window.__xss=1</script>", '<img src=x onerror="window.__xss=2">',
              '<img src=x onerror="window.__xss=3">', "<b>not bold</b>", "javascript:window.__xss=4"]:
        check(s in t, f"{s!r} not shown as text")
    d = env.driver
    check(not row.find_elements(By.CSS_SELECTOR, "script, img, b"), "label or annotation markup became elements")
    check(not d.find_elements(By.CSS_SELECTOR, "#groups script, #groups img"), "markup became elements")
    check(not d.find_elements(By.CSS_SELECTOR, 'a[href^="javascript"]'), "a javascript: link was made")
    # The silence form takes the labels as text too, and its preview lists them.
    row.find_element(By.CSS_SELECTOR, "button.action.silence").click()
    pv = d.find_element(By.ID, "silence-preview")
    wait_for(lambda: pv.get_attribute("data-state") == "done", 10, "the preview")
    check("<script>window.__xss=1</script>" in pv.text, "the preview does not show the label as text")
    env.screenshot("escaping_and_csp_form")
    d.find_element(By.CSS_SELECTOR, "#silence-dialog .cancel").click()
    check(d.execute_script("return window.__xss") is None, "a payload ran: window.__xss is set")
    check(d.execute_script("return window.__cspViolations") == [],
          f"CSP violations: {d.execute_script('return window.__cspViolations')}")
    errs = env.console_errors()
    check(not errs, f"browser console errors: {errs}")
    st, h, html = http("GET", env.url + "/")
    csp = h.get("Content-Security-Policy", "")
    for part in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'none'"]:
        check(part in csp, f"CSP lacks {part!r}: {csp!r}")
    check(h.get("X-Content-Type-Options") == "nosniff", "no nosniff")
    check("<script>" not in html and " style=" not in html and " onclick" not in html, "index.html has inline script or style")


def test_refresh_keeps_form_and_scroll(env):
    d = env.driver
    d.set_window_size(800, 500)
    try:
        env.open("?refresh=1s")
        height = d.execute_script("return document.documentElement.scrollHeight")
        check(height > 700, f"page too short to scroll ({height}px)")
        d.execute_script("window.scrollTo(0, 200)")
        y = d.execute_script("return window.scrollY")
        n = env.rendered()
        env.wait_rerender(n, "a periodic refresh")  # Prometheus updates the alerts every second
        check(abs(d.execute_script("return window.scrollY") - y) <= 2, "the refresh moved the scroll position")
        d.execute_script("window.scrollTo(0, 0)")
        d.find_element(By.CSS_SELECTOR, "#groups button.action.ack").click()
        wait_for(lambda: env.dialog_open("ack-dialog"), 5, "the ack form")
        box = d.find_element(By.CSS_SELECTOR, '#ack-form textarea[name="comment"]')
        box.send_keys("half-typed note")
        n = env.rendered()
        env.wait_rerender(n + 1, "two periodic refreshes")
        check(env.dialog_open("ack-dialog"), "a refresh closed the open form")
        check(box.get_attribute("value") == "half-typed note", "a refresh lost what was typed")
        check(d.switch_to.active_element == box, "a refresh moved the focus out of the form")
        env.screenshot("refresh_keeps_form")
        d.find_element(By.CSS_SELECTOR, "#ack-dialog .cancel").click()
    finally:
        d.set_window_size(1280, 900)


def test_rules_and_status_tabs(env):
    env.open("?tab=rules", wait_view="rules")
    row = wait_for(lambda: env.driver.find_elements(By.CSS_SELECTOR, 'tr[data-rule="AlertdWebWatchdog"]'), 15,
                   "alertd's own rule on the rules tab")[0]
    wait_for(lambda: "ok" in env.driver.find_element(By.CSS_SELECTOR, 'tr[data-rule="AlertdWebWatchdog"]').text,
             15, "the rule's health ok")
    check("vector(1)" in row.text, "rule query missing")
    env.screenshot("rules_tab")
    env.open("?tab=status", wait_view="status")
    cfg = env.driver.find_element(By.CSS_SELECTOR, "#status-config pre").text
    check("route:" in cfg and "receivers:" in cfg, "the configuration is not shown")
    check(f"127.0.0.1:{env.sink.port}/pager" not in cfg, "the webhook URL (a secret) is shown")
    check("<secret>" in cfg, "no redacted secret in the configuration")
    ver = env.driver.find_element(By.ID, "status-version").text
    check("version" in ver and "up since" in ver, f"version block: {ver!r}")
    check("runs alone" in env.driver.find_element(By.ID, "status-cluster").text, "cluster block")
    env.screenshot("status_tab")


OPEN_TESTS = [test_lists_prometheus_alerts, test_escalation_shown, test_ack_button, test_group_ack,
              test_silence_form_and_preview, test_url_filter, test_silences_tab_extend_expire,
              test_escaping_and_csp, test_refresh_keeps_form_and_scroll, test_rules_and_status_tabs]

# ---------------------------------------------------------------- family "auth"

ADMIN_TOKEN = "web-admin-token-0123456789"
VIEWER_TOKEN = "web-viewer-token-0123456789"
AUTH_SERVER = f"""  auth:
    tokens:
      - name: admin
        token: {ADMIN_TOKEN}
      - name: viewer
        token: {VIEWER_TOKEN}
        roles: [read]
"""


def post_sample_alerts(env):
    now = time.time()
    alerts = [{"labels": {"alertname": "AuthDemo", "severity": sev, "instance": f"host-{i}"},
               "annotations": {"summary": f"demo {i}"},
               "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 120)),
               "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
              for i, sev in enumerate(["critical", "warning", "warning"])]
    st, _, body = http("POST", env.url + "/api/v2/alerts", alerts)
    check(st == 200, f"posting alerts: {st} {body}")
    wait_for(lambda: len(env.alerts()) >= 3, 10, "the posted alerts")


def fresh_page(env, query=""):
    env.driver.get(env.url + "/")
    env.driver.execute_script("sessionStorage.clear()")
    env.driver.get(env.url + "/" + query)
    wait_for(lambda: env.dialog_open("token-dialog"), 10, "the token prompt")


def sign_in(env, token):
    fill(env.driver.find_element(By.ID, "token-input"), token)
    env.driver.find_element(By.CSS_SELECTOR, '#token-form button[type="submit"]').click()


def action_buttons(env):
    return [b for b in env.driver.find_elements(By.CSS_SELECTOR, "button.action, #silence-new") if b.is_displayed()]


def test_token_prompt_and_readonly_token(env):
    post_sample_alerts(env)
    fresh_page(env)
    check(env.api("/api/v1/auth")["enabled"] is True, "auth is not enabled")
    env.screenshot("token_prompt")
    sign_in(env, "not-a-token")
    wait_for(lambda: "not accepted" in env.driver.find_element(By.ID, "token-error").text, 10,
             "a wrong token to be refused")
    check(env.dialog_open("token-dialog"), "the prompt closed on a wrong token")
    sign_in(env, VIEWER_TOKEN)
    wait_for(lambda: not env.dialog_open("token-dialog"), 10, "the prompt to close")
    wait_for(lambda: len(env.page_fingerprints()) >= 3, 10, "the alerts with the read-only token")
    check(env.driver.find_element(By.ID, "token-button").text == "Token: viewer", "signed-in token not shown")
    check(not action_buttons(env), f"a read-only token sees actions: {[b.text for b in action_buttons(env)]}")
    env.screenshot("readonly_token_alerts")
    env.open("?tab=silences", wait_view="silences")
    check(not action_buttons(env), "a read-only token sees silence actions")
    check(env.driver.execute_script("return sessionStorage.getItem('alertd.token')") == VIEWER_TOKEN,
          "the token is not kept in session storage")


def test_no_token_reads_only(env):
    fresh_page(env)
    env.driver.find_element(By.ID, "token-readonly").click()
    wait_for(lambda: len(env.page_fingerprints()) >= 3, 10, "the alerts without a token")
    check(not action_buttons(env), "actions are offered without a token")
    env.screenshot("no_token_readonly")


def test_admin_token_sees_actions(env):
    fresh_page(env)
    sign_in(env, ADMIN_TOKEN)
    wait_for(lambda: not env.dialog_open("token-dialog"), 10, "the prompt to close")
    wait_for(lambda: len(env.page_fingerprints()) >= 3, 10, "the alerts")
    n = len(env.driver.find_elements(By.CSS_SELECTOR, "#groups button.action.ack"))
    check(n == 3, f"admin should get an Acknowledge button per alert, got {n}")
    # And the token is sent: an ack through the page works with auth on.
    env.driver.find_element(By.CSS_SELECTOR, "#groups button.action.ack").click()
    wait_for(lambda: env.dialog_open("ack-dialog"), 5, "the ack form")
    env.driver.find_element(By.ID, "ack-submit").click()
    wait_for(lambda: env.api("/api/v1/acks")["acks"], 10, "the ack made with the admin token")
    check(env.api("/api/v1/acks")["acks"][0]["token"] == "admin", "the ack was not made with the admin token")
    env.screenshot("admin_token_actions")


AUTH_TESTS = [test_token_prompt_and_readonly_token, test_no_token_reads_only, test_admin_token_sees_actions]


def run_family(args, family, tests, results, **env_kw):
    try:
        env = Env(args, family, **env_kw)
    except Exception as e:
        for t in tests:
            results.append((t.__name__, False, f"setup of {family} failed: {e}"))
        traceback.print_exc()
        return
    try:
        for t in tests:
            name = t.__name__.removeprefix("test_")
            start = time.monotonic()
            try:
                t(env)
                results.append((name, True, ""))
                print(f"PASS {family}/{name} ({time.monotonic() - start:.1f}s)", flush=True)
            except Exception as e:
                results.append((name, False, str(e)))
                print(f"FAIL {family}/{name} ({time.monotonic() - start:.1f}s): {e}", flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
                for p in env.procs:
                    if not p.alive():
                        print(f"{p.name} exited:\n{p.tail()}", flush=True)
            finally:
                try:
                    env.screenshot(name)
                except Exception as e:
                    print(f"screenshot of {name} failed: {e}", flush=True)
    finally:
        env.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alertd", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--only", help="run only tests whose name contains this")
    args = ap.parse_args()
    args.alertd = os.path.abspath(args.alertd)
    args.artifacts = os.path.abspath(args.artifacts)
    try:
        for tool in [args.alertd, "prometheus", "amtool", "/usr/bin/chromium", "/usr/bin/chromedriver"]:
            need_tool(tool)
    except ToolMissing as e:
        print(f"FAIL: {e}")
        print("0 passed, 1 failed")
        return 1
    sel = (lambda ts: [t for t in ts if args.only in t.__name__]) if args.only else (lambda ts: ts)
    results = []
    t0 = time.monotonic()
    if sel(OPEN_TESTS):
        run_family(args, "open", sel(OPEN_TESTS), results, with_prometheus=True)
    if sel(AUTH_TESTS):
        run_family(args, "auth", sel(AUTH_TESTS), results, with_prometheus=False, server_extra=AUTH_SERVER)
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    for name, ok, msg in results:
        if not ok:
            print(f"failed: {name}: {msg}")
    print(f"web tests took {time.monotonic() - t0:.1f}s; screenshots in {args.artifacts}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
