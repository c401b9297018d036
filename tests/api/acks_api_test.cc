// The acknowledgement API over the real alert store and router (on a fake clock), through the
// API's Router: every error code (400 before 404 before 409, and that an error changes
// nothing), acks by fingerprint and by matchers, take-back, history, the default `by`, and
// the "ack" field of GET /api/v2/alerts.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

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

struct AckApi {
  std::string dir = testing::MakeTempDir("alertd-acks-api");
  testing::FakeClock clock{T0()};
  testing::FakeScheduler scheduler{&clock};
  InlineExecutor inline_;
  std::unique_ptr<storage::AlertStore> store;
  std::unique_ptr<router::Router> routing;
  std::shared_ptr<Router> http = std::make_shared<Router>();

  AckApi() {
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
    RegisterApi(*http, ctx);
  }
  ~AckApi() {
    routing.reset();
    store->Close();
    testing::RemoveTree(dir);
  }

  // Stores an alert alertname=<name>; resolved when `resolved`. Returns its fingerprint.
  std::string Put(const std::string& name, bool resolved = false) {
    Alert a;
    a.labels.Set("alertname", name);
    a.labels.Set("severity", "critical");
    a.starts_at = clock.Now() - 1min;
    a.updated_at = clock.Now();
    a.ends_at = resolved ? clock.Now() - 1s : clock.Now() + 5min;
    REQUIRE(store->Put({a}).ok());
    return a.labels.FingerprintHex();
  }

  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& principal = "") {
    Request req;
    req.method = method;
    req.target = path;
    auto q = path.find('?');
    req.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string query = path.substr(q + 1);
      auto eq = query.find('=');
      req.query.emplace_back(query.substr(0, eq), query.substr(eq + 1));
    }
    req.body = body;
    if (method != "GET") req.headers["content-type"] = "application/json";
    req.principal = principal;
    Response out;
    bool answered = false;
    http->Dispatch(req, [&](Response r) {
      r.DrainStream();
      out = std::move(r);
      answered = true;
    });
    REQUIRE(answered);
    return out;
  }
  json Acks(bool history) {
    auto r = Call("GET", std::string("/api/v1/acks") + (history ? "?history=true" : ""));
    REQUIRE(r.status == 200);
    return json::parse(r.body)["acks"];
  }
  json AlertV2(const std::string& fp) {
    auto r = Call("GET", "/api/v2/alerts");
    REQUIRE(r.status == 200);
    for (const auto& a : json::parse(r.body)) {
      if (a["fingerprint"] == fp) return a;
    }
    return json();
  }
};

std::string ErrorOf(const Response& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error")) return "<" + r.body + ">";
  return j["error"].get<std::string>();
}

}  // namespace

