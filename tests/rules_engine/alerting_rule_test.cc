// The alerting-rule state machine against COMPAT.md section 8 and 10, table-driven: each case
// is a rule and a script of evaluations (what the query returns at each time) with the alerts
// expected afterwards and the alerts expected to be sent.
#include <doctest/doctest.h>

// Rows name only the fields they care about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <cmath>

#include "core/encoding.h"
#include "rules_engine/alerting_rule.h"
#include "tests/rules_engine/fakes.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using testing::FakeQueryClient;

const Time kT0 = FromUnixSeconds(1700000000);

struct Step {
  int at_s = 0;
  std::vector<std::pair<LabelSet, double>> samples;
  std::string query_error;               // non-empty: the query fails with this
  std::vector<std::string> want_active;  // "<instance>:<state>", sorted
  std::vector<std::string> want_sent;    // "<instance>:firing|resolved", sorted
  std::string want_error;                // substring of the rule's error; empty: healthy
};

struct Case {
  std::string name;
  Duration for_ = 0s;
  Duration keep_firing_for = 0s;
  std::map<std::string, std::string> labels;
  int limit = 0;
  std::vector<Step> steps;
};

LabelSet Inst(const std::string& i) { return LabelSet{{"__name__", "up"}, {"instance", i}}; }

std::string Describe(const LabelSet& l) {
  std::string s(l.Get("instance"));
  if (l.Has("sev")) s += "/" + std::string(l.Get("sev"));
  return s;
}

