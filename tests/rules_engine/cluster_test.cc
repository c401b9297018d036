// Rule groups split over replicas (core/cluster.h): two managers on one state store play two
// nodes; only the owner of a group's shard evaluates it, and a node that takes the group over
// continues its `for` timers from the store.
#include <doctest/doctest.h>

#include "rules_engine/manager.h"
#include "tests/fakes/ownership.h"
#include "tests/rules_engine/fakes.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using alertd::testing::FakeOwnership;
using testing::FakeQueryClient;
using testing::FakeRuleStateStore;
using testing::FakeSink;

config::RuleGroup SlowGroup() {
  config::RuleGroup g;
  g.name = "g";
  g.file = "/rules/cluster.yml";
  g.interval = 10s;
  config::Rule slow;
  slow.alert = "Slow";
  slow.expr = "slow > 0";
  slow.for_ = 30s;
  g.rules = {slow};
  return g;
}

TEST_CASE("only the owner evaluates a group; the node taking it over keeps its `for` timer") {
  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  FakeQueryClient q;
  q.SetVector("slow > 0", {{LabelSet{{"i", "1"}}, 1}});
  FakeRuleStateStore state;
  FakeSink sink_a, sink_b;
  FakeOwnership own_a, own_b;
  ManagerOptions opts;
  opts.workers = 0;
  ManagerDeps deps_a{&q, &sink_a, &state, &clock};
  deps_a.ownership = &own_a;
  ManagerDeps deps_b{&q, &sink_b, &state, &clock};
  deps_b.ownership = &own_b;
  auto a = RuleManager::Create({SlowGroup()}, opts, deps_a);
  auto b = RuleManager::Create({SlowGroup()}, opts, deps_b);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE((*a)->Restore().ok());
  REQUIRE((*b)->Restore().ok());
  own_a.GainAll();

  Time t = (*a)->RunDue(start);
  (*b)->RunDue(start);
  // Two evaluations on a: Slow is pending (active since the first); b evaluates nothing.
  for (int i = 0; i < 2; ++i) {
    clock.Set(t);
    (*a)->RunDue(t);
    (*b)->RunDue(t);
    t += 10s;
  }
  const Time active_at = t - 20s;
  CHECK(q.calls.size() == 2);
  CHECK((*a)->CountAlerts().pending == 1);
  CHECK((*b)->CountAlerts().pending == 0);
  REQUIRE(state.groups["/rules/cluster.yml;g"].size() == 1);
  CHECK(state.groups["/rules/cluster.yml;g"][0].active_at == active_at);

  // a dies; b owns the group from its next slot and reads a's pending alert back: the alert
  // fires 30 s after it became active, as it would have on a.
  own_a.LoseAll();
  own_b.GainAll();
  clock.Set(t);
  (*a)->RunDue(t);
  (*b)->RunDue(t);
  CHECK((*b)->CountAlerts().pending == 1);
  // a no longer shows the alert it stopped evaluating (it would go stale there).
  CHECK((*a)->CountAlerts().pending == 0);
  CHECK(sink_b.Take().empty());
  t += 10s;
  clock.Set(t);
  (*b)->RunDue(t);  // active_at + 30s
  auto sent = sink_b.Take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].labels.Get("alertname") == "Slow");
  CHECK(sent[0].starts_at == active_at + 30s);
  CHECK(sink_a.Take().empty());
  CHECK(q.calls.size() == 4);
}

}  // namespace
}  // namespace alertd::rules_engine
