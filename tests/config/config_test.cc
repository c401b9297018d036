#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "notifiers/integrations.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::config;
using namespace std::chrono_literals;
namespace t = alertd::testing;

namespace {

LoadResult Load(const std::string& yaml) { return LoadConfigString(yaml, "/tmp/alertd-test/alertd.yml"); }

const Route* Child(const Route& r, size_t i) { return i < r.routes.size() ? &r.routes[i] : nullptr; }

}  // namespace

TEST_CASE("the example configuration loads") {
  auto res = LoadConfigFile(std::string(t::kSourceDir) + "/examples/alertd.yml");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const Config& c = *res.config;
  CHECK(c.datasource.url == "http://127.0.0.1:19090");
  CHECK(c.evaluation.interval == 10s);
  CHECK(c.evaluation.external_labels.Get("cluster") == "demo");
  CHECK(c.rule_groups.size() == 3);
  CHECK(c.route.receiver == "default-webhook");
  REQUIRE(c.route.routes.size() == 3);
  // Children inherit group_by and timings, and the escalation policy.
  CHECK(c.route.routes[0].group_by == std::vector<std::string>{"alertname", "instance"});
  CHECK(c.route.routes[0].group_wait == 10s);
  CHECK(c.route.routes[0].escalation == "critical");
  CHECK(c.route.routes[0].continue_);
  CHECK(c.route.routes[1].escalation.empty());
  CHECK(c.FindReceiver("team-slack")->Of<notifiers::SlackConfig>()[0]->send_resolved);
  CHECK(c.escalation_policies[0].steps[0].after == 2min);
  // Email defaults from global.
  const auto& email = *c.FindReceiver("managers-email")->Of<notifiers::EmailConfig>()[0];
  CHECK(email.smarthost == "127.0.0.1:12525");
  CHECK(email.from == "alertd@example.org");
  CHECK(email.require_tls == false);
  CHECK(email.headers.at("To") == "managers@example.org");
}

TEST_CASE("Alertmanager defaults and route inheritance") {
  auto res = Load(R"(
route:
  receiver: a
  group_by: ['...']
  routes:
    - match: {severity: critical}
      match_re: {team: "db|infra"}
      receiver: b
      group_wait: 1m
      routes:
        - matchers: ['env=~"prod.*"', instance!="x"]
          repeat_interval: 1h
receivers:
  - name: a
  - name: b
    webhook_configs: [{url: "http://127.0.0.1:1/x"}]
)");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const Config& c = *res.config;
  CHECK(c.global.resolve_timeout == 5min);
  CHECK(c.route.group_wait == 30s);
  CHECK(c.route.group_interval == 5min);
  CHECK(c.route.repeat_interval == 4h);
  CHECK(c.route.group_by_all);
  const Route* b = Child(c.route, 0);
  REQUIRE(b);
  CHECK(b->receiver == "b");
  CHECK(b->group_by_all);
  CHECK(b->group_wait == 1min);
  CHECK(b->matchers.size() == 2);
  // match_re keeps Alertmanager's anchored source: it is part of route and group keys.
  CHECK(MatchersString(b->matchers) == "{severity=\"critical\",team=~\"^(?:db|infra)$\"}");
  const Route* leaf = Child(*b, 0);
  REQUIRE(leaf);
  CHECK(leaf->receiver == "b");
  CHECK(leaf->group_wait == 1min);
  CHECK(leaf->repeat_interval == 1h);
  CHECK(leaf->group_interval == 5min);
  CHECK(MatchersString(leaf->matchers) == R"({env=~"prod.*",instance!="x"})");
  const auto& wh = *c.FindReceiver("b")->Of<notifiers::WebhookConfig>()[0];
  CHECK(wh.send_resolved);
  CHECK(wh.max_alerts == 0);
}

// Each row is an alertmanager.yml (no alertd-only keys, so amtool can judge it too). The
// test runs the real `amtool check-config` on every row and requires the same verdict.
struct AmRow {
  const char* name;
  const char* yaml;
  bool valid;
  const char* message;  // substring of alertd's error, for invalid rows
  int line;             // line alertd reports (0: not checked)
};