TEST_CASE("alerting rule state machine") {
  const std::vector<Case> cases = {
      {.name = "no for: fires at the first evaluation and is sent",
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "for: pending until activeAt+for, then firing and sent",
       .for_ = 2min,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 60, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 120, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "pending alert that disappears is dropped and never sent",
       .for_ = 2min,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 60, .samples = {}},
                 {.at_s = 120, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 180, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 240, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "firing alert that disappears resolves at once, re-sent for 15m, then dropped",
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}},
                 {.at_s = 30, .samples = {}, .want_sent = {"a:resolved"}},
                 {.at_s = 60, .samples = {}},
                 {.at_s = 91, .samples = {}, .want_sent = {"a:resolved"}},
                 {.at_s = 30 + 15 * 60, .samples = {}, .want_sent = {"a:resolved"}},
                 {.at_s = 31 + 15 * 60 + 61, .samples = {}}}},
      {.name = "a resolved alert that comes back is a new alert",
       .for_ = 1min,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 60, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}},
                 {.at_s = 120, .samples = {}, .want_sent = {"a:resolved"}},
                 {.at_s = 180, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 240, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "firing alert re-sent once resend_delay (1m) has passed",
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}},
                 {.at_s = 30, .samples = {{Inst("a"), 1}}, .want_active = {"a:firing"}},
                 {.at_s = 60, .samples = {{Inst("a"), 1}}, .want_active = {"a:firing"}},
                 {.at_s = 61, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "keep_firing_for keeps a vanished alert firing, then resolves it",
       .keep_firing_for = 90s,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}},
                 {.at_s = 30, .samples = {}, .want_active = {"a:firing"}},
                 {.at_s = 90, .samples = {}, .want_active = {"a:firing"},
                  .want_sent = {"a:firing"}},
                 {.at_s = 120, .samples = {}, .want_sent = {"a:resolved"}}}},
      {.name = "keep_firing_for restarts when the alert comes back",
       .keep_firing_for = 60s,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}},
                 {.at_s = 30, .samples = {}, .want_active = {"a:firing"}},
                 {.at_s = 60, .samples = {{Inst("a"), 1}}, .want_active = {"a:firing"}},
                 {.at_s = 100, .samples = {}, .want_active = {"a:firing"},
                  .want_sent = {"a:firing"}},
                 {.at_s = 159, .samples = {}, .want_active = {"a:firing"}},
                 {.at_s = 160, .samples = {}, .want_sent = {"a:resolved"}}}},
      {.name = "keep_firing_for does not apply to pending alerts",
       .for_ = 1min, .keep_firing_for = 5min,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}}, .want_active = {"a:pending"}},
                 {.at_s = 30, .samples = {}}}},
      {.name = "query error keeps every alert as it was and marks the rule unhealthy",
       .for_ = 1min,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}, {Inst("b"), 1}},
                  .want_active = {"a:pending", "b:pending"}},
                 {.at_s = 30, .query_error = "connection refused",
                  .want_active = {"a:pending", "b:pending"},
                  .want_error = "connection refused"},
                 // `for` counted from the original activeAt: fires at 60 s.
                 {.at_s = 60, .samples = {{Inst("a"), 1}, {Inst("b"), 1}},
                  .want_active = {"a:firing", "b:firing"},
                  .want_sent = {"a:firing", "b:firing"}},
                 {.at_s = 90, .query_error = "timeout", .want_active = {"a:firing", "b:firing"},
                  .want_error = "timeout"},
                 {.at_s = 200, .samples = {{Inst("a"), 1}, {Inst("b"), 1}},
                  .want_active = {"a:firing", "b:firing"},
                  .want_sent = {"a:firing", "b:firing"}}}},
      {.name = "duplicate label sets after applying labels: error, state kept",
       .labels = {{"instance", "same"}},
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"same:firing"}, .want_sent = {"same:firing"}},
                 {.at_s = 30, .samples = {{Inst("a"), 1}, {Inst("b"), 2}},
                  .want_active = {"same:firing"},
                  .want_error = "vector contains metrics with the same labelset after applying "
                                "alert labels"}}},
      {.name = "limit exceeded drops every alert without resolving, then they come back new",
       .limit = 2,
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}, {Inst("b"), 1}},
                  .want_active = {"a:firing", "b:firing"},
                  .want_sent = {"a:firing", "b:firing"}},
                 {.at_s = 30, .samples = {{Inst("a"), 1}, {Inst("b"), 1}, {Inst("c"), 1}},
                  .want_error = "exceeded limit of 2 with 3 alerts"},
                 {.at_s = 60, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
      {.name = "a templated label that changes: old alert resolves, new one pending",
       .for_ = 1min,
       .labels = {{"sev", "{{ if gt $value 5.0 }}high{{ else }}low{{ end }}"}},
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}}, .want_active = {"a/low:pending"}},
                 {.at_s = 60, .samples = {{Inst("a"), 1}},
                  .want_active = {"a/low:firing"}, .want_sent = {"a/low:firing"}},
                 {.at_s = 90, .samples = {{Inst("a"), 9}},
                  .want_active = {"a/high:pending"}, .want_sent = {"a/low:resolved"}}}},
      {.name = "a label template rendering empty removes the label",
       .labels = {{"sev", "{{ $labels.missing }}"}},
       .steps = {{.at_s = 0, .samples = {{Inst("a"), 1}},
                  .want_active = {"a:firing"}, .want_sent = {"a:firing"}}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    config::Rule cfg;
    cfg.alert = "TestAlert";
    cfg.expr = "up == 1";
    cfg.for_ = c.for_;
    cfg.keep_firing_for = c.keep_firing_for;
    cfg.labels = c.labels;
    cfg.annotations = {{"summary", "{{ $labels.instance }} is {{ $value }}"}};
    auto rule = AlertingRule::Create(cfg);
    REQUIRE(rule.ok());
    FakeQueryClient q;
    EvalContext ctx;
    ctx.query = &q;
    ctx.limit = c.limit;
    for (const auto& step : c.steps) {
      INFO("at " << step.at_s << "s");
      const Time ts = kT0 + std::chrono::seconds(step.at_s);
      if (!step.query_error.empty()) {
        q.Set(cfg.expr, Status::Unavailable(step.query_error));
      } else {
        q.SetVector(cfg.expr, step.samples);
      }
      Status st = (*rule)->Eval(ts, ctx, ts);
      if (step.want_error.empty()) {
        CHECK(st.ok());
        CHECK((*rule)->health() == RuleHealth::kGood);
      } else {
        CHECK_FALSE(st.ok());
        CHECK((*rule)->health() == RuleHealth::kBad);
        CHECK((*rule)->last_error().find(step.want_error) != std::string::npos);
      }
      std::vector<std::string> active;
      for (const auto& a : (*rule)->Snapshot().alerts) {
        active.push_back(Describe(a.labels) + ":" + std::string(AlertStateString(a.state)));
      }
      std::sort(active.begin(), active.end());
      CHECK(active == step.want_active);
      std::vector<std::string> sent;
      if (st.ok()) {
        for (const auto& a : (*rule)->CollectAlertsToSend(ts, ts, 1min, 30s, {}, "http://x")) {
          sent.push_back(Describe(a.labels) + ":" +
                         std::string(AlertStatusString(a.StatusAt(ts))));
        }
      }
      std::sort(sent.begin(), sent.end());
      CHECK(sent == step.want_sent);
    }
  }
}

