// Differential test: the real Alertmanager 0.25 and alertd get the same configuration and the
// same timeline of alerts and silences, with webhook receivers pointing at one recording sink
// (each daemon under its own path prefix). Which receivers got which alerts, grouped how,
// firing or resolved, must be the same.
#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "tests/router/peers.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::string Config(const std::string& sink, const std::string& prefix) {
  std::string receivers;
  for (const char* r :
       {"default", "db", "db-pager", "web", "ops", "repeat", "muted", "inactive", "bulk"}) {
    receivers += std::string("  - name: ") + r + "\n    webhook_configs: [{url: '" + sink + prefix +
                 r + "'}]\n";
  }
  receivers += "  - name: quiet\n    webhook_configs: [{url: '" + sink + prefix +
               "quiet', send_resolved: false}]\n";
  return R"(
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: [alertname, cluster]
      continue: true
      routes:
        - matchers: ['severity=~"crit.*"']
          receiver: db-pager
    - matchers: ['team=~"db|web"', 'env!="dev"']
      receiver: web
      group_by: ['...']
    - matchers: ['team="ops"', 'svc!~"legacy-.*"']
      receiver: ops
      group_by: [svc]
    - match: {team: repeat}
      receiver: repeat
      group_interval: 2s
      repeat_interval: 3s
    - match_re: {team: 'mute.'}
      receiver: muted
      mute_time_intervals: [always]
    - matchers: [team="inactive"]
      receiver: inactive
      active_time_intervals: [never]
    - matchers: [team="quiet"]
      receiver: quiet
    - matchers: [bulk="true"]
      receiver: bulk
      group_by: [grp]
      group_interval: 1m
receivers:
)" + receivers +
         R"(
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
time_intervals:
  - name: always
    time_intervals: [{weekdays: ['sunday:saturday']}]
  - name: never
    time_intervals: [{years: ['2001']}]
)";
}

json A(std::map<std::string, std::string> labels, bool resolved = false) {
  return AlertJson(labels, resolved);
}

// Sleeps until `offset` after `t0`: the timeline's steps fall between group ticks.
void At(std::chrono::steady_clock::time_point t0, std::chrono::milliseconds offset) {
  std::this_thread::sleep_until(t0 + offset);
}

// Polls the sink until `cond(alertmanager's timeline, alertd's timeline)` holds or `deadline`
// passes; returns whether it held, leaving the last timelines read in `am` and `ad`.
bool WaitTimelines(const Peer& sink, std::chrono::milliseconds deadline,
                   const std::function<bool(const Timeline&, const Timeline&)>& cond, Timeline& am,
                   Timeline& ad) {
  return WaitFor(
      [&] {
        auto records = SinkRecords(sink);
        am = TimelineOf(records, "/am/");
        ad = TimelineOf(records, "/alertd/");
        return cond(am, ad);
      },
      deadline, 100ms);
}

// How many notifications a timeline holds for the group of `receiver` (one group per receiver
// in the cases this is used for).
size_t Count(const Timeline& t, const std::string& receiver) {
  size_t n = 0;
  for (const auto& [k, v] : t) {
    if (k.rfind(receiver + " ", 0) == 0) n += v.size();
  }
  return n;
}

// Whether every group of the timeline has had its last word: its last notification says
// everything resolved (the send_resolved: false receiver never hears of it).
bool AllResolved(const Timeline& t) {
  if (t.empty()) return false;
  for (const auto& [k, v] : t) {
    if (k.rfind("quiet ", 0) == 0) continue;
    if (v.empty() || v.back().rfind("resolved ", 0) != 0) return false;
  }
  return true;
}

struct Fixture {
  std::string dir = MakeTempDir("router-diff");
  Peer sink = StartSink(dir);
  Peer am, ad;
  Fixture() {
    WriteFile(dir + "/am.yml", Config(sink.url, "/am/"));
    WriteFile(dir + "/alertd.yml", Config(sink.url, "/alertd/"));
    am = StartAlertmanager(dir, dir + "/am.yml");
    ad = StartAlertd(dir, dir + "/alertd.yml");
  }
  ~Fixture() {
    ad.proc.Stop();
    am.proc.Stop();
    sink.proc.Stop();
    RemoveTree(dir);
  }
  std::vector<Peer*> both() { return {&am, &ad}; }
};

std::string PostSilence(Peer& p, const std::string& name, const std::string& value) {
  json s = {
      {"matchers", {{{"name", name}, {"value", value}, {"isRegex", false}, {"isEqual", true}}}},
      {"startsAt", "2000-01-01T00:00:00Z"},
      {"endsAt", "2100-01-01T00:00:00Z"},
      {"createdBy", "test"},
      {"comment", "differential"}};
  auto r = HttpPostJson(p.url + "/api/v2/silences", s.dump());
  INFO(p.name << ": " << r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body)["silenceID"];
}