const AmRow kAmRows[] = {
    {"minimal", "route: {receiver: a}\nreceivers: [{name: a}]\n", true, "", 0},
    {"full", R"(global:
  resolve_timeout: 1m
  smtp_smarthost: localhost:25
  smtp_from: am@example.org
  slack_api_url: http://127.0.0.1:1/slack
route:
  receiver: team
  group_by: [alertname, cluster]
  routes:
    - receiver: pager
      matchers: ['severity="critical"']
      continue: true
      mute_time_intervals: [offhours]
    - receiver: team
      match_re: {service: "^(foo1|foo2)$"}
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
time_intervals:
  - name: offhours
    time_intervals:
      - weekdays: ['saturday', 'sunday']
      - times: [{start_time: '18:00', end_time: '24:00'}]
        location: Europe/Berlin
receivers:
  - name: team
    slack_configs: [{channel: '#x', send_resolved: true}]
    email_configs: [{to: a@example.org}]
  - name: pager
    pagerduty_configs: [{routing_key: abc, severity: critical}]
    webhook_configs: [{url: 'http://127.0.0.1:5001/', max_alerts: 10}]
)", true, "", 0},
    {"no route", "receivers: [{name: a}]\n", false, "no route provided", 0},
    {"root without receiver", "route: {group_by: [a]}\nreceivers: [{name: a}]\n", false,
     "root route must specify a default receiver", 1},
    {"undefined receiver", "route:\n  receiver: a\n  routes:\n    - receiver: nope\nreceivers: [{name: a}]\n", false,
     "undefined receiver \"nope\" used in route", 4},
    {"duplicate receiver", "route: {receiver: a}\nreceivers:\n  - name: a\n  - name: a\n", false,
     "notification config name \"a\" is not unique", 4},
    {"receiver without name", "route: {receiver: a}\nreceivers:\n  - name: a\n  - webhook_configs: [{url: 'http://x/'}]\n",
     false, "missing name in receiver", 4},
    {"unknown top-level key", "route: {receiver: a}\nreceivers: [{name: a}]\nbogus: 1\n", false,
     "unknown field \"bogus\"", 3},
    {"unknown route key", "route:\n  receiver: a\n  group_wiat: 1m\nreceivers: [{name: a}]\n", false,
     "unknown field \"group_wiat\"", 3},
    {"bad duration", "route:\n  receiver: a\n  group_wait: 5 minutes\nreceivers: [{name: a}]\n", false,
     "not a valid duration string", 3},
    {"zero group_interval", "route:\n  receiver: a\n  group_interval: 0s\nreceivers: [{name: a}]\n", false,
     "group_interval cannot be zero", 3},
    {"zero repeat_interval", "route:\n  receiver: a\n  repeat_interval: 0s\nreceivers: [{name: a}]\n", false,
     "repeat_interval cannot be zero", 3},
    {"root with matchers", "route:\n  receiver: a\n  matchers: [a=b]\nreceivers: [{name: a}]\n", false,
     "root route must not have any matchers", 2},
    {"bad matcher", "route:\n  receiver: a\n  routes:\n    - matchers: ['a=~\"(\"']\nreceivers: [{name: a}]\n", false,
     "invalid regular expression", 4},
    {"invalid group_by label", "route:\n  receiver: a\n  group_by: [foo-bar]\nreceivers: [{name: a}]\n", false,
     "invalid label name \"foo-bar\"", 3},
    {"wildcard and labels", "route:\n  receiver: a\n  group_by: ['...', a]\nreceivers: [{name: a}]\n", false,
     "cannot have wildcard group_by", 3},
    {"webhook without url", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs: [{send_resolved: true}]\n",
     false, "one of url or url_file must be configured", 4},
    {"slack without api url", "route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: [{channel: x}]\n", false,
     "no global Slack API URL set", 4},
    {"email without to", "global: {smtp_smarthost: 'h:25', smtp_from: a@b}\nroute: {receiver: a}\nreceivers:\n  - name: a\n    email_configs: [{from: x@y}]\n",
     false, "missing to address in email config", 5},
    {"email without smarthost", "route: {receiver: a}\nreceivers:\n  - name: a\n    email_configs: [{to: x@y, from: a@b}]\n",
     false, "no global SMTP smarthost set", 4},
    {"pagerduty without key", "route: {receiver: a}\nreceivers:\n  - name: a\n    pagerduty_configs: [{severity: x}]\n",
     false, "missing service or routing key in PagerDuty config", 4},
    {"undefined time interval", "route:\n  receiver: a\n  routes:\n    - receiver: a\n      mute_time_intervals: [nope]\nreceivers: [{name: a}]\n",
     false, "undefined time interval \"nope\" used in route", 4},
    {"weekday range reversed", "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals: [{weekdays: ['monday:sunday']}]\n",
     false, "start day cannot be before end day", 5},
    {"bad time of day", "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals: [{times: [{start_time: '25:00', end_time: '26:00'}]}]\n",
     false, "couldn't parse timestamp", 5},
    {"unknown location", "route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n  - name: t\n    time_intervals: [{location: Mars/Olympus}]\n",
     false, "unknown time zone location", 5},
    {"inhibit equal bad label", "route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules:\n  - equal: ['bad-label']\n",
     false, "invalid label name \"bad-label\"", 4},
    {"yaml syntax", "route: {receiver: a\nreceivers: [{name: a}]\n", false, "YAML syntax error", 0},
    {"wrong type", "route:\n  receiver: [a, b]\nreceivers: [{name: a}]\n", false, "expected a string", 2},
    {"continue on root", "route:\n  receiver: a\n  continue: true\nreceivers: [{name: a}]\n", false,
     "cannot have continue in root route", 2},
    {"unknown receiver field", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs: [{url: 'http://x/', retries: 3}]\n",
     false, "unknown field \"retries\"", 4},
    {"bearer and basic auth", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {bearer_token: x, basic_auth: {username: u, password: p}}\n",
     false, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file", 6},
    {"oauth2", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {oauth2: {client_id: c, client_secret: s, token_url: 'http://t/token', scopes: [a, b], endpoint_params: {k: v}, proxy_url: 'http://p:3128', tls_config: {insecure_skip_verify: true}}}\n",
     true, "", 0},
    {"oauth2 and basic auth", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {basic_auth: {username: u}, oauth2: {client_id: c, client_secret: s, token_url: 'http://t/'}}\n",
     false, "at most one of basic_auth, oauth2 & authorization must be configured", 6},
    {"oauth2 and bearer token", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {bearer_token: x, oauth2: {client_id: c, client_secret: s, token_url: 'http://t/'}}\n",
     false, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured", 6},
    {"authorization and bearer token", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {bearer_token: x, authorization: {credentials: y}}\n",
     false, "authorization is not compatible with bearer_token & bearer_token_file", 6},
    {"oauth2 without client_id", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {oauth2: {client_secret: s, token_url: 'http://t/'}}\n",
     false, "oauth2 client_id must be configured", 6},
    {"oauth2 without secret", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {oauth2: {client_id: c, token_url: 'http://t/'}}\n",
     false, "either oauth2 client_secret or client_secret_file must be configured", 6},
    {"oauth2 without token_url", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {oauth2: {client_id: c, client_secret: s}}\n",
     false, "oauth2 token_url must be configured", 6},
    {"oauth2 with both secrets", "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/'\n        http_config: {oauth2: {client_id: c, client_secret: s, client_secret_file: /f, token_url: 'http://t/'}}\n",
     false, "at most one of oauth2 client_secret & client_secret_file must be configured", 6},
};

TEST_CASE("alertd agrees with amtool check-config on a table of configs") {
  std::string dir = t::MakeTempDir("alertd-config");
  for (const AmRow& row : kAmRows) {
    INFO(std::string(row.name));
    auto res = LoadConfigString(row.yaml, dir + "/alertmanager.yml");
    CHECK(res.ok() == row.valid);
    if (!row.valid) {
      std::string text = res.ErrorText();
      INFO(text);
      CHECK(text.find(row.message) != std::string::npos);
      if (row.line > 0) {
        REQUIRE(!res.errors.empty());
        bool found = false;
        for (const auto& e : res.errors) found |= e.pos.line == row.line && e.message.find(row.message) != std::string::npos;
        CHECK(found);
      }
    }
    t::WriteFile(dir + "/alertmanager.yml", row.yaml);
    std::string out;
    int rc = t::RunCommand({"amtool", "check-config", dir + "/alertmanager.yml"}, &out);
    INFO("amtool: " << out);
    CHECK((rc == 0) == row.valid);
  }
  t::RemoveTree(dir);
}

struct RuleRow {
  const char* name;
  const char* yaml;
  bool valid;
  const char* message;
  int line;
};

const RuleRow kRuleRows[] = {
    {"valid", R"(groups:
  - name: g
    interval: 30s
    limit: 10
    rules:
      - alert: A
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} down"}
      - record: job:up:sum
        expr: sum by (job) (up)
)", true, "", 0},
    {"empty file", "", true, "", 0},
    {"empty group name", "groups:\n  - name: ''\n    rules: []\n", false, "Groupname must not be empty", 2},
    {"repeated group", "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", false,
     "groupname: \"g\" is repeated in the same file", 4},
    {"alert and record", "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: up\n", false,
     "only one of 'record' and 'alert' must be set", 4},
    {"neither alert nor record", "groups:\n  - name: g\n    rules:\n      - expr: up\n", false,
     "one of 'record' or 'alert' must be set", 4},
    {"missing expr", "groups:\n  - name: g\n    rules:\n      - alert: A\n", false, "field 'expr' must be set in rule", 4},
    {"for on recording rule", "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 1m\n",
     false, "invalid field 'for' in recording rule", 6},
    {"annotations on recording rule", "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        annotations: {a: b}\n",
     false, "invalid field 'annotations' in recording rule", 6},
    {"bad record name", "groups:\n  - name: g\n    rules:\n      - record: 'a-b'\n        expr: up\n", false,
     "invalid recording rule name: a-b", 4},
    {"bad label name", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels: {'a-b': x}\n",
     false, "invalid label name: a-b", 6},
    {"__name__ label", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels: {__name__: x}\n",
     false, "invalid label name: __name__", 6},
    {"bad annotation name", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations: {'a b': x}\n",
     false, "invalid annotation name: a b", 6},
    {"unknown rule key", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        severity: page\n",
     false, "unknown field \"severity\"", 6},
    {"unknown group key", "groups:\n  - name: g\n    evaluation_interval: 1m\n    rules: []\n", false,
     "unknown field \"evaluation_interval\"", 3},
    {"bad for", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n", false,
     "not a valid duration string", 6},
    {"unclosed parenthesis", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(x[5m])\n",
     false, "could not parse expression: 1:16: parse error: unclosed left parenthesis", 5},
    {"range vector to rate expected", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x)\n",
     false, "expected type range vector in call to function \"rate\", got instant vector", 5},
    {"unexpected operator", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up > > 1\n",
     false, "could not parse expression: 1:6: parse error: unexpected <op:>>", 5},
    {"multi-line expression", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          sum by (job) (rate(x[5m]))\n            / on(job) group_left\n          sum by (job) (rate(y[5m])) > 0.1\n",
     true, "", 0},
    {"broken annotation template", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations: {summary: '{{ $labels.instance '}\n",
     false, "annotation \"summary\"", 6},
    {"undefined template function", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels: {x: '{{ nosuchfunc }}'}\n",
     false, "label \"x\"", 6},
    {"rules not a list", "groups:\n  - name: g\n    rules: {alert: A}\n", false, "rules: expected a list", 3},
    {"stripPort and stripDomain templates",
     "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels: {host: '{{ $labels.instance | stripPort }}'}\n        annotations: {short: '{{ $labels.instance | stripDomain }}'}\n",
     true, "", 0},
    {"every 2.42 template function parses",
     "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          a: '{{ with query \"up\" }}{{ . | sortByLabel \"job\" | first | label \"job\" }}{{ . | first | value }}{{ . | first | strvalue }}{{ end }}'\n          b: '{{ args 1 | len }}{{ reReplaceAll \"a\" \"b\" \"c\" }}{{ \"x\" | safeHtml }}{{ match \"a\" \"b\" }}{{ title \"a\" }}{{ toUpper \"a\" }}{{ toLower \"A\" }}'\n          c: '{{ graphLink \"up\" }}{{ tableLink \"up\" }}{{ humanize 1 }}{{ humanize1024 1 }}{{ humanizeDuration 1 }}{{ humanizePercentage 1 }}{{ humanizeTimestamp 1 }}{{ toTime 1 }}'\n          d: '{{ pathPrefix }}{{ externalURL }}{{ parseDuration \"1m\" }}{{ stripPort \"a:1\" }}{{ stripDomain \"a.b\" }}'\n",
     true, "", 0},
    {"interval 0s is the global interval", "groups:\n  - name: g\n    interval: 0s\n    rules:\n      - alert: A\n        expr: up == 0\n", true, "", 0},
    {"unknown PromQL function", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: range_median(up[5m]) > 1\n",
     false, "could not parse expression: 1:1: parse error: unknown function with name \"range_median\"", 5},
};

