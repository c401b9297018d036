// Alertmanager API v2, silences: POST /api/v2/silences (create and update),
// GET /api/v2/silences, GET and DELETE /api/v2/silence/{id}, with Alertmanager 0.25's JSON
// and status codes (api/v2/api.go, api/v2/openapi.yaml; ../shared/COMPAT.md sections 3, 9).
// Errors the handler itself finds are answered as Alertmanager does: a JSON string for 400
// and 404, go-openapi's {"code","message"} for body validation (422).
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/json_writer.h"
#include "core/matcher.h"

namespace alertd::api {
namespace {

using router::SilenceState;

Response JsonStringResponse(int status, std::string_view msg) {
  std::string body;
  AppendJsonString(&body, msg);
  body.push_back('\n');
  return Response::Json(status, std::move(body));
}

Response Unprocessable(std::string_view msg) {
  std::string body = "{\"code\":612,\"message\":";
  AppendJsonString(&body, msg);
  body.append("}\n");
  return Response::Json(422, std::move(body));
}

// A postableSilence, validated as go-swagger does before the handler runs (422 on a missing
// field or an empty matcher list).
struct Parsed {
  Silence silence;
  std::optional<Response> error;
};

Parsed ParsePostableSilence(std::string_view body) {
  Parsed p;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    p.error = JsonStringResponse(400, fmt::format("parsing silence body failed: {}", e.what()));
    return p;
  }
  if (!j.is_object()) {
    p.error = JsonStringResponse(400, "parsing silence body failed: not a JSON object");
    return p;
  }
  try {
    for (const char* field : {"comment", "createdBy", "endsAt", "matchers", "startsAt"}) {
      if (!j.contains(field) || j[field].is_null()) {
        p.error = Unprocessable(fmt::format("{} in body is required", field));
        return p;
      }
    }
    const auto& ms = j["matchers"];
    if (!ms.is_array()) {
      p.error = Unprocessable("matchers in body must be of type array");
      return p;
    }
    if (ms.empty()) {
      p.error = Unprocessable("matchers in body should have at least 1 items");
      return p;
    }
    for (size_t i = 0; i < ms.size(); ++i) {
      const auto& m = ms[i];
      for (const char* field : {"isRegex", "name", "value"}) {
        if (!m.contains(field) || m[field].is_null()) {
          p.error = Unprocessable(fmt::format("matchers.{}.{} in body is required", i, field));
          return p;
        }
      }
      const bool re = m["isRegex"].get<bool>();
      const bool eq = m.value("isEqual", true);
      const MatchType t = re ? (eq ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                             : (eq ? MatchType::kEqual : MatchType::kNotEqual);
      auto matcher =
          Matcher::Create(t, m["name"].get<std::string>(), m["value"].get<std::string>());
      if (!matcher.ok()) {
        p.error =
            JsonStringResponse(400, fmt::format("silence invalid: invalid label matcher {}: {}", i,
                                                matcher.status().message()));
        return p;
      }
      p.silence.matchers.push_back(std::move(*matcher));
    }
    for (const char* field : {"startsAt", "endsAt"}) {
      auto t = ParseRFC3339(j[field].get<std::string>());
      if (!t.ok()) {
        p.error = Unprocessable(fmt::format("{} in body must be of type date-time: {}", field,
                                            GoQuote(j[field].get<std::string>())));
        return p;
      }
      (std::string_view(field) == "startsAt" ? p.silence.starts_at : p.silence.ends_at) = *t;
    }
    p.silence.created_by = j["createdBy"].get<std::string>();
    p.silence.comment = j["comment"].get<std::string>();
    if (j.contains("id") && j["id"].is_string()) p.silence.id = j["id"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    p.error = JsonStringResponse(400, fmt::format("parsing silence body failed: {}", e.what()));
  }
  return p;
}

void AppendGettableSilence(std::string* out, const Silence& s, Time now) {
  out->append("{\"id\":");
  AppendJsonString(out, s.id);
  out->append(",\"status\":{\"state\":");
  AppendJsonString(out, router::SilenceStateString(router::StateOf(s, now)));
  out->append("},\"updatedAt\":");
  AppendDateTimeJson(out, s.updated_at);
  out->append(",\"comment\":");
  AppendJsonString(out, s.comment);
  out->append(",\"createdBy\":");
  AppendJsonString(out, s.created_by);
  out->append(",\"endsAt\":");
  AppendDateTimeJson(out, s.ends_at);
  out->append(",\"matchers\":[");
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    const auto& m = s.matchers[i];
    if (i) out->push_back(',');
    out->append(m.is_equal() ? "{\"isEqual\":true" : "{\"isEqual\":false");
    out->append(m.is_regex() ? ",\"isRegex\":true" : ",\"isRegex\":false");
    out->append(",\"name\":");
    AppendJsonString(out, m.name());
    out->append(",\"value\":");
    AppendJsonString(out, m.value());
    out->push_back('}');
  }
  out->append("],\"startsAt\":");
  AppendDateTimeJson(out, s.starts_at);
  out->push_back('}');
}

// api/v2 silenceMatchesFilterLabels: the filter matches the labels a silence's equality
// matchers describe.
bool MatchesFilter(const Silence& s, const Matchers& filter) {
  LabelSet ls;
  for (const auto& m : s.matchers) {
    if (m.type() == MatchType::kEqual) ls.Set(m.name(), m.value());
  }
  return MatchesAll(filter, ls);
}

// api/v2 sortSilences: active ones by endsAt, then pending ones by startsAt, then expired ones
// by endsAt, latest first.
void SortSilences(std::vector<Silence>& v, Time now) {
  auto rank = [now](const Silence& s) {
    switch (router::StateOf(s, now)) {
      case SilenceState::kActive:
        return 0;
      case SilenceState::kPending:
        return 1;
      case SilenceState::kExpired:
        return 2;
    }
    return 2;
  };
  std::stable_sort(v.begin(), v.end(), [&](const Silence& a, const Silence& b) {
    const int ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb;
    if (ra == 0) return a.ends_at < b.ends_at;
    if (ra == 1) return a.starts_at < b.starts_at;
    return a.ends_at > b.ends_at;
  });
}

Response PostSilence(const ApiContext& ctx, const Request& req) {
  auto p = ParsePostableSilence(req.body);
  if (p.error) return *p.error;
  const Time now = ctx.clock->Now();
  if (!(p.silence.starts_at < p.silence.ends_at)) {
    return JsonStringResponse(400, "Failed to create silence: start time must be before end time");
  }
  if (p.silence.ends_at < now) {
    return JsonStringResponse(400, "Failed to create silence: end time can't be in the past");
  }
  auto id = ctx.silences->Set(std::move(p.silence));
  if (!id.ok()) {
    const int code = id.status().code() == Status::Code::kNotFound          ? 404
                     : id.status().code() == Status::Code::kInvalidArgument ? 400
                     : id.status().code() == Status::Code::kUnavailable     ? 503
                                                                            : 500;
    return JsonStringResponse(code, id.status().message());
  }
  std::string body = "{\"silenceID\":";
  AppendJsonString(&body, *id);
  body.append("}\n");
  return Response::Json(200, std::move(body));
}

Response GetSilences(const ApiContext& ctx, const Request& req) {
  Matchers filter;
  for (auto v : req.QueryValues("filter")) {
    auto m = ParseMatcher(v);
    if (!m.ok())
      return JsonStringResponse(400, fmt::format("bad matcher format: {}", m.status().message()));
    filter.push_back(std::move(*m));
  }
  const Time now = ctx.clock->Now();
  auto all = ctx.silences->List();
  std::vector<Silence> selected;
  for (auto& s : all) {
    if (MatchesFilter(s, filter)) selected.push_back(std::move(s));
  }
  SortSilences(selected, now);
  std::string body = "[";
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i) body.push_back(',');
    AppendGettableSilence(&body, selected[i], now);
  }
  body.append("]\n");
  return Response::Json(200, std::move(body));
}

