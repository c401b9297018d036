// WeChat Work against a real Alertmanager 0.25: the same configs, pointed at the same sink
// playing WeChat's API (token fetch and message/send), make the same token request and post
// the same JSON, text and markdown, firing and then resolved, with the token fetched once and
// reused. Then what alertd does where Alertmanager reads the wrong fields: an expired token
// is fetched again and the send retried; a refusal fails.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

std::string Config(const std::string& sink, const std::string& who) {
  return R"(
route:
  receiver: wx
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
global:
  wechat_api_url: )" + sink + "/wechat/" + who + R"(/
  wechat_api_secret: 'corp secret/1'
  wechat_api_corp_id: corp1
receivers:
- name: wx
  wechat_configs:
  - to_user: '{{ .CommonLabels.team }}'
    agent_id: '1000002'
    send_resolved: true
  - api_url: )" + sink + "/wechat/" + who + R"(-md/
    message_type: markdown
    message: '**{{ .CommonLabels.alertname }}** {{ len .Alerts.Firing }}'
    to_party: '2'
    to_tag: ops
    send_resolved: true
)";
}

json Alerts(const std::string& ends_at) {
  json alerts = json::parse(R"([
    {"labels": {"alertname": "DiskFull", "instance": "a", "team": "infra"},
     "annotations": {"summary": "disk a is full"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"}
  ])");
  if (!ends_at.empty()) alerts[0]["endsAt"] = ends_at;
  return alerts;
}

}  // namespace

TEST_CASE("WeChat: token request and messages match a real Alertmanager's; the token is reused") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  testsupport::AlertmanagerPeer am(dir, Config(sink.url(), "am"));
  const config::Config cfg = testsupport::LoadConfig(Config(sink.url(), "alertd"), dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 2);

  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  auto posts = [&](const std::string& who) {
    std::vector<json> out;
    for (const auto& r : sink.RequestsTo("/wechat/" + who + "/")) {
      if (r["method"] == "POST") out.push_back(r);
    }
    return out;
  };
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    REQUIRE_MESSAGE(t::WaitFor([&] { return posts("am").size() >= round &&
                                            posts("am-md").size() >= round; },
                               std::chrono::seconds(20)),
                    am.Log());
    Notification n = testsupport::NotificationOf(Alerts(ends_at), "wx",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (const std::string& kind : std::vector<std::string>{"", "-md"}) {
      const auto theirs = posts("am" + kind);
      const auto ours = posts("alertd" + kind);
      REQUIRE(theirs.size() == round);
      REQUIRE(ours.size() == round);
      const json a = json::parse(theirs.back()["body"].get<std::string>());
      const json b = json::parse(ours.back()["body"].get<std::string>());
      INFO("alertmanager: " << a.dump(1));
      INFO("alertd:       " << b.dump(1));
      CHECK(a == b);
      // message/send?access_token=token-<who>-1 on both sides.
      CHECK(theirs.back()["path"] == "/wechat/am" + kind + "/message/send?access_token=token-am" +
                                         kind + "-1");
      CHECK(ours.back()["path"] == "/wechat/alertd" + kind +
                                       "/message/send?access_token=token-alertd" + kind + "-1");
    }
  }
  // One token request per integration, the same query on both sides.
  for (const std::string& kind : std::vector<std::string>{"", "-md"}) {
    std::vector<std::string> gets[2];
    for (int side = 0; side < 2; ++side) {
      const std::string prefix = std::string(side == 0 ? "/wechat/am" : "/wechat/alertd") + kind + "/";
      for (const auto& r : sink.RequestsTo(prefix)) {
        if (r["method"] == "GET") gets[side].push_back(r["path"].get<std::string>().substr(prefix.size()));
      }
    }
    CHECK(gets[0] == std::vector<std::string>{"gettoken?corpid=corp1&corpsecret=corp+secret%2F1"});
    CHECK(gets[1] == gets[0]);
  }
  const json text = json::parse(posts("am")[0]["body"].get<std::string>());
  CHECK(text["touser"] == "infra");
  CHECK(text["text"]["content"].get<std::string>().find("AlertmanagerUrl:") != std::string::npos);
  const json md = json::parse(posts("am-md")[1]["body"].get<std::string>());
  CHECK(md["markdown"]["content"] == "**DiskFull** 0");
}

TEST_CASE("WeChat: an expired token is fetched again and the send retried; refusals fail") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  const config::Config cfg = testsupport::LoadConfig(R"(
route: {receiver: wx}
receivers:
- name: wx
  wechat_configs:
  - api_url: )" + sink.url() + R"(/wechat/expire/
    api_secret: s3cret-value
    corp_id: corp1
  - api_url: )" + sink.url() + R"(/wechat/x/
    api_secret: s3cret-value
    corp_id: corp1
    to_user: '{{ .CommonLabels.team }}'
)", dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  Notification n = testsupport::NotificationOf(Alerts(""), "wx", LabelSet{{"alertname", "DiskFull"}},
                                               "http://alertd");
  NotifyResult first = (*ints)[0].notifier->Notify(n);
  CHECK(!first.status.ok());
  CHECK(first.retryable);
  CHECK(first.status.message().find("access_token expired") != std::string::npos);
  NotifyResult second = (*ints)[0].notifier->Notify(n);
  CHECK_MESSAGE(second.status.ok(), second.status.ToString());
  int gets = 0;
  for (const auto& r : sink.RequestsTo("/wechat/expire/")) gets += r["method"] == "GET";
  CHECK(gets == 2);
  for (const auto& r : sink.Requests()) {
    const bool token_request = r["path"].get<std::string>().find("gettoken") != std::string::npos;
    CHECK((token_request || r.dump().find("s3cret-value") == std::string::npos));
  }

  // Missing globals are refused at load, as Alertmanager refuses them.
  auto bad = config::LoadConfigString("route: {receiver: wx}\nreceivers:\n- name: wx\n"
                                      "  wechat_configs:\n  - corp_id: c\n",
                                      dir + "/alertd.yml");
  REQUIRE(!bad.ok());
  CHECK(bad.ErrorText().find("no global Wechat ApiSecret set") != std::string::npos);
  auto type = config::LoadConfigString("route: {receiver: wx}\nreceivers:\n- name: wx\n"
                                       "  wechat_configs:\n  - {corp_id: c, api_secret: s, "
                                       "message_type: html}\n",
                                       dir + "/alertd.yml");
  REQUIRE(!type.ok());
  CHECK(type.ErrorText().find("does not match valid options") != std::string::npos);
}

}  // namespace alertd::notifiers