TEST_CASE("alertd agrees with promtool check rules on a table of rule files") {
  std::string dir = t::MakeTempDir("alertd-rules");
  for (const RuleRow& row : kRuleRows) {
    INFO(std::string(row.name));
    std::string path = dir + "/rules.yml";
    t::WriteFile(path, row.yaml);
    std::vector<RuleGroup> groups;
    auto errs = LoadRuleFile(path, &groups);
    std::string text;
    for (const auto& e : errs) text += e.String() + "\n";
    INFO(text);
    CHECK(errs.empty() == row.valid);
    if (!row.valid) {
      CHECK(text.find(row.message) != std::string::npos);
      CHECK(text.find(path + ":") != std::string::npos);
      if (row.line > 0) {
        bool found = false;
        for (const auto& e : errs) found |= e.pos.line == row.line;
        CHECK(found);
      }
    }
    std::string out;
    int rc = t::RunCommand({"promtool", "check", "rules", path}, &out);
    INFO("promtool: " << out);
    CHECK((rc == 0) == row.valid);
  }
  t::RemoveTree(dir);
}

TEST_CASE("alertd's own keys are validated with positions") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* message;
    int line;
  } rows[] = {
      {"missing escalation policy",
       "route:\n  receiver: a\n  routes:\n    - receiver: a\n      escalation: nope\nreceivers: "
       "[{name: a}]\n",
       "undefined escalation policy \"nope\" used in route", 4},
      {"step with missing receiver",
       "route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n    "
       "steps:\n      - after: 5m\n        receivers: [ghost]\n",
       "undefined receiver \"ghost\" used in escalation policy \"p\"", 6},
      {"step without after",
       "route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n    "
       "steps:\n      - receivers: [a]\n",
       "escalation step: missing after", 6},
      {"policy whose round has no duration repeats all at once",
       "route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n    steps:\n      - after: 0s\n        receivers: [a]\n    repeat: 3\n",
       "escalation policy \"p\": repeat: 3 needs a round longer than 0s (a step with a positive after)", 8},
      {"bad datasource url",
       "route: {receiver: a}\nreceivers: [{name: a}]\ndatasource:\n  url: localhost:9090\n",
       "url must start with http:// or https://", 4},
      {"no_proxy without proxy_url",
       "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        http_config: {no_proxy: example.org}\n",
       "if no_proxy is configured, proxy_url must also be configured", 6},
      {"proxy_from_environment with proxy_url",
       "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        http_config: {proxy_from_environment: true, proxy_url: 'http://p:1'}\n",
       "if proxy_from_environment is configured, proxy_url must not be configured", 6},
      {"proxy_connect_header without a proxy",
       "route: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        http_config: {proxy_connect_header: {X-A: [v]}}\n",
       "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured", 6},
      {"bad listen", "route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  listen: nowhere\n",
       "must be host:port", 4},
      {"token without secret",
       "route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  auth:\n    tokens:\n      - name: "
       "ops\n",
       "exactly one of token & token_file must be set", 6},
      {"missing rule file",
       "route: {receiver: a}\nreceivers: [{name: a}]\nrule_files: [does-not-exist.yml]\n",
       "does not exist", 3},
      {"unsupported integration",
       "route: {receiver: a}\nreceivers:\n  - name: a\n    jira_configs: [{project: x}]\n",
       "jira_configs is not supported by alertd", 4},
      {"bad external label",
       "route: {receiver: a}\nreceivers: [{name: a}]\nevaluation:\n  external_labels: {'a-b': c}\n",
       "invalid external label name \"a-b\"", 4},
      {"datasource timeout of zero",
       "route: {receiver: a}\nreceivers: [{name: a}]\ndatasource:\n  url: http://p:9090\n  "
       "timeout: 0s\n",
       "alertd.yml:5:12: datasource: timeout must be greater than 0", 5},
      {"datasource response cap too small",
       "route: {receiver: a}\nreceivers: [{name: a}]\ndatasource:\n  url: http://p:9090\n  "
       "max_response_bytes: 10\n",
       "datasource: max_response_bytes must be at least 1024", 5},
      {"no connections allowed",
       "route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  max_connections: 0\n",
       "server: max_connections must be at least 1", 4},
      {"zero labels per alert",
       "route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  limits:\n    "
       "max_labels_per_alert: 0\n",
       "server limits: max_labels_per_alert must be at least 1", 5},
      {"unknown limit",
       "route: {receiver: a}\nreceivers: [{name: a}]\nserver:\n  limits:\n    max_labels: 10\n",
       "max_labels", 5},
      {"integration secret inline and as a file",
       "route: {receiver: a}\nreceivers: [{name: a}]\nintegrations:\n  slack_signing_secret: x\n"
       "  slack_signing_secret_file: s.txt\n",
       "at most one of slack_signing_secret & slack_signing_secret_file", 4},
      {"integration secret file missing",
       "route: {receiver: a}\nreceivers: [{name: a}]\nintegrations:\n"
       "  pagerduty_webhook_secret_file: /nonexistent/pd.secret\n",
       "cannot read pagerduty_webhook_secret_file /nonexistent/pd.secret", 4},
      {"postgres without a dsn",
       "route: {receiver: a}\nreceivers: [{name: a}]\nstorage:\n  postgres:\n"
       "    password_file: pw\n",
       "storage.postgres: dsn is required", 5},
      {"unknown postgres key",
       "route: {receiver: a}\nreceivers: [{name: a}]\nstorage:\n  postgres:\n"
       "    dsn: host=db\n    sslmode: require\n",
       "sslmode", 6},
      {"unknown integrations key",
       "route: {receiver: a}\nreceivers: [{name: a}]\nintegrations:\n  opsgenie_secret: x\n",
       "opsgenie_secret", 4},
      {"cluster on SQLite",
       "route: {receiver: a}\nreceivers: [{name: a}]\ncluster:\n  node_name: a\n",
       "cluster needs storage.postgres", 4},
      {"cluster lease too short",
       "route: {receiver: a}\nreceivers: [{name: a}]\nstorage: {postgres: {dsn: host=db}}\n"
       "cluster:\n  lease: 2s\n",
       "cluster.lease must be at least 3s", 5},
      {"cluster advertise_url without a scheme",
       "route: {receiver: a}\nreceivers: [{name: a}]\nstorage: {postgres: {dsn: host=db}}\n"
       "cluster:\n  advertise_url: 10.0.0.5:9095\n",
       "cluster.advertise_url must be an http:// or https:// URL", 5},
      {"unknown cluster key",
       "route: {receiver: a}\nreceivers: [{name: a}]\nstorage: {postgres: {dsn: host=db}}\n"
       "cluster:\n  peers: [a, b]\n",
       "peers", 5},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    auto res = Load(row.yaml);
    REQUIRE_FALSE(res.ok());
    std::string text = res.ErrorText();
    INFO(text);
    CHECK(text.find(row.message) != std::string::npos);
    bool found = false;
    for (const auto& e : res.errors) found |= e.pos.line == row.line;
    CHECK(found);
  }
}

