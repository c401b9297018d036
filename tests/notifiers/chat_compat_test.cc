// Telegram, Discord and Webex against a real Alertmanager 0.25: the same receivers, pointed at
// the same local sink playing each vendor's API (tests/notifiers/fixtures/http_sink.py), get
// the same JSON bodies from both for the same alerts, firing and then resolved; HTML escaping
// of Telegram's default parse mode included. Then what each vendor's failures do to alertd.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

std::string Receivers(const std::string& sink, const std::string& who) {
  return R"(
receivers:
- name: chat
  telegram_configs:
  - api_url: )" + sink + "/telegram/" + who + R"(/0
    bot_token: '123456:ABC-secret-token'
    chat_id: -1001234567
  - api_url: )" + sink + "/telegram/" + who + R"(/1
    bot_token: '123456:ABC-secret-token'
    chat_id: 42
    parse_mode: MarkdownV2
    disable_notifications: true
    message: '{{ range .Alerts }}*{{ .Labels.instance }}* {{ .Annotations.summary }} {{ end }}'
  discord_configs:
  - webhook_url: )" + sink + "/discord/" + who + R"(
  webex_configs:
  - api_url: )" + sink + "/webex/" + who + R"(
    room_id: room-1
    http_config:
      authorization:
        credentials: webex-token
)";
}

const char* kRoute = R"(
route:
  receiver: chat
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
)";

json Alerts(const std::string& ends_at) {
  json alerts = json::parse(R"([
    {"labels": {"alertname": "DiskFull", "instance": "a", "severity": "critical"},
     "annotations": {"summary": "disk <a> & \"b\" is 'full'", "runbook": "http://rb/disk?x=1&y=2"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"},
    {"labels": {"alertname": "DiskFull", "instance": "b", "severity": "critical"},
     "annotations": {"summary": "disk b is full", "runbook": "http://rb/disk?x=1&y=2"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"}
  ])");
  if (!ends_at.empty()) {
    for (auto& a : alerts) a["endsAt"] = ends_at;
  }
  return alerts;
}

// The requests under `prefix` (one vendor, one side), in arrival order.
std::vector<json> Bodies(const testsupport::HttpSink& sink, const std::string& prefix) {
  std::vector<json> out;
  for (const auto& r : sink.RequestsTo(prefix)) {
    out.push_back(json::parse(r["body"].get<std::string>()));
  }
  return out;
}

}  // namespace

TEST_CASE("Telegram, Discord and Webex payloads match a real Alertmanager's, firing and resolved") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  testsupport::AlertmanagerPeer am(dir, std::string(kRoute) + Receivers(sink.url(), "am"));
  const config::Config cfg =
      testsupport::LoadConfig(std::string(kRoute) + Receivers(sink.url(), "alertd"), dir);
  Deps deps = testsupport::TestDeps();
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 4);

  const std::vector<std::string> prefixes = {"/telegram/{}/0/", "/telegram/{}/1/", "/discord/{}",
                                             "/webex/{}"};
  auto path = [](std::string p, const std::string& who) {
    return p.replace(p.find("{}"), 2, who);
  };
  // Round 1: firing. Round 2: the same alerts resolved a minute ago.
  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    const bool got = t::WaitFor(
        [&] {
          for (const auto& p : prefixes) {
            if (sink.RequestsTo(path(p, "am")).size() < round) return false;
          }
          return true;
        },
        std::chrono::seconds(20));
    INFO(am.Log());
    REQUIRE(got);

    Notification n = testsupport::NotificationOf(Alerts(ends_at), "chat",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (const auto& p : prefixes) {
      INFO(p);
      auto theirs = sink.RequestsTo(path(p, "am"));
      auto ours = sink.RequestsTo(path(p, "alertd"));
      REQUIRE(theirs.size() == round);
      REQUIRE(ours.size() == round);
      CHECK(ours.back()["errors"].empty());
      CHECK(theirs.back()["errors"].empty());
      const json a = json::parse(theirs.back()["body"].get<std::string>());
      const json b = json::parse(ours.back()["body"].get<std::string>());
      INFO("alertmanager: " << a.dump(1));
      INFO("alertd:       " << b.dump(1));
      CHECK(a == b);
      // The Bot API method and token are in the path, after the prefix.
      CHECK(ours.back()["path"].get<std::string>().substr(path(p, "alertd").size()) ==
            theirs.back()["path"].get<std::string>().substr(path(p, "am").size()));
      CHECK(ours.back()["headers"].value("authorization", "") ==
            theirs.back()["headers"].value("authorization", ""));
    }
  }
  // The points the comparison rests on, spelled out.
  auto tg = Bodies(sink, "/telegram/am/0/");
  CHECK(tg[0]["parse_mode"] == "HTML");
  CHECK(tg[0]["text"].get<std::string>().find("disk &lt;a&gt; &amp; &#34;b&#34; is &#39;full&#39;") !=
        std::string::npos);
  CHECK(tg[0]["chat_id"] == "-1001234567");
  CHECK(Bodies(sink, "/telegram/am/1/")[0]["disable_notification"] == "true");
  auto dc = Bodies(sink, "/discord/am");
  CHECK(dc[0]["embeds"][0]["color"] == 10038562);
  CHECK(dc[1]["embeds"][0]["color"] == 3066993);
  CHECK(dc[1]["embeds"][0]["title"] == "[RESOLVED] DiskFull (critical)");
  CHECK(sink.RequestsTo("/webex/am")[0]["headers"]["authorization"] == "Bearer webex-token");
}