TEST_CASE(
    "differential: alertd routes, groups, inhibits, silences and mutes as Alertmanager 0.25") {
  Fixture f;
  std::map<std::string, std::string> sil;
  for (auto* p : f.both()) sil[p->name] = PostSilence(*p, "svc", "silenced");

  const std::vector<std::map<std::string, std::string>> batch1 = {
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c1"},
       {"severity", "critical"},
       {"env", "prod"},
       {"name", "a1"}},
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c1"},
       {"severity", "warning"},
       {"env", "prod"},
       {"name", "a2"}},
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c2"},
       {"severity", "warning"},
       {"env", "dev"},
       {"name", "a3"}},
      {{"alertname", "HighLatency"},
       {"team", "web"},
       {"env", "prod"},
       {"severity", "warning"},
       {"cluster", "c3"},
       {"name", "a4"}},
      {{"alertname", "Down"}, {"team", "ops"}, {"svc", "api"}, {"name", "a5"}},
      {{"alertname", "Down"}, {"team", "ops"}, {"svc", "legacy-x"}, {"name", "a6"}},
      {{"alertname", "Other"}, {"name", "a7"}},
      {{"alertname", "Rep"}, {"team", "repeat"}, {"name", "a8"}},
      {{"alertname", "Mute"}, {"team", "muted"}, {"name", "a9"}},
      {{"alertname", "Inact"}, {"team", "inactive"}, {"name", "a10"}},
      {{"alertname", "Sil"}, {"team", "ops"}, {"svc", "silenced"}, {"name", "a11"}},
      {{"alertname", "Q"}, {"team", "quiet"}, {"name", "q1"}},
      {{"alertname", "Q"}, {"team", "quiet"}, {"name", "q2"}},
  };
  const auto t0 = std::chrono::steady_clock::now();
  json body = json::array();
  for (const auto& l : batch1) body.push_back(A(l));
  PostAlerts(f.both(), body);

  // t = 4.5 s (root ticks at 1, 4, 7, 10, 13 s): the inhibiting alert resolves, a new alert
  // joins a group, a new group appears, the silence is expired, a quiet alert resolves.
  At(t0, 4500ms);
  body = json::array({A(batch1[0], true), A({{"alertname", "Other"}, {"name", "a15"}}),
                      A({{"alertname", "HighLatency"},
                         {"team", "web"},
                         {"env", "prod"},
                         {"severity", "warning"},
                         {"cluster", "c3"},
                         {"name", "a14"}}),
                      A(batch1[11], true)});
  PostAlerts(f.both(), body);
  for (auto* p : f.both()) {
    auto r = HttpRequest("DELETE", p->url + "/api/v2/silence/" + sil[p->name]);
    CHECK(r.status == 200);
  }

  // t = 10.5 s: everything resolves. The repeat route (ticks at 1, 3, 5, 7, 9 s, repeat
  // interval 3 s) repeats at 5 and 9 s: wait for both repeats from both daemons first, so a
  // slow POST or delivery on a loaded machine cannot push the second repeat past the resolve.
  Timeline am, ad;
  {
    const bool repeated = WaitTimelines(
        f.sink, 20s,
        [](const Timeline& a, const Timeline& d) {
          return Count(a, "repeat") >= 3 && Count(d, "repeat") >= 3;
        },
        am, ad);
    INFO("alertmanager:\n" << Dump(am) << "alertd:\n" << Dump(ad));
    REQUIRE(repeated);
  }
  At(t0, 10500ms);
  body = json::array();
  for (size_t i = 1; i < batch1.size(); ++i) body.push_back(A(batch1[i], true));
  body.push_back(A({{"alertname", "Other"}, {"name", "a15"}}, true));
  body.push_back(A({{"alertname", "HighLatency"},
                    {"team", "web"},
                    {"env", "prod"},
                    {"severity", "warning"},
                    {"cluster", "c3"},
                    {"name", "a14"}},
                   true));
  PostAlerts(f.both(), body);

  // The last resolved notifications come at the 13 s tick (11 s for the repeat route): wait
  // until Alertmanager has told every group, then until alertd's timeline matches, with
  // deadlines rather than a fixed sleep.
  const bool am_done = WaitTimelines(
      f.sink, 30s, [](const Timeline& a, const Timeline&) { return AllResolved(a); }, am, ad);
  const bool same =
      am_done &&
      WaitTimelines(
          f.sink, 10s, [](const Timeline& a, const Timeline& d) { return a == d; }, am, ad);
  INFO("alertmanager:\n" << Dump(am) << "alertd:\n" << Dump(ad));
  CHECK(am_done);
  CHECK(same);
  CHECK(am.size() >= 10);
  CHECK(ad == am);
  // Spot checks that the scenario exercises what it claims.
  CHECK(am.count("muted {}/{team=~\"mute.\"}:{alertname=\"Mute\"}") == 0);
  CHECK(am.count("inactive {}/{team=\"inactive\"}:{alertname=\"Inact\"}") == 0);
}

TEST_CASE("differential: 1,000 alerts in 50 groups") {
  Fixture f;
  json body = json::array();
  for (int i = 0; i < 1000; ++i) {
    body.push_back(A({{"alertname", "Bulk"},
                      {"bulk", "true"},
                      {"grp", "g" + std::to_string(i % 50)},
                      {"name", "b" + std::to_string(i)}}));
  }
  // Prometheus-sized batches, interleaved between the two daemons.
  for (size_t off = 0; off < body.size(); off += 64) {
    json batch = json::array();
    for (size_t i = off; i < std::min(body.size(), off + 64); ++i) batch.push_back(body[i]);
    PostAlerts(f.both(), batch);
  }
  auto complete = [&](const std::string& prefix) {
    auto t = TimelineOf(SinkRecords(f.sink), prefix);
    if (t.size() != 50) return false;
    for (const auto& [k, v] : t) {
      if (v.size() != 1) return false;
    }
    return true;
  };
  REQUIRE(WaitFor([&] { return complete("/am/") && complete("/alertd/"); }, 20s, 100ms));
  auto records = SinkRecords(f.sink);
  Timeline am = TimelineOf(records, "/am/"), ad = TimelineOf(records, "/alertd/");
  INFO("alertmanager:\n" << Dump(am) << "alertd:\n" << Dump(ad));
  CHECK(ad == am);
}

}  // namespace
}  // namespace alertd::testing
