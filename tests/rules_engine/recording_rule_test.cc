#include <doctest/doctest.h>

#include <cmath>
#include <mutex>

#include "rules_engine/group.h"
#include "tests/rules_engine/fakes.h"

using namespace alertd;
using namespace alertd::rules_engine;
using namespace alertd::rules_engine::testing;
using namespace std::chrono_literals;

namespace {

class CaptureSamples final : public SampleSink {
 public:
  void Append(std::vector<Sample> samples) override {
    std::lock_guard l(mu_);
    batches.push_back(std::move(samples));
  }
  std::vector<std::vector<Sample>> batches;

 private:
  std::mutex mu_;
};

config::RuleGroup TestGroup() {
  config::RuleGroup g;
  g.name = "g";
  g.file = "/rules/rw.yml";
  g.interval = 10s;
  config::Rule rec;
  rec.record = "job:up:sum";
  rec.expr = "sum by (job) (up)";
  rec.labels = {{"source", "rec"}, {"job", "renamed"}};
  config::Rule alert;
  alert.alert = "Down";
  alert.expr = "job:up:sum < 1";
  alert.for_ = 10s;
  alert.labels = {{"severity", "page"}};
  g.rules = {rec, alert};
  return g;
}

const Sample* Find(const std::vector<Sample>& v, std::string_view name, std::string_view key = "",
                   std::string_view value = "") {
  for (const auto& s : v) {
    if (s.labels.Get("__name__") == name && (key.empty() || s.labels.Get(key) == value)) return &s;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a recording rule's samples carry its name and labels, ALERTS follow the alert states") {
  FakeClock clock(Time(1000s));
  FakeQueryClient q;
  CaptureSamples out;
  q.SetVector("sum by (job) (up)", {{LabelSet{{"job", "api"}}, 0}});
  q.SetVector("job:up:sum < 1", {{LabelSet{{"__name__", "job:up:sum"}, {"job", "api"}}, 0}});
  auto g = Group::Create(TestGroup(), 10s);
  REQUIRE(g.ok());
  GroupDeps deps;
  deps.query = &q;
  deps.clock = &clock;
  deps.samples = &out;

  (*g)->Eval(Time(1000s), deps);
  REQUIRE(out.batches.size() == 1);
  const auto& b1 = out.batches[0];
  const Sample* rec = Find(b1, "job:up:sum");
  REQUIRE(rec);
  // Rule labels override the result's (job) and add their own; the timestamp is the slot.
  CHECK(rec->labels == LabelSet{{"__name__", "job:up:sum"}, {"job", "renamed"}, {"source", "rec"}});
  CHECK(rec->ts == Time(1000s));
  const Sample* pending = Find(b1, "ALERTS", "alertstate", "pending");
  REQUIRE(pending);
  CHECK(pending->value == 1);
  CHECK(pending->labels == LabelSet{{"__name__", "ALERTS"},
                                    {"alertname", "Down"},
                                    {"alertstate", "pending"},
                                    {"job", "api"},
                                    {"severity", "page"}});
  const Sample* fs = Find(b1, "ALERTS_FOR_STATE");
  REQUIRE(fs);
  CHECK(fs->value == 1000);  // activeAt, Unix seconds
  CHECK_FALSE(fs->labels.Has("alertstate"));

  (*g)->Eval(Time(1010s), deps);
  const auto& b2 = out.batches[1];
  REQUIRE(Find(b2, "ALERTS", "alertstate", "firing"));
  // The pending series is gone: it gets a staleness marker.
  const Sample* stale = Find(b2, "ALERTS", "alertstate", "pending");
  REQUIRE(stale);
  CHECK(IsStaleNaN(stale->value));
  CHECK(Find(b2, "ALERTS_FOR_STATE")->value == 1000);

  // Result labels colliding after the rule labels: an error, nothing written.
  q.SetVector("sum by (job) (up)", {{LabelSet{{"job", "a"}}, 1}, {LabelSet{{"job", "b"}}, 1}});
  (*g)->Eval(Time(1020s), deps);
  const auto snap = (*g)->Snapshot();
  REQUIRE(snap.rules.size() == 2);
  CHECK_FALSE(snap.rules[0].alerting);
  CHECK(snap.rules[0].health == RuleHealth::kBad);
  CHECK(snap.rules[0].last_error ==
        "vector contains metrics with the same labelset after applying rule labels");
  CHECK_FALSE(Find(out.batches[2], "job:up:sum"));
}

TEST_CASE("without a sample sink, recording rules are not evaluated and report why") {
  FakeClock clock(Time(1000s));
  FakeQueryClient q;
  q.SetVector("job:up:sum < 1", {});
  auto g = Group::Create(TestGroup(), 10s);
  REQUIRE(g.ok());
  GroupDeps deps;
  deps.query = &q;
  deps.clock = &clock;
  (*g)->Eval(Time(1000s), deps);
  REQUIRE(q.calls.size() == 1);
  CHECK(q.calls[0].expr == "job:up:sum < 1");
  const auto snap = (*g)->Snapshot();
  CHECK(snap.rules[0].health == RuleHealth::kBad);
  CHECK(snap.rules[0].last_error == kNoRemoteWriteError);
}