Response GetSilence(const ApiContext& ctx, const Request& req) {
  auto s = ctx.silences->Get(req.path_params.at("id"));
  if (!s) return Response::Json(404, "");
  std::string body;
  AppendGettableSilence(&body, *s, ctx.clock->Now());
  body.push_back('\n');
  return Response::Json(200, std::move(body));
}

Response DeleteSilence(const ApiContext& ctx, const Request& req) {
  Status s = ctx.silences->Expire(req.path_params.at("id"));
  if (s.code() == Status::Code::kNotFound) return Response::Json(404, "");
  if (!s.ok()) {
    return JsonStringResponse(s.code() == Status::Code::kUnavailable ? 503 : 500, s.message());
  }
  return Response::Json(200, "");
}

}  // namespace

void RegisterSilencesV2(Router& router, const ApiContext& ctx) {
  auto wrap = [ctx](Response (*fn)(const ApiContext&, const Request&)) {
    return [ctx, fn](const Request& req) {
      if (!ctx.silences) return Response::Error(503, "silences are not available");
      return fn(ctx, req);
    };
  };
  router.HandleSync("POST", "/api/v2/silences", wrap(&PostSilence));
  router.HandleSync("GET", "/api/v2/silences", wrap(&GetSilences));
  router.HandleSync("GET", "/api/v2/silence/{id}", wrap(&GetSilence));
  router.HandleSync("DELETE", "/api/v2/silence/{id}", wrap(&DeleteSilence));
}

}  // namespace alertd::api
