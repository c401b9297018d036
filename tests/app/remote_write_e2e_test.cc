// alertd's remote write against real Prometheus 2.42: a reference Prometheus evaluates a rule
// file (a recording rule feeding an alert, and a pending alert) itself; alertd evaluates the
// same file against a second Prometheus, which receives alertd's remote write
// (--web.enable-remote-write-receiver). The recorded series and ALERTS must agree sample for
// sample at the evaluation timestamps both have (the same group name and file give both the
// same slots).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/time.h"
#include "tests/support/process.h"

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace t = alertd::testing;

namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPython = "/usr/bin/python3";

constexpr const char* kRules = R"(groups:
  - name: rw
    interval: 1s
    rules:
      - record: job:test_gauge:sum
        expr: sum by (job) (test_gauge)
        labels:
          source: rec
      - alert: HighSum
        expr: job:test_gauge:sum > 5
        for: 2s
        labels:
          severity: page
      - alert: AlwaysPending
        expr: test_gauge > 0
        for: 1h
)";

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c))
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

json Query(const std::string& base, const std::string& q) {
  auto r = t::HttpRequest("POST", base + "/api/v1/query", "query=" + Escape(q),
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
  if (r.status != 200) return json::array();
  auto doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded()) return json::array();
  return doc["data"]["result"];
}

// ts (ms) -> the samples at it, each "<labels> <value>", of the series matching `selector`
// over the last minute.
std::map<int64_t, std::set<std::string>> SamplesByTs(const std::string& base,
                                                     const std::string& selector) {
  std::map<int64_t, std::set<std::string>> out;
  for (const auto& s : Query(base, selector + "[1m]")) {
    const std::string labels = s["metric"].dump();
    for (const auto& v : s["values"]) {
      const auto ts = static_cast<int64_t>(v[0].get<double>() * 1000 + 0.5);
      out[ts].insert(labels + " " + v[1].get<std::string>());
    }
  }
  return out;
}

std::string Dump(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "  " + x + "\n";
  return out;
}

}  // namespace

