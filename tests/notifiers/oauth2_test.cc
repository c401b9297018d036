// http_config.oauth2 (net/oauth2.h). First against a real Alertmanager 0.25: the same webhook
// receivers with oauth2, pointed at the same local token endpoint and resource
// (tests/notifiers/fixtures/http_sink.py), make the same token requests (form, where the
// client credentials go, the fallback from basic auth to form parameters) and send the token
// they got, firing and then resolved. Then what Alertmanager does over time, through
// net::HttpClient: tokens kept until shortly before they expire, a rotated client_secret_file,
// form-encoded answers, and a refusing endpoint whose error carries no secret.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

constexpr const char* kSecret = "s3cr+t/x";

std::string Receivers(const std::string& sink, const std::string& dir, const std::string& who) {
  return R"(
route:
  receiver: hooks
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: hooks
  webhook_configs:
  - url: )" + sink + "/oauth2/header-" + who + R"(/hook
    http_config:
      oauth2:
        client_id: alertd client
        client_secret: ')" + kSecret + R"('
        token_url: )" + sink + "/oauth2/header-" + who + R"(/token
        scopes: [alerts.write, 'read all']
        endpoint_params:
          audience: https://api.example.com/x y
  - url: )" + sink + "/oauth2/params-" + who + R"(/hook
    http_config:
      oauth2:
        client_id: alertd client
        client_secret_file: )" + dir + R"(/secret
        token_url: )" + sink + "/oauth2/params-" + who + R"(/token
        endpoint_params:
          grant_type: client_credentials
)";
}

json Alerts(const std::string& ends_at) {
  json a = {{"labels", {{"alertname", "Auth"}, {"instance", "a"}}},
            {"annotations", {{"summary", "s"}}},
            {"startsAt", "2024-01-01T00:00:00Z"}};
  if (!ends_at.empty()) a["endsAt"] = ends_at;
  return json::array({a});
}

