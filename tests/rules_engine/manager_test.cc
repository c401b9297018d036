// Group scheduling (slots, no overlap, missed iterations), sending through the sink, state
// persistence and restore, reload, metrics, and the hash that places groups on Prometheus's
// slots; all on a fake clock with evaluations run inline.
#include <doctest/doctest.h>

#include "rules_engine/group.h"
#include "rules_engine/manager.h"
#include "tests/rules_engine/fakes.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeQueryClient;
using testing::FakeRuleStateStore;
using testing::FakeSink;

TEST_CASE("xxhash64 test vectors") {
  struct Row {
    const char* in;
    uint64_t want;
  };
  for (const Row& r : std::vector<Row>{{"", 0xEF46DB3751D8E999ULL},
                                       {"a", 0xD24EC4F1A98C6E5BULL},
                                       {"abc", 0x44BC2CF5AD770999ULL},
                                       {"Nobody inspects the spammish repetition",
                                        0xFBCEA83C8A378BF1ULL}}) {
    INFO(r.in);
    CHECK(XXHash64(r.in) == r.want);
  }
}

TEST_CASE("evaluation slots: offset by the group hash, latest slot not after now") {
  const Duration iv = 10s;
  const uint64_t hash = 3'000'000'000ULL + 10'000'000'000ULL * 7;  // offset 3 s
  const Time base = FromUnixSeconds(1700000000);  // a multiple of 10 s
  CHECK(EvalTimestamp(base + 3s, iv, hash) == base + 3s);
  CHECK(EvalTimestamp(base + 12s, iv, hash) == base + 3s);
  CHECK(EvalTimestamp(base + 13s, iv, hash) == base + 13s);
  CHECK(EvalTimestamp(base + 2s, iv, hash) == base - 7s);
}

config::RuleGroup MakeGroup(const std::string& name, Duration interval) {
  config::RuleGroup g;
  g.name = name;
  g.file = "/rules/test.yml";
  g.interval = interval;
  config::Rule pending;
  pending.alert = "Slow";
  pending.expr = "slow > 0";
  pending.for_ = 30s;
  config::Rule fast;
  fast.alert = "Fast";
  fast.expr = "fast > 0";
  config::Rule rec;
  rec.record = "job:up:sum";
  rec.expr = "sum by (job) (up)";
  g.rules = {pending, fast, rec};
  return g;
}

TEST_CASE("manager: first evaluation at the next slot, at the slot's timestamp; missed slots") {
  const Time start = FromUnixSeconds(1700000000) + 123ms;
  FakeClock clock(start);
  FakeQueryClient q;
  q.SetVector("slow > 0", {});
  q.SetVector("fast > 0", {});
  FakeSink sink;
  ManagerOptions opts;
  opts.workers = 0;
  auto m = RuleManager::Create({MakeGroup("g", 10s)}, opts, {&q, &sink, nullptr, &clock});
  REQUIRE(m.ok());
  const uint64_t hash = GroupHash("/rules/test.yml", "g");
  const Time first = EvalTimestamp(start, 10s, hash) + 10s;
  CHECK(first > start);

  Time next = (*m)->RunDue(start);
  CHECK(next == first);
  CHECK(q.calls.empty());
  (*m)->RunDue(first);
  REQUIRE(q.calls.size() == 2);  // recording rules are listed, not evaluated
  CHECK(q.calls[0].expr == "slow > 0");  // rules in file order
  CHECK(q.calls[1].expr == "fast > 0");
  CHECK(q.calls[0].ts == first);
  CHECK(q.calls[1].ts == first);

  // 3.5 intervals late: one evaluation at the latest slot, 2 slots counted as missed.
  q.calls.clear();
  next = (*m)->RunDue(first + 35s);
  REQUIRE(q.calls.size() == 2);
  CHECK(q.calls[0].ts == first + 30s);
  CHECK(next == first + 40s);
  std::string metrics;
  (*m)->AppendMetrics(&metrics);
  const std::string key = "rule_group=\"/rules/test.yml;g\"";
  CHECK(metrics.find("prometheus_rule_group_iterations_missed_total{" + key + "} 2\n") !=
        std::string::npos);
  CHECK(metrics.find("prometheus_rule_group_iterations_total{" + key + "} 4\n") !=
        std::string::npos);
  CHECK(metrics.find("prometheus_rule_evaluations_total{" + key + "} 4\n") != std::string::npos);
  CHECK(metrics.find("prometheus_rule_group_interval_seconds{" + key + "} 10\n") !=
        std::string::npos);
  CHECK(metrics.find("prometheus_rule_group_last_duration_seconds{" + key) != std::string::npos);
  CHECK(metrics.find("prometheus_rule_group_duration_seconds_count 2\n") != std::string::npos);

  // Not due yet: nothing runs.
  q.calls.clear();
  (*m)->RunDue(first + 39s);
  CHECK(q.calls.empty());
}