TEST_CASE("recorded series and ALERTS written by alertd match Prometheus's own") {
  const std::string dir = t::MakeTempDir("alertd-rw-e2e");
  const int exporter_port = t::FreePort(), ref_port = t::FreePort(), rx_port = t::FreePort(),
            alertd_port = t::FreePort();
  const std::string script = dir + "/script.json";
  t::WriteFile(script, R"({"series": [
    {"name": "test_gauge", "labels": {"item": "x"}, "value": 3},
    {"name": "test_gauge", "labels": {"item": "y"}, "value": 4}]})");
  auto exporter = t::Process::Start(
      {kPython, std::string(t::kSourceDir) + "/tests/rules_engine/fixtures/exporter.py",
       std::to_string(exporter_port), script},
      dir + "/exporter.log");
  REQUIRE(t::WaitHttpReady(fmt::format("http://127.0.0.1:{}/-/ready", exporter_port), 20s));
  const std::string rules = dir + "/rules.yml";
  t::WriteFile(rules, kRules);
  const std::string scrape = fmt::format(R"(global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: test
    static_configs:
      - targets: ['127.0.0.1:{}']
)",
                                         exporter_port);
  t::WriteFile(dir + "/ref.yml", scrape + "rule_files: ['" + rules + "']\n");
  t::WriteFile(dir + "/rx.yml", scrape);
  auto start_prom = [&](const std::string& name, int port, bool receiver) {
    std::vector<std::string> argv = {kPrometheus, "--config.file=" + dir + "/" + name + ".yml",
                                     "--storage.tsdb.path=" + dir + "/" + name + "-data",
                                     fmt::format("--web.listen-address=127.0.0.1:{}", port),
                                     "--log.level=warn"};
    if (receiver) argv.push_back("--web.enable-remote-write-receiver");
    return t::Process::Start(argv, dir + "/" + name + ".log");
  };
  auto ref = start_prom("ref", ref_port, false);
  auto rx = start_prom("rx", rx_port, true);
  const std::string ref_url = fmt::format("http://127.0.0.1:{}", ref_port);
  const std::string rx_url = fmt::format("http://127.0.0.1:{}", rx_port);
  REQUIRE_MESSAGE(t::WaitHttpReady(ref_url + "/-/ready", 60s), ref.Log());
  REQUIRE_MESSAGE(t::WaitHttpReady(rx_url + "/-/ready", 60s), rx.Log());

  t::WriteFile(dir + "/alertd.yml", fmt::format(R"(datasource:
  url: {}
evaluation:
  interval: 1s
rule_files: ['{}']
remote_write:
  - url: {}/api/v1/write
    queue_config: {{batch_send_deadline: 100ms}}
storage:
  path: {}/data/alertd.db
server:
  listen: 127.0.0.1:{}
route:
  receiver: none
receivers:
  - name: none
)",
                                                rx_url, rules, rx_url, dir, alertd_port));
  auto alertd =
      t::Process::Start({t::kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
  const std::string alertd_url = fmt::format("http://127.0.0.1:{}", alertd_port);
  REQUIRE_MESSAGE(t::WaitHttpReady(alertd_url + "/-/ready", 30s), alertd.Log());

  // Both fire HighSum; then both have several evaluations in common where the states are
  // settled (neither is in its first seconds).
  const std::string sel = R"({__name__=~"job:test_gauge:sum|ALERTS"})";
  std::map<int64_t, std::set<std::string>> a, b;
  std::vector<int64_t> common;
  auto firing = [](const std::set<std::string>& s) {
    for (const auto& x : s)
      if (x.find("\"firing\"") != std::string::npos) return true;
    return false;
  };
  const bool converged = t::WaitFor(
      [&] {
        a = SamplesByTs(ref_url, sel);
        b = SamplesByTs(rx_url, sel);
        common.clear();
        for (const auto& [ts, s] : a) {
          auto it = b.find(ts);
          if (it != b.end() && firing(s) && firing(it->second)) common.push_back(ts);
        }
        return common.size() >= 3;
      },
      60s, 500ms);
  REQUIRE_MESSAGE(converged, "reference:\n"
                                 << a.size() << " timestamps; receiver: " << b.size() << "\n"
                                 << alertd.Log());
  for (int64_t ts : common) {
    INFO("evaluation at " << ts << "\nreference:\n"
                          << Dump(a[ts]) << "alertd via remote write:\n"
                          << Dump(b[ts]));
    CHECK(a[ts] == b[ts]);
    CHECK(a[ts].size() == 4);  // the recording, HighSum firing, AlwaysPending x and y pending
  }

  // ALERTS_FOR_STATE: the same series; alertd's value is the alert's activeAt in seconds.
  auto for_state = [](const json& r) {
    std::map<std::string, double> out;
    for (const auto& s : r) out[s["metric"].dump()] = std::stod(s["value"][1].get<std::string>());
    return out;
  };
  auto fa = for_state(Query(ref_url, "ALERTS_FOR_STATE"));
  auto fb = for_state(Query(rx_url, "ALERTS_FOR_STATE"));
  REQUIRE(fa.size() == 3);
  REQUIRE(fb.size() == fa.size());
  auto alerts = json::parse(t::HttpGet(alertd_url + "/api/v1/alerts").body);
  for (const auto& [labels, v] : fa) {
    INFO(labels);
    REQUIRE(fb.contains(labels));
    bool matched = false;
    for (const auto& al : alerts["data"]["alerts"]) {
      json want = al["labels"];
      want["__name__"] = "ALERTS_FOR_STATE";
      if (want.dump() != labels) continue;
      matched = true;
      // activeAt is RFC 3339; its whole seconds are the sample's value.
      auto active_at = alertd::ParseRFC3339(al["activeAt"].get<std::string>());
      REQUIRE(active_at.ok());
      CHECK(fb[labels] ==
            static_cast<double>(
                std::chrono::floor<std::chrono::seconds>(active_at->time_since_epoch()).count()));
      CHECK(v > 0);
    }
    CHECK(matched);
  }

  // The sum drops: HighSum resolves and its ALERTS series is marked stale in both (without
  // the staleness marker it would linger for 5 minutes in the receiver).
  t::WriteFile(script + ".tmp", R"({"series": [
    {"name": "test_gauge", "labels": {"item": "x"}, "value": 1},
    {"name": "test_gauge", "labels": {"item": "y"}, "value": 1}]})");
  std::filesystem::rename(script + ".tmp", script);
  CHECK(t::WaitFor(
      [&] {
        return Query(ref_url, R"(ALERTS{alertname="HighSum"})").empty() &&
               Query(rx_url, R"(ALERTS{alertname="HighSum"})").empty() &&
               !Query(rx_url, R"(job:test_gauge:sum == 2)").empty();
      },
      30s, 250ms));

  // Remote write's own metrics.
  const std::string metrics = t::HttpGet(alertd_url + "/metrics").body;
  CHECK(metrics.find("prometheus_remote_storage_samples_total{") != std::string::npos);
  CHECK(metrics.find("prometheus_remote_storage_samples_failed_total{remote_name=") !=
        std::string::npos);
  alertd.Stop();
  rx.Stop();
  ref.Stop();
  exporter.Stop();
  t::RemoveTree(dir);
}

TEST_CASE("without remote_write, recording rules load with a warning and report err") {
  const std::string dir = t::MakeTempDir("alertd-rw-none");
  const int port = t::FreePort();
  t::WriteFile(dir + "/rules.yml", kRules);
  t::WriteFile(dir + "/alertd.yml", fmt::format(R"(datasource:
  url: http://127.0.0.1:{}
evaluation:
  interval: 1s
rule_files: ['{}/rules.yml']
storage:
  path: {}/alertd.db
server:
  listen: 127.0.0.1:{}
route:
  receiver: none
receivers:
  - name: none
)",
                                                t::FreePort(), dir, dir, port));
  auto alertd =
      t::Process::Start({t::kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  REQUIRE_MESSAGE(t::WaitHttpReady(url + "/-/ready", 30s), alertd.Log());
  json rule;
  CHECK(t::WaitFor(
      [&] {
        auto doc = json::parse(t::HttpGet(url + "/api/v1/rules?type=record").body, nullptr, false);
        if (doc.is_discarded() || doc["data"]["groups"].empty()) return false;
        rule = doc["data"]["groups"][0]["rules"][0];
        return rule["health"] == "err";
      },
      20s));
  CHECK(rule["type"] == "recording");
  CHECK(rule["name"] == "job:test_gauge:sum");
  CHECK(rule["lastError"].get<std::string>().find("no remote_write is configured") !=
        std::string::npos);
  CHECK(alertd.Log().find("recording rules are not evaluated because no remote_write is "
                          "configured: rw/job:test_gauge:sum") != std::string::npos);
  alertd.Stop();
  t::RemoveTree(dir);
}
