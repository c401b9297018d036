// GET /api/v2/status serves the configuration as Alertmanager does: marshalled back with every
// secret as <secret>. One row per kind of secret alertd's configuration can hold; each secret
// string must appear nowhere in the body, and the configuration shown is still YAML.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::api;
using json = nlohmann::json;

namespace {

std::string StatusBody(const std::shared_ptr<const config::Config>& cfg) {
  Router router;
  ApiContext ctx;
  ctx.config = [cfg] { return cfg; };
  RegisterApi(router, ctx);
  Request req;
  req.method = "GET";
  req.path = "/api/v2/status";
  std::string body;
  int status = 0;
  router.Dispatch(req, [&](Response r) {
    r.DrainStream();
    status = r.status;
    body = std::move(r.body);
  });
  REQUIRE(status == 200);
  return body;
}

}  // namespace

TEST_CASE("status: no secret of the configuration appears in /api/v2/status") {
  const std::string dir = testing::MakeTempDir("alertd-status-secrets");
  testing::WriteFile(dir + "/slack-url", "https://hooks.slack.com/services/FROM-FILE-Ee1\n");
  struct Row {
    const char* name;
    std::string yaml;  // below `route:` and a receiver `r` declared by the test
    std::vector<std::string> secrets;
    std::string still_there;  // a non-secret value of the same section, to show it is kept
  };
  const std::string r = "receivers:\n  - name: r\n";
  const Row rows[] = {
      {"auth token",
       r + "server:\n  auth:\n    tokens:\n      - {name: ops, token: auth-token-Aa1}\n",
       {"auth-token-Aa1"},
       "ops"},
      {"global slack_api_url",
       "global:\n  slack_api_url: https://hooks.slack.com/services/T0/B0/global-Gg2\n" + r +
           "    slack_configs: [{channel: '#ops'}]\n",
       {"global-Gg2", "hooks.slack.com"},
       "#ops"},
      {"slack api_url",
       r + "    slack_configs:\n      - api_url: https://hooks.slack.com/services/T/B/slack-Ss3\n"
           "        channel: '#pager'\n",
       {"slack-Ss3"},
       "#pager"},
      {"slack api_url_file stays a path",
       r + "    slack_configs:\n      - api_url_file: slack-url\n",
       {"FROM-FILE-Ee1"},
       "slack-url"},
      {"storage.postgres dsn",
       r + "storage:\n  postgres:\n    dsn: 'host=db user=alertd password=pg-dsn-Dd9'\n"
           "    password_file: pg-password-file\n",
       {"pg-dsn-Dd9", "host=db"},
       "pg-password-file"},
      {"pagerduty routing_key",
       r + "    pagerduty_configs: [{routing_key: routing-Rr4, severity: critical}]\n",
       {"routing-Rr4"},
       "critical"},
      {"pagerduty service_key",
       r + "    pagerduty_configs: [{service_key: service-Kk5, client: my-client}]\n",
       {"service-Kk5"},
       "my-client"},
      {"global smtp_auth_password and smtp_auth_secret",
       "global:\n  smtp_smarthost: mail:25\n  smtp_from: a@b\n  smtp_auth_username: u\n"
       "  smtp_auth_password: smtp-pass-Pp6\n  smtp_auth_secret: smtp-secret-Cc7\n" +
           r + "    email_configs: [{to: ops@example.org}]\n",
       {"smtp-pass-Pp6", "smtp-secret-Cc7"},
       "ops@example.org"},
      {"email auth_password and auth_secret",
       r + "    email_configs:\n      - {to: x@y, from: a@b, smarthost: 'mail:25', "
           "auth_password: mail-pass-Mm8, auth_secret: mail-secret-Nn9}\n",
       {"mail-pass-Mm8", "mail-secret-Nn9"},
       "x@y"},
      {"webhook url",
       r + "    webhook_configs: [{url: 'http://hooks.example.org/token-Ww0', max_alerts: 7}]\n",
       {"token-Ww0", "hooks.example.org"},
       "7"},
      {"basic_auth password",
       r + "    webhook_configs:\n      - url: http://h/\n        http_config:\n"
           "          basic_auth: {username: hook-user, password: basic-pass-Bb1}\n",
       {"basic-pass-Bb1"},
       "hook-user"},
      {"authorization credentials",
       r + "    webhook_configs:\n      - url: http://h/\n        http_config:\n"
           "          authorization: {type: Token, credentials: authz-Cr2}\n",
       {"authz-Cr2"},
       "Token"},
      {"bearer_token",
       r + "datasource:\n  url: http://prom:9090\n  bearer_token: bearer-Bt3\n",
       {"bearer-Bt3"},
       "http://prom:9090"},
      {"datasource basic_auth",
       r + "datasource:\n  url: http://prom:9090\n  basic_auth: {username: prom-user, "
           "password: ds-pass-Dp4}\n",
       {"ds-pass-Dp4"},
       "prom-user"},
      {"datasource headers",
       r + "datasource:\n  url: http://prom:9090\n  headers: {X-Scope-OrgID: tenant-Ht5, "
           "Authorization: 'Bearer hdr-Hb6'}\n",
       {"tenant-Ht5", "hdr-Hb6"},
       "X-Scope-OrgID"},
      {"userinfo in the datasource url",
       r + "datasource:\n  url: http://url-user-Uu7:url-pass-Up8@prom:9090/prefix\n",
       {"url-user-Uu7", "url-pass-Up8"},
       "http://prom:9090/prefix"},
      {"userinfo in proxy_url",
       r + "datasource:\n  url: http://prom:9090\n  proxy_url: "
           "http://px-user:px-pass-Px9@proxy:3128\n",
       {"px-pass-Px9", "px-user"},
       "http://proxy:3128"},
      {"global http_config bearer token",
       "global:\n  http_config: {bearer_token: global-bearer-Gb0}\n" + r +
           "    webhook_configs: [{url: 'http://h/'}]\n",
       {"global-bearer-Gb0"},
       "bearer_token"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const std::string text = "route: {receiver: r}\n" + row.yaml;
    INFO(text);
    auto loaded = config::LoadConfigString(text, dir + "/alertd.yml");
    REQUIRE_MESSAGE(loaded.ok(), loaded.ErrorText());
    const std::string body =
        StatusBody(std::make_shared<const config::Config>(std::move(*loaded.config)));
    for (const auto& secret : row.secrets) {
      INFO(secret);
      CHECK(body.find(secret) == std::string::npos);
    }
    const json status = json::parse(body);
    const std::string original = status["config"]["original"].get<std::string>();
    INFO(original);
    CHECK(original.find(row.still_there) != std::string::npos);
    CHECK(YAML::Load(original)["route"]["receiver"].as<std::string>() == "r");
  }
  testing::RemoveTree(dir);
}
