// alertd's on-call API (oncall/oncall.h, router/schedule_overrides.h):
//   GET    /api/v1/oncall  every schedule: who is on call now (from which rotation or
//          override), until when, and the next three shifts
//   POST   /api/v1/schedules/{name}/overrides  {person, start, end, comment}: someone else on
//          call for [start, end); role `schedule` or `admin`
//   GET    /api/v1/schedules/{name}/overrides  the schedule's overrides, with who made them
//   DELETE /api/v1/schedules/{name}/overrides/{id}  role `schedule` or `admin`
//   GET    /api/v1/schedules/{name}.ics  iCalendar: one event per shift for 8 weeks
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/json_writer.h"
#include "oncall/ical.h"
#include "oncall/oncall.h"
#include "router/schedule_overrides.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxCommentBytes = 4096;
constexpr size_t kNextShifts = 3;
// How far back the calendar looks, so the shift in progress keeps its start (and its UID)
// from one fetch to the next.
constexpr Duration kCalendarBack = oncall::kDefaultHorizon;

Result<std::shared_ptr<const oncall::OnCall>> BuildOnCall(const config::Config& cfg) {
  return oncall::OnCall::Build(cfg);
}

std::vector<ScheduleOverride> Overrides(const ApiContext& ctx) {
  return ctx.overrides ? ctx.overrides->List() : std::vector<ScheduleOverride>{};
}

void AppendOverrideJson(std::string* b, const ScheduleOverride& o) {
  *b += fmt::format("{{\"id\":{},\"schedule\":", o.id);
  AppendJsonString(b, o.schedule);
  *b += ",\"person\":";
  AppendJsonString(b, o.person);
  *b += ",\"start\":";
  AppendDateTimeJson(b, o.start);
  *b += ",\"end\":";
  AppendDateTimeJson(b, o.end);
  *b += ",\"comment\":";
  AppendJsonString(b, o.comment);
  *b += ",\"createdBy\":";
  AppendJsonString(b, o.created_by);
  *b += ",\"createdAt\":";
  AppendDateTimeJson(b, o.created_at);
  *b += "}";
}

void AppendShiftJson(std::string* b, const config::Config& cfg, const oncall::Shift& sh) {
  *b += "{\"person\":";
  if (sh.person.empty()) {
    *b += "null";
  } else {
    const config::Person* p = cfg.FindPerson(sh.person);
    *b += "{\"name\":";
    AppendJsonString(b, sh.person);
    // A person removed from the configuration while on call (an override) has no contacts.
    *b += ",\"email\":";
    AppendJsonString(b, p ? p->email : std::string());
    *b += ",\"slack\":";
    AppendJsonString(b, p ? p->slack : std::string());
    *b += ",\"phone\":";
    AppendJsonString(b, p ? p->phone : std::string());
    *b += "}";
  }
  *b += ",\"rotation\":";
  if (sh.rotation.empty()) {
    *b += "null";
  } else {
    AppendJsonString(b, sh.rotation);
  }
  *b += ",\"override\":";
  *b += sh.override_id > 0 ? std::to_string(sh.override_id) : "null";
  *b += ",\"start\":";
  AppendDateTimeJson(b, sh.start);
  *b += ",\"end\":";
  AppendDateTimeJson(b, sh.end);
  *b += "}";
}

Response GetOnCall(const ApiContext& ctx) {
  auto cfg = ctx.config();
  auto oc = BuildOnCall(*cfg);
  if (!oc.ok()) return Response::Error(500, oc.status().message());
  const auto overrides = Overrides(ctx);
  const Time now = ctx.clock->Now();
  std::string b = "{\"schedules\":[";
  bool first = true;
  for (const auto& s : cfg->schedules) {
    if (!first) b.push_back(',');
    first = false;
    b += "{\"name\":";
    AppendJsonString(&b, s.name);
    b += ",\"timeZone\":";
    AppendJsonString(&b, s.time_zone);
    auto shifts = (*oc)->NowAndNext(s.name, overrides, now, kNextShifts);
    b += ",\"now\":";
    if (shifts.empty()) {
      b += "null";
    } else {
      AppendShiftJson(&b, *cfg, shifts[0]);
    }
    b += ",\"next\":[";
    for (size_t i = 1; i < shifts.size(); ++i) {
      if (i > 1) b.push_back(',');
      AppendShiftJson(&b, *cfg, shifts[i]);
    }
    b += "]}";
  }
  b += "]}\n";
  return Response::Json(200, std::move(b));
}

Result<Time> TimeField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return Status::InvalidArgument(std::string(key) + " must be an RFC 3339 time string");
  auto t = ParseRFC3339(it->get<std::string>());
  if (!t.ok() || IsZero(*t))
    return Status::InvalidArgument(std::string(key) + ": " +
                                   (t.ok() ? std::string("the zero time") : t.status().message()));
  return *t;
}

