// Rule state across reloads and restarts, and evaluations against a failing datasource, on a
// fake clock with evaluations inline: rule identity by name and labels (Prometheus's
// CopyState) so reordering, renaming a group or moving it to another file neither resolves
// nor re-fires; `for` raised keeps a firing alert firing (2.42); restore after a restart as
// Prometheus 2.42's RestoreForState (for_grace_period, for_outage_tolerance); query retries;
// datasource warnings; alerts kept alive through an outage.
#include <doctest/doctest.h>

#include <atomic>

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

const Time kStart = FromUnixSeconds(1700000000) + 123ms;

config::Rule Alert(const std::string& name, const std::string& expr, Duration for_,
                   std::map<std::string, std::string> labels = {}) {
  config::Rule r;
  r.alert = name;
  r.expr = expr;
  r.for_ = for_;
  r.labels = std::move(labels);
  return r;
}

config::RuleGroup Group_(const std::string& file, const std::string& name,
                         std::vector<config::Rule> rules, Duration interval = 10s) {
  config::RuleGroup g;
  g.file = file;
  g.name = name;
  g.interval = interval;
  g.rules = std::move(rules);
  return g;
}

// A manager over fakes; Run evaluates every slot up to a time, as the daemon's loop would.
struct Harness {
  FakeClock clock{kStart};
  FakeQueryClient q;
  FakeSink sink;
  FakeRuleStateStore state;
  ManagerOptions opts;
  std::unique_ptr<RuleManager> m;
  Time next = kZeroTime;

  Harness() { opts.workers = 0; }

  void Start(const std::vector<config::RuleGroup>& groups) {
    auto made = RuleManager::Create(groups, opts, {&q, &sink, &state, &clock});
    REQUIRE(made.ok());
    m = std::move(*made);
    REQUIRE(m->Restore().ok());
    next = m->RunDue(clock.Now());
  }
  // Evaluates every slot due up to `t` and leaves the clock at `t`.
  void RunUntil(Time t) {
    while (next <= t) {
      clock.Set(next);
      next = m->RunDue(next);
    }
    clock.Set(t);
  }
  void Reload(const std::vector<config::RuleGroup>& groups) {
    REQUIRE(m->Update(groups, opts).ok());
    m->CommitUpdate();
    next = m->RunDue(clock.Now());
  }
  // Every active alert as "<group>/<alertname>/<severity>/<instance>" → the alert.
  std::map<std::string, RuleAlert> Alerts() const {
    std::map<std::string, RuleAlert> out;
    for (const auto& g : m->Snapshot()) {
      for (const auto& r : g.rules) {
        for (const auto& a : r.alerts) {
          out[g.name + "/" + std::string(a.labels.Get("alertname")) + "/" +
              std::string(a.labels.Get("severity")) + "/" +
              std::string(a.labels.Get("instance"))] = a;
        }
      }
    }
    return out;
  }
};

LabelSet Inst(const std::string& i) { return LabelSet{{"instance", i}}; }

// Two snapshots of alerts hold the same alerts in the same state since the same time.
void CheckSameAlerts(const std::map<std::string, RuleAlert>& before,
                     const std::map<std::string, RuleAlert>& after,
                     const std::string& group_after = "") {
  REQUIRE(before.size() == after.size());
  auto it = after.begin();
  for (const auto& [key, a] : before) {
    INFO(key);
    const std::string want_key =
        group_after.empty() ? key : group_after + key.substr(key.find('/'));
    CHECK(it->first == want_key);
    CHECK(it->second.state == a.state);
    CHECK(it->second.active_at == a.active_at);
    CHECK(it->second.fired_at == a.fired_at);
    CHECK(it->second.labels == a.labels);
    ++it;
  }
}

std::vector<config::Rule> LatencyPair() {
  return {Alert("HighLatency", "latency > 1", 20s, {{"severity", "warning"}}),
          Alert("HighLatency", "latency > 5", 20s, {{"severity", "critical"}})};
}

