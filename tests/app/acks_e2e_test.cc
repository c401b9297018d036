// End to end, with real peers: a Prometheus scraping a scripted exporter, alertd evaluating
// TargetDown against it, and a sink (tests/app/fixtures/e2e_sink.py) standing in for
// PagerDuty, Slack and webhook receivers plus a real SMTP server (aiosmtpd). The story:
// pending → firing → notified → acknowledged (PagerDuty gets `acknowledge`) → escalation
// stopped → resolved (resolve delivered); then a re-fire whose escalation survives a kill -9
// (the next step fires on time, nothing is sent twice), and an ack that expires after a
// step's time (the step fires at once), and resolves reaching every receiver notified.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

double Now() { return UnixNow(); }
using Record = SinkRecord;
std::vector<Record> ReadRecords(const std::string& path) { return ReadSinkRecords(path); }
std::string Describe(const std::vector<Record>& rs) { return DescribeSinkRecords(rs); }

struct Stack {
  std::string dir = MakeTempDir("alertd-e2e");
  int prom_port = FreePort(), exporter_port = FreePort(), sink_port = FreePort(),
      smtp_port = FreePort(), alertd_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  std::string records = dir + "/records.jsonl";
  Process sink, exporter, prom, alertd;

  Stack() {
    SetUp(1);
    sink = Process::Start(
        {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
         std::to_string(sink_port), std::to_string(smtp_port), records},
        dir + "/sink.log");
    exporter = Process::Start(
        {"/usr/bin/python3", std::string(kSourceDir) + "/tests/rules_engine/fixtures/exporter.py",
         std::to_string(exporter_port), dir + "/series.json"},
        dir + "/exporter.log");
    WriteFile(dir + "/prometheus.yml",
              "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
              "scrape_configs:\n  - job_name: demo\n    static_configs:\n"
              "      - targets: ['127.0.0.1:" +
                  std::to_string(exporter_port) + "']\n");
    prom = Process::Start({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                           "--storage.tsdb.path=" + dir + "/prom-data",
                           "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                          dir + "/prom.log");
    const std::string sink_url = "http://127.0.0.1:" + std::to_string(sink_port);
    WriteFile(dir + "/rules.yml", R"(groups:
  - name: availability
    interval: 1s
    rules:
      - alert: TargetDown
        expr: demo_target_up == 0
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: "Target {{ $labels.instance }} is down"
)");
    WriteFile(dir + "/alertd.yml", R"(global:
  resolve_timeout: 5m
  smtp_smarthost: 127.0.0.1:)" + std::to_string(smtp_port) +
                                       R"(
  smtp_from: alertd@example.org
  smtp_require_tls: false
datasource:
  url: http://127.0.0.1:)" + std::to_string(prom_port) +
                                       R"(
evaluation:
  interval: 1s
rule_files: [rules.yml]
storage:
  path: )" + dir + R"(/data/alertd.db
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) +
                                       R"(
route:
  receiver: default-webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall-pagerduty
      escalation: critical
      continue: true
    - matchers: ['severity="critical"']
      receiver: team-slack
receivers:
  - name: default-webhook
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/default'}]
  - name: oncall-pagerduty
    pagerduty_configs:
      - routing_key: e2e-routing-key
        url: )" + sink_url + R"(/pagerduty/v2/enqueue
  - name: team-slack
    slack_configs:
      - api_url: )" + sink_url + R"(/slack
        channel: '#alerts'
        send_resolved: true
  - name: leads
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/leads', send_resolved: true}]
  - name: managers-email
    email_configs:
      - to: managers@example.org
        send_resolved: true
  - name: directors
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/directors', send_resolved: true}]
escalation_policies:
  - name: critical
    steps:
      - after: 6s
        receivers: [leads]
      - after: 12s
        receivers: [managers-email]
      - after: 24s
        receivers: [directors]
)");
    StartAlertd();
    REQUIRE_MESSAGE(
        WaitHttpReady("http://127.0.0.1:" + std::to_string(prom_port) + "/-/ready", 60s),
        prom.Log());
  }
  ~Stack() {
    alertd.Stop();
    prom.Stop();
    exporter.Stop();
    sink.Stop();
    RemoveTree(dir);
  }

