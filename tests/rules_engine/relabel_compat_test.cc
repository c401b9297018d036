// evaluation.alert_relabel_configs against a real Prometheus 2.42 (the Debian package): the
// same rule file and the same relabel list in Prometheus's alerting.alert_relabel_configs and
// in alertd's evaluation.alert_relabel_configs. Prometheus sends its alerts to alertd's
// POST /api/v2/alerts; alertd evaluates the rules itself (querying that Prometheus). Both
// carry an external label `source` saying who sent the alert; the label sets of the two
// sources, read from alertd's GET /api/v2/alerts, must be equal.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/support/process.h"

namespace {

using namespace std::chrono_literals;
using alertd::testing::FreePort;
using alertd::testing::HttpGet;
using alertd::testing::Process;
using alertd::testing::WaitFor;
using alertd::testing::WriteFile;
using json = nlohmann::json;

constexpr const char* kRules = R"(groups:
  - name: relabel
    rules:
      - alert: Main
        expr: vector(1)
        labels:
          severity: Critical
          team: db-infra
          tmp_debug: "x"
          env: prod
          instance: host.example.com:9100
          a: "1"
          b: "2"
      - alert: Dropped
        expr: vector(1)
        labels: {severity: info, a: "1", b: "2"}
      - alert: DroppedEqual
        expr: vector(1)
        labels: {severity: page, a: same, b: same}
      - alert: Unicode
        expr: vector(1)
        labels: {severity: ÀÉÎ, env: straße, a: "1", b: "2", instance: "[::1]:80"}
)";

// Every action but keep/labelkeep (which would need to keep `source`; the core table tests
// cover them), ordered so that later steps see earlier ones' results.
constexpr const char* kRelabel = R"(
    - source_labels: [severity]
      target_label: severity
      action: lowercase
    - source_labels: [team]
      regex: '([^-]+)-(.*)'
      target_label: team_${2}
      replacement: '${1}'
    - action: labelmap
      regex: 'tmp_(.*)'
      replacement: 'copied_$1'
    - action: LabelDrop
      regex: 'tmp_.*'
    - source_labels: [instance]
      target_label: shard
      modulus: 8
      action: hashmod
    - source_labels: [instance]
      regex: '(.+):\d+'
      target_label: host
    - source_labels: [env]
      target_label: ENV
      action: uppercase
    - source_labels: [severity]
      regex: info
      action: drop
    - source_labels: [a]
      target_label: b
      action: dropequal
    - source_labels: [site, alertname]
      separator: '/'
      target_label: origin
)";

// Label sets of the alerts from `source`, without `source`, as sorted JSON strings.
std::set<std::string> LabelSets(const json& alerts, const std::string& source) {
  std::set<std::string> out;
  if (!alerts.is_array()) return out;
  for (const auto& a : alerts) {
    json labels = a.value("labels", json::object());
    if (labels.value("source", "") != source) continue;
    labels.erase("source");
    out.insert(labels.dump());
  }
  return out;
}

}  // namespace

TEST_CASE("alert_relabel_configs relabel alerts as Prometheus 2.42's do") {
  const std::string dir = alertd::testing::MakeTempDir("alertd-relabel-it");
  const int prom_port = FreePort();
  const int alertd_port = FreePort();
  WriteFile(dir + "/rules.yml", kRules);
  WriteFile(dir + "/prometheus.yml", fmt::format(R"(global:
  evaluation_interval: 1s
  external_labels:
    site: test
    source: prometheus
alerting:
  alert_relabel_configs:{}
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{}']
rule_files:
  - '{}/rules.yml'
)",
                                                 kRelabel, alertd_port, dir));
  WriteFile(dir + "/alertd.yml", fmt::format(R"(datasource:
  url: http://127.0.0.1:{}
evaluation:
  interval: 1s
  external_labels:
    site: test
    source: alertd
  alert_relabel_configs:{}
rule_files:
  - '{}/rules.yml'
storage:
  path: {}/alertd.db
server:
  listen: 127.0.0.1:{}
route:
  receiver: none
receivers:
  - name: none
)",
                                             prom_port, kRelabel, dir, dir, alertd_port));
  Process alertd = Process::Start(
      {alertd::testing::kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
  REQUIRE_MESSAGE(alertd::testing::WaitHttpReady(
                      fmt::format("http://127.0.0.1:{}/-/ready", alertd_port), 30s),
                  alertd.Log());
  Process prom = Process::Start({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir + "/prom-data",
                                 fmt::format("--web.listen-address=127.0.0.1:{}", prom_port),
                                 // The first sends come before the alertmanager is discovered
                                 // and are dropped; resend at once rather than after 1m.
                                 "--rules.alert.resend-delay=1s", "--log.level=warn"},
                                dir + "/prometheus.log");
  REQUIRE_MESSAGE(alertd::testing::WaitHttpReady(
                      fmt::format("http://127.0.0.1:{}/-/ready", prom_port), 60s),
                  prom.Log());

  const std::string url = fmt::format("http://127.0.0.1:{}/api/v2/alerts", alertd_port);
  std::set<std::string> from_prom, from_alertd;
  const bool both = WaitFor(
      [&] {
        auto r = HttpGet(url);
        if (r.status != 200) return false;
        const json alerts = json::parse(r.body, nullptr, false);
        from_prom = LabelSets(alerts, "prometheus");
        from_alertd = LabelSets(alerts, "alertd");
        return from_prom.size() == 2 && from_alertd.size() == 2;
      },
      30s, 200ms);
  auto dump = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += x + "\n";
    return out;
  };
  INFO("from Prometheus:\n" << dump(from_prom) << "from alertd:\n" << dump(from_alertd));
  INFO(alertd.Log());
  INFO(prom.Log());
  REQUIRE(both);
  CHECK(from_alertd == from_prom);
  // The rows that say the relabelling did something (and not the same nothing on both sides).
  bool saw_main = false;
  for (const auto& s : from_alertd) {
    const json l = json::parse(s);
    if (l.value("alertname", "") != "Main") continue;
    saw_main = true;
    CHECK(l.value("severity", "") == "critical");
    CHECK(l.value("team_infra", "") == "db");
    CHECK(l.value("copied_debug", "") == "x");
    CHECK_FALSE(l.contains("tmp_debug"));
    CHECK(l.value("host", "") == "host.example.com");
    CHECK(l.value("ENV", "") == "PROD");
    CHECK(l.value("origin", "") == "test/Main");
  }
  CHECK(saw_main);
  prom.Stop();
  alertd.Stop();
  alertd::testing::RemoveTree(dir);
}