TEST_CASE("reordering a warning/critical pair keeps both alerts: no resolve, no re-fire") {
  Harness h;
  h.q.SetVector("latency > 1", {{Inst("a"), 7}});
  h.q.SetVector("latency > 5", {{Inst("a"), 7}});
  h.Start({Group_("/rules/a.yml", "latency", LatencyPair())});
  const Time first = h.next;
  h.RunUntil(first + 20s);
  auto before = h.Alerts();
  REQUIRE(before.size() == 2);
  CHECK(before["latency/HighLatency/warning/a"].state == AlertState::kFiring);
  CHECK(before["latency/HighLatency/critical/a"].state == AlertState::kFiring);
  REQUIRE(h.sink.Take().size() == 2);

  auto swapped = LatencyPair();
  std::swap(swapped[0], swapped[1]);
  h.Reload({Group_("/rules/a.yml", "latency", swapped)});
  CheckSameAlerts(before, h.Alerts());
  h.RunUntil(first + 50s);  // within the resend delay: nothing is due to be sent
  CheckSameAlerts(before, h.Alerts());
  CHECK(h.sink.Take().empty());
  // The next resend carries the original startsAt, and nothing resolved in between.
  h.RunUntil(first + 90s);
  auto sent = h.sink.Take();
  REQUIRE(sent.size() == 2);
  for (const auto& a : sent) {
    CHECK(a.starts_at == first + 20s);
    CHECK(a.ends_at > first + 90s);
  }
}

TEST_CASE("duplicate rules (same name and labels) are matched in order") {
  Harness h;
  h.q.SetVector("e1", {{Inst("one"), 1}});
  h.q.SetVector("e2", {{Inst("two"), 1}});
  h.q.SetVector("e3", {{Inst("three"), 1}});
  std::vector<config::Rule> rules = {Alert("A", "e1", 0s, {{"severity", "warning"}}),
                                     Alert("A", "e2", 0s, {{"severity", "critical"}}),
                                     Alert("A", "e3", 0s, {{"severity", "warning"}})};
  h.Start({Group_("/rules/a.yml", "g", rules)});
  h.RunUntil(h.next);
  auto before = h.Alerts();
  REQUIRE(before.size() == 3);
  h.sink.Take();
  // The critical rule moves to the top; the two warnings keep their order.
  h.Reload({Group_("/rules/a.yml", "g", {rules[1], rules[0], rules[2]})});
  auto snap = h.m->Snapshot();
  REQUIRE(snap[0].rules.size() == 3);
  CHECK(snap[0].rules[1].alerts.at(0).labels.Get("instance") == "one");
  CHECK(snap[0].rules[2].alerts.at(0).labels.Get("instance") == "three");
  h.RunUntil(h.clock.Now() + 30s);
  CheckSameAlerts(before, h.Alerts());
  CHECK(h.sink.Take().empty());
}

TEST_CASE("renaming a group or moving it to another file keeps its alerts") {
  Harness h;
  h.q.SetVector("latency > 1", {{Inst("a"), 7}});
  h.q.SetVector("latency > 5", {{Inst("a"), 7}});
  h.q.SetVector("slow", {{Inst("b"), 1}});
  std::vector<config::Rule> rules = LatencyPair();
  rules.push_back(Alert("Slow", "slow", 10min));
  h.Start({Group_("/rules/a.yml", "latency", rules),
           Group_("/rules/a.yml", "other", {Alert("Other", "slow", 0s)})});
  // The first slot of the latency group (the other group's may come first).
  const Time first =
      EvalTimestamp(kStart, 10s, GroupHash("/rules/a.yml", "latency")) + 10s;
  h.RunUntil(first + 20s);
  auto latency = [&] {
    auto all = h.Alerts();
    std::erase_if(all, [](const auto& e) { return e.first.find("/Other/") != std::string::npos; });
    return all;
  };
  auto before = latency();
  REQUIRE(before.size() == 3);
  CHECK(before["latency/Slow//b"].state == AlertState::kPending);
  h.sink.Take();

  SUBCASE("renamed") {
    h.Reload({Group_("/rules/a.yml", "latency-v2", rules),
              Group_("/rules/a.yml", "other", {Alert("Other", "slow", 0s)})});
    CheckSameAlerts(before, latency(), "latency-v2");
    // Written under the new group at once; the old group's state is gone.
    CHECK(h.state.groups.count("/rules/a.yml;latency") == 0);
    CHECK(h.state.groups["/rules/a.yml;latency-v2"].size() == 3);
    h.RunUntil(first + 50s);
    CheckSameAlerts(before, latency(), "latency-v2");
  }
  SUBCASE("moved to another file") {
    h.Reload({Group_("/rules/b.yml", "latency", rules),
              Group_("/rules/a.yml", "other", {Alert("Other", "slow", 0s)})});
    CheckSameAlerts(before, latency());
    CHECK(h.state.groups.count("/rules/a.yml;latency") == 0);
    CHECK(h.state.groups["/rules/b.yml;latency"].size() == 3);
    h.RunUntil(first + 50s);
    CheckSameAlerts(before, latency());
  }
  CHECK(h.sink.Take().empty());
  // The pending alert still fires on its original schedule.
  h.RunUntil(first + 10min + 10s);  // the renamed group's slots are elsewhere in the 10 s
  int slow = 0;
  for (const auto& [key, a] : latency()) {
    if (key.find("/Slow/") == std::string::npos) continue;
    ++slow;
    CHECK(a.state == AlertState::kFiring);
    CHECK(a.fired_at >= first + 10min);
    CHECK(a.fired_at < first + 10min + 10s);
  }
  CHECK(slow == 1);
}

