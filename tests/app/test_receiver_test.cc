// `alertd test receiver` and POST /api/v1/receivers/{name}/test against a sink standing in for
// the integrations (tests/app/fixtures/e2e_sink.py): a test alert goes once through each
// integration, a webhook and an email that are delivered and a webhook that is down, and each
// outcome is reported; exit codes, roles and bad requests.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct Stack {
  std::string dir = MakeTempDir("alertd-test-receiver");
  int sink_port = FreePort(), smtp_port = FreePort(), alertd_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  std::string records = dir + "/records.jsonl";
  std::string config = dir + "/alertd.yml";
  Process sink, alertd;

  Stack() {
    sink = Process::Start(
        {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
         std::to_string(sink_port), std::to_string(smtp_port), records},
        dir + "/sink.log");
    const std::string sink_url = "http://127.0.0.1:" + std::to_string(sink_port);
    REQUIRE(WaitFor([&] { return HttpGet(sink_url + "/ready").status > 0; }, 10s));
    WriteFile(config, R"(global:
  smtp_smarthost: 127.0.0.1:)" + std::to_string(smtp_port) +
                          R"(
  smtp_from: alertd@example.org
  smtp_require_tls: false
route:
  receiver: team
receivers:
  - name: team
    webhook_configs:
      - url: )" + sink_url + R"(/team
      - url: )" + sink_url + R"(/down/team
    email_configs:
      - to: team@example.org
  - name: fine
    webhook_configs:
      - url: )" + sink_url + R"(/fine
  - name: nobody
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) +
                          R"(
  auth:
    tokens:
      - {name: ops, token: ops-token}
      - {name: viewer, token: viewer-token, roles: [read, ack]}
storage:
  path: )" + dir + R"(/data/alertd.db
)");
  }
  ~Stack() {
    alertd.Stop();
    sink.Stop();
    RemoveTree(dir);
  }
  void StartAlertd() {
    alertd = Process::Start({kAlertdBinary, "--config", config}, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), alertd.Log());
  }
  HttpResponse Test(const std::string& receiver, const std::string& body,
                    const std::string& token = "ops-token") {
    return HttpRequest("POST", url + "/api/v1/receivers/" + receiver + "/test", body,
                       {{"Content-Type", "application/json"},
                        {"Authorization", "Bearer " + token}});
  }
};

}  // namespace

