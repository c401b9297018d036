// The same alerts through a real Alertmanager (/usr/bin/prometheus-alertmanager, 0.25) and
// through alertd's notifiers, with the same receivers pointed at the same local sink: the
// webhook, Slack and PagerDuty bodies must be the same JSON. Keys Alertmanager 0.25 does not
// send (notification_reason, added in 0.32) are dropped before comparing; nothing else is
// normalised, since both sides get the same startsAt, labels and external URL (so
// fingerprints, groupKey and dedup_key must match too).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

std::string ReceiverYaml(const std::string& sink, const std::string& who) {
  return R"(
receivers:
- name: team-x
  webhook_configs:
  - url: )" +
         sink + "/ok/" + who + R"(/webhook
    max_alerts: 2
  slack_configs:
  - api_url: )" +
         sink + "/slack/" + who + R"(
    channel: '#alerts'
    text: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
    fields:
    - title: Severity
      value: '{{ .CommonLabels.severity }}'
  pagerduty_configs:
  - routing_key: rk-123
    url: )" +
         sink + "/pd/" + who + R"(
    severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}'
    details:
      instance_count: '{{ len .Alerts }}'
)";
}

TEST_CASE("payloads match a real Alertmanager's for the same alerts") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  const std::string route = R"(
route:
  receiver: team-x
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
)";
  testsupport::AlertmanagerPeer am(dir, route + ReceiverYaml(sink.url(), "am"));
  const std::string am_url = am.url();

  // Three alerts; max_alerts 2 keeps instance a and b (Alertmanager's order).
  const json alerts = json::parse(R"([
    {"labels": {"alertname": "DiskFull", "instance": "b", "severity": "critical"},
     "annotations": {"summary": "disk b is full"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"},
    {"labels": {"alertname": "DiskFull", "instance": "a", "severity": "critical"},
     "annotations": {"summary": "disk a is full"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"},
    {"labels": {"alertname": "DiskFull", "instance": "c", "severity": "warning"},
     "annotations": {"summary": "disk c is full"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"}
  ])");
  am.Post(alerts);
  const bool got = t::WaitFor(
      [&] {
        return sink.RequestsTo("/ok/am").size() == 1 && sink.RequestsTo("/slack/am").size() == 1 &&
               sink.RequestsTo("/pd/am").size() == 1;
      },
      std::chrono::seconds(20));
  INFO(am.Log());
  REQUIRE(got);

  // The same receivers through alertd's config loader and registry.
  const config::Config cfg =
      testsupport::LoadConfig(route + ReceiverYaml(sink.url(), "alertd"), dir);
  Deps deps = testsupport::TestDeps();
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 3);
  CHECK((*ints)[0].notifier->integration() == "slack");
  CHECK((*ints)[1].notifier->integration() == "webhook");
  CHECK((*ints)[2].notifier->integration() == "pagerduty");

  // Sorted as Alertmanager sorts them: instance a, b, c.
  json sorted = json::array({alerts[1], alerts[0], alerts[2]});
  Notification n = testsupport::NotificationOf(sorted, "team-x", LabelSet{{"alertname", "DiskFull"}},
                                               am_url);
  for (auto& i : *ints) {
    INFO(i.notifier->integration());
    NotifyResult r = i.notifier->Notify(n);
    INFO(r.status.ToString());
    CHECK(r.status.ok());
  }

  struct Row {
    const char* name;
    const char* am_path;
    const char* alertd_path;
  };
  const Row rows[] = {
      {"webhook", "/ok/am", "/ok/alertd"},
      {"slack", "/slack/am", "/slack/alertd"},
      {"pagerduty", "/pd/am", "/pd/alertd"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto am_reqs = sink.RequestsTo(row.am_path);
    auto our_reqs = sink.RequestsTo(row.alertd_path);
    REQUIRE(am_reqs.size() == 1);
    REQUIRE(our_reqs.size() == 1);
    CHECK(am_reqs[0]["errors"].empty());
    CHECK(our_reqs[0]["errors"].empty());
    json theirs = json::parse(am_reqs[0]["body"].get<std::string>());
    json ours = json::parse(our_reqs[0]["body"].get<std::string>());
    ours.erase("notification_reason");  // Alertmanager 0.32+ only
    INFO("alertmanager: " << theirs.dump(1));
    INFO("alertd:       " << ours.dump(1));
    CHECK(ours == theirs);
    CHECK(our_reqs[0]["headers"]["content-type"] == am_reqs[0]["headers"]["content-type"]);
  }
  // The points the comparison rests on, spelled out.
  json wh = json::parse(sink.RequestsTo("/ok/am")[0]["body"].get<std::string>());
  CHECK(wh["groupKey"] == "{}:{alertname=\"DiskFull\"}");
  CHECK(wh["truncatedAlerts"] == 1);
  json pd = json::parse(sink.RequestsTo("/pd/am")[0]["body"].get<std::string>());
  CHECK(pd["dedup_key"] == "17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41");
}

}  // namespace
}  // namespace alertd::notifiers
