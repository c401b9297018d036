// Pushover against a real Alertmanager 0.25. Pushover's endpoint is fixed, so both reach
// https://api.pushover.net through an intercepting proxy (fixtures/tls_proxy.py, trusted with
// tls_config.ca_file) that answers as Pushover: the same query, parameter for parameter, for
// the same alerts, firing and resolved, with the defaults and with html, priority, sound,
// retry and expire set. Then Pushover's refusals: 400 is final, 503 is retried.
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
  receiver: po
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: po
  pushover_configs:
  - user_key: 'user-)" + who + R"('
    token: 'default'
)" + proxy.HttpConfigYaml(4) + R"(
  - user_key: 'user-)" + who + R"('
    token: '{{ .CommonLabels.team }}-token'
    html: true
    message: '{{ range .Alerts }}<b>{{ .Labels.instance }}</b> {{ .Annotations.summary }} {{ end }}'
    url_title: 'Runbook & more'
    priority: '{{ if eq .Status "firing" }}1{{ else }}-1{{ end }}'
    sound: siren
    retry: 30s
    expire: 2h
)" + proxy.HttpConfigYaml(4);
}

json Alerts(const std::string& ends_at) {
  json alerts = json::parse(R"([
    {"labels": {"alertname": "DiskFull", "instance": "a", "team": "infra"},
     "annotations": {"summary": "disk <a> & b is full"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"}
  ])");
  if (!ends_at.empty()) alerts[0]["endsAt"] = ends_at;
  return alerts;
}

// The query strings of the requests whose `user` is user-<who>, in arrival order.
std::vector<std::string> Queries(const testsupport::TlsInterceptProxy& proxy, const std::string& who,
                                 bool html) {
  std::vector<std::string> out;
  for (const auto& r : proxy.Requests()) {
    const std::string path = r["path"];
    if (path.find("user=user-" + who) == std::string::npos) continue;
    if ((path.find("html=1") != std::string::npos) != html) continue;
    CHECK(r["host"] == "api.pushover.net");
    CHECK(r["method"] == "POST");
    CHECK(r["headers"]["content-type"] == "text/plain");
    CHECK(r["body"] == "");
    out.push_back(path);
  }
  return out;
}

}  // namespace

TEST_CASE("Pushover: the same request as a real Alertmanager's, through an intercepting proxy") {
  testsupport::TlsInterceptProxy proxy;
  const std::string dir = t::MakeTempDir("alertd-pushover");
  testsupport::AlertmanagerPeer am(dir, Config(proxy, "am"));
  const config::Config cfg = testsupport::LoadConfig(Config(proxy, "alertd"), dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 2);

  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    REQUIRE_MESSAGE(t::WaitFor([&] { return Queries(proxy, "am", false).size() >= round &&
                                            Queries(proxy, "am", true).size() >= round; },
                               std::chrono::seconds(20)),
                    am.Log());
    Notification n = testsupport::NotificationOf(Alerts(ends_at), "po",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (bool html : {false, true}) {
      CAPTURE(html);
      auto theirs = Queries(proxy, "am", html);
      auto ours = Queries(proxy, "alertd", html);
      REQUIRE(theirs.size() == round);
      REQUIRE(ours.size() == round);
      std::string expected = theirs.back();
      expected.replace(expected.find("user=user-am"), 12, "user=user-alertd");
      CHECK(ours.back() == expected);
    }
  }
  // The points the comparison rests on, spelled out.
  const std::string html_firing = Queries(proxy, "am", true)[0];
  CHECK(html_firing.find("message=%3Cb%3Ea%3C%2Fb%3E+disk+%26lt%3Ba%26gt%3B+%26amp%3B+b+is+full") !=
        std::string::npos);
  CHECK(html_firing.find("priority=1&retry=30&sound=siren") != std::string::npos);
  CHECK(html_firing.find("token=infra-token") != std::string::npos);
  CHECK(Queries(proxy, "am", false)[0].find("expire=3600") != std::string::npos);
  CHECK(Queries(proxy, "am", false)[1].find("priority=0") != std::string::npos);
  t::RemoveTree(dir);
}

TEST_CASE("Pushover: a refused token is final, an outage is retried, and neither shows a secret") {
  testsupport::TlsInterceptProxy proxy;
  const std::string dir = t::MakeTempDir("alertd-pushover-fail");
  const std::string yaml = "route: {receiver: po}\nreceivers:\n- name: po\n  pushover_configs:\n"
                           "  - user_key: secret-user-key\n    token: bad\n" +
                           proxy.HttpConfigYaml(4) +
                           "  - user_key: secret-user-key\n    token: down\n" +
                           proxy.HttpConfigYaml(4);
  const config::Config with_proxy = testsupport::LoadConfig(yaml, dir);
  auto ints = BuildIntegrations(with_proxy.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  Notification n = testsupport::NotificationOf(Alerts(""), "po", LabelSet{{"alertname", "DiskFull"}},
                                               "http://alertd");
  NotifyResult bad = (*ints)[0].notifier->Notify(n);
  CHECK(bad.http_status == 400);
  CHECK(!bad.retryable);
  CHECK(bad.status.message().find("application token is invalid") != std::string::npos);
  NotifyResult down = (*ints)[1].notifier->Notify(n);
  CHECK(down.http_status == 503);
  CHECK(down.retryable);
  for (const auto& r : {bad, down}) CHECK(r.status.message().find("secret-user-key") == std::string::npos);

  auto missing = config::LoadConfigString(
      "route: {receiver: po}\nreceivers:\n- name: po\n  pushover_configs:\n  - token: t\n",
      dir + "/alertd.yml");
  REQUIRE(!missing.ok());
  CHECK(missing.ErrorText().find("alertd.yml:5:5: missing user key in Pushover config") !=
        std::string::npos);
  t::RemoveTree(dir);
}

}  // namespace alertd::notifiers
