// Every endpoint against malformed input, over the real alert store and router (on a fake
// clock): each malformed body on every POST/DELETE endpoint and each malformed query parameter
// on the GET endpoints gets a 4xx with a JSON error ({"error": ...}; the silences API keeps
// Alertmanager's own bodies, which amtool parses), never a 5xx or a crash, and changes nothing
// (alerts, acknowledgements and silences read back the same).
#include <doctest/doctest.h>

#include <future>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/api.h"
#include "router/router.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "tests/fakes/fake_scheduler.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::api;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

Time T0() { return Time(std::chrono::seconds(1'700'000'000)); }

struct FullApi {
  std::string dir = testing::MakeTempDir("alertd-malformed");
  testing::FakeClock clock{T0()};
  testing::FakeScheduler scheduler{&clock};
  InlineExecutor inline_;
  std::unique_ptr<storage::AlertStore> store;
  std::unique_ptr<router::Router> routing;
  std::shared_ptr<Router> http = std::make_shared<Router>();
  std::string fingerprint;  // of the one stored alert, acknowledged

  FullApi() {
    auto loaded = config::LoadConfigString(
        "route:\n  receiver: team\n  group_by: [alertname]\nreceivers:\n  - name: team\n",
        dir + "/alertd.yml");
    REQUIRE(loaded.ok());
    auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
    auto db = storage::Database::Open(dir + "/alertd.db");
    REQUIRE(db.ok());
    auto s = storage::OpenAlertStore(std::move(*db), &clock);
    REQUIRE(s.ok());
    store = std::move(*s);
    router::RouterDeps deps;
    deps.clock = &clock;
    deps.scheduler = &scheduler;
    deps.alerts = store.get();
    deps.flush_executor = &inline_;
    deps.new_executor = [](const std::string&) { return std::make_unique<InlineExecutor>(); };
    auto r = router::Router::Start(std::move(deps), cfg);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    routing = std::move(*r);
    ApiContext ctx;
    ctx.alerts = store.get();
    ctx.clock = &clock;
    ctx.config = [cfg] { return cfg; };
    ctx.status = std::shared_ptr<AlertStatusProvider>(routing.get(), [](auto*) {});
    ctx.acks = routing.get();
    ctx.silences = &routing->silences();
    RegisterApi(*http, ctx);

    // State that a malformed request must leave alone: an alert, its ack, a silence.
    auto posted = Call("POST", "/api/v2/alerts",
                       R"([{"labels":{"alertname":"Disk","severity":"critical"}}])");
    REQUIRE(posted.status == 200);
    auto listed = json::parse(Call("GET", "/api/v2/alerts").body);
    REQUIRE(listed.size() == 1);
    fingerprint = listed[0]["fingerprint"].get<std::string>();
    REQUIRE(Call("POST", "/api/v1/alerts/" + fingerprint + "/ack", R"({"by":"ann"})").status ==
            200);
    auto silenced = Call("POST", "/api/v2/silences",
                         R"({"matchers":[{"name":"alertname","value":"Other","isRegex":false}],
                             "startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-15T22:13:20Z",
                             "createdBy":"ann","comment":"maintenance"})");
    REQUIRE_MESSAGE(silenced.status == 200, silenced.body);
  }
  ~FullApi() {
    routing.reset();
    store->Close();
    testing::RemoveTree(dir);
  }

  // The query is split at '&' and '=' and not percent-decoded (the server decodes before the
  // handlers see it).
  Response Call(const std::string& method, const std::string& target, const std::string& body = "") {
    Request req;
    req.method = method;
    req.target = target;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string query = target.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        size_t amp = query.find('&', start);
        if (amp == std::string::npos) amp = query.size();
        const std::string kv = query.substr(start, amp - start);
        const auto eq = kv.find('=');
        req.query.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
        start = amp + 1;
      }
    }
    req.headers["content-type"] = "application/json";
    req.body = body;
    // Alert posts answer from the store's writer thread once committed.
    auto answer = std::make_shared<std::promise<Response>>();
    std::future<Response> done = answer->get_future();
    http->Dispatch(req, [answer](Response r) {
      r.DrainStream();
      answer->set_value(std::move(r));
    });
    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    return done.get();
  }

  // Everything a request could change, as the API lists it.
  std::string State() {
    return Call("GET", "/api/v2/alerts").body + Call("GET", "/api/v1/acks?history=true").body +
           Call("GET", "/api/v2/silences").body;
  }
};

