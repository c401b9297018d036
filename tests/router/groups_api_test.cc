// GET /api/v2/alerts/groups and the alert states of GET /api/v2/alerts against the real
// Alertmanager 0.25: the same configuration, alerts and silence go to both, and the groups
// (labels, receiver, alerts in order, each alert's receivers, state, inhibition and silencing)
// must be the same for every filter combination. A child route's `group_by: []` keeps its
// parent's grouping, as in Alertmanager (its GroupBy stays nil). Alertmanager 0.25 never reports an alert as
// "unprocessed" through the API (its handlers run inhibition and silencing on the alert before
// reading its status), and ignores the `unprocessed` parameter; alertd does the same.
#include <doctest/doctest.h>

#include "tests/router/peers.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::string Config() {
  return R"(
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h
  group_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: [alertname, cluster]
      continue: true
    - matchers: ['team="web"']
      receiver: ops
      group_by: []
      continue: true
    - matchers: ['team=~"db|web"']
      receiver: web
      group_by: ['...']
    - matchers: ['team="ops"']
      receiver: default
      group_by: [svc]
      continue: true
    - matchers: ['team="ops"']
      receiver: ops
      continue: true
    - matchers: ['team="ops"']
      receiver: default
receivers:
  - name: default
  - name: db
  - name: web
  - name: ops
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
)";
}

// The parts of a groups response both daemons must agree on; alerts are named by their
// `name` label, inhibiting fingerprints too.
json Normalize(const json& groups) {
  std::map<std::string, std::string> names;  // fingerprint -> name
  for (const auto& g : groups)
    for (const auto& a : g["alerts"]) names[a["fingerprint"]] = a["labels"].value("name", "?");
  json out = json::array();
  for (const auto& g : groups) {
    json alerts = json::array();
    for (const auto& a : g["alerts"]) {
      json receivers = json::array();
      for (const auto& r : a["receivers"]) receivers.push_back(r["name"]);
      json inhibited_by = json::array();
      for (const auto& fp : a["status"]["inhibitedBy"]) {
        inhibited_by.push_back(names.count(fp) ? names[fp] : std::string(fp));
      }
      alerts.push_back({{"name", a["labels"].value("name", "?")},
                        {"receivers", receivers},
                        {"state", a["status"]["state"]},
                        {"inhibitedBy", inhibited_by},
                        {"silenced", a["status"]["silencedBy"].size()}});
    }
    out.push_back(
        {{"labels", g["labels"]}, {"receiver", g["receiver"]["name"]}, {"alerts", alerts}});
  }
  return out;
}