TEST_CASE("a restart with the group renamed and moved restores its alerts from the old group") {
  Harness h;
  h.q.SetVector("latency > 1", {{Inst("a"), 7}});
  h.q.SetVector("latency > 5", {{Inst("a"), 7}});
  h.Start({Group_("/rules/a.yml", "latency", LatencyPair())});
  const Time first = h.next;
  h.RunUntil(first + 20s);
  auto before = h.Alerts();
  REQUIRE(before.size() == 2);
  h.sink.Take();
  h.m->Stop();

  h.clock.Set(first + 25s);
  h.Start({Group_("/rules/b.yml", "latency-v2", LatencyPair())});
  CheckSameAlerts(before, h.Alerts(), "latency-v2");
  CHECK(h.state.groups.count("/rules/a.yml;latency") == 0);
  CHECK(h.state.groups["/rules/b.yml;latency-v2"].size() == 2);
  h.RunUntil(first + 50s);
  CheckSameAlerts(before, h.Alerts(), "latency-v2");
  CHECK(h.sink.Take().empty());
}

TEST_CASE("state written under the old rule keys (<name>#<n>) is restored") {
  Harness h;
  RuleAlertRecord r;
  r.group_key = "/rules/a.yml;g";
  r.rule_key = "HighLatency#1";  // the second HighLatency rule: critical
  r.labels = LabelSet{{"alertname", "HighLatency"}, {"instance", "a"}, {"severity", "critical"}};
  r.state = RuleAlertStatus::State::kFiring;
  r.active_at = kStart - 10min;
  r.fired_at = kStart - 9min;
  r.last_sent_at = kStart - 30s;
  h.state.groups[r.group_key] = {r};
  h.Start({Group_("/rules/a.yml", "g", LatencyPair())});
  auto alerts = h.Alerts();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts["g/HighLatency/critical/a"].fired_at == kStart - 9min);
}

TEST_CASE("raising `for` on reload keeps a firing alert firing, as Prometheus 2.42") {
  Harness h;
  h.q.SetVector("up == 0", {{Inst("a"), 1}});
  h.Start({Group_("/rules/a.yml", "g", {Alert("Down", "up == 0", 0s)})});
  const Time first = h.next;
  h.RunUntil(first);
  REQUIRE(h.sink.Take().size() == 1);
  h.Reload({Group_("/rules/a.yml", "g", {Alert("Down", "up == 0", 10min)})});
  h.RunUntil(first + 30s);
  auto alerts = h.Alerts();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts.begin()->second.state == AlertState::kFiring);
  CHECK(alerts.begin()->second.fired_at == first);
  CHECK(h.sink.Take().empty());  // not resolved, not re-sent before the resend delay
}