TEST_CASE("cluster: loads with its defaults") {
  auto none = Load("route: {receiver: a}\nreceivers: [{name: a}]\n");
  REQUIRE(none.ok());
  CHECK_FALSE(none.config->cluster.enabled);
  auto res = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nstorage: {postgres: {dsn: host=db}}\n"
      "cluster:\n  node_name: alertd-a\n  advertise_url: http://10.0.0.5:9095\n  lease: 20s\n");
  INFO(res.ErrorText());
  REQUIRE(res.ok());
  CHECK(res.config->cluster.enabled);
  CHECK(res.config->cluster.node_name == "alertd-a");
  CHECK(res.config->cluster.advertise_url == "http://10.0.0.5:9095");
  CHECK(res.config->cluster.lease == std::chrono::seconds(20));
  auto defaults = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nstorage: {postgres: {dsn: host=db}}\n"
      "cluster: {}\n");
  REQUIRE(defaults.ok());
  CHECK(defaults.config->cluster.enabled);
  CHECK(defaults.config->cluster.node_name.empty());  // hostname:port, filled in at start
  CHECK(defaults.config->cluster.lease == std::chrono::seconds(15));
}

TEST_CASE("server limits, max_connections and the datasource response cap load, with defaults") {
  auto def = Load("route: {receiver: a}\nreceivers: [{name: a}]\n");
  REQUIRE(def.ok());
  CHECK(def.config->server.limits.max_alerts_per_request == 10000);
  CHECK(def.config->server.limits.max_labels_per_alert == 1000);
  CHECK(def.config->server.limits.max_label_set_bytes == 1 << 20);
  CHECK(def.config->server.max_connections == 1024);
  CHECK(def.config->datasource.max_response_bytes == 64 << 20);
  auto res = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\n"
      "server:\n  max_connections: 10\n  limits:\n    max_alerts_per_request: 5\n"
      "    max_labels_per_alert: 6\n    max_label_set_bytes: 7\n"
      "datasource:\n  url: http://p:9090\n  max_response_bytes: 4096\n  timeout: 3s\n");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  CHECK(res.config->server.max_connections == 10);
  CHECK(res.config->server.limits.max_alerts_per_request == 5);
  CHECK(res.config->server.limits.max_labels_per_alert == 6);
  CHECK(res.config->server.limits.max_label_set_bytes == 7);
  CHECK(res.config->datasource.max_response_bytes == 4096);
  CHECK(res.config->datasource.timeout == 3s);
}