  void StartAlertd() {
    alertd = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), alertd.Log());
  }
  // The exporter's demo_target_up{instance="db-1"}, written atomically.
  void SetUp(int up) {
    WriteFile(dir + "/series.tmp",
              R"({"series":[{"name":"demo_target_up","labels":{"instance":"db-1"},"value":)" +
                  std::to_string(up) + "}]}");
    std::filesystem::rename(dir + "/series.tmp", dir + "/series.json");
  }
  // TargetDown's state in GET /api/v1/alerts ("" when absent).
  std::string last_v1;  // the last /api/v1/alerts answer, for failure messages
  std::string RuleState() {
    auto r = HttpGet(url + "/api/v1/alerts");
    last_v1 = std::to_string(r.status) + " " + r.body;
    if (r.status != 200) return "";
    const json doc = json::parse(r.body, nullptr, false);
    if (doc.is_discarded()) return "";
    for (const auto& a : doc["data"]["alerts"]) {
      if (a["labels"]["alertname"] == "TargetDown") return a["state"].get<std::string>();
    }
    return "";
  }
  json V1Alert() {
    auto r = HttpGet(url + "/api/v1/alerts");
    const json doc = json::parse(r.body);
    for (const auto& a : doc["data"]["alerts"]) {
      if (a["labels"]["alertname"] == "TargetDown") return a;
    }
    return json();
  }
  json V2Alert() {
    auto r = HttpGet(url + "/api/v2/alerts?filter=alertname%3D%22TargetDown%22");
    auto arr = json::parse(r.body);
    return arr.empty() ? json() : arr[0];
  }
  std::vector<Record> Records() { return ReadRecords(records); }
  // Records since `since` whose What() starts with `what`.
  std::vector<Record> Find(const std::string& what, double since = 0) {
    std::vector<Record> out;
    for (auto& r : Records()) {
      if (r.t >= since && r.What().rfind(what, 0) == 0) out.push_back(std::move(r));
    }
    return out;
  }
  // Waits until a record starting with `what` arrived after `since`; returns it.
  std::optional<Record> WaitRecord(const std::string& what, double since,
                                   std::chrono::milliseconds deadline) {
    std::optional<Record> got;
    WaitFor(
        [&] {
          auto rs = Find(what, since);
          if (!rs.empty()) got = rs.front();
          return got.has_value();
        },
        deadline, 100ms);
    return got;
  }
  std::string Logs() {
    auto tail = [](std::string s) { return s.size() > 3000 ? s.substr(s.size() - 3000) : s; };
    return "records:\n" + Describe(Records()) + "\nalertd:\n" + tail(alertd.Log()) +
           "\nexporter:\n" + tail(exporter.Log()) + "\nsink:\n" + tail(sink.Log()) +
           "\nprometheus:\n" + tail(prom.Log());
  }
};

}  // namespace