TEST_CASE("restore after a restart: for_grace_period and for_outage_tolerance as 2.42") {
  Harness h;
  h.opts.for_grace_period = 10min;
  h.opts.for_outage_tolerance = 1h;
  h.q.SetVector("long", {{Inst("l"), 1}});
  h.q.SetVector("mid", {{Inst("m"), 1}});
  h.q.SetVector("short", {});
  h.q.SetVector("now", {{Inst("n"), 1}});
  auto group = Group_("/rules/a.yml", "g",
                      {Alert("Long", "long", 30min), Alert("Mid", "mid", 15min),
                       Alert("Short", "short", 5min), Alert("Now", "now", 0s)},
                      1min);
  h.Start({group});
  const Time f = h.next;
  h.RunUntil(f + 7min);
  h.q.SetVector("short", {{Inst("s"), 1}});
  h.RunUntil(f + 10min);  // the last evaluation: Short pending since f+8m
  const auto before = h.Alerts();
  REQUIRE(before.size() == 4);
  CHECK(before.at("g/Short//s").active_at == f + 8min);
  CHECK(h.state.evaluated["/rules/a.yml;g"] == f + 10min);
  h.m->Stop();

  SUBCASE("down 2 minutes") {
    h.clock.Set(f + 12min);
    h.Start({group});
    auto a = h.Alerts();
    // 20m of 30m left: activeAt moves forward by the 2m of downtime.
    CHECK(a.at("g/Long//l").state == AlertState::kPending);
    CHECK(a.at("g/Long//l").active_at == f + 2min);
    // 5m of 15m left, under the grace period: fires for_grace_period after the restart.
    CHECK(a.at("g/Mid//m").active_at == f + 12min + 10min - 15min);
    // `for` under the grace period: 2.42 does not restore it, `for` starts over.
    CHECK(a.count("g/Short//s") == 0);
    // Firing stays firing (2.42 would make it pending again for a rule with `for` under the
    // grace period; with `for: 0` it fires again at once either way).
    CHECK(a.at("g/Now//n").state == AlertState::kFiring);
    CHECK(a.at("g/Now//n").active_at == f);
    h.RunUntil(f + 21min);
    a = h.Alerts();
    CHECK(a.at("g/Mid//m").state == AlertState::kPending);
    CHECK(a.at("g/Short//s").active_at == f + 13min);
    h.RunUntil(f + 22min);
    CHECK(h.Alerts().at("g/Mid//m").state == AlertState::kFiring);
    CHECK(h.Alerts().at("g/Long//l").state == AlertState::kPending);
    h.RunUntil(f + 32min);
    CHECK(h.Alerts().at("g/Long//l").state == AlertState::kFiring);
    CHECK(h.Alerts().at("g/Long//l").fired_at == f + 32min);
  }
  SUBCASE("down longer than for_outage_tolerance: every timer starts over") {
    h.clock.Set(f + 10min + 1h + 1s);
    h.Start({group});
    CHECK(h.Alerts().empty());
    h.sink.Take();
    h.RunUntil(h.next);
    auto a = h.Alerts();
    CHECK(a.at("g/Long//l").active_at == h.clock.Now());
    CHECK(a.at("g/Now//n").active_at == h.clock.Now());
    auto sent = h.sink.Take();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].starts_at == h.clock.Now());
  }
  SUBCASE("down exactly for_outage_tolerance: restored") {
    h.clock.Set(f + 10min + 1h);
    h.Start({group});
    auto a = h.Alerts();
    CHECK(a.at("g/Long//l").active_at == f + 1h);
    CHECK(a.at("g/Now//n").active_at == f);
  }
}

// Fails the first `failures` calls of each expression with `error`, then answers.
class FlakyClient final : public QueryClient {
 public:
  FlakyClient(int failures, Status error) : failures_(failures), error_(std::move(error)) {}
  Result<QueryResult> Query(std::string_view expr, Time) override {
    const int n = calls_[std::string(expr)]++;
    if (failures_ < 0 || n < failures_) return error_;
    QueryResult r;
    r.samples.push_back({Inst("a"), 1});
    r.warnings = warnings;
    return r;
  }
  int calls(const std::string& expr) { return calls_[expr]; }
  std::vector<std::string> warnings;

