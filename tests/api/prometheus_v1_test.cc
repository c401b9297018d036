// GET /api/v1/rules over a real rule manager (fake datasource and clock): Prometheus's
// filters (type case-insensitive, rule_name[], rule_group[], file[], exclude_alerts,
// match[]), groups kept with `rules: []` when a rule filter leaves none (2.42's shape), bad
// values refused with Prometheus's bad_data errors, and the datasource's warnings on a rule.
#include <doctest/doctest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "rules_engine/manager.h"
#include "tests/rules_engine/fakes.h"

namespace alertd::api {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace re = rules_engine;

config::Rule AlertRule(const std::string& name, const std::string& expr,
                       std::map<std::string, std::string> labels) {
  config::Rule r;
  r.alert = name;
  r.expr = expr;
  r.labels = std::move(labels);
  return r;
}

struct RulesApi {
  re::testing::FakeClock clock{FromUnixSeconds(1700000000)};
  re::testing::FakeQueryClient q;
  std::unique_ptr<re::RuleManager> rules;
  Router http;

  RulesApi() {
    config::RuleGroup g1;
    g1.file = "/rules/a.yml";
    g1.name = "g1";
    g1.interval = 10s;
    config::Rule rec;
    rec.record = "r:x";
    rec.expr = "x";
    g1.rules = {AlertRule("A", "a", {{"severity", "page"}}),
                AlertRule("B", "b", {{"severity", "ticket"}}), rec};
    config::RuleGroup g2;
    g2.file = "/rules/b.yml";
    g2.name = "g2";
    g2.interval = 10s;
    g2.rules = {AlertRule("C", "c", {})};
    re::QueryResult a;
    a.samples.push_back({LabelSet{{"instance", "i"}}, 1});
    a.warnings = {"partial response"};
    q.Set("a", a);
    q.SetVector("b", {});
    q.SetVector("c", {});
    re::ManagerOptions opts;
    opts.workers = 0;
    auto m = re::RuleManager::Create({g1, g2}, opts, {&q, nullptr, nullptr, &clock});
    REQUIRE(m.ok());
    rules = std::move(*m);
    const Time next = rules->RunDue(clock.Now());
    clock.Set(next + 10s);
    rules->RunDue(next + 10s);
    ApiContext ctx;
    ctx.clock = &clock;
    ctx.rules = rules.get();
    RegisterPrometheusV1(http, ctx);
  }

  Response Get(const std::string& target) {
    Request req;
    req.method = "GET";
    req.target = target;
    const auto qpos = target.find('?');
    req.path = target.substr(0, qpos);
    if (qpos != std::string::npos) {
      const std::string query = target.substr(qpos + 1);
      size_t start = 0;
      while (start <= query.size()) {
        size_t amp = query.find('&', start);
        if (amp == std::string::npos) amp = query.size();
        const std::string kv = query.substr(start, amp - start);
        const auto eq = kv.find('=');
        req.query.emplace_back(kv.substr(0, eq),
                               eq == std::string::npos ? "" : kv.substr(eq + 1));
        start = amp + 1;
      }
    }
    std::promise<Response> p;
    auto f = p.get_future();
    http.Dispatch(req, [&p](Response r) {
      r.DrainStream();
      p.set_value(std::move(r));
    });
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
  }

  // "<group>:<rule>,<rule>;..." of an answer.
  std::string Shape(const std::string& target) {
    Response r = Get(target);
    INFO(target << " -> " << r.body);
    REQUIRE(r.status == 200);
    json doc = json::parse(r.body);
    std::string out;
    for (const auto& g : doc["data"]["groups"]) {
      if (!out.empty()) out += ";";
      out += g["name"].get<std::string>() + ":";
      REQUIRE(g["rules"].is_array());
      for (size_t i = 0; i < g["rules"].size(); ++i) {
        if (i) out += ",";
        out += g["rules"][i]["name"].get<std::string>();
      }
    }
    return out;
  }
};

TEST_CASE("/api/v1/rules filters") {
  RulesApi api;
  CHECK(api.Shape("/api/v1/rules") == "g1:A,B,r:x;g2:C");
  CHECK(api.Shape("/api/v1/rules?type=alert") == "g1:A,B;g2:C");
  CHECK(api.Shape("/api/v1/rules?type=ALERT") == "g1:A,B;g2:C");
  // A group left without rules is kept, with rules: [] (Prometheus 2.42).
  CHECK(api.Shape("/api/v1/rules?type=Record") == "g1:r:x;g2:");
  CHECK(api.Shape("/api/v1/rules?rule_name[]=A&rule_name[]=C") == "g1:A;g2:C");
  CHECK(api.Shape("/api/v1/rules?rule_group[]=g2") == "g2:C");
  CHECK(api.Shape("/api/v1/rules?file[]=/rules/a.yml&type=alert") == "g1:A,B");
  CHECK(api.Shape("/api/v1/rules?rule_group[]=g1&file[]=/rules/b.yml") == "");
  CHECK(api.Shape("/api/v1/rules?match[]={severity=\"page\"}") == "g1:A;g2:");
  CHECK(api.Shape("/api/v1/rules?match[]={severity=\"page\"}&match[]={severity=~\"tick.*\"}") ==
        "g1:A,B;g2:");

  // exclude_alerts: "alerts" is null; without it the alert and the rule's warnings show.
  json full = json::parse(api.Get("/api/v1/rules?rule_name[]=A").body);
  json a = full["data"]["groups"][0]["rules"][0];
  CHECK(a["alerts"].size() == 1);
  CHECK(a["warnings"] == json::array({"partial response"}));
  CHECK_FALSE(full["data"]["groups"][0]["rules"].size() != 1);
  json excl = json::parse(api.Get("/api/v1/rules?rule_name[]=A&exclude_alerts=TRUE").body);
  CHECK(excl["data"]["groups"][0]["rules"][0]["alerts"].is_null());
  json b = json::parse(api.Get("/api/v1/rules?rule_name[]=B").body)["data"]["groups"][0]["rules"][0];
  CHECK_FALSE(b.contains("warnings"));

  // Bad values: 400 bad_data, with Prometheus's messages.
  struct Bad {
    std::string target;
    std::string error;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"/api/v1/rules?type=bogus", "invalid parameter \"type\": not supported value \"bogus\""},
           {"/api/v1/rules?exclude_alerts=maybe",
            "invalid parameter \"exclude_alerts\": error converting exclude_alerts: "
            "strconv.ParseBool: parsing \"maybe\": invalid syntax"},
           {"/api/v1/rules?match[]={severity=~\".*\"}",
            "at least one non-empty matcher"},
           {"/api/v1/rules?match[]=rate(x[5m])", "is not a series selector"},
           {"/api/v1/rules?match[]={severity=", ""},
       }) {
    INFO(bad.target);
    Response r = api.Get(bad.target);
    CHECK(r.status == 400);
    json doc = json::parse(r.body, nullptr, false);
    REQUIRE(doc.is_object());
    CHECK(doc["errorType"] == "bad_data");
    CHECK(doc["error"].get<std::string>().find(bad.error) != std::string::npos);
  }
}

}  // namespace
}  // namespace alertd::api