TEST_CASE("sent alerts: labels, annotations, startsAt, endsAt, generatorURL") {
  config::Rule cfg;
  cfg.alert = "High";
  cfg.expr = "rate(x[5m])  >  1";
  cfg.for_ = 1min;
  cfg.labels = {{"severity", "page"}, {"cluster", "rule-wins"}};
  cfg.annotations = {{"summary", "{{ $labels.job }} at {{ $value }} {{ $externalLabels.cluster }}"},
                     {"url", "{{ $externalURL }}"}};
  auto rule = AlertingRule::Create(cfg);
  REQUIRE(rule.ok());
  CHECK((*rule)->query() == "rate(x[5m]) > 1");
  FakeQueryClient q;
  q.SetVector(cfg.expr, {{LabelSet{{"__name__", "x"}, {"job", "api"}}, 1234567}});
  EvalContext ctx;
  ctx.query = &q;
  ctx.external_labels = {{"cluster", "eu1"}};
  ctx.external_url = "http://alertd:9095";
  const LabelSet ext{{"cluster", "eu1"}, {"replica", "r1"}};

  REQUIRE((*rule)->Eval(kT0, ctx, kT0).ok());
  CHECK((*rule)->CollectAlertsToSend(kT0, kT0, 1min, 30s, ext, ctx.external_url).empty());
  const Time t1 = kT0 + 1min;
  REQUIRE((*rule)->Eval(t1, ctx, t1).ok());
  auto sent = (*rule)->CollectAlertsToSend(t1, t1 + 5s, 1min, 30s, ext, ctx.external_url);
  REQUIRE(sent.size() == 1);
  const Alert& a = sent[0];
  // Series labels minus __name__, rule labels, alertname; external labels only where absent.
  CHECK(a.labels == LabelSet{{"alertname", "High"}, {"cluster", "rule-wins"}, {"job", "api"},
                             {"replica", "r1"}, {"severity", "page"}});
  CHECK(a.annotations ==
        LabelSet{{"summary", "api at 1.234567e+06 eu1"}, {"url", "http://alertd:9095"}});
  CHECK(a.starts_at == t1);           // FiredAt, not activeAt
  CHECK(a.ends_at == t1 + 4 * 1min);  // 4 * max(interval 30s, resend delay 1m)
  CHECK(a.updated_at == t1 + 5s);
  CHECK(a.generator_url ==
        "http://alertd:9095/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1");
  // /api/v1/alerts does not show external labels.
  auto snap = (*rule)->Snapshot();
  REQUIRE(snap.alerts.size() == 1);
  CHECK_FALSE(snap.alerts[0].labels.Has("replica"));
  CHECK(snap.alerts[0].active_at == kT0);
  CHECK(snap.state == AlertState::kFiring);

  // With a group interval longer than the resend delay, endsAt follows the interval.
  const Time t2 = t1 + 2min;
  REQUIRE((*rule)->Eval(t2, ctx, t2).ok());
  sent = (*rule)->CollectAlertsToSend(t2, t2, 1min, 5min, ext, ctx.external_url);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].ends_at == t2 + 20min);
}