TEST_CASE("POST /api/v1/receivers/{name}/test sends a test alert through each integration") {
  Stack s;
  s.StartAlertd();
  auto r = s.Test("team", R"({"labels": {"severity": "critical"}, "annotations": {"runbook": "r"}})");
  INFO(r.body);
  REQUIRE(r.status == 200);
  const json j = json::parse(r.body);
  CHECK(j["receiver"] == "team");
  CHECK(j["alert"]["labels"] ==
        json{{"alertname", "TestAlert"}, {"instance", "alertd"}, {"severity", "critical"}});
  CHECK(j["alert"]["annotations"]["runbook"] == "r");
  REQUIRE(j["integrations"].size() == 3);
  // In the receiver's order of kinds (email before webhook, as Alertmanager lists them).
  std::vector<std::string> got;
  for (const auto& i : j["integrations"]) {
    got.push_back(i["integration"].get<std::string>() + "[" + std::to_string(i["index"].get<int>()) +
                  "] " + i["status"].get<std::string>());
    CHECK(i["durationSeconds"].get<double>() >= 0);
  }
  CHECK(got == std::vector<std::string>{"email[0] sent", "webhook[0] sent", "webhook[1] failed"});
  const json& down = j["integrations"][2];
  CHECK(down["httpStatus"] == 503);
  CHECK(down["retryable"] == true);
  CHECK(down["error"].get<std::string>().find("503") != std::string::npos);
  CHECK(j["integrations"][1]["httpStatus"] == 200);

  // What the integrations got: a firing TestAlert for receiver "team".
  std::vector<SinkRecord> recs;
  REQUIRE(WaitFor(
      [&] {
        recs = ReadSinkRecords(s.records);
        return recs.size() >= 3;
      },
      10s));
  INFO(DescribeSinkRecords(recs));
  bool webhook = false, email = false;
  for (const auto& rec : recs) {
    if (rec.kind == "webhook" && rec.path == "/team") {
      webhook = true;
      CHECK(rec.body["receiver"] == "team");
      CHECK(rec.body["status"] == "firing");
      CHECK(rec.body["alerts"][0]["labels"]["alertname"] == "TestAlert");
      CHECK(rec.body["alerts"][0]["labels"]["severity"] == "critical");
    }
    if (rec.kind == "email") {
      email = true;
      CHECK(rec.body["to"][0] == "team@example.org");
      CHECK(rec.body["subject"].get<std::string>().find("TestAlert") != std::string::npos);
    }
  }
  CHECK(webhook);
  CHECK(email);
  // No alert was stored or routed: the test goes around the router.
  auto alerts = HttpRequest("GET", s.url + "/api/v2/alerts", "", {{"Authorization", "Bearer ops-token"}});
  CHECK(json::parse(alerts.body).empty());

  SUBCASE("errors") {
    auto unknown = s.Test("nope", "");
    CHECK(unknown.status == 404);
    CHECK(unknown.body.find("receiver \\\"nope\\\" not found") != std::string::npos);
    auto empty = s.Test("nobody", "");
    CHECK(empty.status == 400);
    CHECK(empty.body.find("no integrations") != std::string::npos);
    for (const char* bad : {"[1]", "{\"labels\": {\"bad-name\": \"x\"}}",
                            "{\"labels\": {\"a\": 1}}", "{\"annotations\": []}", "{"}) {
      CAPTURE(bad);
      auto b = s.Test("fine", bad);
      CHECK(b.status == 400);
      CHECK(b.body.find("\"error\"") != std::string::npos);
    }
    // Testing a receiver is an admin's: a token without the role is refused, nothing is sent.
    const size_t before = ReadSinkRecords(s.records).size();
    auto refused = s.Test("fine", "", "viewer-token");
    CHECK(refused.status == 403);
    CHECK(s.Test("fine", "", "wrong").status == 401);
    CHECK(ReadSinkRecords(s.records).size() == before);
  }
}

TEST_CASE("alertd test receiver prints each integration's outcome and exits by them") {
  Stack s;
  std::string out;
  int rc = RunCommand({kAlertdBinary, "test", "receiver", "--config", s.config, "team",
                       "--label", "severity=warning"},
                      &out);
  INFO(out);
  CHECK(rc == 1);  // webhook[1] is down
  CHECK(out.find("receiver \"team\": test alert {alertname=\"TestAlert\", instance=\"alertd\", "
                 "severity=\"warning\"}") != std::string::npos);
  CHECK(out.find("email[0]\tsent\tSMTP 250") != std::string::npos);
  CHECK(out.find("webhook[0]\tsent\tHTTP 200") != std::string::npos);
  CHECK(out.find("webhook[1]\tfailed\tHTTP 503") != std::string::npos);
  CHECK(out.find("(retryable)") != std::string::npos);

  rc = RunCommand({kAlertdBinary, "test", "receiver", "--config", s.config, "fine"}, &out);
  CHECK(rc == 0);
  CHECK(out.find("webhook[0]\tsent\tHTTP 200") != std::string::npos);

  rc = RunCommand({kAlertdBinary, "test", "receiver", "--config", s.config, "nope"}, &out);
  CHECK(rc == 2);
  CHECK(out.find("receiver \"nope\" not found") != std::string::npos);
  rc = RunCommand({kAlertdBinary, "test", "receiver", "--config", s.config, "fine", "--label",
                   "bad-name=x"},
                  &out);
  CHECK(rc == 2);
  CHECK(out.find("--label bad-name=x") != std::string::npos);
}
