// Heartbeats end to end: a real Prometheus evaluating the always-firing Watchdog rule and
// sending it to alertd, whose heartbeat `prometheus-watchdog` is pinged by it; stopping
// Prometheus makes the heartbeat late and HeartbeatMissing reaches the webhook sink
// (tests/app/fixtures/e2e_sink.py). An API ping of another heartbeat, an unknown heartbeat
// (404) and a form post (415) are answered as documented.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

json Heartbeat(const std::string& url, const std::string& name) {
  auto r = HttpGet(url + "/api/v1/heartbeats");
  REQUIRE(r.status == 200);
  const json all = json::parse(r.body);
  for (const auto& h : all["heartbeats"]) {
    if (h["name"] == name) return h;
  }
  return json();
}

bool MissingFiring(const std::string& url, const std::string& name) {
  auto r = HttpGet(url + "/api/v2/alerts?filter=alertname%3D%22HeartbeatMissing%22");
  if (r.status != 200) return false;
  const json alerts = json::parse(r.body);
  for (const auto& a : alerts) {
    if (a["labels"].value("heartbeat", "") == name) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a Watchdog from a real Prometheus pings its heartbeat; Prometheus stopped pages") {
  const std::string dir = MakeTempDir("alertd-heartbeats");
  const int prom_port = FreePort(), alertd_port = FreePort(), sink_port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  const std::string records = dir + "/records.jsonl";
  Process sink = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
       std::to_string(sink_port), std::to_string(FreePort()), records},
      dir + "/sink.log");
  WriteFile(dir + "/alertd.yml", R"(
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) + R"(
storage:
  path: )" + dir + R"(/alertd.db
route:
  receiver: hook
  group_by: [alertname, heartbeat]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: 'http://127.0.0.1:)" + std::to_string(sink_port) + R"(/hook'}]
heartbeats:
  - name: prometheus-watchdog
    timeout: 4s
    alert_matchers: ['alertname="Watchdog"']
    labels: {severity: critical}
    annotations: {summary: "Prometheus stopped sending its Watchdog"}
  - name: nightly-backup
    timeout: 26h
)");
  Process alertd = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"},
                                  dir + "/alertd.log");
  REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 30s), alertd.Log());
  WriteFile(dir + "/rules.yml", R"(groups:
  - name: meta
    interval: 1s
    rules:
      - alert: Watchdog
        expr: vector(1)
)");
  WriteFile(dir + "/prometheus.yml",
            "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n"
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:" +
                std::to_string(alertd_port) + "']\n");
  // Sent every second (--rules.alert.resend-delay), so the 4s timeout has room.
  Process prom = Process::Start(
      {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/prom-data", "--rules.alert.resend-delay=1s",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      dir + "/prom.log");

  // The Watchdog arrives and pings the heartbeat.
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        const json h = Heartbeat(url, "prometheus-watchdog");
                        return h.is_object() && !h["lastPing"].is_null();
                      },
                      60s),
                  alertd.Log());
  json h = Heartbeat(url, "prometheus-watchdog");
  CHECK(h["lastPingSource"].get<std::string>().size() == 16);  // the Watchdog's fingerprint
  CHECK(h["late"] == false);
  CHECK(h["alertMatchers"] == json::array({"alertname=\"Watchdog\""}));
  // Kept alive while Prometheus runs: more than a timeout passes without a page.
  CHECK_FALSE(WaitFor([&] { return MissingFiring(url, "prometheus-watchdog"); }, 6s));

  // Prometheus stops: within the timeout (and a check) HeartbeatMissing fires and is delivered.
  prom.Stop();
  REQUIRE_MESSAGE(WaitFor([&] { return MissingFiring(url, "prometheus-watchdog"); }, 20s),
                  alertd.Log());
  bool delivered = false;
  REQUIRE(WaitFor(
      [&] {
        for (const auto& r : ReadSinkRecords(records)) {
          if (r.kind != "webhook" || r.body["status"] != "firing") continue;
          for (const auto& a : r.body["alerts"]) {
            if (a["labels"].value("alertname", "") == "HeartbeatMissing" &&
                a["labels"].value("heartbeat", "") == "prometheus-watchdog" &&
                a["labels"].value("severity", "") == "critical" &&
                a["annotations"].value("summary", "") == "Prometheus stopped sending its Watchdog") {
              delivered = true;
            }
          }
        }
        return delivered;
      },
      20s));
  CHECK(Heartbeat(url, "prometheus-watchdog")["late"] == true);
  CHECK(HttpGet(url + "/metrics").body.find(
            "alertd_heartbeat_late{heartbeat=\"prometheus-watchdog\"} 1") != std::string::npos);

  // An API ping resolves it at once; an empty body needs no Content-Type.
  auto r = HttpRequest("POST", url + "/api/v1/heartbeats/prometheus-watchdog", "", {});
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(MissingFiring(url, "prometheus-watchdog"));
  r = HttpPostJson(url + "/api/v1/heartbeats/nightly-backup", R"({"message":"3.2 GB in 4m"})");
  CHECK(r.status == 200);
  CHECK(Heartbeat(url, "nightly-backup")["message"] == "3.2 GB in 4m");
  r = HttpPostJson(url + "/api/v1/heartbeats/no-such", "{}");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body).contains("error"));
  r = HttpRequest("POST", url + "/api/v1/heartbeats/nightly-backup", "message=x",
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(r.status == 415);
  r = HttpPostJson(url + "/api/v1/heartbeats/nightly-backup", R"({"message": 3})");
  CHECK(r.status == 400);

  alertd.Stop();
  sink.Stop();
  RemoveTree(dir);
}