Response PostOverride(const ApiContext& ctx, const Request& req) {
  if (!ctx.overrides) return Response::Error(503, "overrides are not available");
  auto cfg = ctx.config();
  const std::string& name = req.path_params.at("name");
  if (!cfg->FindSchedule(name)) return Response::Error(404, "no schedule \"" + name + "\"");
  json j;
  try {
    j = json::parse(req.body);
  } catch (const json::exception& e) {
    return Response::Error(400, std::string("malformed JSON body: ") + e.what());
  }
  if (!j.is_object()) return Response::Error(400, "the body must be a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (k != "person" && k != "start" && k != "end" && k != "comment" && k != "createdBy")
      return Response::Error(400, "unknown field \"" + k + "\"");
  }
  ScheduleOverride o;
  o.schedule = name;
  auto person = j.find("person");
  if (person == j.end() || !person->is_string() || person->get<std::string>().empty())
    return Response::Error(400, "person must be the name of a person in the configuration");
  o.person = person->get<std::string>();
  if (!cfg->FindPerson(o.person))
    return Response::Error(400, "unknown person \"" + o.person + "\" (not in people)");
  auto start = TimeField(j, "start");
  if (!start.ok()) return Response::Error(400, start.status().message());
  auto end = TimeField(j, "end");
  if (!end.ok()) return Response::Error(400, end.status().message());
  o.start = *start;
  o.end = *end;
  if (o.end <= o.start) return Response::Error(400, "end must be after start");
  const Time now = ctx.clock->Now();
  if (o.end <= now) return Response::Error(400, "end is in the past");
  for (const char* key : {"comment", "createdBy"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string()) return Response::Error(400, std::string(key) + " must be a string");
    std::string v = it->get<std::string>();
    if (v.size() > kMaxCommentBytes)
      return Response::Error(400, fmt::format("{} is {} bytes long; at most {} are kept", key,
                                              v.size(), kMaxCommentBytes));
    (std::string_view(key) == "comment" ? o.comment : o.created_by) = std::move(v);
  }
  // Who made it: the token's name when auth is on, else what the request says.
  if (!req.principal.empty()) o.created_by = req.principal;
  if (o.created_by.empty()) o.created_by = "anonymous";
  o.created_at = now;
  auto stored = ctx.overrides->Add(std::move(o));
  if (!stored.ok()) return Response::Error(503, stored.status().message());
  std::string b;
  AppendOverrideJson(&b, *stored);
  b += "\n";
  return Response::Json(200, std::move(b));
}

Response GetOverrides(const ApiContext& ctx, const Request& req) {
  auto cfg = ctx.config();
  const std::string& name = req.path_params.at("name");
  if (!cfg->FindSchedule(name)) return Response::Error(404, "no schedule \"" + name + "\"");
  std::string b = "{\"overrides\":[";
  bool first = true;
  for (const auto& o : Overrides(ctx)) {
    if (o.schedule != name) continue;
    if (!first) b.push_back(',');
    first = false;
    AppendOverrideJson(&b, o);
  }
  b += "]}\n";
  return Response::Json(200, std::move(b));
}

Response DeleteOverride(const ApiContext& ctx, const Request& req) {
  if (!ctx.overrides) return Response::Error(503, "overrides are not available");
  const std::string& name = req.path_params.at("name");
  const std::string& id_text = req.path_params.at("id");
  int64_t id = 0;
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos) {
    return Response::Error(400, "override id must be a positive integer");
  }
  id = std::stoll(id_text);
  Status s = ctx.overrides->Remove(name, id);
  if (s.code() == Status::Code::kNotFound) return Response::Error(404, s.message());
  if (!s.ok()) return Response::Error(503, s.message());
  return Response::Json(200, "{\"status\":\"ok\"}\n");
}

Response GetCalendar(const ApiContext& ctx, const Request& req) {
  const std::string& file = req.path_params.at("file");
  constexpr std::string_view kExt = ".ics";
  if (file.size() <= kExt.size() || file.compare(file.size() - kExt.size(), kExt.size(), kExt) != 0)
    return Response::Error(404, "not found: try /api/v1/schedules/{name}.ics");
  const std::string name = file.substr(0, file.size() - kExt.size());
  auto cfg = ctx.config();
  if (!cfg->FindSchedule(name)) return Response::Error(404, "no schedule \"" + name + "\"");
  auto oc = BuildOnCall(*cfg);
  if (!oc.ok()) return Response::Error(500, oc.status().message());
  const Time now = ctx.clock->Now();
  std::vector<oncall::Shift> shifts;
  for (auto& sh :
       (*oc)->Timeline(name, Overrides(ctx), now - kCalendarBack, now + oncall::kDefaultHorizon)) {
    if (sh.end > now) shifts.push_back(std::move(sh));
  }
  Response r;
  r.status = 200;
  r.content_type = "text/calendar; charset=utf-8";
  r.body = oncall::WriteICalendar(name, shifts, now);
  return r;
}

}  // namespace

void RegisterSchedulesV1(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/api/v1/oncall", [ctx](const Request&) { return GetOnCall(ctx); });
  router.HandleSync("POST", "/api/v1/schedules/{name}/overrides",
                    [ctx](const Request& req) { return PostOverride(ctx, req); });
  router.HandleSync("GET", "/api/v1/schedules/{name}/overrides",
                    [ctx](const Request& req) { return GetOverrides(ctx, req); });
  router.HandleSync("DELETE", "/api/v1/schedules/{name}/overrides/{id}",
                    [ctx](const Request& req) { return DeleteOverride(ctx, req); });
  router.HandleSync("GET", "/api/v1/schedules/{file}",
                    [ctx](const Request& req) { return GetCalendar(ctx, req); });
}

}  // namespace alertd::api