 private:
  int failures_;  // < 0: always
  Status error_;
  std::map<std::string, int> calls_;
};

TEST_CASE("query retries: 5xx/429/connection errors retried until the next evaluation") {
  const Time ts = FromUnixSeconds(1700000000);
  FakeClock clock(ts);
  FakeSink sink;
  auto cfg = Group_("/rules/a.yml", "g", {Alert("A", "a", 0s)}, 30s);
  std::vector<Duration> waits;
  GroupDeps deps;
  deps.sink = &sink;
  deps.clock = &clock;
  deps.retry_sleep = [&](Duration d) {
    waits.push_back(d);
    clock.Set(clock.Now() + d);
    return true;
  };

  SUBCASE("three failures, then an answer: one evaluation, nothing lost") {
    FlakyClient q(3, Status::Unavailable("server returned HTTP status 503"));
    deps.query = &q;
    auto g = Group::Create(cfg, 1min);
    REQUIRE(g.ok());
    (*g)->Eval(ts, deps);
    CHECK(q.calls("a") == 4);
    CHECK((*g)->Metrics().query_retries == 3);
    CHECK((*g)->Metrics().evaluation_failures == 0);
    CHECK((*g)->Snapshot().rules[0].health == RuleHealth::kGood);
    CHECK(sink.Take().size() == 1);
    // Jittered doubling: each wait in [d/2, d] of 50, 100, 200 ms.
    REQUIRE(waits.size() == 3);
    for (size_t i = 0; i < waits.size(); ++i) {
      const Duration d = 50ms * (1 << i);
      CHECK(waits[i] >= d / 2);
      CHECK(waits[i] <= d);
    }
  }
  SUBCASE("failing on: no retry ends past the next evaluation time") {
    FlakyClient q(-1, Status::Unavailable("connection refused"));
    deps.query = &q;
    auto g = Group::Create(cfg, 1min);
    REQUIRE(g.ok());
    (*g)->Eval(ts, deps);
    CHECK(q.calls("a") > 5);
    CHECK(clock.Now() < ts + 30s);
    CHECK((*g)->Metrics().query_retries == static_cast<uint64_t>(q.calls("a") - 1));
    CHECK((*g)->Metrics().evaluation_failures == 1);
    CHECK((*g)->Snapshot().rules[0].last_error == "connection refused");
    for (Duration w : waits) CHECK(w <= 5s);
  }
  SUBCASE("a query the datasource refused (4xx) or a timeout is not retried") {
    for (const Status& err : {Status::InvalidArgument("bad_data: parse error"),
                              Status::Timeout("context deadline exceeded")}) {
      FlakyClient q(1, err);
      deps.query = &q;
      auto g = Group::Create(cfg, 1min);
      REQUIRE(g.ok());
      (*g)->Eval(ts, deps);
      CHECK(q.calls("a") == 1);
      CHECK((*g)->Metrics().query_retries == 0);
      CHECK((*g)->Snapshot().rules[0].health == RuleHealth::kBad);
    }
  }
  SUBCASE("abandoned (stop, reload): no more retries") {
    FlakyClient q(-1, Status::Unavailable("connection refused"));
    deps.query = &q;
    deps.retry_sleep = [](Duration) { return false; };
    auto g = Group::Create(cfg, 1min);
    REQUIRE(g.ok());
    (*g)->Eval(ts, deps);
    CHECK(q.calls("a") == 1);
  }
}

TEST_CASE("datasource warnings are shown on the rule and replaced by the next answer's") {
  const Time ts = FromUnixSeconds(1700000000);
  FakeClock clock(ts);
  FlakyClient q(0, Status::Ok());
  q.warnings = {"partial response: store 10.0.0.1:10901 unavailable"};
  GroupDeps deps;
  deps.query = &q;
  deps.clock = &clock;
  config::Rule rec;
  rec.record = "job:a";
  rec.expr = "a";
  auto g = Group::Create(Group_("/rules/a.yml", "g", {Alert("A", "a", 0s), rec}), 1min);
  REQUIRE(g.ok());
  class NullSamples final : public SampleSink {
   public:
    void Append(std::vector<Sample>) override {}
  } samples;
  deps.samples = &samples;
  (*g)->Eval(ts, deps);
  auto snap = (*g)->Snapshot();
  CHECK(snap.rules[0].warnings == q.warnings);
  CHECK(snap.rules[1].warnings == q.warnings);
  q.warnings.clear();
  (*g)->Eval(ts + 1min, deps);
  snap = (*g)->Snapshot();
  CHECK(snap.rules[0].warnings.empty());
  CHECK(snap.rules[1].warnings.empty());
}

