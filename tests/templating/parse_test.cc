// Parse errors (name, line:col, Go's message), config validation, error recovery in
// notifications, overriding defaults, and concurrent execution of one set.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "templating/notification.h"
#include "templating/rule_template.h"
#include "templating/template.h"

namespace alertd::templating {
namespace {

struct ParseRow {
  const char* name;
  const char* text;
  const char* want;  // full Status message
};

const ParseRow kParseRows[] = {
    {"unknown function", "{{ nope 1 }}", "template: t:1:4: function \"nope\" not defined"},
    {"unclosed action", "a\nb {{ .X ", "template: t:2:9: unclosed action"},
    {"unexpected end", "{{ end }}", "template: t:1:4: unexpected {{end}}"},
    {"missing end", "{{ if .X }}a", "template: t:1:13: unexpected EOF"},
    {"undefined variable", "{{ $x }}", "template: t:1:4: undefined variable \"$x\""},
    {"unterminated string", "{{ \"abc }}", "template: t:1:4: unterminated quoted string"},
    {"break outside range", "{{ break }}", "template: t:1:4: {{break}} outside {{range}}"},
    {"unclosed comment", "{{/* x }}", "template: t:1:3: unclosed comment"},
    {"bad number", "{{ 3x }}", "template: t:1:4: bad number syntax: \"3x\""},
    {"missing value", "{{ if }}{{ end }}", "template: t:1:7: missing value for if"},
    {"non executable stage", "{{ .X | 3 }}",
     "template: t:1:9: non executable command in pipeline stage 2"},
    {"unexpected in operand", "{{ .X) }}", "template: t:1:6: unexpected right paren"},
    {"define not string", "{{ define x }}{{ end }}",
     "template: t:1:11: unexpected \"x\" in define clause"},
    {"else after else", "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
     "template: t:1:24: expected end; found {{else}}"},
    {"multiple definition", "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
     "template: t:1:51: template: multiple definition of template \"a\""},
    {"too many decls", "{{ $a, $b := 1 }}", "template: t:1:6: too many declarations in command"},
};

TEST_CASE("parse errors name the template and the position") {
  for (const auto& row : kParseRows) {
    INFO(std::string(row.name));
    Status st = ValidateTemplate(Dialect::kAlertmanager, "t", row.text);
    CHECK_FALSE(st.ok());
    CHECK(st.message() == std::string(row.want));
  }
}

TEST_CASE("dialects have their own functions") {
  CHECK(ValidateTemplate(Dialect::kPrometheus, "p", "{{ humanize 1 }}").ok());
  CHECK_FALSE(ValidateTemplate(Dialect::kAlertmanager, "a", "{{ humanize 1 }}").ok());
  CHECK(ValidateTemplate(Dialect::kAlertmanager, "a", "{{ toJson . }}").ok());
  CHECK_FALSE(ValidateTemplate(Dialect::kPrometheus, "p", "{{ toJson . }}").ok());
}

TEST_CASE("rule template parse error is a config error in Prometheus's words") {
  auto t = RuleTemplate::Parse("HighLoad", "{{ nope }}");
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message() ==
        "error parsing template __alert_HighLoad: template: __alert_HighLoad:1:116: function "
        "\"nope\" not defined");
  auto c = RuleTemplate::Parse("HighLoad", "no actions here");
  REQUIRE(c.ok());
  CHECK(c->is_constant());
  CHECK(c->Expand({}).text == "no actions here");
}

TEST_CASE("notification errors are replaced in place and counted") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  NotificationData d;
  d.receiver = "r";
  d.status = "firing";
  ExecResult r =
      RenderNotification(set, "A{{ .Receiver.X }}B{{ index .Alerts 3 }}C{{ .Receiver }}", d);
  CHECK(r.error_count == 2);
  CHECK(r.output.starts_with("A<error: template: text:1:"));
  CHECK(r.output.find(">B<error: ") != std::string::npos);
  CHECK(r.output.ends_with(">Cr"));
  CHECK(r.status.message().find("can't evaluate field X in type string") != std::string::npos);
  ExecResult bad = RenderNotification(set, "{{ if }}", d);
  CHECK_FALSE(bad.ok());
  CHECK(bad.output.starts_with("<error: template: text:1:"));
}

