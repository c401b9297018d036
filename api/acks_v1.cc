// alertd's acknowledgement API (none of Alertmanager, Prometheus or vmalert has one):
//   POST   /api/v1/alerts/{fingerprint}/ack  {"by","comment","expires_in"}, all optional; the
//          ack records the auth token's name (`token`) beside the `by` given
//   DELETE /api/v1/alerts/{fingerprint}/ack  takes the ack back (404 if not acknowledged)
//   POST   /api/v1/acks  {"matchers":[{"name","value","isRegex","isEqual"}], "by", ...}
//          acknowledges every firing alert that matches now; answers their fingerprints.
//          With {"fingerprints":[...]} instead of matchers: those of the listed alerts that
//          are firing (a group's, from the web page)
//   GET    /api/v1/acks[?history=true]  current acks, and with history the ended ones
// Errors change nothing. The body is checked first (malformed JSON, not an object, a field of
// the wrong type, expires_in not a positive duration, bad matchers: 400); then the alert
// (unknown fingerprint: 404; resolved: 409).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/json_writer.h"
#include "core/duration.h"
#include "core/matcher.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

struct AckBody {
  router::AckRequest req;
  Matchers matchers;
  std::optional<std::vector<uint64_t>> fingerprints;  // POST /api/v1/acks {"fingerprints"}
};

Result<std::vector<uint64_t>> ParseFingerprints(const json& j) {
  const json& a = j["fingerprints"];
  if (!a.is_array() || a.empty()) {
    return Status::InvalidArgument("fingerprints must be a non-empty array of fingerprints");
  }
  std::vector<uint64_t> out;
  for (size_t i = 0; i < a.size(); ++i) {
    std::optional<uint64_t> fp;
    if (a[i].is_string()) fp = ParseFingerprintHex(a[i].get<std::string>());
    if (!fp) {
      return Status::InvalidArgument(
          fmt::format("fingerprints.{} must be a fingerprint (16 hex digits)", i));
    }
    out.push_back(*fp);
  }
  return out;
}


