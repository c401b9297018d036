// Inhibition, time intervals and silences: the stages that mute alerts.
#include <doctest/doctest.h>

#include "router/inhibit.h"
#include "router/silences.h"
#include "router/time_intervals.h"
#include "tests/router/harness.h"

namespace alertd::testing {
namespace {

using Names = std::vector<std::string>;

storage::AlertPtr MakeAlert(LabelSet labels, Time ends = kZeroTime) {
  auto a = std::make_shared<Alert>();
  a->labels = std::move(labels);
  a->starts_at = T0() - 1h;
  a->ends_at = ends;
  return a;
}

std::vector<config::InhibitRule> Rules(const std::string& yaml_rules) {
  auto cfg =
      ParseConfig("route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules:\n" + yaml_rules);
  return cfg->inhibit_rules;
}

TEST_CASE("inhibition: source firing, target, equal labels, both sides") {
  struct Row {
    const char* name;
    std::vector<LabelSet> sources;  // alerts present (firing)
    LabelSet target;
    bool inhibited;
  };
  const std::string rules = R"(
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster, service]
  - source_matchers: ['kind="both"']
    target_matchers: ['kind="both"']
)";
  std::vector<Row> rows = {
      {"equal labels match",
       {LabelSet{{"severity", "critical"}, {"cluster", "a"}, {"service", "x"}}},
       LabelSet{{"severity", "warning"}, {"cluster", "a"}, {"service", "x"}},
       true},
      {"an equal label differs",
       {LabelSet{{"severity", "critical"}, {"cluster", "b"}, {"service", "x"}}},
       LabelSet{{"severity", "warning"}, {"cluster", "a"}, {"service", "x"}},
       false},
      {"equal labels missing on both sides count as equal",
       {LabelSet{{"severity", "critical"}}},
       LabelSet{{"severity", "warning"}},
       true},
      {"missing on one side only",
       {LabelSet{{"severity", "critical"}, {"cluster", "a"}}},
       LabelSet{{"severity", "warning"}},
       false},
      {"target matchers do not match",
       {LabelSet{{"severity", "critical"}}},
       LabelSet{{"severity", "info"}},
       false},
      {"no source", {}, LabelSet{{"severity", "warning"}}, false},
      {"both sides: not inhibited by another two-sided alert",
       {LabelSet{{"kind", "both"}, {"n", "1"}}},
       LabelSet{{"kind", "both"}, {"n", "2"}},
       false},
      {"both sides: not inhibited by itself",
       {LabelSet{{"kind", "both"}, {"n", "2"}}},
       LabelSet{{"kind", "both"}, {"n", "2"}},
       false},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    router::Inhibitor ih(Rules(rules));
    std::vector<storage::AlertPtr> in;
    for (const auto& l : row.sources) in.push_back(MakeAlert(l));
    in.push_back(MakeAlert(row.target));
    ih.Update(in);
    CHECK(ih.InhibitedBy(row.target, T0()).has_value() == row.inhibited);
  }
  SUBCASE("a resolved source no longer inhibits") {
    router::Inhibitor ih(Rules(rules));
    LabelSet src{{"severity", "critical"}};
    ih.Update({MakeAlert(src)});
    LabelSet tgt{{"severity", "warning"}};
    CHECK(ih.InhibitedBy(tgt, T0()) == src.Fingerprint());
    ih.Update({MakeAlert(src, T0() - 1s)});
    CHECK_FALSE(ih.InhibitedBy(tgt, T0()).has_value());
    ih.CollectGarbage(T0());
    CHECK_FALSE(ih.InhibitedBy(tgt, T0()).has_value());
  }
}

Time Utc(int y, int mo, int d, int h, int mi) {
  using namespace std::chrono;
  return Time(sys_days(year{y} / mo / d) + hours(h) + minutes(mi));
}

