// The history end to end: a real alertd, alerts posted through the Alertmanager API and the
// webhook intake, deliveries to an HTTP receiver that answers and to one that is down
// (tests/app/fixtures/e2e_sink.py), a silence, an ack and a resolve; then
// GET /api/v1/notifications (filters, the cursor, bad input) and an alert's timeline, which
// survive a restart.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

json GetJson(const std::string& url) {
  auto r = HttpGet(url);
  INFO(url << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

std::string FingerprintOf(const std::string& url, const std::string& alertname) {
  for (const auto& a : GetJson(url + "/api/v2/alerts")) {
    if (a["labels"]["alertname"] == alertname) return a["fingerprint"];
  }
  return "";
}

std::vector<std::string> Kinds(const json& timeline) {
  std::vector<std::string> out;
  for (const auto& e : timeline) {
    std::string k = e["kind"];
    if (k == "notification") k += ":" + e["notification"]["status"].get<std::string>();
    out.push_back(k);
  }
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("notification history and alert timelines, through the API, across a restart") {
  const std::string dir = MakeTempDir("alertd-history");
  const int alertd_port = FreePort(), sink_port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  Process sink = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
       std::to_string(sink_port), std::to_string(FreePort()), dir + "/records.jsonl"},
      dir + "/sink.log");
  const std::string hook = "http://127.0.0.1:" + std::to_string(sink_port);
  WriteFile(dir + "/alertd.yml", R"(
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) + R"(
storage:
  path: )" + dir + R"(/alertd.db
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="down"']
      receiver: down
receivers:
  - name: hook
    webhook_configs: [{url: ')" + hook + R"(/hook'}]
  - name: down
    webhook_configs: [{url: ')" + hook + R"(/down/x'}]
)");
  auto start = [&] {
    Process p = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"},
                               dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 30s), p.Log());
    return p;
  };
  Process alertd = start();

  const std::string future = "2100-01-01T00:00:00Z";
  REQUIRE(HttpPostJson(url + "/api/v2/alerts",
                       R"([{"labels":{"alertname":"DiskFull","instance":"db1"},"endsAt":")" +
                           future + R"("},{"labels":{"alertname":"Broken","team":"down"}}])")
              .status == 200);
  REQUIRE(HttpPostJson(url + "/api/v1/webhook/alertmanager",
                       R"({"version":"4","status":"firing","receiver":"x","groupKey":"{}",
                           "alerts":[{"status":"firing","labels":{"alertname":"Relayed"},
                           "annotations":{},"startsAt":"2024-01-01T00:00:00Z",
                           "endsAt":"0001-01-01T00:00:00Z"}]})")
              .status == 200);
  const std::string disk = FingerprintOf(url, "DiskFull");
  const std::string relayed = FingerprintOf(url, "Relayed");
  REQUIRE(disk.size() == 16);
  REQUIRE(relayed.size() == 16);

  // The delivery to the hook is recorded as sent, with the alert it carried.
  REQUIRE(WaitFor(
      [&] {
        auto n = GetJson(url + "/api/v1/notifications?receiver=hook&status=sent&fingerprint=" + disk);
        return n["notifications"].size() == 1;
      },
      20s));
  json n = GetJson(url + "/api/v1/notifications?receiver=hook&fingerprint=" + disk)["notifications"][0];
  CHECK(n["integration"] == "webhook");
  CHECK(n["index"] == 0);
  CHECK(n["code"] == 200);
  CHECK(n["kind"] == "alerts");
  CHECK(n["reason"] == "first notification");
  CHECK(n["groupKey"] == "{}:{alertname=\"DiskFull\"}");
  REQUIRE(n["alerts"].size() == 1);
  CHECK(n["alerts"][0] == json{{"fingerprint", disk}, {"status", "firing"}});
  CHECK(n["latencySeconds"].get<double>() >= 0);

  // The receiver that is down: failed attempts with its HTTP status.
  REQUIRE(WaitFor(
      [&] {
        return GetJson(url + "/api/v1/notifications?receiver=down&status=failed")["notifications"]
                   .size() >= 2;
      },
      20s));
  n = GetJson(url + "/api/v1/notifications?receiver=down&status=failed")["notifications"][0];
  CHECK(n["code"] == 503);
  CHECK(n["error"].get<std::string>().find("503") != std::string::npos);
  CHECK(n["attempt"].get<int>() >= 2);  // newest first

  // Pages follow the cursor without repeating a record.
  json page1 = GetJson(url + "/api/v1/notifications?limit=1");
  REQUIRE(page1["next"].is_string());
  json page2 = GetJson(url + "/api/v1/notifications?limit=1&next=" + page1["next"].get<std::string>());
  REQUIRE(page2["notifications"].size() == 1);
  CHECK(page2["notifications"][0]["id"] != page1["notifications"][0]["id"]);
  for (const char* bad : {"?fingerprint=zz", "?status=ok", "?limit=0", "?limit=5000", "?next=x",
                          "?since=yesterday", "?colour=red"}) {
    auto r = HttpGet(url + "/api/v1/notifications" + bad);
    CAPTURE(bad);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body).contains("error"));
  }
  CHECK(HttpGet(url + "/api/v1/alerts/zz/history").status == 400);
  CHECK(HttpGet(url + "/api/v1/alerts/0123456789abcdef/history").status == 404);

  // A silence of the relayed alert: the next flush records it.
  auto sil = HttpPostJson(url + "/api/v2/silences",
                          R"({"matchers":[{"name":"alertname","value":"Relayed","isRegex":false}],
                              "startsAt":"2020-01-01T00:00:00Z","endsAt":")" + future + R"(",
                              "createdBy":"alice","comment":"known"})");
  REQUIRE(sil.status == 200);
  const std::string silence_id = json::parse(sil.body)["silenceID"];
  REQUIRE(WaitFor(
      [&] {
        return Has(Kinds(GetJson(url + "/api/v1/alerts/" + relayed + "/history")["timeline"]),
                   "silenced");
      },
      20s));
  json relayed_tl = GetJson(url + "/api/v1/alerts/" + relayed + "/history")["timeline"];
  CHECK(relayed_tl[0]["kind"] == "received");
  CHECK(relayed_tl[0]["source"] == "webhook");
  for (const auto& e : relayed_tl) {
    if (e["kind"] == "silenced") {
      CHECK(e["silenceID"] == silence_id);
      CHECK(e["by"] == "alice");
      CHECK(e["comment"] == "known");
    }
  }

  // An ack, then the resolve of DiskFull.
  REQUIRE(HttpPostJson(url + "/api/v1/alerts/" + disk + "/ack", R"({"by":"bob","comment":"on it"})")
              .status == 200);
  const std::string now = alertd::FormatRFC3339(alertd::Time(
      std::chrono::duration_cast<alertd::Duration>(std::chrono::system_clock::now().time_since_epoch())));
  REQUIRE(HttpPostJson(url + "/api/v2/alerts",
                       R"([{"labels":{"alertname":"DiskFull","instance":"db1"},"endsAt":")" + now + R"("}])")
              .status == 200);
  REQUIRE(WaitFor(
      [&] {
        auto got = GetJson(url + "/api/v1/notifications?receiver=hook&fingerprint=" + disk);
        for (const auto& r : got["notifications"]) {
          if (r["alerts"][0]["status"] == "resolved" && r["status"] == "sent") return true;
        }
        return false;
      },
      20s));
  json h = GetJson(url + "/api/v1/alerts/" + disk + "/history");
  CHECK(h["alert"]["labels"]["alertname"] == "DiskFull");
  CHECK(h["alert"]["status"] == "resolved");
  auto kinds = Kinds(h["timeline"]);
  INFO(h.dump());
  REQUIRE(kinds.size() >= 5);
  CHECK(kinds[0] == "received");
  CHECK(h["timeline"][0]["source"] == "api");
  CHECK(kinds[1] == "notification:sent");
  // Acknowledged, then resolved: the ack ends with the alert; the resolve is delivered.
  auto at = [&](const std::string& k) { return std::find(kinds.begin(), kinds.end(), k) - kinds.begin(); };
  CHECK(at("acknowledged") < at("resolved"));
  CHECK(std::count(kinds.begin(), kinds.end(), "resolved") == 1);
  CHECK(Has(kinds, "ack_ended"));
  CHECK(kinds.back() == "notification:sent");
  for (const auto& e : h["timeline"]) {
    if (e["kind"] == "acknowledged") {
      CHECK(e["by"] == "bob");
      CHECK(e["comment"] == "on it");
    }
    if (e["kind"] == "ack_ended") CHECK(e["reason"] == "resolved");
  }

  auto metrics = HttpGet(url + "/metrics").body;
  CHECK(metrics.find("alertd_history_records_total{kind=\"notification\"}") != std::string::npos);

  // What was recorded is there after a restart.
  const size_t before = h["timeline"].size();
  REQUIRE(alertd.Stop() == 0);
  alertd = start();
  json again = GetJson(url + "/api/v1/alerts/" + disk + "/history");
  CHECK(again["timeline"].size() >= before);
  CHECK(Kinds(again["timeline"])[0] == "received");
  alertd.Stop();
  sink.Stop();
  RemoveTree(dir);
}