// A string field, if present; an error for another type.
Status StringField(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Status::InvalidArgument(fmt::format("{} must be a string", name));
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<Matchers> ParseMatchers(const json& j) {
  auto it = j.find("matchers");
  if (it == j.end() || !it->is_array()) {
    return Status::InvalidArgument("matchers must be an array of matcher objects");
  }
  if (it->empty()) return Status::InvalidArgument("at least one matcher required");
  Matchers out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    if (!m.is_object())
      return Status::InvalidArgument(fmt::format("matchers.{} must be an object", i));
    std::string name, value;
    for (const char* f : {"name", "value"}) {
      auto v = m.find(f);
      if (v == m.end() || !v->is_string()) {
        return Status::InvalidArgument(fmt::format("matchers.{}.{} must be a string", i, f));
      }
    }
    name = m["name"].get<std::string>();
    value = m["value"].get<std::string>();
    bool is_regex = false, is_equal = true;
    for (auto [f, dest] : {std::pair<const char*, bool*>{"isRegex", &is_regex},
                           std::pair<const char*, bool*>{"isEqual", &is_equal}}) {
      auto v = m.find(f);
      if (v == m.end() || v->is_null()) continue;
      if (!v->is_boolean()) {
        return Status::InvalidArgument(fmt::format("matchers.{}.{} must be a boolean", i, f));
      }
      *dest = v->get<bool>();
    }
    if (!IsValidLabelName(name)) {
      return Status::InvalidArgument(
          fmt::format("matchers.{}: invalid label name {}", i, GoQuote(name)));
    }
    const MatchType type = is_regex ? (is_equal ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                                    : (is_equal ? MatchType::kEqual : MatchType::kNotEqual);
    auto matcher = Matcher::Create(type, std::move(name), std::move(value));
    if (!matcher.ok()) {
      return matcher.status().WithPrefix(fmt::format("matchers.{}", i));
    }
    out.push_back(std::move(*matcher));
  }
  return out;
}

// Parses and checks a body; `with_matchers` for POST /api/v1/acks. An empty body is {}. `now`
// bounds expires_in: the expiry must be a time alertd can represent.
Result<AckBody> ParseBody(const Request& req, bool with_matchers, Time now) {
  json j;
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    j = json::object();
  } else {
    try {
      j = json::parse(req.body);
    } catch (const json::exception& e) {
      // parse_error, and out_of_range for numbers such as 1e400 that do not fit a double.
      return Status::InvalidArgument(std::string("malformed JSON body: ") + e.what());
    }
  }
  if (!j.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  AckBody out;
  if (Status s = StringField(j, "by", &out.req.by); !s.ok()) return s;
  if (Status s = StringField(j, "comment", &out.req.comment); !s.ok()) return s;
  std::string expires;
  if (Status s = StringField(j, "expires_in", &expires); !s.ok()) return s;
  if (j.contains("expires_in") && !j["expires_in"].is_null()) {
    auto d = ParseDuration(expires);
    if (!d.ok() || *d <= Duration::zero()) {
      return Status::InvalidArgument(fmt::format(
          "expires_in must be a positive duration such as \"2h\", not {}", GoQuote(expires)));
    }
    if (!CheckedAdd(now, *d)) {
      return Status::InvalidArgument(fmt::format(
          "expires_in {} is too long: the acknowledgement would expire after 2262-04-11",
          GoQuote(expires)));
    }
    out.req.expires_in = *d;
  }
  if (with_matchers && j.contains("fingerprints")) {
    auto fps = ParseFingerprints(j);
    if (!fps.ok()) return fps.status();
    out.fingerprints = std::move(*fps);
  } else if (with_matchers) {
    auto ms = ParseMatchers(j);
    if (!ms.ok()) return ms.status();
    out.matchers = std::move(*ms);
  }
  // Who acknowledged: the body's `by`, else the authenticated token's name. The token's name
  // is kept beside it either way, so an ack cannot be passed off as someone else's unseen.
  out.req.token = req.principal;
  if (out.req.by.empty()) out.req.by = req.principal.empty() ? "anonymous" : req.principal;
  return out;
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void AppendOptionalTime(std::string* out, Time t) {
  if (IsZero(t)) {
    out->append("null");
  } else {
    AppendDateTimeJson(out, t);
  }
}

// One ack as the ack API lists it.
void AppendAck(std::string* out, const Ack& a) {
  out->append("{\"fingerprint\":\"");
  out->append(FingerprintHex(a.fingerprint));
  out->append("\",\"labels\":");
  AppendLabelSetJson(out, a.labels);
  out->append(",\"by\":");
  AppendJsonString(out, a.by);
  out->append(",\"token\":");
  if (a.token.empty()) {
    out->append("null");
  } else {
    AppendJsonString(out, a.token);
  }
  out->append(",\"comment\":");
  AppendJsonString(out, a.comment);
  out->append(",\"at\":");
  AppendDateTimeJson(out, a.at);
  out->append(",\"expiresAt\":");
  AppendOptionalTime(out, a.expires_at);
  out->append(",\"endedAt\":");
  AppendOptionalTime(out, a.ended_at);
  out->append(",\"endReason\":");
  if (a.ended()) {
    AppendJsonString(out, a.end_reason);
  } else {
    out->append("null");
  }
  out->push_back('}');
}

Response Unavailable() { return Response::Error(503, "acknowledgements are not available"); }

Response PostAck(const ApiContext& ctx, const Request& req) {
  if (!ctx.acks) return Unavailable();
  auto body = ParseBody(req, false, ctx.clock->Now());
  if (!body.ok()) return Response::Error(400, body.status().message());
  const std::string& raw = req.path_params.at("fingerprint");
  auto fp = ParseFingerprintHex(raw);
  if (!fp) return Response::Error(404, "alert " + raw + " not found");
  auto ack = ctx.acks->Acknowledge(*fp, body->req);
  if (!ack.ok()) return Response::Error(HttpStatusOf(ack.status()), ack.status().message());
  std::string out;
  AppendAck(&out, *ack);
  out.push_back('\n');
  return Response::Json(200, std::move(out));
}

Response DeleteAck(const ApiContext& ctx, const Request& req) {
  if (!ctx.acks) return Unavailable();
  const std::string& raw = req.path_params.at("fingerprint");
  auto fp = ParseFingerprintHex(raw);
  if (!fp) return Response::Error(404, "alert " + raw + " is not acknowledged");
  auto ack = ctx.acks->Unacknowledge(*fp);
  if (!ack.ok()) return Response::Error(HttpStatusOf(ack.status()), ack.status().message());
  std::string out;
  AppendAck(&out, *ack);
  out.push_back('\n');
  return Response::Json(200, std::move(out));
}

Response PostAcks(const ApiContext& ctx, const Request& req) {
  if (!ctx.acks) return Unavailable();
  auto body = ParseBody(req, true, ctx.clock->Now());
  if (!body.ok()) return Response::Error(400, body.status().message());
  auto acks = body->fingerprints ? ctx.acks->AcknowledgeAll(*body->fingerprints, body->req)
                                 : ctx.acks->AcknowledgeMatching(body->matchers, body->req);
  if (!acks.ok()) return Response::Error(HttpStatusOf(acks.status()), acks.status().message());
  std::string out = "{\"fingerprints\":[";
  for (size_t i = 0; i < acks->size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out.append(FingerprintHex((*acks)[i].fingerprint));
    out.push_back('"');
  }
  out.append("]}\n");
  return Response::Json(200, std::move(out));
}

Response GetAcks(const ApiContext& ctx, const Request& req) {
  if (!ctx.acks) return Unavailable();
  bool history = false;
  if (auto v = req.QueryValue("history")) {
    if (*v == "true" || *v == "1") {
      history = true;
    } else if (*v != "false" && *v != "0" && !v->empty()) {
      return Response::Error(400, "history must be true or false");
    }
  }
  auto acks = ctx.acks->ListAcks(history);
  std::string out = "{\"acks\":[";
  for (size_t i = 0; i < acks.size(); ++i) {
    if (i) out.push_back(',');
    AppendAck(&out, acks[i]);
  }
  out.append("]}\n");
  return Response::Json(200, std::move(out));
}

}  // namespace

void AppendAlertAckJson(std::string* out, const std::optional<Ack>& ack) {
  if (!ack) {
    out->append("null");
    return;
  }
  out->append("{\"by\":");
  AppendJsonString(out, ack->by);
  out->append(",\"comment\":");
  AppendJsonString(out, ack->comment);
  out->append(",\"at\":");
  AppendDateTimeJson(out, ack->at);
  out->append(",\"expiresAt\":");
  AppendOptionalTime(out, ack->expires_at);
  out->push_back('}');
}

void RegisterAcksV1(Router& router, const ApiContext& ctx) {
  router.HandleSync("POST", "/api/v1/alerts/{fingerprint}/ack",
                    [ctx](const Request& req) { return PostAck(ctx, req); });
  router.HandleSync("DELETE", "/api/v1/alerts/{fingerprint}/ack",
                    [ctx](const Request& req) { return DeleteAck(ctx, req); });
  router.HandleSync("POST", "/api/v1/acks",
                    [ctx](const Request& req) { return PostAcks(ctx, req); });
  router.HandleSync("GET", "/api/v1/acks", [ctx](const Request& req) { return GetAcks(ctx, req); });
}

}  // namespace alertd::api
