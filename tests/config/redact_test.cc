// The configuration as /api/v2/status shows it (Config::redacted_yaml): every secret key of
// alertd.yml and of Alertmanager's integrations is hidden as `<secret>`, URLs lose their
// userinfo, `*_file` paths and everything else stay. And `server.auth.tokens[].roles`.
#include "config/redact.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.h"

using namespace alertd;
using namespace alertd::config;

namespace {

LoadResult Load(const std::string& yaml) {
  return LoadConfigString(yaml, "/tmp/alertd-test/alertd.yml");
}

// The value at a path of keys and list indexes ("receivers.0.slack_configs.0.api_url").
std::string At(const std::string& yaml, const std::string& path) {
  YAML::Node n = YAML::Load(yaml);
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    const std::string part = path.substr(start, dot - start);
    if (n.IsSequence()) {
      n = n[std::stoul(part)];
    } else {
      n = n[part];
    }
    if (!n.IsDefined()) return "<undefined>";
    start = dot + 1;
  }
  return n.IsScalar() ? n.Scalar() : YAML::Dump(n);
}

}  // namespace

TEST_CASE("every secret key is hidden, wherever the integration puts it") {
  // Also the keys of integrations alertd does not implement yet, so a configuration that uses
  // them is hidden from the day they are added; the text is redacted as parsed YAML.
  struct Row {
    const char* name;
    const char* yaml;
    const char* path;  // where the secret was; it must read <secret> now
  };
  const Row rows[] = {
      {"auth token", "server:\n  auth:\n    tokens:\n      - {name: a, token: S3CRET}\n",
       "server.auth.tokens.0.token"},
      {"global slack_api_url", "global:\n  slack_api_url: https://hooks.slack.com/S3CRET\n",
       "global.slack_api_url"},
      {"slack api_url", "receivers:\n  - slack_configs: [{api_url: 'https://x/S3CRET'}]\n",
       "receivers.0.slack_configs.0.api_url"},
      {"slack app_token", "receivers:\n  - slack_configs: [{app_token: S3CRET}]\n",
       "receivers.0.slack_configs.0.app_token"},
      {"slack signing_secret", "slack:\n  signing_secret: S3CRET\n", "slack.signing_secret"},
      {"pagerduty routing_key", "receivers:\n  - pagerduty_configs: [{routing_key: S3CRET}]\n",
       "receivers.0.pagerduty_configs.0.routing_key"},
      {"pagerduty service_key", "receivers:\n  - pagerduty_configs: [{service_key: S3CRET}]\n",
       "receivers.0.pagerduty_configs.0.service_key"},
      {"pagerduty webhook secret", "integrations:\n  pagerduty_webhook_secret: S3CRET\n",
       "integrations.pagerduty_webhook_secret"},
      {"global smtp_auth_password", "global:\n  smtp_auth_password: S3CRET\n",
       "global.smtp_auth_password"},
      {"global smtp_auth_secret", "global:\n  smtp_auth_secret: S3CRET\n",
       "global.smtp_auth_secret"},
      {"email auth_password", "receivers:\n  - email_configs: [{auth_password: S3CRET}]\n",
       "receivers.0.email_configs.0.auth_password"},
      {"email auth_secret", "receivers:\n  - email_configs: [{auth_secret: S3CRET}]\n",
       "receivers.0.email_configs.0.auth_secret"},
      {"webhook url", "receivers:\n  - webhook_configs: [{url: 'http://x/S3CRET'}]\n",
       "receivers.0.webhook_configs.0.url"},
      {"basic_auth password",
       "receivers:\n  - webhook_configs:\n      - http_config: {basic_auth: {username: u, "
       "password: S3CRET}}\n",
       "receivers.0.webhook_configs.0.http_config.basic_auth.password"},
      {"authorization credentials",
       "global:\n  http_config:\n    authorization: {type: Bearer, credentials: S3CRET}\n",
       "global.http_config.authorization.credentials"},
      {"bearer_token", "datasource:\n  url: http://p\n  bearer_token: S3CRET\n",
       "datasource.bearer_token"},
      {"oauth2 client_secret",
       "global:\n  http_config:\n    oauth2: {client_id: c, client_secret: S3CRET}\n",
       "global.http_config.oauth2.client_secret"},
      {"datasource headers", "datasource:\n  headers: {X-Scope-OrgID: S3CRET}\n",
       "datasource.headers.X-Scope-OrgID"},
      {"proxy_connect_header",
       "global:\n  http_config:\n    proxy_connect_header: {Proxy-Authorization: [S3CRET]}\n",
       "global.http_config.proxy_connect_header.Proxy-Authorization.0"},
      {"opsgenie api_key", "receivers:\n  - opsgenie_configs: [{api_key: S3CRET}]\n",
       "receivers.0.opsgenie_configs.0.api_key"},
      {"global opsgenie_api_key", "global:\n  opsgenie_api_key: S3CRET\n",
       "global.opsgenie_api_key"},
      {"telegram bot_token", "receivers:\n  - telegram_configs: [{bot_token: S3CRET}]\n",
       "receivers.0.telegram_configs.0.bot_token"},
      {"wechat api_secret", "receivers:\n  - wechat_configs: [{api_secret: S3CRET}]\n",
       "receivers.0.wechat_configs.0.api_secret"},
      {"global wechat_api_secret", "global:\n  wechat_api_secret: S3CRET\n",
       "global.wechat_api_secret"},
      {"pushover user_key", "receivers:\n  - pushover_configs: [{user_key: S3CRET}]\n",
       "receivers.0.pushover_configs.0.user_key"},
      {"pushover token", "receivers:\n  - pushover_configs: [{token: S3CRET}]\n",
       "receivers.0.pushover_configs.0.token"},
      {"victorops api_key", "receivers:\n  - victorops_configs: [{api_key: S3CRET}]\n",
       "receivers.0.victorops_configs.0.api_key"},
      {"global victorops_api_key", "global:\n  victorops_api_key: S3CRET\n",
       "global.victorops_api_key"},
      {"sns sigv4 secret_key",
       "receivers:\n  - sns_configs: [{sigv4: {access_key: a, secret_key: S3CRET}}]\n",
       "receivers.0.sns_configs.0.sigv4.secret_key"},
      {"webex credentials",
       "receivers:\n  - webex_configs:\n      - http_config: {authorization: {credentials: "
       "S3CRET}}\n",
       "receivers.0.webex_configs.0.http_config.authorization.credentials"},
      {"discord webhook_url",
       "receivers:\n  - discord_configs: [{webhook_url: 'https://d/S3CRET'}]\n",
       "receivers.0.discord_configs.0.webhook_url"},
      {"msteams webhook_url",
       "receivers:\n  - msteams_configs: [{webhook_url: 'https://m/S3CRET'}]\n",
       "receivers.0.msteams_configs.0.webhook_url"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const std::string out = internal::RedactedYaml(YAML::Load(row.yaml));
    INFO(out);
    CHECK(out.find("S3CRET") == std::string::npos);
    CHECK(At(out, row.path) == "<secret>");
  }
}

TEST_CASE("redaction keeps file paths, empty secrets, non-secret values, and strips userinfo") {
  const std::string out = internal::RedactedYaml(YAML::Load(R"(
global:
  smtp_auth_password: ""
  smtp_auth_password_file: /etc/alertd/smtp-password
  smtp_smarthost: mail:25
receivers:
  - name: team
    email_configs:
      - to: 'ops@example.org'
        headers: {Subject: keep me}
    slack_configs:
      - api_url_file: /etc/alertd/slack-url
        title: 'see http://viewer:pw-in-title@grafana/d/1'
datasource:
  url: http://ds-user:ds-pass@prometheus:9090/prefix
  proxy_url: http://proxy-user:proxy-pass@proxy:3128
evaluation:
  external_url: https://u:p@alertd.example.org
)"));
  INFO(out);
  CHECK(At(out, "global.smtp_auth_password").empty());
  CHECK(At(out, "global.smtp_auth_password_file") == "/etc/alertd/smtp-password");
  CHECK(At(out, "global.smtp_smarthost") == "mail:25");
  CHECK(At(out, "receivers.0.email_configs.0.headers.Subject") == "keep me");
  CHECK(At(out, "receivers.0.slack_configs.0.api_url_file") == "/etc/alertd/slack-url");
  CHECK(At(out, "receivers.0.slack_configs.0.title") == "see http://grafana/d/1");
  CHECK(At(out, "datasource.url") == "http://prometheus:9090/prefix");
  CHECK(At(out, "datasource.proxy_url") == "http://proxy:3128");
  CHECK(At(out, "evaluation.external_url") == "https://alertd.example.org");
  for (const char* gone : {"ds-user", "ds-pass", "proxy-pass", "pw-in-title", "u:p@"}) {
    CHECK(out.find(gone) == std::string::npos);
  }
}

TEST_CASE("an anchored secret is hidden where it is aliased too") {
  const std::string out = internal::RedactedYaml(
      YAML::Load("receivers:\n  - pagerduty_configs: [{routing_key: &k S3CRET}]\n"
                 "  - pagerduty_configs: [{routing_key: *k}]\n"));
  INFO(out);
  CHECK(out.find("S3CRET") == std::string::npos);
}

TEST_CASE("a loaded configuration carries its redacted text") {
  auto res = Load(R"(
route: {receiver: team}
receivers:
  - name: team
    webhook_configs: [{url: 'http://hook/secret-path-Jd8'}]
    pagerduty_configs: [{routing_key: rk-Ux3}]
server:
  auth:
    tokens: [{name: ops, token: tok-Bb2, roles: [ack, read]}]
)");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const std::string& y = res.config->redacted_yaml;
  INFO(y);
  for (const char* gone : {"secret-path-Jd8", "rk-Ux3", "tok-Bb2"}) {
    CHECK(y.find(gone) == std::string::npos);
  }
  CHECK(At(y, "server.auth.tokens.0.roles.1") == "read");
  CHECK(At(y, "receivers.0.name") == "team");
  CHECK(At(y, "receivers.0.pagerduty_configs.0.routing_key") == "<secret>");
  // A configuration that does not load has no redacted text to serve.
  CHECK_FALSE(Load("route: {receiver: nobody}\nreceivers: [{name: a}]\n").config.has_value());
}

TEST_CASE("auth token roles: every role by default, a listed subset, unknown names refused") {
  auto res = Load(R"(
route: {receiver: a}
receivers: [{name: a}]
server:
  auth:
    tokens:
      - {name: all, token: t1}
      - {name: some, token: t2, roles: [ack, silence]}
      - name: each
        token: t3
        roles: [read, alerts, ack, silence, admin, schedule]
)");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const auto& tokens = res.config->server.auth_tokens;
  REQUIRE(tokens.size() == 3);
  CHECK(tokens[0].roles == kAllRoles);
  CHECK(tokens[1].roles ==
        (static_cast<RoleSet>(Role::kAck) | static_cast<RoleSet>(Role::kSilence)));
  CHECK(HasRole(tokens[1].roles, Role::kAck));
  CHECK_FALSE(HasRole(tokens[1].roles, Role::kRead));
  CHECK(tokens[2].roles == kAllRoles);
  for (Role r : {Role::kRead, Role::kAlerts, Role::kAck, Role::kSilence, Role::kAdmin,
                 Role::kSchedule}) {
    CHECK(ParseRole(RoleName(r)) == r);
  }

  struct Row {
    const char* name;
    const char* roles;
    const char* message;
    int column;
  };
  const Row bad[] = {
      {"unknown role", "[read, writer]", "unknown role \"writer\"", 43},
      {"empty list", "[]", "roles: empty", 36},
      {"not a list", "admin", "roles: expected a list of role names", 36},
  };
  for (const auto& row : bad) {
    INFO(row.name);
    auto r = Load(std::string("route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  auth:\n"
                              "    tokens:\n      - {name: x, token: t, roles: ") +
                  row.roles + "}\n");
    REQUIRE_FALSE(r.ok());
    INFO(r.ErrorText());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find(row.message) != std::string::npos);
    CHECK(r.errors[0].message.find("server auth token \"x\"") != std::string::npos);
    CHECK(r.errors[0].pos.file == "/tmp/alertd-test/alertd.yml");
    CHECK(r.errors[0].pos.line == 6);
    CHECK(r.errors[0].pos.column == row.column);
  }
}