TEST_CASE("end to end: acknowledge, escalation across kill -9, an ack that expires, resolves") {
  Stack s;
  const double t_start = Now();

  // pending → firing.
  s.SetUp(0);
  bool saw_pending = false;
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        const auto st = s.RuleState();
                        saw_pending = saw_pending || st == "pending";
                        return st == "firing";
                      },
                      60s, 100ms),
                  std::string(s.last_v1 + "\n" + s.Logs()));
  CHECK(saw_pending);

  // → notified: PagerDuty trigger and Slack.
  auto trigger = s.WaitRecord("pagerduty trigger", t_start, 20s);
  REQUIRE_MESSAGE(trigger.has_value(), s.Logs());
  REQUIRE_MESSAGE(s.WaitRecord("slack", t_start, 10s).has_value(), s.Logs());
  CHECK(s.V2Alert()["ack"].is_null());

  // → acknowledged, by matchers, as the README's curl line does.
  auto r = HttpPostJson(s.url + "/api/v1/acks",
                        R"({"matchers":[{"name":"alertname","value":"TargetDown"}],"by":"you",
                            "comment":"looking"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const double t_ack = Now();
  const auto fps = json::parse(r.body)["fingerprints"];
  REQUIRE(fps.size() == 1);
  CHECK(fps[0] == s.V2Alert()["fingerprint"]);
  // PagerDuty gets `acknowledge` for the same incident.
  auto ack_event = s.WaitRecord("pagerduty acknowledge", t_ack - 1, 10s);
  REQUIRE_MESSAGE(ack_event.has_value(), s.Logs());
  CHECK(ack_event->body["dedup_key"] == trigger->body["dedup_key"]);
  CHECK(s.V2Alert()["ack"]["by"] == "you");
  CHECK(s.V1Alert()["ack"]["by"] == "you");
  CHECK(s.V1Alert()["ack"]["comment"] == "looking");

  // → escalation stopped: the first step (6 s after the first notification) never comes.
  const double step1_due = trigger->t + 6;
  const auto wait_past =
      std::chrono::milliseconds(static_cast<int64_t>((step1_due + 3 - Now()) * 1000));
  CHECK_MESSAGE(!s.WaitRecord("webhook /leads", t_start, std::max(wait_past, 1ms)).has_value(),
                s.Logs());

  // → resolved: the resolve is delivered although the alert was acknowledged.
  const double t_fix = Now();
  s.SetUp(1);
  auto resolve = s.WaitRecord("pagerduty resolve", t_fix, 30s);
  REQUIRE_MESSAGE(resolve.has_value(), s.Logs());
  CHECK(resolve->body["dedup_key"] == trigger->body["dedup_key"]);
  REQUIRE(s.WaitRecord("slack", t_fix, 10s).has_value());
  // The ack ended with its incident.
  REQUIRE(WaitFor(
      [&] {
        auto h = HttpGet(s.url + "/api/v1/acks?history=true");
        auto acks = json::parse(h.body)["acks"];
        return acks.size() == 1 && acks[0]["endReason"] == "resolved";
      },
      10s));
  CHECK(s.Find("email").empty());
  CHECK(s.Find("webhook /leads").empty());
  // /metrics counts it: one ack made, ended as resolved, none current, no step fired.
  auto metric = [&](const std::string& sample) {
    const std::string text = "\n" + HttpGet(s.url + "/metrics").body;
    const auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(text.substr(at + sample.size() + 2));
  };
  CHECK(metric("alertd_acks_created_total") == 1);
  CHECK(metric("alertd_acks_ended_total{reason=\"resolved\"}") == 1);
  CHECK(metric("alertd_acks_ended_total{reason=\"expired\"}") == 0);
  CHECK(metric("alertd_acks") == 0);
  CHECK(metric("alertd_escalation_steps_total") == 0);

  // A re-fire is a new, unacknowledged incident with a new escalation.
  const double t_refire = Now();
  s.SetUp(0);
  auto trigger2 = s.WaitRecord("pagerduty trigger", t_refire, 60s);
  REQUIRE_MESSAGE(trigger2.has_value(), s.Logs());
  CHECK(s.V2Alert()["ack"].is_null());

  // Step 1 (6 s): the leads' webhook, with the firing alert.
  auto leads = s.WaitRecord("webhook /leads firing", t_refire, 20s);
  REQUIRE_MESSAGE(leads.has_value(), s.Logs());
  CHECK(leads->t >= trigger2->t + 6 - 0.5);
  CHECK(leads->t <= trigger2->t + 6 + 3);
  CHECK(leads->body["receiver"] == "leads");
  CHECK(leads->body["alerts"][0]["labels"]["alertname"] == "TargetDown");
  CHECK(metric("alertd_escalation_steps_total") == 1);
  CHECK(metric("alertd_escalations") == 1);

  // kill -9 in the middle of the escalation, and a start on the same storage.
  s.alertd.Kill9();
  s.StartAlertd();

  // Step 2 (12 s) still fires on time, by email.
  auto mail = s.WaitRecord("email managers@example.org", t_refire, 30s);
  REQUIRE_MESSAGE(mail.has_value(), s.Logs());
  CHECK(mail->t >= trigger2->t + 12 - 0.5);
  CHECK(mail->t <= trigger2->t + 12 + 3);
  CHECK(mail->body["subject"].get<std::string>().find("TargetDown") != std::string::npos);
  // Nothing was sent twice.
  CHECK_MESSAGE(s.Find("pagerduty trigger", t_refire).size() == 1, s.Logs());
  CHECK_MESSAGE(s.Find("webhook /leads", t_refire).size() == 1, s.Logs());
  CHECK_MESSAGE(s.Find("slack", t_refire).size() == 1, s.Logs());

  // An ack that expires after step 3's time (24 s): the step waits, then fires at once.
  const std::string fp = s.V2Alert()["fingerprint"];
  r = HttpPostJson(s.url + "/api/v1/alerts/" + fp + "/ack",
                   R"({"by":"oncall","expires_in":")" +
                       std::to_string(static_cast<int>(trigger2->t + 28 - Now())) + R"(s"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const double expires =
      trigger2->t + 28 - 1;  // expires_in is whole seconds, rounded down from here
  auto directors = s.WaitRecord("webhook /directors firing", t_refire, 40s);
  REQUIRE_MESSAGE(directors.has_value(), s.Logs());
  CHECK(directors->t >= expires - 0.5);         // not at 24 s: it waited for the ack
  CHECK(directors->t <= trigger2->t + 28 + 3);  // and fired as soon as it expired
  CHECK(directors->body["receiver"] == "directors");

  // The fix: resolves reach every receiver that was notified.
  const double t_fix2 = Now();
  s.SetUp(1);
  for (const char* what : {"pagerduty resolve", "webhook /leads resolved",
                           "webhook /directors resolved", "email managers@example.org"}) {
    INFO(what);
    CHECK_MESSAGE(s.WaitRecord(what, t_fix2, 30s).has_value(), s.Logs());
  }
  CHECK(s.Find("webhook /default").empty());  // critical alerts do not reach the default
}
