// End to end, with the real alertd binary and a local peer that plays PagerDuty and Slack
// (tests/app/fixtures/vendor_peer.py: Events API and incoming webhooks in, v3 webhooks and
// button clicks out, signed as the vendors document it). A group escalates; a PagerDuty
// incident.acknowledged webhook with a bad signature is refused and changes nothing; the
// genuine one acknowledges the group by the PagerDuty user, and the next escalation step never
// arrives. Then a Slack Acknowledge click acknowledges another group by the Slack user and the
// message is updated through response_url. Bearer tokens are configured and not asked for.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Record {
  double t;
  std::string kind, path;
  json body;
};

struct Stack {
  std::string dir = MakeTempDir("alertd-integ-e2e");
  int peer_port = FreePort(), alertd_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
  std::string records = dir + "/records.jsonl";
  Process vendor, alertd;

  Stack() {
    vendor = Process::Start({"/usr/bin/python3",
                             std::string(kSourceDir) + "/tests/app/fixtures/vendor_peer.py",
                             std::to_string(peer_port), url, "pd-subscription-secret",
                             "slack-signing-secret", records},
                            dir + "/peer.log");
    REQUIRE_MESSAGE(WaitHttpReady(peer + "/", 10s), vendor.Log());
    WriteFile(dir + "/slack.secret", "slack-signing-secret\n");
    WriteFile(dir + "/alertd.yml", R"(storage:
  path: )" + dir + R"(/data/alertd.db
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) +
                                       R"(
  auth:
    tokens: [{name: ops, token: s3cret}]
integrations:
  pagerduty_webhook_secret: pd-subscription-secret
  slack_signing_secret_file: slack.secret
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  escalation: critical
receivers:
  - name: oncall
    pagerduty_configs:
      - routing_key: e2e-routing-key
        url: )" + peer + R"(/pagerduty/v2/enqueue
    slack_configs:
      - api_url: )" + peer + R"(/slack/T000/B000/XXX
        channel: '#alerts'
        ack_button: true
  - name: leads
    webhook_configs: [{url: ')" + peer +
                                       R"(/leads'}]
  - name: managers
    webhook_configs: [{url: ')" + peer +
                                       R"(/managers'}]
escalation_policies:
  - name: critical
    steps:
      - after: 3s
        receivers: [leads]
      - after: 9s
        receivers: [managers]
)");
    alertd = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), alertd.Log());
  }
  ~Stack() {
    alertd.Stop();
    vendor.Stop();
    RemoveTree(dir);
  }

  void Fire(const std::string& name) {
    auto r = HttpPostJson(url + "/api/v2/alerts",
                          R"([{"labels":{"alertname":")" + name +
                              R"(","severity":"critical"},"annotations":{"summary":"down"}}])");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  std::vector<Record> Records() {
    std::vector<Record> out;
    std::istringstream in(ReadFile(records));
    std::string line;
    while (std::getline(in, line)) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      out.push_back(Record{j["t"].get<double>(), j["kind"], j["path"], j["body"]});
    }
    return out;
  }
  // Records of `kind` whose path starts with `path`, and for PagerDuty whose event_action is
  // `action` (when given).
  std::vector<Record> Find(const std::string& kind, const std::string& path = "",
                           const std::string& action = "") {
    std::vector<Record> out;
    for (auto& r : Records()) {
      if (r.kind != kind || r.path.rfind(path, 0) != 0) continue;
      if (!action.empty() && r.body.value("event_action", "") != action) continue;
      out.push_back(std::move(r));
    }
    return out;
  }
  std::optional<Record> Wait(const std::string& kind, const std::string& path,
                             const std::string& action, std::chrono::milliseconds deadline) {
    std::optional<Record> got;
    WaitFor(
        [&] {
          auto rs = Find(kind, path, action);
          if (!rs.empty()) got = rs.front();
          return got.has_value();
        },
        deadline, 100ms);
    return got;
  }
  // Asks the peer to act; returns alertd's answer to it.
  json Control(const std::string& what, const json& body) {
    auto r = HttpPostJson(peer + "/control/" + what, body.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
  json Acks() {
    return json::parse(HttpGet(url + "/api/v1/acks").body)["acks"];
  }
  double Metric(const std::string& sample) {
    const std::string text = "\n" + HttpGet(url + "/metrics").body;
    const auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size() + 2));
  }
  std::string Logs() {
    std::string s = "records:\n";
    for (const auto& r : Records()) {
      s += std::to_string(r.t) + " " + r.kind + " " + r.path + " " + r.body.dump().substr(0, 200) +
           "\n";
    }
    auto tail = [](std::string x) { return x.size() > 4000 ? x.substr(x.size() - 4000) : x; };
    return s + "alertd:\n" + tail(alertd.Log()) + "\npeer:\n" + tail(vendor.Log());
  }
};

}  // namespace

