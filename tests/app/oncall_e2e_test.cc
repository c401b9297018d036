// End to end, when things go wrong on call: a real Prometheus scrapes a scripted exporter
// with two targets, alertd evaluates TargetDown against it and routes every critical alert
// twice: to a primary receiver that is down (the sink answers 503), whose escalation policy
// emails the managers (a real SMTP server, aiosmtpd), and to PagerDuty (the sink plays the
// Events API v2: 202 with its documented body). The story:
//   - the primary fails every delivery, the escalation email still arrives on time;
//   - db-1 is acknowledged, its sibling db-2 resolves: PagerDuty never gets `resolve` while
//     db-1 fires;
//   - db-1's ack expires: PagerDuty gets a new `trigger` within one group_interval;
//   - db-1 resolves: now PagerDuty gets `resolve`.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr double kGroupInterval = 2;  // seconds, as in the config below
constexpr double kStepAfter = 4;      // the escalation step's `after`

struct OncallStack {
  std::string dir = MakeTempDir("alertd-oncall-e2e");
  int prom_port = FreePort(), exporter_port = FreePort(), sink_port = FreePort(),
      smtp_port = FreePort(), alertd_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  std::string records = dir + "/records.jsonl";
  Process sink, exporter, prom, alertd;

  OncallStack() {
    SetUp(1, 1);
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
        for: 1s
        labels:
          severity: critical
)");
    WriteFile(dir + "/alertd.yml", R"(global:
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
      receiver: primary-down
      escalation: managers
      continue: true
    - matchers: ['severity="critical"']
      receiver: oncall-pagerduty
receivers:
  - name: default-webhook
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/default'}]
  - name: primary-down
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/down/primary', send_resolved: true}]
  - name: oncall-pagerduty
    pagerduty_configs:
      - routing_key: e2e-routing-key
        url: )" + sink_url + R"(/pagerduty/v2/enqueue
  - name: managers-email
    email_configs:
      - to: managers@example.org
escalation_policies:
  - name: managers
    steps:
      - after: 4s
        receivers: [managers-email]
)");
    alertd = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), alertd.Log());
    REQUIRE_MESSAGE(
        WaitHttpReady("http://127.0.0.1:" + std::to_string(prom_port) + "/-/ready", 60s),
        prom.Log());
  }
  ~OncallStack() {
    alertd.Stop();
    prom.Stop();
    exporter.Stop();
    sink.Stop();
    RemoveTree(dir);
  }

  // The exporter's demo_target_up for db-1 and db-2 (label `target`: Prometheus sets
  // `instance` itself), written atomically.
  void SetUp(int db1, int db2) {
    WriteFile(dir + "/series.tmp",
              R"({"series":[{"name":"demo_target_up","labels":{"target":"db-1"},"value":)" +
                  std::to_string(db1) +
                  R"(},{"name":"demo_target_up","labels":{"target":"db-2"},"value":)" +
                  std::to_string(db2) + "}]}");
    std::filesystem::rename(dir + "/series.tmp", dir + "/series.json");
  }
  // TargetDown alerts in GET /api/v2/alerts: target -> fingerprint.
  std::map<std::string, std::string> Firing() {
    std::map<std::string, std::string> out;
    auto r = HttpGet(url + "/api/v2/alerts?filter=alertname%3D%22TargetDown%22");
    if (r.status != 200) return out;
    auto arr = json::parse(r.body, nullptr, false);
    if (arr.is_discarded()) return out;
    for (const auto& a : arr) {
      if (a["status"]["state"] == "active" || a["status"]["state"] == "suppressed") {
        out[a["labels"]["target"]] = a["fingerprint"];
      }
    }
    return out;
  }
  std::vector<SinkRecord> Find(const std::string& what, double since = 0) {
    std::vector<SinkRecord> out;
    for (auto& r : ReadSinkRecords(records)) {
      if (r.t >= since && r.What().rfind(what, 0) == 0) out.push_back(std::move(r));
    }
    return out;
  }
  // The first record after `since` whose What() starts with `what` and that `pred` accepts.
  std::optional<SinkRecord> WaitRecord(
      const std::string& what, double since, std::chrono::milliseconds deadline,
      const std::function<bool(const SinkRecord&)>& pred = nullptr) {
    std::optional<SinkRecord> got;
    WaitFor(
        [&] {
          for (auto& r : Find(what, since)) {
            if (!pred || pred(r)) {
              got = std::move(r);
              return true;
            }
          }
          return false;
        },
        deadline, 100ms);
    return got;
  }
  std::string Logs() {
    auto tail = [](std::string s) { return s.size() > 4000 ? s.substr(s.size() - 4000) : s; };
    return "records:\n" + DescribeSinkRecords(ReadSinkRecords(records)) + "\nalertd:\n" +
           tail(alertd.Log()) + "\nsink:\n" + tail(sink.Log()) + "\nprometheus:\n" +
           tail(prom.Log());
  }
};