TEST_CASE("user template files override defaults; empty redefinitions do not") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  REQUIRE(
      set.Parse(
             "mine.tmpl",
             R"({{ define "__alertmanager" }}alertd{{ end }}{{ define "slack.default.text" }}{{ end }})")
          .ok());
  NotificationData d;
  d.status = "firing";
  CHECK(RenderNotification(set, "{{ template \"slack.default.username\" . }}", d).output ==
        "alertd");
  CHECK(set.Has("slack.default.text"));
  CHECK(set.Has("email.default.html"));
  // A parse error adds nothing.
  CHECK_FALSE(set.Parse("broken.tmpl", R"({{ define "x" }}{{ end)").ok());
  CHECK_FALSE(set.Has("x"));
  // Execute by name, unknown name.
  CHECK(set.Execute("__alertmanager", Value()).output == "alertd");
  CHECK_FALSE(set.Execute("nope", Value()).ok());
}

TEST_CASE("email html renders every alert") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  NotificationData d;
  d.receiver = "mail";
  d.external_url = "http://am";
  d.group_labels = {{"alertname", "X"}};
  for (int i = 0; i < 3; ++i) {
    NotificationAlert a;
    a.status = i == 2 ? "resolved" : "firing";
    a.labels = {{"alertname", "X"}, {"instance", "i" + std::to_string(i)}};
    a.annotations = {{"summary", "s" + std::to_string(i)}};
    a.generator_url = "http://gen/" + std::to_string(i);
    d.alerts.push_back(a);
  }
  ComputeGroupFields(d);
  ExecResult r = RenderNotification(set, "{{ template \"email.default.html\" . }}", d);
  REQUIRE(r.ok());
  CHECK(r.output.find("<title>[FIRING:2] X </title>") != std::string::npos);
  // Alertmanager's template keeps its indentation around the group labels.
  CHECK(r.output.find("3 alerts for \n                alertname=X\n") != std::string::npos);
  CHECK(r.output.find("[2] Firing") != std::string::npos);
  CHECK(r.output.find("[1] Resolved") != std::string::npos);
  CHECK(r.output.find("instance = i2<br style=") != std::string::npos);
  CHECK(r.output.find("href=\"http://gen/1\"") != std::string::npos);
  CHECK(r.output.find("View in Alertmanager") != std::string::npos);
}

TEST_CASE("one set executes concurrently") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  auto compiled = set.Compile("title", "{{ template \"slack.default.fallback\" . }}");
  REQUIRE(compiled.ok());
  NotificationData d;
  d.receiver = "r";
  d.external_url = "http://x";
  d.group_labels = {{"alertname", "A"}};
  NotificationAlert a;
  a.status = "firing";
  a.labels = {{"alertname", "A"}, {"n", "1"}};
  d.alerts.assign(20, a);
  ComputeGroupFields(d);
  const Value data = ToValue(d);
  const std::string want = compiled->Execute(data).output;
  CHECK(want == "[FIRING:20] A (1) | http://x/#/alerts?receiver=r");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (compiled->Execute(data).output != want) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(mismatches == 0);
}

}  // namespace
}  // namespace alertd::templating

namespace alertd::templating {
namespace {

TEST_CASE("endless template recursion stops with an error") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.Parse("loop.tmpl", R"({{ define "r" }}x{{ template "r" . }}{{ end }})").ok());
  ExecResult r = set.Execute("r", Value());
  CHECK_FALSE(r.ok());
  CHECK(r.status.message().find("exceeded maximum template depth (250)") != std::string::npos);
}

TEST_CASE("template files are loaded by glob and named by their base name") {
  const std::string dir = "/tmp/alertd-templating-glob-" + std::to_string(::getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  {
    FILE* f = std::fopen((dir + "/a.tmpl").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(R"({{ define "custom.title" }}T:{{ .Status }}{{ end }})", f);
    std::fclose(f);
  }
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  CHECK(set.ParseGlob(dir + "/*.tmpl").ok());
  CHECK(set.ParseGlob(dir + "/*.none").ok());
  CHECK(set.Has("custom.title"));
  CHECK(set.Has("a.tmpl"));
  NotificationData d;
  d.status = "resolved";
  CHECK(RenderNotification(set, R"({{ template "custom.title" . }})", d).output == "T:resolved");
  CHECK_FALSE(set.ParseFile(dir + "/missing.tmpl").ok());
  std::remove((dir + "/a.tmpl").c_str());
  std::remove(dir.c_str());
}

}  // namespace
}  // namespace alertd::templating
