// Rule-file keys of later Prometheus versions (group `labels`, `query_offset`).
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

}  // namespace

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
