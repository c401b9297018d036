// Rule-file keys of later Prometheus versions (group `labels`, `query_offset`) and
// `datasource.type`, which decides whether a PromQL function alertd's parser does not know
// refuses the rule file (prometheus) or is a warning on the rule (victoriametrics, other).
#include <doctest/doctest.h>

#include <string>

#include "config/config.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::config;
namespace t = alertd::testing;

namespace {

struct Loaded {
  LoadResult res;
  std::string text;  // every error, one a line
};

// alertd.yml with `datasource` (inline YAML) and one rule file with `rules`.
Loaded LoadWith(const std::string& dir, const std::string& datasource, const std::string& rules) {
  t::WriteFile(dir + "/rules.yml", rules);
  t::WriteFile(dir + "/alertd.yml",
               "route: {receiver: r}\nreceivers: [{name: r}]\n"
               "rule_files: [rules.yml]\ndatasource: " +
                   datasource + "\n");
  Loaded l{LoadConfigFile(dir + "/alertd.yml"), ""};
  l.text = l.res.ErrorText();
  return l;
}

std::string OneAlert(const std::string& expr) {
  return "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: '" + expr + "'\n";
}

}  // namespace

TEST_CASE("datasource.type decides whether an unknown PromQL function refuses the rule file") {
  const std::string dir = t::MakeTempDir("alertd-ds-type");
  struct Row {
    const char* name;
    const char* datasource;
    const char* expr;
    const char* error;    // expected error (substring), or nullptr: loads
    const char* warning;  // expected warning (substring) when it loads, or nullptr: none
  } rows[] = {
      {"prometheus by default: refused", "{url: 'http://p:9090'}", "range_median(x[5m]) > 1",
       "rules.yml:5:15: group \"g\", rule 1, \"A\": could not parse expression: 1:1: parse "
       "error: unknown function with name \"range_median\"",
       nullptr},
      {"prometheus named: refused", "{url: 'http://p:9090', type: prometheus}",
       "sum(label_set(x, \"a\", \"b\"))", "unknown function with name \"label_set\"", nullptr},
      {"victoriametrics: a warning", "{url: 'http://vm:8428', type: victoriametrics}",
       "range_median(x[5m]) > 1", nullptr,
       "function \"range_median\" is not PromQL of Prometheus 2.42; the expression is sent to "
       "the victoriametrics datasource as written"},
      {"other: a warning per function, each once", "{url: 'http://m:9090', type: other}",
       "rate(range_median(x[5m])) + label_set(y, \"a\", \"b\") + range_median(z[1m])", nullptr,
       "the other datasource"},
      {"victoriametrics: known PromQL functions are still checked",
       "{url: 'http://vm:8428', type: victoriametrics}", "rate(x) + range_median(y[5m])",
       "expected type range vector in call to function \"rate\", got instant vector", nullptr},
      {"victoriametrics: syntax errors are still errors",
       "{url: 'http://vm:8428', type: victoriametrics}", "range_median(x[5m]",
       "could not parse expression: 1:19: parse error: unclosed left parenthesis", nullptr},
      {"victoriametrics: MetricsQL modifiers are not PromQL syntax",
       "{url: 'http://vm:8428', type: victoriametrics}", "median(x) by (job)",
       "could not parse expression", nullptr},
      {"an unknown type is refused with its position", "{url: 'http://x', type: thanos}", "up",
       "alertd.yml:4:37: datasource: type must be prometheus, victoriametrics or other, not "
       "\"thanos\"",
       nullptr},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Loaded l = LoadWith(dir, row.datasource, OneAlert(row.expr));
    INFO(l.text);
    if (row.error) {
      CHECK_FALSE(l.res.ok());
      CHECK(l.text.find(row.error) != std::string::npos);
      continue;
    }
    REQUIRE(l.res.ok());
    const Rule& r = l.res.config->rule_groups.at(0).rules.at(0);
    if (!row.warning) {
      CHECK(r.warnings.empty());
      continue;
    }
    REQUIRE_FALSE(r.warnings.empty());
    CHECK(r.warnings[0].find(row.warning) != std::string::npos);
  }
  // Two unknown functions, one of them twice: one warning each.
  Loaded l = LoadWith(dir, "{url: 'http://m', type: other}",
                      OneAlert("range_median(x[5m]) + label_set(y) + range_median(z[1m])"));
  REQUIRE(l.res.ok());
  const auto& w = l.res.config->rule_groups.at(0).rules.at(0).warnings;
  REQUIRE(w.size() == 2);
  CHECK(w[0].find("\"range_median\"") != std::string::npos);
  CHECK(w[1].find("\"label_set\"") != std::string::npos);
  t::RemoveTree(dir);
}

TEST_CASE("group labels go on every rule of the group, a rule's own label winning") {
  const std::string dir = t::MakeTempDir("alertd-group-labels");
  Loaded l = LoadWith(dir, "{url: 'http://p'}", R"(groups:
  - name: g
    labels: {team: db, page: '{{ $labels.instance | stripPort }}'}
    rules:
      - alert: A
        expr: up == 0
        labels: {team: web}
      - record: job:up:sum
        expr: sum by (job) (up)
)");
  REQUIRE_MESSAGE(l.res.ok(), l.text);
  const RuleGroup& g = l.res.config->rule_groups.at(0);
  CHECK(g.rules[0].labels == std::map<std::string, std::string>{
                                 {"page", "{{ $labels.instance | stripPort }}"}, {"team", "web"}});
  CHECK(g.rules[1].labels.at("team") == "db");

  struct Row {
    const char* name;
    const char* rules;
    const char* error;
  } rows[] = {
      {"invalid group label name",
       "groups:\n  - name: g\n    labels: {'a-b': x}\n    rules:\n      - alert: A\n        expr: "
       "up\n",
       "rules.yml:3:13: group \"g\": invalid label name: a-b"},
      {"__name__ as a group label",
       "groups:\n  - name: g\n    labels: {__name__: x}\n    rules:\n      - alert: A\n        "
       "expr: up\n",
       "invalid label name: __name__"},
      {"a group label that does not parse as a template on an alerting rule",
       "groups:\n  - name: g\n    labels: {x: '{{ nosuch }}'}\n    rules:\n      - alert: A\n      "
       "  expr: up\n",
       "rules.yml:3:13: group \"g\", rule \"A\": label \"x\": error parsing template"},
      {"labels not a map", "groups:\n  - name: g\n    labels: [a]\n    rules: []\n",
       "rules.yml:3:13"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Loaded bad = LoadWith(dir, "{url: 'http://p'}", row.rules);
    INFO(bad.text);
    CHECK_FALSE(bad.res.ok());
    CHECK(bad.text.find(row.error) != std::string::npos);
  }
  t::RemoveTree(dir);
}