json GetJson(const Peer& p, const std::string& path) {
  auto r = HttpGet(p.url + path);
  INFO(p.name << " " << path << ": " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

size_t CountAlerts(const json& groups) {
  size_t n = 0;
  for (const auto& g : groups) n += g["alerts"].size();
  return n;
}

TEST_CASE("GET /api/v2/alerts/groups lists what Alertmanager 0.25 lists, for every filter") {
  const std::string dir = MakeTempDir("router-groups");
  WriteFile(dir + "/config.yml", Config());
  Peer am = StartAlertmanager(dir, dir + "/config.yml");
  Peer ad = StartAlertd(dir, dir + "/config.yml");
  std::vector<Peer*> both = {&am, &ad};

  for (auto* p : both) {
    json s = {{"matchers",
               {{{"name", "svc"}, {"value", "silenced"}, {"isRegex", false}, {"isEqual", true}}}},
              {"startsAt", "2000-01-01T00:00:00Z"},
              {"endsAt", "2100-01-01T00:00:00Z"},
              {"createdBy", "test"},
              {"comment", "groups"}};
    auto r = HttpPostJson(p->url + "/api/v2/silences", s.dump());
    REQUIRE(r.status == 200);
  }
  using L = std::map<std::string, std::string>;
  const std::vector<L> alerts = {
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c1"},
       {"severity", "critical"},
       {"job", "node"},
       {"instance", "i2"},
       {"name", "a1"}},
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c1"},
       {"severity", "warning"},
       {"job", "node"},
       {"instance", "i1"},
       {"name", "a2"}},
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c1"},
       {"severity", "warning"},
       {"name", "a3"}},
      {{"alertname", "DiskFull"},
       {"team", "db"},
       {"cluster", "c2"},
       {"severity", "warning"},
       {"job", "api"},
       {"name", "a4"}},
      {{"alertname", "HighLatency"}, {"team", "web"}, {"severity", "warning"}, {"name", "a5"}},
      {{"alertname", "Down"}, {"team", "ops"}, {"svc", "api"}, {"instance", "x"}, {"name", "a6"}},
      {{"alertname", "Down"}, {"team", "ops"}, {"svc", "db"}, {"name", "a7"}},
      {{"alertname", "Down"}, {"team", "ops"}, {"svc", "silenced"}, {"name", "a8"}},
      {{"alertname", "Other"}, {"name", "a9"}},
      {{"alertname", "Other"}, {"zone", "z"}, {"name", "a10"}},
  };
  json body = json::array();
  for (const auto& l : alerts) body.push_back(AlertJson(l));
  body.push_back(AlertJson({{"alertname", "Gone"}, {"name", "r1"}}, /*resolved=*/true));
  body.push_back(AlertJson({{"alertname", "Other"}, {"name", "r2"}}, /*resolved=*/true));
  PostAlerts(both, body);

  // Alertmanager's dispatcher and inhibitor take alerts in asynchronously: wait until every
  // alert is grouped (a1..a10 in 1 + 2 + 1 + 1 + 3 + 1 + 1 + 1 + ... group entries) and a2 is
  // inhibited there.
  const json all_am = [&] {
    json last;
    const bool ready = WaitFor(
        [&] {
          last = Normalize(GetJson(am, "/api/v2/alerts/groups"));
          bool inhibited = false;
          for (const auto& g : last)
            for (const auto& a : g["alerts"])
              if (a["name"] == "a2" && !a["inhibitedBy"].empty()) inhibited = true;
          return inhibited &&
                 CountAlerts(Normalize(GetJson(ad, "/api/v2/alerts/groups"))) == CountAlerts(last);
        },
        20s);
    INFO(last.dump(1));
    REQUIRE(ready);
    return last;
  }();
  CHECK(CountAlerts(all_am) >= 16);

  const std::vector<std::string> queries = {
      "",
      "?active=false",
      "?silenced=false",
      "?inhibited=false",
      "?unprocessed=false",
      "?active=false&silenced=false",
      "?silenced=false&inhibited=false&active=true",
      "?filter=team%3D%22db%22",
      "?filter=alertname%3D~%22Disk.*%22&filter=severity%21%3D%22critical%22",
      "?receiver=default",
      "?receiver=d.*",
      "?receiver=ops&filter=svc%3D%22api%22",
  };
  for (const auto& q : queries) {
    INFO("query: " << q);
    const json want = Normalize(GetJson(am, "/api/v2/alerts/groups" + q));
    const json got = Normalize(GetJson(ad, "/api/v2/alerts/groups" + q));
    INFO("alertmanager: " << want.dump(1));
    INFO("alertd: " << got.dump(1));
    CHECK(got == want);
  }

  // GET /api/v2/alerts: the same states; nothing is "unprocessed"; the parameter changes nothing.
  for (const std::string q : {"", "?unprocessed=false", "?unprocessed=true&active=false"}) {
    INFO("query: " << q);
    std::map<std::string, std::string> want, got;
    for (const auto& a : GetJson(am, "/api/v2/alerts" + q))
      want[a["labels"]["name"]] = a["status"]["state"];
    for (const auto& a : GetJson(ad, "/api/v2/alerts" + q))
      got[a["labels"]["name"]] = a["status"]["state"];
    CHECK(got == want);
    for (const auto& [name, state] : got) CHECK(state != "unprocessed");
  }

  ad.proc.Stop();
  am.proc.Stop();
  RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::testing
