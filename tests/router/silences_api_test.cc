// The silences API against the real alertd: amtool silence add/query/expire, and
// Alertmanager 0.25's status codes and update rule.
#include <doctest/doctest.h>

#include "tests/router/peers.h"

namespace alertd::testing {
namespace {

using json = nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// amtool's output without its version warning lines.
std::string Amtool(const std::vector<std::string>& args, const Peer& ad, int* rc = nullptr) {
  std::vector<std::string> argv = {"amtool"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--alertmanager.url=" + ad.url);
  std::string out;
  int code = RunCommand(argv, &out);
  if (rc) *rc = code;
  std::string kept;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    if (line.rfind("Warning: amtool version", 0) != 0) kept += line + "\n";
    pos = nl + 1;
  }
  return Trim(kept);
}

struct Fixture {
  std::string dir = MakeTempDir("router-silences");
  Peer ad;
  Fixture() {
    WriteFile(dir + "/alertd.yml", "route: {receiver: r}\nreceivers: [{name: r}]\n");
    ad = StartAlertd(dir, dir + "/alertd.yml");
  }
  ~Fixture() {
    ad.proc.Stop();
    RemoveTree(dir);
  }
};

TEST_CASE("amtool silence add, query and expire against alertd") {
  Fixture f;
  int rc = -1;
  const std::string id = Amtool({"silence", "add", "alertname=Disk", "severity=~crit.*",
                                 "--comment=maintenance", "--author=ops", "--duration=2h"},
                                f.ad, &rc);
  REQUIRE(rc == 0);
  REQUIRE(id.size() == 36);
  CHECK(Amtool({"silence", "query", "-q"}, f.ad) == id);
  const std::string table = Amtool({"silence", "query"}, f.ad);
  CHECK(table.find("alertname=\"Disk\"") != std::string::npos);
  CHECK(table.find("severity=~\"crit.*\"") != std::string::npos);
  CHECK(table.find("maintenance") != std::string::npos);
  CHECK(Amtool({"silence", "query", "-q", "alertname=Disk"}, f.ad) == id);
  CHECK(Amtool({"silence", "query", "-q", "alertname=Other"}, f.ad).empty());

  // The silence shows on matching alerts.
  PostAlerts({&f.ad}, json::array({AlertJson({{"alertname", "Disk"}, {"severity", "critical"}})}));
  auto alerts = json::parse(HttpGet(f.ad.url + "/api/v2/alerts").body);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["status"]["state"] == "suppressed");
  CHECK(alerts[0]["status"]["silencedBy"] == json::array({id}));

  Amtool({"silence", "expire", id}, f.ad, &rc);
  CHECK(rc == 0);
  CHECK(Amtool({"silence", "query", "-q"}, f.ad).empty());
  CHECK(Amtool({"silence", "query", "-q", "--expired"}, f.ad) == id);
  alerts = json::parse(HttpGet(f.ad.url + "/api/v2/alerts").body);
  CHECK(alerts[0]["status"]["state"] == "active");
  Amtool({"silence", "expire", "00000000-0000-4000-8000-000000000000"}, f.ad, &rc);
  CHECK(rc != 0);
}

json Silence(json matchers, const std::string& starts, const std::string& ends) {
  return {{"matchers", matchers},
          {"startsAt", starts},
          {"endsAt", ends},
          {"createdBy", "t"},
          {"comment", "c"}};
}

TEST_CASE("silences API: status codes and the update rule of Alertmanager 0.25") {
  Fixture f;
  const json m = json::array({{{"name", "a"}, {"value", "b"}, {"isRegex", false}}});
  const std::string url = f.ad.url + "/api/v2/silences";
  struct Row {
    const char* name;
    json body;
    long status;
  };
  std::vector<Row> rows = {
      {"no matchers: 422", Silence(json::array(), "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
       422},
      {"missing createdBy: 422",
       json{{"matchers", m},
            {"startsAt", "2020-01-01T00:00:00Z"},
            {"endsAt", "2100-01-01T00:00:00Z"},
            {"comment", "c"}},
       422},
      {"matchers all match the empty value: 400",
       Silence(json::array({{{"name", "a"}, {"value", ".*"}, {"isRegex", true}}}),
               "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
       400},
      {"end before start: 400", Silence(m, "2100-01-02T00:00:00Z", "2100-01-01T00:00:00Z"), 400},
      {"end in the past: 400", Silence(m, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"), 400},
      {"invalid regex: 400",
       Silence(json::array({{{"name", "a"}, {"value", "("}, {"isRegex", true}}}),
               "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
       400},
      {"unknown id: 404",
       [&] {
         auto b = Silence(m, "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z");
         b["id"] = "00000000-0000-4000-8000-000000000000";
         return b;
       }(),
       404},
      {"valid: 200", Silence(m, "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"), 200},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = HttpPostJson(url, row.body.dump());
    INFO(r.body);
    CHECK(r.status == row.status);
  }

  // Create; startsAt in the past becomes now.
  auto r = HttpPostJson(url, Silence(m, "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z").dump());
  REQUIRE(r.status == 200);
  const std::string id = json::parse(r.body)["silenceID"];
  auto got = json::parse(HttpGet(f.ad.url + "/api/v2/silence/" + id).body);
  CHECK(got["id"] == id);
  CHECK(got["status"]["state"] == "active");
  CHECK(got["matchers"][0]["isEqual"] == true);
  const std::string starts = got["startsAt"];
  CHECK(starts > "2020-01-01");

  // Same matchers and startsAt, new endsAt: updated in place.
  auto upd = Silence(m, starts, "2099-01-01T00:00:00Z");
  upd["id"] = id;
  r = HttpPostJson(url, upd.dump());
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["silenceID"] == id);
  // Other matchers: the old one expires, a new id is returned.
  upd["matchers"] = json::array({{{"name", "a"}, {"value", "c"}, {"isRegex", false}}});
  r = HttpPostJson(url, upd.dump());
  REQUIRE(r.status == 200);
  const std::string id2 = json::parse(r.body)["silenceID"];
  CHECK(id2 != id);
  CHECK(json::parse(HttpGet(f.ad.url + "/api/v2/silence/" + id).body)["status"]["state"] ==
        "expired");

  // Listing: active first, then expired; filters on equality matchers.
  auto list = json::parse(HttpGet(url).body);
  REQUIRE(list.size() >= 2);
  CHECK(list[0]["status"]["state"] == "active");
  CHECK(list.back()["status"]["state"] == "expired");
  auto filtered = json::parse(HttpGet(url + "?filter=a%3D%22c%22").body);
  REQUIRE(filtered.size() == 1);
  CHECK(filtered[0]["id"] == id2);

  CHECK(HttpRequest("DELETE", f.ad.url + "/api/v2/silence/" + id2).status == 200);
  CHECK(HttpRequest("DELETE", f.ad.url + "/api/v2/silence/" + id2).status == 200);  // expired
  CHECK(HttpRequest("DELETE", f.ad.url + "/api/v2/silence/nope").status == 404);
  CHECK(HttpGet(f.ad.url + "/api/v2/silence/nope").status == 404);
}

}  // namespace
}  // namespace alertd::testing