// Bodies no endpoint accepts.
std::vector<std::pair<std::string, std::string>> CommonBadBodies() {
  const std::string digits400(400, '7');
  return {
      {"truncated object", "{"},
      {"truncated array", "[{\"labels\":"},
      {"bare word", "nul"},
      {"a string", "\"hello\""},
      {"null", "null"},
      {"binary", std::string("\xff\xfe\x00\x01", 4)},
      {"huge exponent", "1e999999"},
      {"400-digit integer", digits400},
      {"deep nesting", std::string(20000, '[') + std::string(20000, ']')},
      {"invalid UTF-8 in a string", "{\"x\":\"\xc3\x28\"}"},
      {"trailing garbage", "{} {}"},
  };
}

bool IsJsonErrorObject(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string() &&
         !j["error"].get<std::string>().empty();
}

// Alertmanager's silence API answers errors as a JSON string, {"code","message"}, or (404)
// an empty body.
bool IsAlertmanagerError(const std::string& body) {
  if (body.empty()) return true;
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return false;
  return (j.is_string() && !j.get<std::string>().empty()) ||
         (j.is_object() && j.contains("message"));
}

}  // namespace

TEST_CASE("every malformed request gets a 4xx JSON error and changes nothing") {
  FullApi api;
  const std::string fp = api.fingerprint;
  const std::string digits400(400, '7');
  struct Endpoint {
    const char* method;
    std::string path;
    bool alertmanager_errors;  // the silences API
    std::vector<std::pair<std::string, std::string>> bad;  // endpoint-specific bodies
  };
  const std::string labels = R"("labels":{"alertname":"New"})";
  std::vector<Endpoint> endpoints = {
      {"POST",
       "/api/v2/alerts",
       false,
       {{"an object", "{}"},
        {"startsAt a number", "[{" + labels + ",\"startsAt\":1e400}]"},
        {"startsAt a 400-digit number", "[{" + labels + ",\"startsAt\":" + digits400 + "}]"},
        {"endsAt after 2262", "[{" + labels + ",\"endsAt\":\"2262-04-12T00:00:00Z\"}]"},
        {"endsAt wrapping through its offset",
         "[{" + labels + ",\"endsAt\":\"2262-04-10T23:59:59-23:59\"}]"},
        {"startsAt before 1677", "[{" + labels + ",\"startsAt\":\"1600-01-01T00:00:00Z\"}]"},
        {"startsAt year 9999", "[{" + labels + ",\"startsAt\":\"9999-12-31T23:59:59Z\"}]"},
        {"no labels", "[{\"labels\":{}}]"},
        {"label value a number", "[{\"labels\":{\"a\":1e999999}}]"},
        {"invalid label name", "[{\"labels\":{\"a b\":\"c\"}}]"}}},
      {"POST",
       "/api/v1/webhook/alertmanager",
       false,
       {{"no version", "{\"alerts\":[]}"},
        {"startsAt 1e999999", "{\"version\":\"4\",\"alerts\":[{" + labels + ",\"startsAt\":1e999999}]}"},
        {"startsAt 1e400", "{\"version\":\"4\",\"alerts\":[{" + labels + ",\"startsAt\":1e400}]}"},
        {"startsAt a 400-digit number",
         "{\"version\":\"4\",\"alerts\":[{" + labels + ",\"startsAt\":" + digits400 + "}]}"},
        {"endsAt after 2262",
         "{\"version\":\"4\",\"alerts\":[{" + labels + ",\"endsAt\":\"2262-04-11T23:47:17Z\"}]}"},
        {"status unknown", "{\"version\":\"4\",\"alerts\":[{" + labels + ",\"status\":\"x\"}]}"}}},
      {"POST",
       "/api/v1/alerts/" + fp + "/ack",
       false,
       {{"expires_in 290y (past 2262)", R"({"expires_in":"290y"})"},
        {"expires_in beyond int64 nanoseconds", R"({"expires_in":"293y"})"},
        {"expires_in 1e400", R"({"expires_in":1e400})"},
        {"expires_in 1e999999", R"({"expires_in":1e999999})"},
        {"expires_in a 400-digit number", "{\"expires_in\":" + digits400 + "}"},
        {"expires_in negative", R"({"expires_in":"-1h"})"},
        {"by a number", R"({"by":1e400})"}}},
      {"POST",
       "/api/v1/acks",
       false,
       {{"no matchers", R"({"by":"x"})"},
        {"expires_in 290y", R"({"matchers":[{"name":"alertname","value":"Disk"}],"expires_in":"290y"})"},
        {"expires_in 1e400", R"({"matchers":[{"name":"alertname","value":"Disk"}],"expires_in":1e400})"},
        {"bad regex", R"({"matchers":[{"name":"alertname","value":"(","isRegex":true}]})"},
        {"bad name", R"({"matchers":[{"name":"a b","value":"x"}]})"},
        {"isRegex a string", R"({"matchers":[{"name":"a","value":"x","isRegex":"yes"}]})"}}},
      {"DELETE", "/api/v1/alerts/not-a-fingerprint/ack", false, {}},
      {"DELETE", "/api/v1/alerts/0000000000000001/ack", false, {}},
      {"POST",
       "/api/v2/silences",
       true,
       {{"missing fields", "{}"},
        {"endsAt after 2262",
         R"({"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2023-11-14T22:13:20Z",
             "endsAt":"2262-04-12T00:00:00Z","createdBy":"x","comment":"y"})"},
        {"startsAt 1e400",
         R"({"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":1e400,
             "endsAt":"2023-11-15T22:13:20Z","createdBy":"x","comment":"y"})"},
        {"isRegex a string",
         R"({"matchers":[{"name":"a","value":"b","isRegex":"no"}],"startsAt":"2023-11-14T22:13:20Z",
             "endsAt":"2023-11-15T22:13:20Z","createdBy":"x","comment":"y"})"},
        {"unknown id",
         R"({"id":"nope","matchers":[{"name":"a","value":"b","isRegex":false}],
             "startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-15T22:13:20Z","createdBy":"x",
             "comment":"y"})"}}},
      {"DELETE", "/api/v2/silence/not-a-silence", true, {}},
  };
  const std::string before = api.State();
  size_t checked = 0;
  for (const auto& ep : endpoints) {
    auto bodies = ep.bad;
    // DELETE endpoints take no body: their path is what is malformed.
    if (std::string(ep.method) == "DELETE") {
      bodies = {{"no body", ""}};
    } else {
      for (auto& b : CommonBadBodies()) bodies.push_back(b);
    }
    for (const auto& [name, body] : bodies) {
      INFO(ep.method << " " << ep.path << ": " << name);
      Response r = api.Call(ep.method, ep.path, body);
      CHECK_MESSAGE(r.status >= 400, r.body);
      CHECK_MESSAGE(r.status < 500, r.body);
      if (ep.alertmanager_errors) {
        CHECK_MESSAGE(IsAlertmanagerError(r.body), r.body);
      } else {
        CHECK_MESSAGE(IsJsonErrorObject(r.body), r.body);
      }
      CHECK(api.State() == before);
      ++checked;
    }
  }
  CHECK(checked >= 90);

  struct Query {
    const char* name;
    std::string target;
    bool alertmanager_errors;
  } queries[] = {
      {"alerts: bad boolean", "/api/v2/alerts?active=maybe", false},
      {"alerts: unclosed matcher", "/api/v2/alerts?filter={alertname=", false},
      {"alerts: bad regex", "/api/v2/alerts?filter=alertname=~\"(\"", false},
      {"alerts: bad receiver regex", "/api/v2/alerts?receiver=(", false},
      {"alerts: matcher without operator", "/api/v2/alerts?filter=alertname", false},
      {"groups: bad boolean", "/api/v2/alerts/groups?inhibited=2", false},
      {"groups: bad matcher", "/api/v2/alerts/groups?filter=a=\"unterminated", false},
      {"acks: bad history", "/api/v1/acks?history=maybe", false},
      {"rules: bad type", "/api/v1/rules?type=bogus", false},
      {"silences: bad matcher", "/api/v2/silences?filter={", true},
      {"silence: unknown id", "/api/v2/silence/not-a-silence", true},
  };
  for (const auto& q : queries) {
    INFO(q.name);
    Response r = api.Call("GET", q.target);
    CHECK_MESSAGE(r.status >= 400, r.body);
    CHECK_MESSAGE(r.status < 500, r.body);
    if (q.alertmanager_errors) {
      CHECK_MESSAGE(IsAlertmanagerError(r.body), r.body);
    } else {
      CHECK_MESSAGE(IsJsonErrorObject(r.body), r.body);
    }
  }
  CHECK(api.State() == before);
}

TEST_CASE("expires_in of 290 years is refused rather than wrapped to the year 1732") {
  FullApi api;
  Response r = api.Call("POST", "/api/v1/alerts/" + api.fingerprint + "/ack",
                        R"({"by":"bob","expires_in":"290y"})");
  CHECK(r.status == 400);
  CHECK(IsJsonErrorObject(r.body));
  CHECK(r.body.find("2262") != std::string::npos);
  // The longest expiry that fits is accepted and printed as it is.
  r = api.Call("POST", "/api/v1/alerts/" + api.fingerprint + "/ack",
               R"({"by":"bob","expires_in":"200y"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const std::string expires = json::parse(r.body)["expiresAt"].get<std::string>();
  CHECK(expires.rfind("2223-", 0) == 0);
}