TEST_CASE("end to end: a PagerDuty webhook ack stops the escalation; a Slack click acks") {
  Stack s;
  s.Fire("DatabaseDown");

  // The group is paged in PagerDuty and Slack (with the Acknowledge button), and escalates:
  // step 1 reaches the leads 3 s after the first notification.
  auto trigger = s.Wait("pagerduty", "/pagerduty", "trigger", 20s);
  REQUIRE_MESSAGE(trigger.has_value(), s.Logs());
  const std::string dedup = trigger->body["dedup_key"];
  auto slack = s.Wait("slack", "/slack", "", 10s);
  REQUIRE_MESSAGE(slack.has_value(), s.Logs());
  CHECK(slack->body["blocks"][0]["elements"][0]["value"] == dedup);
  auto leads = s.Wait("webhook", "/leads", "", 15s);
  REQUIRE_MESSAGE(leads.has_value(), s.Logs());
  CHECK(leads->t >= trigger->t + 3 - 0.5);

  // A webhook signed with another secret: 401, nothing acknowledged.
  json answer = s.Control("pagerduty", {{"event_type", "incident.acknowledged"},
                                        {"dedup_key", dedup},
                                        {"event_id", "forged-1"},
                                        {"secret", "not-the-subscription-secret"}});
  CHECK(answer["status"] == 401);
  CHECK(s.Acks().empty());

  // The genuine webhook: the group is acknowledged by the PagerDuty user.
  answer = s.Control("pagerduty", {{"event_type", "incident.acknowledged"},
                                   {"dedup_key", dedup},
                                   {"agent", "Tenex Engineer"},
                                   {"event_id", "01-ack"}});
  REQUIRE_MESSAGE(answer["status"] == 200, std::string(answer.dump() + "\n" + s.Logs()));
  const json acks = s.Acks();
  REQUIRE_MESSAGE(acks.size() == 1, acks.dump());
  CHECK(acks[0]["by"] == "Tenex Engineer");
  // Step 2 (9 s after the first notification) never arrives.
  const double step2_due = trigger->t + 9;
  const auto wait_past =
      std::chrono::milliseconds(static_cast<int64_t>((step2_due + 3 - Now()) * 1000));
  CHECK_MESSAGE(!s.Wait("webhook", "/managers", "", std::max(wait_past, 1ms)).has_value(),
                s.Logs());
  CHECK(s.Find("webhook", "/leads").size() == 1);
  // The same delivery again is a duplicate; a resolve in PagerDuty leaves the alert firing.
  answer = s.Control("pagerduty", {{"event_type", "incident.acknowledged"},
                                   {"dedup_key", dedup},
                                   {"event_id", "01-ack"}});
  CHECK(json::parse(answer["body"].get<std::string>())["status"] == "duplicate");
  answer = s.Control("pagerduty", {{"event_type", "incident.resolved"},
                                   {"dedup_key", dedup},
                                   {"event_id", "01-resolve"}});
  CHECK(json::parse(answer["body"].get<std::string>())["status"] == "escalation_ended");
  auto alerts = json::parse(HttpGet(s.url + "/api/v2/alerts").body);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["status"]["state"] == "active");

  // Slack: another group, a click on its Acknowledge button.
  s.Fire("QueueStuck");
  REQUIRE_MESSAGE(WaitFor([&] { return s.Find("slack", "/slack").size() >= 2; }, 20s), s.Logs());
  answer = s.Control("slack/click", {{"user_id", "U0CA5"}, {"username", "amy"}});
  CHECK_MESSAGE(answer["status"] == 200, answer.dump());
  REQUIRE(WaitFor([&] { return s.Acks().size() == 2; }, 10s));
  bool by_amy = false;
  for (const auto& a : s.Acks()) {
    by_amy |= a["labels"]["alertname"] == "QueueStuck" && a["by"] == "amy";
  }
  CHECK(by_amy);
  // The message is replaced: the button gone, "Acknowledged by @amy" (Slack renders <@U0CA5>).
  auto update = s.Wait("slack-response", "/slack-response/", "", 10s);
  REQUIRE_MESSAGE(update.has_value(), s.Logs());
  CHECK(update->body["replace_original"] == true);
  CHECK(update->body["blocks"].back()["elements"][0]["text"] == "Acknowledged by <@U0CA5>");
  for (const auto& b : update->body["blocks"]) CHECK(b["type"] != "actions");
  // A click signed 10 minutes ago (a replay) is refused.
  answer = s.Control("slack/click", {{"timestamp", static_cast<int64_t>(Now()) - 600}});
  CHECK(answer["status"] == 401);

  // Every outcome is counted.
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="pagerduty",outcome="bad_signature"})") == 1);
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="pagerduty",outcome="acknowledged"})") == 1);
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="pagerduty",outcome="duplicate"})") == 1);
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="pagerduty",outcome="escalation_ended"})") == 1);
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="slack",outcome="acknowledged"})") == 1);
  CHECK(s.Metric(R"(alertd_integration_callbacks_total{integration="slack",outcome="stale"})") == 1);
  // Secrets never reach the log.
  CHECK(s.alertd.Log().find("pd-subscription-secret") == std::string::npos);
  CHECK(s.alertd.Log().find("slack-signing-secret") == std::string::npos);
}