TEST_CASE("scalar and string results") {
  config::Rule cfg;
  cfg.alert = "Scalar";
  cfg.expr = "vector(1) > 0";
  auto rule = AlertingRule::Create(cfg);
  REQUIRE(rule.ok());
  FakeQueryClient q;
  EvalContext ctx;
  ctx.query = &q;
  QueryResult scalar;
  scalar.type = QueryResult::Type::kScalar;
  scalar.samples.push_back({{}, 3});
  q.Set(cfg.expr, scalar);
  REQUIRE((*rule)->Eval(kT0, ctx, kT0).ok());
  auto snap = (*rule)->Snapshot();
  REQUIRE(snap.alerts.size() == 1);
  CHECK(snap.alerts[0].labels == LabelSet{{"alertname", "Scalar"}});
  CHECK(snap.alerts[0].value == 3);

  QueryResult str;
  str.type = QueryResult::Type::kString;
  q.Set(cfg.expr, str);
  Status st = (*rule)->Eval(kT0 + 1min, ctx, kT0);
  CHECK(st.message() == "rule result is not a vector or scalar");
  CHECK((*rule)->Snapshot().alerts.size() == 1);  // kept
}

TEST_CASE("persisted records restore pending and firing alerts unchanged") {
  config::Rule cfg;
  cfg.alert = "R";
  cfg.expr = "up == 0";
  cfg.for_ = 5min;
  cfg.keep_firing_for = 10min;
  auto rule = AlertingRule::Create(cfg);
  REQUIRE(rule.ok());
  FakeQueryClient q;
  EvalContext ctx;
  ctx.query = &q;
  q.SetVector(cfg.expr, {{Inst("a"), 1}});
  REQUIRE((*rule)->Eval(kT0, ctx, kT0).ok());
  q.SetVector(cfg.expr, {{Inst("a"), 1}, {Inst("b"), 1}});
  REQUIRE((*rule)->Eval(kT0 + 5min, ctx, kT0).ok());
  (void)(*rule)->CollectAlertsToSend(kT0 + 5min, kT0, 1min, 1min, {}, "");
  q.SetVector(cfg.expr, {{Inst("b"), 1}});
  REQUIRE((*rule)->Eval(kT0 + 6min, ctx, kT0).ok());  // a: keep_firing_since set
  CHECK((*rule)->dirty());
  auto records = (*rule)->ExportRecords("f;g");
  CHECK_FALSE((*rule)->dirty());
  REQUIRE(records.size() == 2);

  auto restored = AlertingRule::Create(cfg);
  REQUIRE(restored.ok());
  (*restored)->Restore(records, RestoreParams{});
  auto before = (*rule)->Snapshot().alerts;
  auto after = (*restored)->Snapshot().alerts;
  REQUIRE(before.size() == after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    CHECK(before[i].labels == after[i].labels);
    CHECK(before[i].state == after[i].state);
    CHECK(before[i].active_at == after[i].active_at);
    CHECK(before[i].keep_firing_since == after[i].keep_firing_since);
    CHECK(before[i].last_sent_at == after[i].last_sent_at);
  }
  // b (pending since 5m) fires on its original schedule, at 10m.
  REQUIRE((*restored)->Eval(kT0 + 9min, ctx, kT0).ok());
  // a was sent at 5m: not sent again before the resend delay; b still pending.
  CHECK((*restored)->CollectAlertsToSend(kT0 + 5min + 30s, kT0, 1min, 1min, {}, "").empty());
  REQUIRE((*restored)->Eval(kT0 + 10min, ctx, kT0).ok());
  std::vector<std::string> states;
  for (const auto& a : (*restored)->Snapshot().alerts) {
    states.push_back(Describe(a.labels) + ":" + std::string(AlertStateString(a.state)));
  }
  CHECK(states == std::vector<std::string>{"a:firing", "b:firing"});
}

TEST_CASE("number and URL formatting") {
  struct Row {
    double v;
    const char* want;
  };
  for (const Row& r : std::vector<Row>{{95, "9.5e+01"},
                                       {0, "0e+00"},
                                       {1, "1e+00"},
                                       {1234567, "1.234567e+06"},
                                       {0.0042, "4.2e-03"},
                                       {1.5e21, "1.5e+21"},
                                       {-2.5, "-2.5e+00"},
                                       {std::nan(""), "NaN"},
                                       {INFINITY, "+Inf"},
                                       {-INFINITY, "-Inf"}}) {
    INFO(r.want);
    CHECK(FormatFloatE(r.v) == r.want);
  }
  CHECK(QueryEscape("a b&c=d/é~_-.") == "a+b%26c%3Dd%2F%C3%A9~_-.");
}

}  // namespace
}  // namespace alertd::rules_engine