TEST_CASE("time intervals: fields, ranges, negative days, time zones") {
  auto cfg = ParseConfig(R"(
route: {receiver: r}
receivers: [{name: r}]
time_intervals:
  - name: office-berlin
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
        weekdays: ['monday:friday']
        location: Europe/Berlin
  - name: month-end
    time_intervals:
      - days_of_month: ['-3:-1']
  - name: winter-2024
    time_intervals:
      - months: ['december', 'january:february']
        years: ['2024']
  - name: nights-utc
    time_intervals:
      - times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '06:00'}]
)");
  auto ti = router::TimeIntervals::Build(cfg->time_intervals);
  REQUIRE(ti.ok());
  struct Row {
    const char* name;
    const char* interval;
    Time t;
    bool in;
  };
  std::vector<Row> rows = {
      // 2024-07-01 is a Monday; Berlin is UTC+2 in summer, UTC+1 in winter.
      {"Berlin 09:00 summer is 07:00 UTC", "office-berlin", Utc(2024, 7, 1, 7, 0), true},
      {"Berlin 08:59 summer", "office-berlin", Utc(2024, 7, 1, 6, 59), false},
      {"Berlin 16:59 summer", "office-berlin", Utc(2024, 7, 1, 14, 59), true},
      {"Berlin 17:00 summer: end is exclusive", "office-berlin", Utc(2024, 7, 1, 15, 0), false},
      {"Berlin 09:00 winter is 08:00 UTC", "office-berlin", Utc(2024, 1, 8, 8, 0), true},
      {"Berlin 08:30 winter", "office-berlin", Utc(2024, 1, 8, 7, 30), false},
      {"Saturday in Berlin", "office-berlin", Utc(2024, 7, 6, 10, 0), false},
      {"Friday 23:30 UTC is Saturday in Berlin", "office-berlin", Utc(2024, 7, 5, 23, 30), false},
      {"Feb 27 2024 (leap): 3rd last day", "month-end", Utc(2024, 2, 27, 12, 0), true},
      {"Feb 26 2024", "month-end", Utc(2024, 2, 26, 12, 0), false},
      {"Feb 26 2023 (28 days): 3rd last day", "month-end", Utc(2023, 2, 26, 12, 0), true},
      {"Dec 2024", "winter-2024", Utc(2024, 12, 15, 0, 0), true},
      {"Feb 2024", "winter-2024", Utc(2024, 2, 15, 0, 0), true},
      {"Mar 2024", "winter-2024", Utc(2024, 3, 1, 0, 0), false},
      {"Dec 2023", "winter-2024", Utc(2023, 12, 15, 0, 0), false},
      {"23:00 UTC", "nights-utc", Utc(2024, 3, 1, 23, 0), true},
      {"05:59 UTC", "nights-utc", Utc(2024, 3, 1, 5, 59), true},
      {"06:00 UTC", "nights-utc", Utc(2024, 3, 1, 6, 0), false},
      {"unknown name", "nope", Utc(2024, 3, 1, 6, 0), false},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(ti->Contains(row.interval, row.t) == row.in);
  }
}

TEST_CASE("an unknown time zone is an error") {
  config::TimeInterval t;
  t.name = "x";
  t.intervals.emplace_back();
  t.intervals[0].location = "Mars/Olympus";
  auto ti = router::TimeIntervals::Build({t});
  CHECK_FALSE(ti.ok());
}

