#include "router/route.h"

#include <doctest/doctest.h>

#include "tests/router/harness.h"

namespace alertd::router {
namespace {

using testing::ParseConfig;

LabelSet Labels(std::initializer_list<Label> l) { return LabelSet(l); }

const char* kTree = R"(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
      routes:
        - matchers: ['team=~"db|storage"']
          receiver: db-pager
    - matchers: ['severity=~"critical|warning"']
      receiver: slack
      group_by: ['...']
    - matchers: ['team!="ops"', 'env!~"dev.*"']
      receiver: teams
      group_by: [team, env]
    - match:
        severity: critical
      receiver: never-reached-after-slack
receivers:
  - name: default
  - name: pager
  - name: db-pager
  - name: slack
  - name: teams
  - name: never-reached-after-slack
)";

TEST_CASE("route matching: depth first, continue, nested, fall back to the parent") {
  auto cfg = ParseConfig(kTree);
  RouteTree tree(cfg);
  struct Row {
    const char* name;
    LabelSet labels;
    std::vector<std::string> receivers;
  };
  std::vector<Row> rows = {
      {"critical db: nested child, then continue to the next sibling",
       Labels({{"severity", "critical"}, {"team", "db"}}),
       {"db-pager", "slack"}},
      {"critical other team: parent of the nested route matches itself",
       Labels({{"severity", "critical"}, {"team", "web"}}),
       {"pager", "slack"}},
      {"warning: first matching sibling without continue stops the scan",
       Labels({{"severity", "warning"}, {"team", "web"}}),
       {"slack"}},
      {"no severity, team web: negative matchers",
       Labels({{"team", "web"}, {"env", "prod"}}),
       {"teams"}},
      {"missing label matches != as the empty value", Labels({{"alertname", "X"}}), {"teams"}},
      {"team ops: nothing matches, root receives", Labels({{"team", "ops"}}), {"default"}},
      {"env dev: regex is anchored", Labels({{"env", "devel"}}), {"default"}},
      {"env xdev: anchored regex does not match inside", Labels({{"env", "xdev"}}), {"teams"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    std::vector<std::string> got;
    for (const auto* n : tree.Match(row.labels)) got.push_back(n->config->receiver);
    CHECK(got == row.receivers);
    // The bare config matcher agrees.
    std::vector<std::string> got2;
    for (const auto* r : MatchRoutes(cfg->route, row.labels)) got2.push_back(r->receiver);
    CHECK(got2 == row.receivers);
  }
}

TEST_CASE("group labels and group keys as Alertmanager prints them") {
  auto cfg = ParseConfig(kTree);
  RouteTree tree(cfg);
  struct Row {
    const char* name;
    LabelSet labels;
    std::vector<std::string> keys;
  };
  std::vector<Row> rows = {
      {"root group_by alertname",
       Labels({{"alertname", "Foo"}, {"team", "ops"}}),
       {"{}:{alertname=\"Foo\"}"}},
      {"inherited group_by on a nested route",
       Labels({{"alertname", "Disk"}, {"severity", "critical"}, {"team", "db"}}),
       {"{}/{severity=\"critical\"}/{team=~\"db|storage\"}:{alertname=\"Disk\"}",
        "{}/{severity=~\"critical|warning\"}:{alertname=\"Disk\", severity=\"critical\", "
        "team=\"db\"}"}},
      {"group_by missing label is left out",
       Labels({{"team", "web"}}),
       {"{}/{env!~\"dev.*\",team!=\"ops\"}:{team=\"web\"}"}},
      {"values are Go-quoted",
       Labels({{"alertname", "a\"b\\c"}, {"team", "ops"}}),
       {"{}:{alertname=\"a\\\"b\\\\c\"}"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    std::vector<std::string> keys;
    for (const auto* n : tree.Match(row.labels)) {
      keys.push_back(GroupKey(*n, GroupLabels(*n->config, row.labels)));
    }
    CHECK(keys == row.keys);
  }
}

TEST_CASE("route ids tell apart siblings with equal matchers") {
  auto cfg = ParseConfig(R"(
route:
  receiver: a
  routes:
    - matchers: ['x="1"']
      receiver: a
      continue: true
    - matchers: ['x="1"']
      receiver: b
receivers: [{name: a}, {name: b}]
)");
  RouteTree tree(cfg);
  auto m = tree.Match(Labels({{"x", "1"}}));
  REQUIRE(m.size() == 2);
  CHECK(m[0]->key == m[1]->key);
  CHECK(m[0]->id != m[1]->id);
  CHECK(m[0]->id == "{}/{x=\"1\"}/0");
  CHECK(m[1]->id == "{}/{x=\"1\"}/1");
}

}  // namespace
}  // namespace alertd::router
