// The on-call API through the API's Router on a fake clock: who is on call (rotation, then an
// override), overrides created, listed and deleted with every bad input refused with a JSON
// 4xx before anything changes, the iCalendar feed, and the `schedule` role.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/api.h"
#include "router/schedule_overrides.h"
#include "tests/fakes/fake_scheduler.h"
#include "tests/fakes/router_stores.h"

using namespace alertd;
using namespace alertd::api;
using json = nlohmann::json;

namespace {

Time At(const char* rfc3339) { return *ParseRFC3339(rfc3339); }

const char* kConfig =
    "route: {receiver: a}\nreceivers: [{name: a}]\n"
    "people:\n"
    "  - {name: alice, email: alice@example.com, slack: U1, phone: '+491'}\n"
    "  - {name: bob, email: bob@example.com}\n"
    "  - {name: carol, email: carol@example.com}\n"
    "schedules:\n"
    "  - name: primary\n"
    "    time_zone: Europe/Berlin\n"
    "    rotations:\n"
    "      - {name: weekly, start: 2026-01-05T09:00, shift: 1w, participants: [alice, bob]}\n";

struct Api {
  testing::FakeClock clock{At("2026-03-29T12:00:00Z")};
  testing::MemoryRouterStores stores;
  router::ScheduleOverrides overrides{&stores};
  std::shared_ptr<Router> http = std::make_shared<Router>();
  AuthHolder auth;

  explicit Api(bool with_auth = false) {
    auto loaded = config::LoadConfigString(kConfig, "/tmp/alertd-test/alertd.yml");
    REQUIRE_MESSAGE(loaded.ok(), loaded.ErrorText());
    auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
    REQUIRE(overrides.Load().ok());
    ApiContext ctx;
    ctx.clock = &clock;
    ctx.config = [cfg] { return cfg; };
    ctx.overrides = &overrides;
    if (with_auth) {
      config::ServerConfig s;
      s.auth_tokens.push_back({"planner", "schedule-secret", "",
                               static_cast<config::RoleSet>(config::Role::kSchedule)});
      s.auth_tokens.push_back(
          {"root", "admin-secret", "", static_cast<config::RoleSet>(config::Role::kAdmin)});
      s.auth_tokens.push_back(
          {"acker", "ack-secret", "", static_cast<config::RoleSet>(config::Role::kAck)});
      auto a = Authenticator::FromConfig(s);
      REQUIRE(a.ok());
      auth.Set(*a);
      ctx.auth = &auth;
    }
    RegisterApi(*http, ctx);
  }

  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& token = "") {
    Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.body = body;
    if (method != "GET") req.headers["content-type"] = "application/json";
    if (!body.empty()) req.headers["content-length"] = std::to_string(body.size());
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
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

  json OnCallNow() {
    auto r = Call("GET", "/api/v1/oncall");
    REQUIRE(r.status == 200);
    auto j = json::parse(r.body);
    REQUIRE(j["schedules"].size() == 1);
    return j["schedules"][0];
  }
};

std::string ErrorOf(const Response& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error")) return "<" + r.body + ">";
  return j["error"].get<std::string>();
}

}  // namespace

TEST_CASE("GET /api/v1/oncall: who is on call now, from which rotation, until when, and next") {
  Api api;
  json s = api.OnCallNow();
  CHECK(s["name"] == "primary");
  CHECK(s["timeZone"] == "Europe/Berlin");
  // Week 11 (bob) runs from Monday 09:00 CET to Monday 09:00 CEST.
  CHECK(s["now"]["person"]["name"] == "bob");
  CHECK(s["now"]["person"]["email"] == "bob@example.com");
  CHECK(s["now"]["rotation"] == "weekly");
  CHECK(s["now"]["override"].is_null());
  CHECK(s["now"]["end"] == "2026-03-30T07:00:00.000Z");
  REQUIRE(s["next"].size() == 3);
  CHECK(s["next"][0]["person"]["name"] == "alice");
  CHECK(s["next"][0]["person"]["slack"] == "U1");
  CHECK(s["next"][0]["start"] == "2026-03-30T07:00:00.000Z");
  CHECK(s["next"][1]["person"]["name"] == "bob");
  CHECK(s["next"][2]["person"]["name"] == "alice");
}