TEST_CASE("pipeline: inhibition, mute and active intervals, silences") {
  // 2023-11-14T22:13:20Z is a Tuesday evening.
  RouterHarness h(R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: ['muted="yes"']
      receiver: r
      mute_time_intervals: [tuesdays]
    - matchers: ['office="yes"']
      receiver: r
      active_time_intervals: [office-hours]
receivers:
  - name: r
    webhook_configs: [{url: 'http://127.0.0.1:1/'}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
time_intervals:
  - name: tuesdays
    time_intervals: [{weekdays: [tuesday]}]
  - name: office-hours
    time_intervals: [{times: [{start_time: '09:00', end_time: '17:00'}]}]
)");
  SUBCASE("inhibited target is held back while the source fires") {
    h.Post("alertname=Src,severity=critical,cluster=c1,name=src");
    h.Post("alertname=Tgt,severity=warning,cluster=c1,name=tgt");
    h.Post("alertname=Tgt,severity=warning,cluster=c2,name=other");
    h.Advance(10s);
    auto s = h.Take();
    REQUIRE(s.size() == 2);
    std::sort(s.begin(), s.end(),
              [](const Sent& a, const Sent& b) { return a.group_key < b.group_key; });
    CHECK(s[0].firing == Names{"src"});
    CHECK(s[1].firing == Names{"other"});
    Alert tgt;
    tgt.labels =
        LabelSet{{"alertname", "Tgt"}, {"severity", "warning"}, {"cluster", "c1"}, {"name", "tgt"}};
    auto st = h.router->StateOf(tgt);
    CHECK(st.state == "suppressed");
    REQUIRE(st.inhibited_by.size() == 1);
    CHECK(st.inhibited_by[0] ==
          LabelSet(
              {{"alertname", "Src"}, {"cluster", "c1"}, {"name", "src"}, {"severity", "critical"}})
              .FingerprintHex());
    // The source resolves: the target is news at the next tick.
    h.Resolve("alertname=Src,severity=critical,cluster=c1,name=src");
    h.Advance(1min);
    s = h.Take();
    std::sort(s.begin(), s.end(),
              [](const Sent& a, const Sent& b) { return a.group_key < b.group_key; });
    REQUIRE(s.size() == 2);
    CHECK(s[0].resolved == Names{"src"});
    CHECK(s[1].firing == Names{"tgt", "other"});
  }
  SUBCASE("a target that resolves while inhibited is never reported") {
    h.Post("alertname=Src,severity=critical,cluster=c1,name=src");
    h.Post("alertname=Tgt,severity=warning,cluster=c1,name=tgt");
    h.Advance(10s);
    h.Take();
    h.Resolve("alertname=Tgt,severity=warning,cluster=c1,name=tgt");
    h.Advance(1min);
    h.Resolve("alertname=Src,severity=critical,cluster=c1,name=src");
    h.Advance(1min);
    auto s = h.Take();
    REQUIRE(s.size() == 1);
    CHECK(s[0].resolved == Names{"src"});
  }
  SUBCASE("mute interval holds back everything, and the mute shows in the API") {
    h.Post("alertname=M,muted=yes,name=m");
    h.Advance(10s);
    CHECK(h.Take().empty());
    Alert m;
    m.labels = LabelSet{{"alertname", "M"}, {"muted", "yes"}, {"name", "m"}};
    CHECK(h.router->StateOf(m).muted_by == Names{"tuesdays"});
    // Wednesday 00:00 UTC: the next tick sends it as a first notification.
    h.scheduler.AdvanceTo(Utc(2023, 11, 15, 0, 1));
    auto s = h.Take();
    REQUIRE(s.size() == 1);
    CHECK(s[0].reason == "first notification");
  }
  SUBCASE("outside its active interval a route sends nothing") {
    h.Post("alertname=O,office=yes,name=o");
    h.Advance(10s);
    CHECK(h.Take().empty());
    h.scheduler.AdvanceTo(Utc(2023, 11, 15, 9, 0));
    CHECK(h.Take().empty());
    h.scheduler.AdvanceTo(Utc(2023, 11, 15, 9, 1));
    auto s = h.Take();
    REQUIRE(s.size() == 1);
    CHECK(s[0].at == Utc(2023, 11, 15, 9, 0) + 30s);  // ticks fall at :30 (22:13:20 + 10s)
  }
  SUBCASE("silenced alerts are held back; a resolve during the silence is swallowed") {
    Silence sil;
    sil.matchers = *ParseMatchers(R"({name="s1"})");
    sil.starts_at = h.clock.Now();
    sil.ends_at = h.clock.Now() + 10min;
    sil.created_by = "t";
    sil.comment = "c";
    auto id = h.router->silences().Set(sil);
    REQUIRE(id.ok());
    h.Post("alertname=S,name=s1");
    h.Post("alertname=S,name=s2");
    h.Advance(10s);
    auto s = h.Take();
    REQUIRE(s.size() == 1);
    CHECK(s[0].firing == Names{"s2"});
    Alert a;
    a.labels = LabelSet{{"alertname", "S"}, {"name", "s1"}};
    CHECK(h.router->StateOf(a).silenced_by == Names{*id});
    // After expiry the silenced alert is new.
    h.Advance(10min);
    s = h.Take();
    REQUIRE(s.size() == 1);
    CHECK(s[0].reason == "new alerts added");
    CHECK(s[0].firing == Names{"s1", "s2"});
    // Silence again, resolve during it: swallowed, then nothing when it ends.
    sil.starts_at = h.clock.Now();
    sil.ends_at = h.clock.Now() + 5min;
    REQUIRE(h.router->silences().Set(sil).ok());
    h.Resolve("alertname=S,name=s1");
    h.Advance(10min);
    CHECK(h.Take().empty());
  }
}

TEST_CASE("silences: create, update rule, expire, states") {
  FakeClock clock(T0());
  router::Silences ss(&clock, nullptr);
  Silence base;
  base.matchers = *ParseMatchers(R"({alertname="A"})");
  base.starts_at = T0() - 1h;  // in the past: starts now
  base.ends_at = T0() + 1h;
  base.created_by = "me";
  base.comment = "c";
  auto id = ss.Set(base);
  REQUIRE(id.ok());
  auto got = ss.Get(*id);
  REQUIRE(got);
  CHECK(got->starts_at == T0());
  CHECK(router::StateOf(*got, T0()) == router::SilenceState::kActive);

  struct Row {
    const char* name;
    std::function<void(Silence&)> change;
    bool same_id;
  };
  std::vector<Row> rows = {
      {"active: extend endsAt keeps the id", [](Silence& s) { s.ends_at += 1h; }, true},
      {"active: shorten endsAt to the future keeps the id",
       [](Silence& s) { s.ends_at = T0() + 1min; }, true},
      {"active: endsAt in the past gets a new id",
       [](Silence& s) { s.ends_at = T0() - 1s; }, false},
      {"active: changed startsAt gets a new id", [](Silence& s) { s.starts_at += 1s; },
       false},
      {"changed matchers get a new id",
       [](Silence& s) { s.matchers = *ParseMatchers(R"({alertname="B"})"); }, false},
      {"comment only keeps the id", [](Silence& s) { s.comment = "new"; }, true},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto cur = ss.Set(base);  // a fresh active silence
    REQUIRE(cur.ok());
    auto s = *ss.Get(*cur);
    row.change(s);
    auto next = ss.Set(s);
    if (!next.ok()) {
      // An update into the past is invalid as a new silence too.
      CHECK_FALSE(row.same_id);
      continue;
    }
    CHECK((*next == *cur) == row.same_id);
    if (!row.same_id) {
      CHECK(router::StateOf(*ss.Get(*cur), T0()) == router::SilenceState::kExpired);
    }
  }

  SUBCASE("pending: startsAt may move while in the future") {
    Silence p = base;
    p.starts_at = T0() + 1h;
    p.ends_at = T0() + 2h;
    auto pid = ss.Set(p);
    REQUIRE(pid.ok());
    CHECK(router::StateOf(*ss.Get(*pid), T0()) == router::SilenceState::kPending);
    p.id = *pid;
    p.starts_at = T0() + 30min;
    CHECK(*ss.Set(p) == *pid);
    p.starts_at = T0() - 1min;
    auto moved = ss.Set(p);
    REQUIRE(moved.ok());
    CHECK(*moved != *pid);
    // Expiring a pending silence sets both ends to now.
    auto q = ss.Set(base);
    Silence pend = base;
    pend.starts_at = T0() + 1h;
    pend.ends_at = T0() + 2h;
    auto qid = ss.Set(pend);
    REQUIRE(ss.Expire(*qid).ok());
    CHECK(ss.Get(*qid)->starts_at == T0());
    CHECK(ss.Get(*qid)->ends_at == T0());
  }
  SUBCASE("expire, unknown ids, validation") {
    CHECK(ss.Expire(*id).ok());
    CHECK(router::StateOf(*ss.Get(*id), T0()) == router::SilenceState::kExpired);
    CHECK(ss.Expire(*id).ok());  // already expired: fine
    CHECK(ss.Expire("nope").code() == Status::Code::kNotFound);
    Silence u = base;
    u.id = "nope";
    CHECK(ss.Set(u).status().code() == Status::Code::kNotFound);
    Silence empty = base;
    empty.matchers = *ParseMatchers(R"({alertname=~".*"})");
    auto e = ss.Set(empty);
    CHECK(e.status().code() == Status::Code::kInvalidArgument);
    CHECK(e.status().message() ==
          "silence invalid: at least one matcher must not match the empty string");
  }
  SUBCASE("garbage collection after the retention") {
    REQUIRE(ss.Expire(*id).ok());
    clock.Add(119h);
    ss.CollectGarbage(120h);
    CHECK(ss.Get(*id));
    clock.Add(2h);
    ss.CollectGarbage(120h);
    CHECK_FALSE(ss.Get(*id));
  }
}

}  // namespace
}  // namespace alertd::testing