// What a side's requests under /oauth2/<mode>-<who>/ show, with <who> taken out: per request
// the path's last part, the status, the token form and client secret, or the token sent.
std::vector<json> Exchange(const testsupport::HttpSink& sink, const std::string& mode,
                           const std::string& who) {
  std::vector<json> out;
  const std::string prefix = "/oauth2/" + mode + "-" + who + "/";
  for (const auto& r : sink.RequestsTo(prefix)) {
    json e = {{"path", r["path"].get<std::string>().substr(prefix.size())},
              {"status", r["status"]},
              {"errors", r["errors"]}};
    if (r.contains("form")) {
      e["form"] = r["form"];
      e["secret"] = r["secret"];
      e["basic_auth"] = r["headers"].value("authorization", "").rfind("Basic ", 0) == 0;
    }
    if (r.contains("token") && r["token"].is_string()) {
      std::string token = r["token"];
      const std::string mine = "-" + who + "-";
      if (auto at = token.find(mine); at != std::string::npos) token.replace(at, mine.size(), "-");
      e["token"] = token;
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("oauth2: token requests and the token sent match a real Alertmanager's") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  t::WriteFile(dir + "/secret", std::string(kSecret) + "\n");
  testsupport::AlertmanagerPeer am(dir, Receivers(sink.url(), dir, "am"));
  const config::Config cfg = testsupport::LoadConfig(Receivers(sink.url(), dir, "alertd"), dir);
  Deps deps = testsupport::TestDeps();
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 2);

  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    const auto hooks = [&](const std::string& mode, const std::string& who) {
      return sink.RequestsTo("/oauth2/" + mode + "-" + who + "/hook").size();
    };
    const bool got = t::WaitFor(
        [&] { return hooks("header", "am") >= round && hooks("params", "am") >= round; },
        std::chrono::seconds(20));
    INFO(am.Log());
    REQUIRE(got);
    Notification n = testsupport::NotificationOf(Alerts(ends_at), "hooks",
                                                 LabelSet{{"alertname", "Auth"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (const std::string mode : {"header", "params"}) {
      CAPTURE(mode);
      const auto theirs = Exchange(sink, mode, "am");
      const auto ours = Exchange(sink, mode, "alertd");
      CHECK(json(ours).dump(1) == json(theirs).dump(1));
    }
  }
  // What both did: one token for both notifications; for the endpoint that refuses basic
  // auth, the basic-auth attempt, then the form parameters.
  const auto ours = Exchange(sink, "params", "alertd");
  REQUIRE(ours.size() == 4);
  CHECK(ours[0]["status"] == 401);
  CHECK(ours[0]["basic_auth"] == true);
  CHECK(ours[1]["status"] == 200);
  CHECK(ours[1]["form"]["client_id"] == "alertd client");
  CHECK(ours[1]["secret"] == kSecret);
  CHECK(ours[2]["token"] == "tok-params-1");
  CHECK(ours[3]["token"] == "tok-params-1");
  const auto header = Exchange(sink, "header", "alertd");
  REQUIRE(header.size() == 3);
  CHECK(header[0]["form"] == json{{"audience", "https://api.example.com/x y"},
                                  {"grant_type", "client_credentials"},
                                  {"scope", "alerts.write read all"}});
  CHECK(header[0]["secret"] == kSecret);
}

namespace {

struct OAuthClient {
  const testsupport::HttpSink& sink;
  std::string who;
  std::unique_ptr<net::HttpClient> client;

  OAuthClient(const testsupport::HttpSink& s, const std::string& w, const std::string& secret_file)
      : sink(s), who(w) {
    config::HTTPClientConfig cfg;
    config::OAuth2Config o;
    o.client_id = "alertd client";
    if (secret_file.empty()) {
      o.client_secret = kSecret;
    } else {
      o.client_secret_file = secret_file;
    }
    o.token_url = sink.url() + "/oauth2/" + who + "/token";
    cfg.oauth2 = o;
    auto c = net::HttpClient::Create(cfg, "alertd-test");
    REQUIRE_MESSAGE(c.ok(), c.status().message());
    client = std::move(*c);
  }
  net::HttpResponse Post() {
    net::HttpRequest r;
    r.url = sink.url() + "/oauth2/" + who + "/hook";
    r.body = "{}";
    r.timeout = std::chrono::seconds(5);
    return client->Do(r);
  }
  size_t TokenRequests() const { return sink.RequestsTo("/oauth2/" + who + "/token").size(); }
};

}  // namespace

TEST_CASE("oauth2: a token is kept until 10 s before it expires, then fetched again") {
  testsupport::HttpSink sink;
  OAuthClient lasting(sink, "header-keep", "");
  for (int i = 0; i < 3; ++i) CHECK(lasting.Post().status == 200);
  CHECK(lasting.TokenRequests() == 1);
  // expires_in 5: already within the 10 s margin, so every request gets a new token.
  OAuthClient brief(sink, "short-x", "");
  for (int i = 0; i < 3; ++i) CHECK(brief.Post().status == 200);
  CHECK(brief.TokenRequests() == 3);
  std::vector<std::string> tokens;
  for (const auto& r : sink.RequestsTo("/oauth2/short-x/hook")) tokens.push_back(r["token"]);
  CHECK(tokens == std::vector<std::string>{"tok-short-x-1", "tok-short-x-2", "tok-short-x-3"});
  // A form-encoded answer works as JSON does.
  OAuthClient form(sink, "form-x", "");
  CHECK(form.Post().status == 200);
  CHECK(form.Post().status == 200);
  CHECK(form.TokenRequests() == 1);
}

TEST_CASE("oauth2: a rotated client_secret_file gets a new token; the fallback is remembered") {
  testsupport::HttpSink sink;
  const std::string file = sink.dir() + "/secret";
  t::WriteFile(file, std::string(kSecret) + "\n");
  OAuthClient c(sink, "params-rot", file);
  CHECK(c.Post().status == 200);
  CHECK(c.TokenRequests() == 2);  // basic auth refused, then form parameters
  t::WriteFile(file, "rotated\n");
  CHECK(c.Post().status == 200);
  const auto tokens = sink.RequestsTo("/oauth2/params-rot/token");
  REQUIRE(tokens.size() == 3);  // straight to the form parameters this time
  CHECK(tokens[2]["secret"] == "rotated");
  CHECK(tokens[2]["headers"].value("authorization", "") == "");
  CHECK(sink.RequestsTo("/oauth2/params-rot/hook").back()["token"] == "tok-params-rot-2");
}

TEST_CASE("oauth2: a refused token request fails the request without quoting any secret") {
  testsupport::HttpSink sink;
  OAuthClient c(sink, "deny-x", "");
  std::vector<std::string> secrets;
  net::HttpRequest r;
  r.url = sink.url() + "/oauth2/deny-x/hook";
  r.secrets_out = &secrets;
  net::HttpResponse resp = c.client->Do(r);
  CHECK(resp.transport.code() == Status::Code::kUnavailable);
  const std::string msg = resp.transport.message();
  CHECK(msg == "oauth2: cannot fetch token: HTTP 400 (invalid_client)");
  CHECK(msg.find(kSecret) == std::string::npos);
  CHECK(sink.RequestsTo("/oauth2/deny-x/hook").empty());
  CHECK(c.TokenRequests() == 2);  // both ways of sending the credentials were tried
  CHECK(std::find(secrets.begin(), secrets.end(), kSecret) != secrets.end());
  // A token endpoint that cannot be reached fails the same way.
  config::HTTPClientConfig cfg;
  cfg.oauth2 = config::OAuth2Config{"id", "x", "", {}, "http://127.0.0.1:1/token", {}, "", {}};
  auto down = net::HttpClient::Create(cfg, "alertd-test");
  REQUIRE(down.ok());
  net::HttpRequest r2;
  r2.url = sink.url() + "/ok/x";
  resp = (*down)->Do(r2);
  CHECK(resp.transport.code() == Status::Code::kUnavailable);
  CHECK(resp.transport.message().rfind("oauth2: cannot fetch token: ", 0) == 0);
  CHECK(sink.RequestsTo("/ok/x").empty());
}

}  // namespace alertd::notifiers