TEST_CASE("an escalation policy of zero-length rounds is refused at the repeat key; one round is not") {
  auto bad = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n"
      "    steps:\n      - after: 0s\n        receivers: [a]\n      - after: 0s\n"
      "        receivers: [a]\n    repeat: 2\n");
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].pos.line == 10);
  CHECK(bad.errors[0].pos.column == 13);
  CHECK(bad.ErrorText().find("alertd.yml:10:13") != std::string::npos);
  // Without repeat, steps at 0s fire once at the first notification; a positive step makes
  // every round last.
  CHECK(Load("route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n"
             "    steps:\n      - after: 0s\n        receivers: [a]\n")
            .ok());
  CHECK(Load("route: {receiver: a}\nreceivers: [{name: a}]\nescalation_policies:\n  - name: p\n"
             "    steps:\n      - after: 0s\n        receivers: [a]\n      - after: 1m\n"
             "        receivers: [a]\n    repeat: 5\n")
            .ok());
}

TEST_CASE("errors from rule files name the rule file, and every error is reported") {
  std::string dir = t::MakeTempDir("alertd-cfg");
  std::filesystem::create_directories(dir + "/rules");
  t::WriteFile(dir + "/rules/bad.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n      - alert: B\n        expr: up\n        for: x\n");
  t::WriteFile(dir + "/alertd.yml", "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\nrule_files: ['rules/*.yml']\n");
  auto res = LoadConfigFile(dir + "/alertd.yml");
  REQUIRE_FALSE(res.ok());
  std::string text = res.ErrorText();
  INFO(text);
  CHECK(text.find(dir + "/rules/bad.yml:4:9: group \"g\", rule 1, \"A\": field 'expr' must be set in rule") != std::string::npos);
  CHECK(text.find(dir + "/rules/bad.yml:7:14: for: not a valid duration string") != std::string::npos);
  CHECK(text.find(dir + "/alertd.yml:2:24: notification config name \"a\" is not unique") != std::string::npos);
  t::RemoveTree(dir);
}