TEST_CASE("manager: alerts reach the sink; failures counted; state persisted and restored") {
  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  FakeQueryClient q;
  FakeSink sink;
  FakeRuleStateStore state;
  ManagerOptions opts;
  opts.workers = 0;
  opts.external_labels = LabelSet{{"cluster", "c1"}};
  opts.external_url = "http://alertd";
  opts.for_grace_period = 0s;  // `for` restored without a grace period
  ManagerDeps mdeps{&q, &sink, &state, &clock};
  mdeps.retry_sleep = [&](Duration d) {  // retries of the failing query move the fake clock
    clock.Set(clock.Now() + d);
    return true;
  };
  auto m = RuleManager::Create({MakeGroup("g", 10s)}, opts, mdeps);
  REQUIRE(m.ok());
  REQUIRE((*m)->Restore().ok());
  const Time first = (*m)->RunDue(start);

  q.SetVector("slow > 0", {{LabelSet{{"i", "1"}}, 1}});
  q.SetVector("fast > 0", {{LabelSet{{"i", "2"}}, 1}});
  clock.Set(first);
  (*m)->RunDue(first);
  auto sent = sink.Take();
  REQUIRE(sent.size() == 1);  // Fast fires at once; Slow is pending
  const AlertCounts counts = (*m)->CountAlerts();
  CHECK(counts.firing == 1);
  CHECK(counts.pending == 1);
  CHECK(sent[0].labels == LabelSet{{"alertname", "Fast"}, {"cluster", "c1"}, {"i", "2"}});
  REQUIRE(state.groups.count("/rules/test.yml;g") == 1);
  CHECK(state.groups["/rules/test.yml;g"].size() == 2);
  const int writes = state.writes;

  // A failing query: no send, no state write, the rule reports the error.
  q.Set("fast > 0", Status::Unavailable("connection refused"));
  clock.Set(first + 10s);
  (*m)->RunDue(first + 10s);
  CHECK(sink.Take().empty());
  auto snap = (*m)->Snapshot();
  REQUIRE(snap.size() == 1);
  REQUIRE(snap[0].rules.size() == 3);
  CHECK(snap[0].rules[0].health == RuleHealth::kGood);
  CHECK(snap[0].rules[1].health == RuleHealth::kBad);
  CHECK(snap[0].rules[1].last_error == "connection refused");
  CHECK(snap[0].rules[1].alerts.size() == 1);
  CHECK_FALSE(snap[0].rules[2].alerting);
  CHECK(snap[0].rules[2].query == "sum by (job) (up)");
  CHECK(state.writes == writes);  // only values changed
  std::string metrics;
  (*m)->AppendMetrics(&metrics);
  CHECK(metrics.find("prometheus_rule_evaluation_failures_total{rule_group=\"/rules/test.yml;g\"} "
                     "1\n") != std::string::npos);

  // Restart at first+20s: a new manager over the same state; the pending alert keeps its
  // activeAt and fires at first+30s; the firing one is not re-sent before the resend delay.
  (*m)->Stop();
  clock.Set(first + 10s);  // right after the last evaluation: no downtime to add to activeAt
  q.SetVector("fast > 0", {{LabelSet{{"i", "2"}}, 1}});
  auto m2 = RuleManager::Create({MakeGroup("g", 10s)}, opts, {&q, &sink, &state, &clock});
  REQUIRE(m2.ok());
  REQUIRE((*m2)->Restore().ok());
  snap = (*m2)->Snapshot();
  REQUIRE(snap[0].rules[0].alerts.size() == 1);
  CHECK(snap[0].rules[0].alerts[0].state == AlertState::kPending);
  CHECK(snap[0].rules[0].alerts[0].active_at == first);
  (*m2)->RunDue(first + 20s);
  CHECK(sink.Take().empty());
  clock.Set(first + 30s);
  (*m2)->RunDue(first + 30s);
  sent = sink.Take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].labels.Get("alertname") == "Slow");
  CHECK(sent[0].starts_at == first + 30s);
  CHECK((*m2)->CountAlerts().firing == 2);
  CHECK((*m2)->CountAlerts().pending == 0);

  // Reload: the group keeps its alerts; a removed group's state is dropped.
  config::RuleGroup other = MakeGroup("other", 10s);
  REQUIRE((*m2)->Update({MakeGroup("g", 10s), other}, opts).ok());
  snap = (*m2)->Snapshot();
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].rules[0].alerts.size() == 1);
  CHECK(snap[0].rules[0].alerts[0].state == AlertState::kFiring);
  state.groups["/rules/test.yml;gone"] = {};
  REQUIRE((*m2)->Update({MakeGroup("g", 10s)}, opts).ok());
  CHECK(state.groups.count("/rules/test.yml;gone") == 0);

  // A reload reverted (a later reload step failed): the groups and options from before it
  // are back, and they have taken over the alerts; a second revert changes nothing.
  ManagerOptions changed = opts;
  changed.external_url = "http://changed";
  config::RuleGroup g2 = MakeGroup("g", 20s);
  g2.rules.pop_back();
  REQUIRE((*m2)->Update({g2, MakeGroup("new", 10s)}, changed).ok());
  snap = (*m2)->Snapshot();
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].interval == 20s);
  CHECK(snap[0].rules.size() == 2);
  REQUIRE((*m2)->RevertUpdate().ok());
  snap = (*m2)->Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].name == "g");
  CHECK(snap[0].interval == 10s);
  REQUIRE(snap[0].rules.size() == 3);
  REQUIRE(snap[0].rules[0].alerts.size() == 1);
  CHECK(snap[0].rules[0].alerts[0].state == AlertState::kFiring);
  CHECK(snap[0].rules[0].alerts[0].labels == LabelSet{{"alertname", "Slow"}, {"i", "1"}});
  REQUIRE((*m2)->RevertUpdate().ok());
  CHECK((*m2)->Snapshot()[0].interval == 10s);
  // The options came back too: generatorURL uses the external URL from before the reload.
  clock.Set(first + 200s);
  (*m2)->RunDue(first + 200s);
  sent = sink.Take();
  REQUIRE_FALSE(sent.empty());
  CHECK(sent[0].generator_url.rfind("http://alertd/graph?", 0) == 0);
  // After a commit there is nothing left to revert.
  REQUIRE((*m2)->Update({g2}, changed).ok());
  (*m2)->CommitUpdate();
  REQUIRE((*m2)->RevertUpdate().ok());
  CHECK((*m2)->Snapshot()[0].interval == 20s);
}