TEST_CASE("overrides: bad input is a JSON 4xx and changes nothing; then create, list, delete") {
  Api api;
  const std::string path = "/api/v1/schedules/primary/overrides";
  struct Row {
    const char* name;
    const char* path;
    const char* body;
    int status;
    const char* error;
  };
  const Row rows[] = {
      {"not JSON", "/api/v1/schedules/primary/overrides", "{", 400, "malformed JSON"},
      {"not an object", "/api/v1/schedules/primary/overrides", "[]", 400, "JSON object"},
      {"unknown schedule", "/api/v1/schedules/nope/overrides",
       R"({"person":"carol","start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z"})", 404,
       "no schedule \"nope\""},
      {"unknown person", "/api/v1/schedules/primary/overrides",
       R"({"person":"zed","start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z"})", 400,
       "unknown person \"zed\""},
      {"no person", "/api/v1/schedules/primary/overrides",
       R"({"start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z"})", 400, "person must be"},
      {"bad start", "/api/v1/schedules/primary/overrides",
       R"({"person":"carol","start":"tomorrow","end":"2026-03-29T14:00:00Z"})", 400, "start"},
      {"end before start", "/api/v1/schedules/primary/overrides",
       R"({"person":"carol","start":"2026-03-29T14:00:00Z","end":"2026-03-29T13:00:00Z"})", 400,
       "end must be after start"},
      {"in the past", "/api/v1/schedules/primary/overrides",
       R"({"person":"carol","start":"2026-03-28T10:00:00Z","end":"2026-03-28T11:00:00Z"})", 400,
       "end is in the past"},
      {"unknown field", "/api/v1/schedules/primary/overrides",
       R"({"person":"carol","start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z","who":1})",
       400, "unknown field \"who\""},
      {"comment not a string", "/api/v1/schedules/primary/overrides",
       R"({"person":"carol","start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z","comment":3})",
       400, "comment must be a string"},
  };
  for (const auto& r : rows) {
    INFO(std::string(r.name));
    auto resp = api.Call("POST", r.path, r.body);
    CHECK(resp.status == r.status);
    CHECK_MESSAGE(ErrorOf(resp).find(r.error) != std::string::npos, ErrorOf(resp));
  }
  CHECK(api.overrides.List().empty());
  CHECK(api.stores.LoadOverrides()->empty());

  auto made = api.Call(
      "POST", path,
      R"({"person":"carol","start":"2026-03-29T11:00:00Z","end":"2026-03-29T18:00:00Z","comment":"swap, see #ops","createdBy":"dan"})");
  REQUIRE_MESSAGE(made.status == 200, made.body);
  json o = json::parse(made.body);
  CHECK(o["id"] == 1);
  CHECK(o["person"] == "carol");
  CHECK(o["createdBy"] == "dan");  // no auth: the request's word
  CHECK(o["createdAt"] == "2026-03-29T12:00:00.000Z");
  // Stored before it counts.
  auto stored = api.stores.LoadOverrides();
  REQUIRE(stored->size() == 1);
  CHECK((*stored)[0].comment == "swap, see #ops");

  json s = api.OnCallNow();
  CHECK(s["now"]["person"]["name"] == "carol");
  CHECK(s["now"]["override"] == 1);
  CHECK(s["now"]["rotation"].is_null());
  CHECK(s["now"]["end"] == "2026-03-29T18:00:00.000Z");
  CHECK(s["next"][0]["person"]["name"] == "bob");  // back to the rotation

  auto list = api.Call("GET", path);
  REQUIRE(list.status == 200);
  CHECK(json::parse(list.body)["overrides"].size() == 1);
  CHECK(api.Call("GET", "/api/v1/schedules/nope/overrides").status == 404);

  CHECK(api.Call("DELETE", path + "/abc").status == 400);
  CHECK(api.Call("DELETE", path + "/7").status == 404);
  CHECK(api.Call("DELETE", "/api/v1/schedules/other/overrides/1").status == 404);
  auto del = api.Call("DELETE", path + "/1");
  CHECK(del.status == 200);
  CHECK(api.Call("DELETE", path + "/1").status == 404);
  CHECK(api.stores.LoadOverrides()->empty());
  CHECK(api.OnCallNow()["now"]["person"]["name"] == "bob");
}

TEST_CASE("GET /api/v1/schedules/{name}.ics: the schedule as iCalendar") {
  Api api;
  auto r = api.Call("GET", "/api/v1/schedules/primary.ics");
  REQUIRE(r.status == 200);
  CHECK(r.content_type.find("text/calendar") == 0);
  CHECK(r.body.rfind("BEGIN:VCALENDAR\r\n", 0) == 0);
  // The shift in progress keeps its real start, so its UID is the same at every fetch.
  CHECK(r.body.find("DTSTART:20260323T080000Z\r\n") != std::string::npos);
  CHECK(r.body.find("SUMMARY:bob on call for primary\r\n") != std::string::npos);
  size_t events = 0;
  for (size_t p = r.body.find("BEGIN:VEVENT"); p != std::string::npos;
       p = r.body.find("BEGIN:VEVENT", p + 1)) {
    ++events;
  }
  CHECK(events == 9);  // the current week and the 8 weeks ahead
  CHECK(api.Call("GET", "/api/v1/schedules/nope.ics").status == 404);
  CHECK(api.Call("GET", "/api/v1/schedules/primary").status == 404);
}

TEST_CASE("overrides need the schedule or the admin role; who made one is the token's name") {
  Api api(/*with_auth=*/true);
  const std::string path = "/api/v1/schedules/primary/overrides";
  const std::string body =
      R"({"person":"carol","start":"2026-03-29T13:00:00Z","end":"2026-03-29T14:00:00Z","createdBy":"someone"})";
  auto refused = api.Call("POST", path, body, "ack-secret");
  CHECK(refused.status == 403);
  CHECK(ErrorOf(refused).find("lacks the \"schedule\" or \"admin\" role") != std::string::npos);
  CHECK(api.overrides.List().empty());
  auto planner = api.Call("POST", path, body, "schedule-secret");
  REQUIRE(planner.status == 200);
  CHECK(json::parse(planner.body)["createdBy"] == "planner");
  auto root = api.Call("POST", path, body, "admin-secret");
  REQUIRE(root.status == 200);
  CHECK(json::parse(root.body)["id"] == 2);
  CHECK(api.Call("DELETE", path + "/1", "", "ack-secret").status == 403);
  CHECK(api.Call("DELETE", path + "/1", "", "schedule-secret").status == 200);
  CHECK(api.Call("DELETE", path + "/2", "", "admin-secret").status == 200);
  CHECK(AccessOf("POST", "/api/v1/schedules/{name}/overrides").role == config::Role::kSchedule);
}
