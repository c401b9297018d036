// Real peers for the router's end-to-end tests: the webhook sink (fixtures/webhook_sink.py),
// the reference Alertmanager 0.25 and alertd itself, each on a free loopback port, plus
// helpers to post alerts and silences and to read back what the sink received.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace alertd::testing {

inline constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

struct Peer {
  std::string name;
  std::string url;
  Process proc;
};

inline Peer StartSink(const std::string& dir) {
  Peer p{"sink", "", {}};
  const int port = FreePort();
  p.url = "http://127.0.0.1:" + std::to_string(port);
  p.proc = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/router/fixtures/webhook_sink.py",
       std::to_string(port)},
      dir + "/sink.log");
  REQUIRE(WaitHttpReady(p.url + "/-/ready", std::chrono::seconds(10)));
  return p;
}

inline Peer StartAlertmanager(const std::string& dir, const std::string& config_path) {
  Peer p{"am", "", {}};
  const int port = FreePort();
  p.url = "http://127.0.0.1:" + std::to_string(port);
  p.proc = Process::Start({kAlertmanagerBinary, "--cluster.listen-address=",
                           "--web.listen-address=127.0.0.1:" + std::to_string(port),
                           "--storage.path=" + dir + "/am-data", "--config.file=" + config_path},
                          dir + "/alertmanager.log");
  INFO(p.proc.Log());
  REQUIRE(WaitHttpReady(p.url + "/-/ready", std::chrono::seconds(20)));
  return p;
}

inline Peer StartAlertd(const std::string& dir, const std::string& config_path, int port = 0,
                        const std::string& log_name = "alertd.log") {
  Peer p{"alertd", "", {}};
  if (port == 0) port = FreePort();
  p.url = "http://127.0.0.1:" + std::to_string(port);
  p.proc = Process::Start(
      {kAlertdBinary, "--config", config_path, "--listen", "127.0.0.1:" + std::to_string(port),
       "--storage", dir + "/alertd-data/alertd.db"},
      dir + "/" + log_name);
  INFO(p.proc.Log());
  REQUIRE(WaitHttpReady(p.url + "/-/ready", std::chrono::seconds(20)));
  return p;
}

inline void PostAlerts(const std::vector<Peer*>& peers, const nlohmann::json& alerts) {
  const std::string body = alerts.dump();
  for (auto* p : peers) {
    auto r = HttpPostJson(p->url + "/api/v2/alerts", body);
    INFO(p->name << ": " << r.status << " " << r.body << " " << r.error);
    CHECK(r.status == 200);
  }
}

// An alert as Prometheus posts it; `resolved` sets endsAt to now.
inline nlohmann::json AlertJson(const std::map<std::string, std::string>& labels,
                                bool resolved = false) {
  nlohmann::json a = {{"labels", labels}, {"annotations", {{"summary", "s"}}}};
  if (resolved) {
    const auto now = std::chrono::system_clock::now();
    const auto secs =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t tt = secs / 1000;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    a["endsAt"] = std::string(buf) + "." + std::to_string(1000 + secs % 1000).substr(1) + "Z";
  }
  return a;
}

inline nlohmann::json SinkRecords(const Peer& sink) {
  auto r = HttpGet(sink.url + "/records");
  REQUIRE(r.status == 200);
  return nlohmann::json::parse(r.body);
}

// What one daemon's notifications looked like, per (receiver, group key): the sequence of
// "firing:[names] resolved:[names]" payloads, names from the `name` label.
using Timeline = std::map<std::string, std::vector<std::string>>;

inline std::string Describe(const nlohmann::json& payload) {
  std::vector<std::string> firing, resolved;
  for (const auto& a : payload["alerts"]) {
    std::string n = a["labels"].value("name", a["labels"].value("alertname", "?"));
    (a["status"] == "firing" ? firing : resolved).push_back(n);
  }
  std::sort(firing.begin(), firing.end());
  std::sort(resolved.begin(), resolved.end());
  std::string out = payload.value("status", "?") + " firing:[";
  for (size_t i = 0; i < firing.size(); ++i) out += (i ? "," : "") + firing[i];
  out += "] resolved:[";
  for (size_t i = 0; i < resolved.size(); ++i) out += (i ? "," : "") + resolved[i];
  return out + "]";
}

inline Timeline TimelineOf(const nlohmann::json& records, const std::string& prefix) {
  Timeline t;
  for (const auto& r : records) {
    const std::string path = r["path"];
    if (path.rfind(prefix, 0) != 0 || r["code"] != 200) continue;
    const auto& b = r["body"];
    t[b["receiver"].get<std::string>() + " " + b["groupKey"].get<std::string>()].push_back(
        Describe(b));
  }
  return t;
}

inline std::string Dump(const Timeline& t) {
  std::string out;
  for (const auto& [k, v] : t) {
    out += k + "\n";
    for (const auto& s : v) out += "    " + s + "\n";
  }
  return out;
}

}  // namespace alertd::testing