TEST_CASE("Telegram's refusals and long messages, Webex's 401, Discord's 400") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  const std::string yaml = std::string(kRoute) + R"(
receivers:
- name: chat
  telegram_configs:
  - api_url: )" + sink.url() + R"(/telegram/fail
    bot_token: '123456:ABC-secret-token'
    chat_id: 1
  - api_url: )" + sink.url() + R"(/telegram/long
    bot_token: '123456:ABC-secret-token'
    chat_id: 1
    message: '{{ range .Alerts }}{{ .Annotations.long }}{{ end }}'
  discord_configs:
  - webhook_url: )" + sink.url() + R"(/discord/empty
    title: ''
    message: ''
  webex_configs:
  - api_url: )" + sink.url() + R"(/webex/x
    room_id: r
    http_config:
      authorization: {type: Token, credentials: x}
)";
  // Alertmanager's refusal of a config without the Webex token comes first.
  {
    auto r = config::LoadConfigString(std::string(kRoute) + R"(
receivers:
- name: chat
  webex_configs:
  - room_id: r
)", dir + "/alertd.yml");
    REQUIRE(!r.ok());
    CHECK(r.ErrorText().find("missing webex_configs.http_config.authorization") !=
          std::string::npos);
  }
  const config::Config cfg = testsupport::LoadConfig(yaml, dir);
  Deps deps = testsupport::TestDeps();
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 4);

  json alerts = json::array({{{"labels", {{"alertname", "A"}}},
                              {"annotations", {{"long", std::string(5000, 'x') + "\xC3\xA9"}}},
                              {"startsAt", "2024-01-01T00:00:00Z"}}});
  Notification n = testsupport::NotificationOf(alerts, "chat", LabelSet{{"alertname", "A"}},
                                               "http://alertd");
  // Telegram's {"ok":false}: a failure with its description, retried as Alertmanager does.
  NotifyResult fail = (*ints)[0].notifier->Notify(n);
  CHECK(!fail.status.ok());
  CHECK(fail.retryable);
  CHECK(fail.status.message().find("chat not found") != std::string::npos);
  CHECK(fail.status.message().find("ABC-secret-token") == std::string::npos);
  // A message over 4,096 runes is cut to 4,096 with "…" and accepted.
  NotifyResult long_msg = (*ints)[1].notifier->Notify(n);
  CHECK(long_msg.status.ok());
  const json sent = json::parse(sink.RequestsTo("/telegram/long")[0]["body"].get<std::string>());
  CHECK(sent["text"].get<std::string>() == std::string(4095, 'x') + "\xE2\x80\xA6");
  // Discord's 400 is final.
  NotifyResult discord = (*ints)[2].notifier->Notify(n);
  CHECK(!discord.status.ok());
  CHECK(!discord.retryable);
  CHECK(discord.http_status == 400);
  // A token that is not a bearer token: 401, final.
  NotifyResult webex = (*ints)[3].notifier->Notify(n);
  CHECK(webex.http_status == 401);
  CHECK(!webex.retryable);
}

}  // namespace alertd::notifiers