// The resolved alerts a PagerDuty event's default custom details list.
std::string PdNumResolved(const SinkRecord& r) {
  return r.body["payload"]["custom_details"].value("num_resolved", "");
}

}  // namespace

TEST_CASE("end to end: escalation while the primary is down, acked alerts keep PagerDuty open, "
          "an expired ack re-pages") {
  OncallStack s;
  const double t_start = UnixNow();
  s.SetUp(0, 0);
  REQUIRE_MESSAGE(WaitFor([&] { return s.Firing().size() == 2; }, 60s, 100ms), s.Logs());

  // The primary answers 503 to every attempt; the group's first flush is its first attempt.
  auto first_attempt = s.WaitRecord("down /down/primary", t_start, 20s);
  REQUIRE_MESSAGE(first_attempt.has_value(), s.Logs());
  auto trigger = s.WaitRecord("pagerduty trigger", t_start, 20s);
  REQUIRE_MESSAGE(trigger.has_value(), s.Logs());

  // The escalation email arrives `after` the first flush, although nothing was delivered.
  auto mail = s.WaitRecord("email managers@example.org", t_start, 30s);
  REQUIRE_MESSAGE(mail.has_value(), s.Logs());
  CHECK(mail->t >= first_attempt->t + kStepAfter - 0.5);
  CHECK_MESSAGE(mail->t <= first_attempt->t + kStepAfter + 2.5, s.Logs());
  CHECK(s.Find("webhook /down").empty());  // no attempt ever succeeded
  CHECK(s.Find("down /down/primary").size() >= 2);

  // db-1 acknowledged (expiring), then db-2 resolves.
  const auto fps = s.Firing();
  REQUIRE(fps.count("db-1") == 1);
  const double ack_for = 12;
  auto r = HttpPostJson(s.url + "/api/v1/alerts/" + fps.at("db-1") + "/ack",
                        R"({"by":"oncall","comment":"on it","expires_in":"12s"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const double t_ack = UnixNow();
  const double t_fix = UnixNow();
  s.SetUp(0, 1);
  // PagerDuty hears of db-2's resolve as an update of the open incident, not as a resolve.
  auto update = s.WaitRecord("pagerduty", t_fix, 10s,
                             [](const SinkRecord& x) { return PdNumResolved(x) == "1"; });
  REQUIRE_MESSAGE(update.has_value(), s.Logs());
  CHECK(update->body["event_action"] == "trigger");
  CHECK(update->body["dedup_key"] == trigger->body["dedup_key"]);

  // The ack expires with db-1 still firing: a new trigger within one group_interval.
  const double expiry = t_ack + ack_for;
  auto repage = s.WaitRecord("pagerduty trigger", expiry - 1, 20s, [&](const SinkRecord& x) {
    return x.t > update->t && PdNumResolved(x) != "1";
  });
  REQUIRE_MESSAGE(repage.has_value(), s.Logs());
  CHECK(repage->t >= expiry - 1);
  CHECK_MESSAGE(repage->t <= expiry + kGroupInterval + 1, s.Logs());
  CHECK(repage->body["dedup_key"] == trigger->body["dedup_key"]);
  CHECK(repage->body["payload"]["custom_details"]["num_firing"] == "1");

  // Up to here, with db-1 firing throughout, PagerDuty never got a resolve.
  CHECK_MESSAGE(s.Find("pagerduty resolve", t_start).empty(), s.Logs());

  // db-1 resolves: now the incident resolves.
  const double t_fix1 = UnixNow();
  s.SetUp(1, 1);
  auto resolve = s.WaitRecord("pagerduty resolve", t_fix1, 20s);
  REQUIRE_MESSAGE(resolve.has_value(), s.Logs());
  CHECK(resolve->body["dedup_key"] == trigger->body["dedup_key"]);
  CHECK(s.Find("webhook /default").empty());
}