// Fails every query while `down` is set.
class SwitchableClient final : public QueryClient {
 public:
  Result<QueryResult> Query(std::string_view expr, Time ts) override {
    if (down) return Status::Unavailable("connection refused");
    return inner.Query(expr, ts);
  }
  std::atomic<bool> down{false};
  FakeQueryClient inner;
};

TEST_CASE("datasource outage: firing alerts re-sent up to for_outage_tolerance, timers kept") {
  const Time start = FromUnixSeconds(1700000000);
  FakeClock clock(start);
  SwitchableClient q;
  FakeSink sink;
  FakeRuleStateStore state;
  ManagerOptions opts;
  opts.workers = 0;
  opts.for_outage_tolerance = 10min;
  ManagerDeps mdeps{&q, &sink, &state, &clock};
  mdeps.retry_sleep = [&](Duration d) {
    clock.Set(clock.Now() + d);
    return true;
  };
  auto m = RuleManager::Create(
      {Group_("/rules/a.yml", "g", {Alert("Fire", "fire", 0s), Alert("Wait", "wait", 5min)},
              1min)},
      opts, mdeps);
  REQUIRE(m.ok());
  REQUIRE((*m)->Restore().ok());
  q.inner.SetVector("fire", {{Inst("f"), 1}});
  q.inner.SetVector("wait", {{Inst("w"), 1}});
  const Time first = (*m)->RunDue(start);
  auto run = [&](Time t) {
    clock.Set(t);
    (*m)->RunDue(t);
  };
  run(first);
  REQUIRE(sink.Take().size() == 1);

  q.down = true;
  Time last_ends_at = kZeroTime;
  for (int i = 1; i <= 10; ++i) {
    run(first + i * 1min);
    for (const auto& a : sink.Take()) {
      INFO(i);
      CHECK(a.labels.Get("alertname") == "Fire");
      CHECK(a.starts_at == first);
      CHECK(a.ends_at > first + i * 1min);  // never a resolve
      last_ends_at = a.ends_at;
    }
  }
  // Re-sent every other minute (resend_delay 1m), each time with a fresh endsAt.
  CHECK(last_ends_at == first + 10min + 4min);
  // Past the tolerance nothing more is sent: the receiver lets the alert expire at its endsAt.
  run(first + 11min);
  run(first + 12min);
  CHECK(sink.Take().empty());
  auto snap = (*m)->Snapshot();
  CHECK(snap[0].rules[0].health == RuleHealth::kBad);
  REQUIRE(snap[0].rules[1].alerts.size() == 1);
  CHECK(snap[0].rules[1].alerts[0].state == AlertState::kPending);
  CHECK(snap[0].rules[1].alerts[0].active_at == first);
  std::string metrics;
  (*m)->AppendMetrics(&metrics);
  CHECK(metrics.find("prometheus_rule_evaluation_failures_total{rule_group=\"/rules/a.yml;g\"} "
                     "24\n") != std::string::npos);
  CHECK(metrics.find("alertd_rule_query_retries_total{rule_group=\"/rules/a.yml;g\"} ") !=
        std::string::npos);

  // Back: the pending alert fires on its original schedule (its `for` never restarted).
  q.down = false;
  run(first + 13min);
  auto sent = sink.Take();
  REQUIRE(sent.size() == 2);
  for (const auto& a : sent) {
    CHECK(a.ends_at > first + 13min);
    if (a.labels.Get("alertname") == "Fire") CHECK(a.starts_at == first);
    if (a.labels.Get("alertname") == "Wait") CHECK(a.starts_at == first + 13min);
  }
  (*m)->Stop();
}

}  // namespace
}  // namespace alertd::rules_engine