TEST_CASE("manager on worker threads: a group never overlaps itself") {
  // A query client that blocks until released, to hold a group evaluation in flight.
  class BlockingClient final : public QueryClient {
   public:
    Result<QueryResult> Query(std::string_view, Time) override {
      std::unique_lock l(mu);
      ++calls;
      cv.notify_all();
      cv.wait(l, [&] { return released; });
      return QueryResult{};
    }
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    bool released = false;
  };
  BlockingClient q;
  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  ManagerOptions opts;
  opts.workers = 2;
  config::RuleGroup g = MakeGroup("g", 10s);
  g.rules.resize(1);
  auto m = RuleManager::Create({g}, opts, {&q, nullptr, nullptr, &clock});
  REQUIRE(m.ok());
  (*m)->Start();  // its own loop reads the fake clock, which stays before the first slot
  const Time first = (*m)->RunDue(start);
  (*m)->RunDue(first);
  {
    std::unique_lock l(q.mu);
    REQUIRE(q.cv.wait_for(l, 10s, [&] { return q.calls == 1; }));
  }
  (*m)->RunDue(first + 10s);  // still running: not started again
  (*m)->RunDue(first + 20s);
  {
    std::lock_guard l(q.mu);
    CHECK(q.calls == 1);
    q.released = true;
  }
  q.cv.notify_all();
  (*m)->WaitIdle();
  (*m)->RunDue(first + 25s);
  (*m)->WaitIdle();
  {
    std::lock_guard l(q.mu);
    CHECK(q.calls == 2);
  }
  std::string metrics;
  (*m)->AppendMetrics(&metrics);
  CHECK(metrics.find("prometheus_rule_group_iterations_missed_total{rule_group=\"/rules/test.yml;g\"} 1\n") !=
        std::string::npos);
  (*m)->Stop();
}

}  // namespace
}  // namespace alertd::rules_engine
