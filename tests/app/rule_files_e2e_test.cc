// End to end with the real binary: rule files written for datasources that know more PromQL
// functions than Prometheus 2.42 (VictoriaMetrics's MetricsQL). With `datasource.type:
// victoriametrics` such a rule loads with a warning, is evaluated with its text as written
// against a fake query API (tests/rules_engine/fixtures/query_server.py), and /api/v1/rules
// shows the warning; with the default type the same file is refused with file:line:col. The
// alerts' generatorURL links to the datasource's /graph.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* kRules = R"(groups:
  - name: vm
    interval: 1s
    rules:
      - alert: MedianHigh
        expr: range_median(latency_seconds[5m]) > 1
)";

std::string Config(const std::string& dir, int ds_port, int port, const std::string& type) {
  return "route: {receiver: r}\nreceivers: [{name: r}]\nrule_files: [rules.yml]\n"
         "evaluation: {interval: 1s}\n"
         "datasource:\n  url: http://127.0.0.1:" +
         std::to_string(ds_port) + "\n" + type +
         "server:\n  listen: 127.0.0.1:" + std::to_string(port) + "\nstorage:\n  path: " + dir +
         "/data/alertd.db\n";
}

}  // namespace

TEST_CASE(
    "an unknown PromQL function: a warning and evaluated as written with victoriametrics, "
    "refused with prometheus") {
  const std::string dir = MakeTempDir("alertd-metricsql");
  const int ds_port = FreePort();
  Process ds = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/rules_engine/fixtures/query_server.py",
       std::to_string(ds_port)},
      dir + "/query.log");
  const std::string ds_url = "http://127.0.0.1:" + std::to_string(ds_port);
  REQUIRE(WaitHttpReady(ds_url + "/ready", 20s));
  WriteFile(dir + "/rules.yml", kRules);

  // The default type (prometheus): refused by check-config and at start, with the position.
  const int refused_port = FreePort();
  WriteFile(dir + "/alertd.yml", Config(dir, ds_port, refused_port, ""));
  std::string out;
  int rc = RunCommand({kAlertdBinary, "check-config", dir + "/alertd.yml"}, &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find(dir + "/rules.yml:6:15: group \"vm\", rule 1, \"MedianHigh\": could not parse "
                       "expression: 1:1: parse error: unknown function with name "
                       "\"range_median\"") != std::string::npos);
  rc = RunCommand({kAlertdBinary, "--config", dir + "/alertd.yml"}, &out);
  CHECK(rc != 0);
  CHECK(out.find("unknown function with name \"range_median\"") != std::string::npos);

  // victoriametrics: loads with a warning that names the rule and the function.
  const int port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  WriteFile(dir + "/alertd.yml", Config(dir, ds_port, port, "  type: victoriametrics\n"));
  rc = RunCommand({kAlertdBinary, "check-config", dir + "/alertd.yml"}, &out);
  CHECK(rc == 0);
  CHECK(out.find("WARNING: " + dir +
                 "/rules.yml:5:9: group \"vm\", rule \"MedianHigh\": function "
                 "\"range_median\" is not PromQL of Prometheus 2.42") != std::string::npos);

  Process ad =
      Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
  REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), ad.Log());
  json rule;
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        auto r = HttpGet(url + "/api/v1/rules");
                        auto j = json::parse(r.body, nullptr, false);
                        if (j.is_discarded()) return false;
                        for (const auto& g : j["data"]["groups"])
                          for (const auto& x : g["rules"]) rule = x;
                        return rule.is_object() && rule.value("state", "") == "firing";
                      },
                      20s),
                  ad.Log());
  INFO(rule.dump());
  CHECK(rule["health"] == "ok");
  CHECK(rule["query"] == "range_median(latency_seconds[5m]) > 1");
  REQUIRE(rule["warnings"].is_array());
  REQUIRE(rule["warnings"].size() == 1);
  CHECK(rule["warnings"][0].get<std::string>().find("function \"range_median\"") == 0);
  REQUIRE(rule["alerts"].size() == 1);
  CHECK(rule["alerts"][0]["labels"]["job"] == "vm");
  CHECK(rule["alerts"][0]["value"] == "3e+00");

  // Without evaluation.external_url, generatorURL opens the expression in the datasource's
  // /graph, as Prometheus builds the link.
  json alerts;
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        alerts = json::parse(HttpGet(url + "/api/v2/alerts").body, nullptr, false);
                        return alerts.is_array() && alerts.size() == 1;
                      },
                      20s),
                  ad.Log());
  CHECK(alerts[0]["generatorURL"] ==
        ds_url + "/graph?g0.expr=range_median%28latency_seconds%5B5m%5D%29+%3E+1&g0.tab=1");

  // The datasource got the expression exactly as written.
  json requests = json::parse(HttpGet(ds_url + "/_requests").body);
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0]["params"]["query"] == "range_median(latency_seconds[5m]) > 1");
  ad.Stop();
  const std::string log = ad.Log();
  INFO(log);
  CHECK(log.find("rules.yml:5:9: group \"vm\", rule \"MedianHigh\": function \"range_median\"") !=
        std::string::npos);
  ds.Stop();
  RemoveTree(dir);
}