TEST_CASE("ack API: every error is answered before anything changes") {
  AckApi api;
  const std::string firing = api.Put("Firing");
  const std::string resolved = api.Put("Gone", /*resolved=*/true);
  const std::string unknown = "00000000deadbeef";
  // An existing ack, which no failed request may touch.
  REQUIRE(api.Call("POST", "/api/v1/alerts/" + firing + "/ack", R"({"by":"first"})").status == 200);
  const json before = api.Acks(true);

  struct Row {
    const char* name;
    std::string method, path, body;
    int status;
    const char* error;  // substring of the error message
  };
  const std::string ack_firing = "/api/v1/alerts/" + firing + "/ack";
  const std::vector<Row> rows = {
      {"malformed JSON", "POST", ack_firing, "{", 400, "malformed JSON"},
      {"a JSON array", "POST", ack_firing, "[]", 400, "JSON object"},
      {"a JSON string", "POST", ack_firing, R"("x")", 400, "JSON object"},
      {"by of the wrong type", "POST", ack_firing, R"({"by":5})", 400, "by must be a string"},
      {"expires_in zero", "POST", ack_firing, R"({"expires_in":"0s"})", 400, "positive duration"},
      {"expires_in negative", "POST", ack_firing, R"({"expires_in":"-1h"})", 400,
       "positive duration"},
      {"expires_in not a duration", "POST", ack_firing, R"({"expires_in":"soon"})", 400,
       "positive duration"},
      {"expires_in a number", "POST", ack_firing, R"({"expires_in":60})", 400,
       "expires_in must be a string"},
      {"bad body before unknown fingerprint", "POST", "/api/v1/alerts/" + unknown + "/ack", "[1]",
       400, "JSON object"},
      {"bad body before resolved alert", "POST", "/api/v1/alerts/" + resolved + "/ack",
       R"({"expires_in":"0"})", 400, "positive duration"},
      {"unknown fingerprint", "POST", "/api/v1/alerts/" + unknown + "/ack", "{}", 404, "not found"},
      {"not a fingerprint", "POST", "/api/v1/alerts/xyz/ack", "{}", 404, "not found"},
      {"resolved alert", "POST", "/api/v1/alerts/" + resolved + "/ack", "{}", 409, "resolved"},
      {"DELETE of an unacknowledged alert", "DELETE", "/api/v1/alerts/" + resolved + "/ack", "",
       404, "not acknowledged"},
      {"DELETE of an unknown alert", "DELETE", "/api/v1/alerts/" + unknown + "/ack", "", 404,
       "not acknowledged"},
      {"bulk without matchers", "POST", "/api/v1/acks", R"({"by":"x"})", 400, "matchers"},
      {"bulk with empty matchers", "POST", "/api/v1/acks", R"({"matchers":[]})", 400,
       "at least one matcher"},
      {"bulk with a JSON array", "POST", "/api/v1/acks", R"([{"name":"a","value":"b"}])", 400,
       "JSON object"},
      {"bulk matcher without a name", "POST", "/api/v1/acks", R"({"matchers":[{"value":"b"}]})",
       400, "matchers.0.name"},
      {"bulk matcher with a bad regex", "POST", "/api/v1/acks",
       R"({"matchers":[{"name":"a","value":"(","isRegex":true}]})", 400, "matchers.0"},
      {"bulk matcher with a bad label name", "POST", "/api/v1/acks",
       R"({"matchers":[{"name":"a-b","value":"x"}]})", 400, "invalid label name"},
      {"bulk with a bad expires_in", "POST", "/api/v1/acks",
       R"({"matchers":[{"name":"alertname","value":"Firing"}],"expires_in":"-5m"})", 400,
       "positive duration"},
      {"history not a boolean", "GET", "/api/v1/acks?history=maybe", "", 400, "history"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = api.Call(row.method, row.path, row.body);
    CHECK(r.status == row.status);
    CHECK(ErrorOf(r).find(row.error) != std::string::npos);
    CHECK(api.Acks(true) == before);
  }
}

TEST_CASE("ack API: ack, replace, take back, history and the alert's ack field") {
  AckApi api;
  const std::string fp = api.Put("Firing");
  CHECK(api.AlertV2(fp)["ack"].is_null());

  // All fields optional: `by` defaults to the authenticated principal, else "anonymous".
  auto r = api.Call("POST", "/api/v1/alerts/" + fp + "/ack", "");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["by"] == "anonymous");
  CHECK(json::parse(r.body)["token"].is_null());  // no auth: no token
  r = api.Call("POST", "/api/v1/alerts/" + fp + "/ack", "{}", "ops-token");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["by"] == "ops-token");
  CHECK(json::parse(r.body)["token"] == "ops-token");

  // A new ack replaces the current one.
  r = api.Call("POST", "/api/v1/alerts/" + fp + "/ack",
               R"({"by":"alice","comment":"on it","expires_in":"2h"})", "ops-token");
  REQUIRE(r.status == 200);
  json ack = json::parse(r.body);
  CHECK(ack["fingerprint"] == fp);
  CHECK(ack["by"] == "alice");
  CHECK(ack["token"] == "ops-token");  // who really made it, beside who it says
  CHECK(ack["at"] == "2023-11-14T22:13:20.000Z");
  CHECK(ack["expiresAt"] == "2023-11-15T00:13:20.000Z");
  CHECK(ack["endedAt"].is_null());

  json field = api.AlertV2(fp)["ack"];
  CHECK(field == json::parse(R"({"by":"alice","comment":"on it","at":"2023-11-14T22:13:20.000Z",
                                 "expiresAt":"2023-11-15T00:13:20.000Z"})"));
  CHECK(api.Acks(false).size() == 1);
  json all = api.Acks(true);
  REQUIRE(all.size() == 3);
  CHECK(all[1]["endReason"] == "replaced");

  // Taken back: 200 with the ended ack, then 404.
  r = api.Call("DELETE", "/api/v1/alerts/" + fp + "/ack");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["endReason"] == "deleted");
  CHECK(api.Call("DELETE", "/api/v1/alerts/" + fp + "/ack").status == 404);
  CHECK(api.AlertV2(fp)["ack"].is_null());
  CHECK(api.Acks(false).empty());
  CHECK(api.Acks(true).size() == 3);

  // It expires: the field goes back to null and the history says why.
  REQUIRE(api.Call("POST", "/api/v1/alerts/" + fp + "/ack", R"({"expires_in":"2m"})").status ==
          200);
  CHECK(!api.AlertV2(fp)["ack"].is_null());
  api.clock.Add(2min);  // before the alert's endsAt (5m)
  CHECK(api.AlertV2(fp)["ack"].is_null());
  all = api.Acks(true);
  CHECK(all[0]["endReason"] == "expired");
}

