// Rule-file keys of Prometheus versions after 2.42, loaded from real files and evaluated on a
// fake clock: group `labels` (3.0), group `query_offset` and the global
// `evaluation.rule_query_offset` (2.53), `interval: 0s` as the global interval (2.42), and a
// MetricsQL function with `datasource.type: victoriametrics` (sent as written, shown as a
// warning on the rule).
#include <doctest/doctest.h>

#include <map>

#include "config/config.h"
#include "rules_engine/manager.h"
#include "tests/rules_engine/fakes.h"
#include "tests/support/process.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeQueryClient;
using testing::FakeSink;

TEST_CASE("group labels, query offsets, interval 0s and an unknown function work as loaded") {
  const std::string dir = alertd::testing::MakeTempDir("alertd-rule-keys");
  alertd::testing::WriteFile(dir + "/rules.yml", R"(groups:
  - name: global-offset
    interval: 0s
    labels: {team: db, tier: backend}
    rules:
      - alert: GroupLabels
        expr: a > 0
        labels: {team: web}
      - alert: OnlyGroupLabels
        expr: b > 0
  - name: own-offset
    query_offset: 7s
    rules:
      - alert: Offset7
        expr: c > 0
  - name: zero-offset
    query_offset: 0s
    rules:
      - alert: Offset0
        expr: d > 0
  - name: metricsql
    rules:
      - alert: Median
        expr: range_median(e[5m]) > 1
)");
  alertd::testing::WriteFile(dir + "/alertd.yml", R"(route: {receiver: r}
receivers: [{name: r}]
datasource: {url: 'http://vm:8428', type: victoriametrics}
evaluation: {interval: 10s, rule_query_offset: 3s}
rule_files: [rules.yml]
)");
  auto loaded = config::LoadConfigFile(dir + "/alertd.yml");
  REQUIRE_MESSAGE(loaded.ok(), loaded.ErrorText());
  const config::Config& cfg = *loaded.config;
  REQUIRE(cfg.rule_groups.size() == 4);
  CHECK_FALSE(cfg.rule_groups[0].interval.has_value());
  CHECK(cfg.rule_groups[0].query_offset == 3s);
  CHECK(cfg.rule_groups[1].query_offset == 7s);
  CHECK(cfg.rule_groups[2].query_offset == 0s);  // the group's own 0s wins over the global
  CHECK(cfg.rule_groups[3].query_offset == 3s);

  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  FakeQueryClient q;
  for (const char* e : {"a > 0", "b > 0", "c > 0", "d > 0", "range_median(e[5m]) > 1"}) {
    q.SetVector(e, {{LabelSet{{"instance", "i1"}}, 2}});
  }
  FakeSink sink;
  ManagerOptions opts = ManagerOptionsFromConfig(cfg);
  opts.workers = 0;
  auto m = RuleManager::Create(cfg.rule_groups, opts, {&q, &sink, nullptr, &clock});
  REQUIRE(m.ok());

  const std::map<std::string, Duration> offset = {
      {"a > 0", 3s}, {"b > 0", 3s}, {"c > 0", 7s}, {"d > 0", 0s}, {"range_median(e[5m]) > 1", 3s}};
  std::map<std::string, int> evaluated;
  Time t = (*m)->RunDue(start);
  while (t < start + 30s) {
    const size_t before = q.calls.size();
    clock.Set(t);
    const Time next = (*m)->RunDue(t);
    for (size_t i = before; i < q.calls.size(); ++i) {
      INFO(q.calls[i].expr);
      REQUIRE(offset.count(q.calls[i].expr) == 1);
      CHECK(q.calls[i].ts == t - offset.at(q.calls[i].expr));  // evaluated at slot t
      ++evaluated[q.calls[i].expr];
    }
    t = next;
  }
  CHECK(evaluated.size() == offset.size());  // every rule ran, the MetricsQL one as written

  std::map<std::string, LabelSet> labels;
  for (const auto& a : sink.Take()) labels[std::string(a.labels.Get("alertname"))] = a.labels;
  CHECK(labels["GroupLabels"] == LabelSet{{"alertname", "GroupLabels"},
                                          {"instance", "i1"},
                                          {"team", "web"},
                                          {"tier", "backend"}});
  CHECK(labels["OnlyGroupLabels"] == LabelSet{{"alertname", "OnlyGroupLabels"},
                                              {"instance", "i1"},
                                              {"team", "db"},
                                              {"tier", "backend"}});
  CHECK(labels["Offset7"] == LabelSet{{"alertname", "Offset7"}, {"instance", "i1"}});
  CHECK(labels.count("Median") == 1);

  auto snap = (*m)->Snapshot();
  REQUIRE(snap.size() == 4);
  CHECK(snap[0].interval == 10s);  // interval: 0s is evaluation.interval
  CHECK(snap[0].rules[0].warnings.empty());
  REQUIRE(snap[3].rules.size() == 1);
  const RuleSnapshot& median = snap[3].rules[0];
  CHECK(median.health == RuleHealth::kGood);
  CHECK(median.query == "range_median(e[5m]) > 1");
  REQUIRE(median.warnings.size() == 1);
  CHECK(median.warnings[0] ==
        "function \"range_median\" is not PromQL of Prometheus 2.42; the expression is sent to "
        "the victoriametrics datasource as written");
  alertd::testing::RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::rules_engine