TEST_CASE("alertd check-config exits 0 with a summary, 1 with every error") {
  std::string out;
  int rc = t::RunCommand({t::kAlertdBinary, "check-config", std::string(t::kSourceDir) + "/examples/alertd.yml"}, &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("SUCCESS") != std::string::npos);
  CHECK(out.find("rules:               5") != std::string::npos);

  std::string dir = t::MakeTempDir("alertd-cc");
  t::WriteFile(dir + "/bad.yml", "route:\n  receiver: nope\nreceivers: [{name: a}]\nbogus: 1\n");
  rc = t::RunCommand({t::kAlertdBinary, "check-config", dir + "/bad.yml"}, &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find(dir + "/bad.yml:4:1: config: unknown field \"bogus\"") != std::string::npos);
  CHECK(out.find("undefined receiver \"nope\"") != std::string::npos);
  CHECK(out.find("FAILED: 2 errors") != std::string::npos);
  t::RemoveTree(dir);
}

TEST_CASE("integration secrets load inline or from files relative to the config, ack_button parses") {
  const std::string dir = t::MakeTempDir("alertd-config-integrations");
  t::WriteFile(dir + "/pd.secret", "pd-secret-from-file\n");
  auto res = LoadConfigString(
      "route: {receiver: a}\n"
      "receivers:\n  - name: a\n    slack_configs: [{api_url: 'http://127.0.0.1:1/x', "
      "ack_button: true}]\n"
      "integrations:\n  pagerduty_webhook_secret_file: pd.secret\n"
      "  slack_signing_secret: slack-inline\n",
      dir + "/alertd.yml");
  INFO(res.ErrorText());
  REQUIRE(res.ok());
  const auto& in = res.config->integrations;
  CHECK(in.pagerduty_webhook_secret == "pd-secret-from-file");
  CHECK(in.pagerduty_webhook_secret_file == dir + "/pd.secret");
  CHECK(in.slack_signing_secret == "slack-inline");
  CHECK(res.config->receivers[0].Of<notifiers::SlackConfig>()[0]->ack_button);
  // Unset: both empty, and ack_button defaults to false.
  auto plain = Load("route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: "
                    "[{api_url: 'http://127.0.0.1:1/x'}]\n");
  REQUIRE(plain.ok());
  CHECK(plain.config->integrations.pagerduty_webhook_secret.empty());
  CHECK(plain.config->integrations.slack_signing_secret.empty());
  CHECK_FALSE(plain.config->receivers[0].Of<notifiers::SlackConfig>()[0]->ack_button);
  t::RemoveTree(dir);
}