TEST_CASE("ack API: bulk ack by matchers acknowledges what fires and matches now") {
  AckApi api;
  const std::string a = api.Put("TargetDown");
  const std::string b = api.Put("TargetDownToo");
  api.Put("Other");
  api.Put("TargetDownOld", /*resolved=*/true);
  auto r = api.Call("POST", "/api/v1/acks",
                    R"({"matchers":[{"name":"alertname","value":"TargetDown.*","isRegex":true}],
                        "by":"you","comment":"bulk"})");
  REQUIRE(r.status == 200);
  auto fps = json::parse(r.body)["fingerprints"].get<std::vector<std::string>>();
  std::sort(fps.begin(), fps.end());
  std::vector<std::string> want = {a, b};
  std::sort(want.begin(), want.end());
  CHECK(fps == want);
  CHECK(api.AlertV2(a)["ack"]["by"] == "you");
  // Not a standing rule: an alert that starts matching later is not acknowledged.
  const std::string later = api.Put("TargetDownLater");
  CHECK(api.AlertV2(later)["ack"].is_null());
  // Nothing matches: 200 with no fingerprints.
  r = api.Call("POST", "/api/v1/acks", R"({"matchers":[{"name":"alertname","value":"Nope"}]})");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["fingerprints"].empty());
  // The ack ends when the alert resolves.
  Alert gone;
  gone.labels.Set("alertname", "TargetDown");
  gone.labels.Set("severity", "critical");
  gone.starts_at = api.clock.Now() - 1min;
  gone.updated_at = api.clock.Now();
  gone.ends_at = api.clock.Now();
  REQUIRE(api.store->Put({gone}).ok());
  bool ended = false;
  for (const auto& x : api.Acks(true)) {
    if (x["fingerprint"] == a && x["endReason"] == "resolved") ended = true;
  }
  CHECK(ended);
}

TEST_CASE("ack API: bulk ack by fingerprints acknowledges the listed alerts that fire") {
  AckApi api;
  const std::string a = api.Put("GroupA");
  const std::string b = api.Put("GroupB");
  const std::string other = api.Put("Other");
  const std::string old = api.Put("Old", /*resolved=*/true);
  // Malformed lists are refused and change nothing.
  for (const char* body : {R"({"fingerprints":[]})", R"({"fingerprints":"abc"})",
                           R"({"fingerprints":["xyz"]})", R"({"fingerprints":[12]})"}) {
    auto r = api.Call("POST", "/api/v1/acks", body);
    CHECK_MESSAGE(r.status == 400, body);
    CHECK_MESSAGE(ErrorOf(r).find("fingerprints") != std::string::npos, ErrorOf(r));
  }
  CHECK(api.Acks(false).empty());
  // Unknown and resolved alerts are left out; a repeated one is acknowledged once.
  auto r = api.Call("POST", "/api/v1/acks",
                    "{\"fingerprints\":[\"" + a + "\",\"" + b + "\",\"" + a + "\",\"" + old +
                        "\",\"00000000000000ff\"],\"by\":\"me\",\"comment\":\"group\"}");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto fps = json::parse(r.body)["fingerprints"].get<std::vector<std::string>>();
  std::sort(fps.begin(), fps.end());
  std::vector<std::string> want = {a, b};
  std::sort(want.begin(), want.end());
  CHECK(fps == want);
  CHECK(api.AlertV2(a)["ack"]["comment"] == "group");
  CHECK(api.AlertV2(b)["ack"]["by"] == "me");
  CHECK(api.AlertV2(other)["ack"].is_null());
  CHECK(api.Acks(false).size() == 2);
}
