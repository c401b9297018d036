// evaluation.alert_relabel_configs in the rule manager: applied to sent alerts after the
// external labels; dropped alerts and alerts left without labels are not sent.
#include <doctest/doctest.h>

#include "rules_engine/manager.h"
#include "tests/rules_engine/fakes.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeQueryClient;
using testing::FakeSink;

RelabelConfig Step(RelabelSpec s) {
  auto r = RelabelConfig::Create(std::move(s));
  REQUIRE(r.ok());
  return std::move(r).value();
}

TEST_CASE("alert_relabel_configs apply after external labels; dropped alerts are not sent") {
  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  FakeQueryClient q;
  FakeSink sink;
  ManagerOptions opts;
  opts.workers = 0;
  opts.external_labels = LabelSet{{"cluster", "c1"}};
  RelabelSpec copy;  // sees the external label
  copy.source_labels = {"cluster", "i"};
  copy.separator = "/";
  copy.target_label = "where";
  RelabelSpec drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"i"};
  drop.regex = "2";
  RelabelSpec keep_none;  // i="3" loses every label
  keep_none.action = RelabelAction::kLabelKeep;
  keep_none.regex = "nothing";
  opts.alert_relabel_configs = {Step(copy), Step(drop)};

  config::RuleGroup g;
  g.name = "g";
  g.file = "/rules/test.yml";
  g.interval = 10s;
  config::Rule r;
  r.alert = "A";
  r.expr = "a > 0";
  g.rules = {r};
  config::RuleGroup g2 = g;
  g2.name = "g2";
  g2.rules[0].expr = "b > 0";
  q.SetVector("a > 0", {{LabelSet{{"i", "1"}}, 1}, {LabelSet{{"i", "2"}}, 1}});
  q.SetVector("b > 0", {{LabelSet{{"i", "3"}}, 1}});
  auto m = RuleManager::Create({g}, opts, {&q, &sink, nullptr, &clock});
  REQUIRE(m.ok());
  const Time first = (*m)->RunDue(start);
  clock.Set(first);
  (*m)->RunDue(first);
  auto sent = sink.Take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].labels ==
        LabelSet{{"alertname", "A"}, {"cluster", "c1"}, {"i", "1"}, {"where", "c1/1"}});

  // Relabelled to nothing: not sent (Alertmanager refuses an alert without labels).
  ManagerOptions none = opts;
  none.alert_relabel_configs = {Step(keep_none)};
  auto m2 = RuleManager::Create({g2}, none, {&q, &sink, nullptr, &clock});
  REQUIRE(m2.ok());
  const Time first2 = (*m2)->RunDue(start);
  clock.Set(first2);
  (*m2)->RunDue(first2);
  CHECK(sink.Take().empty());
}

}  // namespace
}  // namespace alertd::rules_engine

namespace alertd::rules_engine {
namespace {

TEST_CASE("generatorURL defaults to the datasource's /graph when external_url is unset") {
  config::Config cfg;
  cfg.server.listen = "127.0.0.1:9093";
  cfg.datasource.url = "http://prom:9090";
  CHECK(ManagerOptionsFromConfig(cfg).external_url == "http://prom:9090");
  cfg.datasource.url = "http://user:secret@prom:9090";
  CHECK(ManagerOptionsFromConfig(cfg).external_url == "http://prom:9090");
  cfg.evaluation.external_url = "https://alerts.example.com";
  CHECK(ManagerOptionsFromConfig(cfg).external_url == "https://alerts.example.com");
}

}  // namespace
}  // namespace alertd::rules_engine