TEST_CASE("evaluation.for_grace_period and for_outage_tolerance") {
  auto def = Load("route: {receiver: a}\nreceivers: [{name: a}]\n");
  REQUIRE(def.ok());
  CHECK(def.config->evaluation.for_grace_period == std::chrono::minutes(10));
  CHECK(def.config->evaluation.for_outage_tolerance == std::chrono::hours(1));
  auto set = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nevaluation:\n  for_grace_period: 2m\n"
      "  for_outage_tolerance: 30m\n");
  REQUIRE(set.ok());
  CHECK(set.config->evaluation.for_grace_period == std::chrono::minutes(2));
  CHECK(set.config->evaluation.for_outage_tolerance == std::chrono::minutes(30));
  auto bad = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nevaluation:\n  for_outage_tolerance: soon\n");
  CHECK_FALSE(bad.ok());
}

TEST_CASE("heartbeats load with their labels and matchers; bad ones are refused where they are") {
  auto ok = Load(
      "route: {receiver: a}\nreceivers: [{name: a}]\nheartbeats:\n"
      "  - name: nightly-backup\n    timeout: 26h\n    labels: {severity: warning}\n"
      "    annotations: {summary: late}\n"
      "  - name: watchdog\n    timeout: 5m\n    alert_matchers: ['alertname=\"Watchdog\"']\n");
  REQUIRE_MESSAGE(ok.ok(), ok.ErrorText());
  REQUIRE(ok.config->heartbeats.size() == 2);
  const auto* w = ok.config->FindHeartbeat("watchdog");
  REQUIRE(w != nullptr);
  CHECK(w->timeout == std::chrono::minutes(5));
  REQUIRE(w->alert_matchers.size() == 1);
  CHECK(ok.config->FindHeartbeat("nightly-backup")->labels.at("severity") == "warning");
  struct Row {
    const char* yaml;
    const char* where;
    const char* message;
  };
  const Row rows[] = {
      {"  - name: a\n", "alertd.yml:4:5", "missing timeout"},
      {"  - {name: a, timeout: 0s}\n", "alertd.yml:4:24", "timeout must be positive"},
      {"  - {name: 'a/b', timeout: 1m}\n", "alertd.yml:4:12", "only letters, digits"},
      {"  - {name: a, timeout: 1m}\n  - {name: a, timeout: 2m}\n", "alertd.yml:5:12",
       "defined twice"},
      {"  - {name: a, timeout: 1m, labels: {alertname: X}}\n", "alertd.yml:4:48",
       "the label \"alertname\" is alertd's"},
      {"  - {name: a, timeout: 1m, alert_matchers: ['a=~\"(\"']}\n", "alertd.yml:4:45",
       "bad matcher"},
      {"  - {name: a, timeout: 1m, every: 5m}\n", "alertd.yml:4:28", "every"},
  };
  for (const auto& r : rows) {
    auto res = Load(std::string("route: {receiver: a}\nreceivers: [{name: a}]\nheartbeats:\n") +
                    r.yaml);
    INFO(r.yaml);
    REQUIRE_FALSE(res.ok());
    const std::string text = res.ErrorText();
    CHECK_MESSAGE(text.find(r.where) != std::string::npos, text);
    CHECK_MESSAGE(text.find(r.message) != std::string::npos, text);
  }
}
