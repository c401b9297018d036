// PagerDuty Events API v1 (service_key) against a real Alertmanager 0.25: both post to the
// fixed v1 endpoint whatever `url` says, reached through the intercepting proxy
// (fixtures/tls_proxy.py) that answers as PagerDuty, with the same JSON body, firing then
// resolved.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

std::string Config(const testsupport::TlsInterceptProxy& proxy, const std::string& who) {
  return R"(
route:
  receiver: pd
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: pd
  pagerduty_configs:
  - service_key: 'sk-)" + who + R"('
    url: http://127.0.0.1:9/not-used-by-v1
    client: '{{ .CommonLabels.team }}'
)" + proxy.HttpConfigYaml(4);
}

json Alerts(const std::string& ends_at) {
  json alerts = json::parse(R"([{"labels": {"alertname": "DiskFull", "team": "infra"},
     "annotations": {"summary": "disk full"}, "startsAt": "2024-01-01T00:00:00Z"}])");
  if (!ends_at.empty()) alerts[0]["endsAt"] = ends_at;
  return alerts;
}

std::vector<json> Events(const testsupport::TlsInterceptProxy& proxy, const std::string& who) {
  std::vector<json> out;
  for (const auto& r : proxy.Requests()) {
    if (r["body"].get<std::string>().find("sk-" + who) == std::string::npos) continue;
    CHECK(r["host"] == "events.pagerduty.com");
    CHECK(r["path"] == "/generic/2010-04-15/create_event.json");
    CHECK(r["status"] == 200);
    out.push_back(json::parse(r["body"].get<std::string>()));
  }
  return out;
}

}  // namespace

TEST_CASE("PagerDuty v1 goes to the fixed v1 endpoint with Alertmanager's body, whatever url says") {
  testsupport::TlsInterceptProxy proxy;
  const std::string dir = t::MakeTempDir("alertd-pd-v1");
  testsupport::AlertmanagerPeer am(dir, Config(proxy, "am"));
  const config::Config cfg = testsupport::LoadConfig(Config(proxy, "alertd"), dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 1);
  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    REQUIRE_MESSAGE(t::WaitFor([&] { return Events(proxy, "am").size() >= round; },
                               std::chrono::seconds(20)),
                    am.Log());
    Notification n = testsupport::NotificationOf(Alerts(ends_at), "pd",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    NotifyResult r = (*ints)[0].notifier->Notify(n);
    INFO(r.status.ToString());
    CHECK(r.status.ok());
    auto theirs = Events(proxy, "am");
    auto ours = Events(proxy, "alertd");
    REQUIRE(theirs.size() == round);
    REQUIRE(ours.size() == round);
    json expected = theirs.back();
    expected["service_key"] = "sk-alertd";
    CHECK(ours.back() == expected);
  }
  CHECK(Events(proxy, "am")[0]["event_type"] == "trigger");
  CHECK(Events(proxy, "am")[1]["event_type"] == "resolve");
  CHECK(Events(proxy, "am")[0]["client"] == "infra");
  t::RemoveTree(dir);
}

}  // namespace alertd::notifiers
