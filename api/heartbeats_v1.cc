// alertd's heartbeat API (heartbeats/heartbeats.h):
//   POST /api/v1/heartbeats/{name}  pings; an optional JSON body {"message": "..."} is kept
//        with the ping. 404: no such heartbeat; 503: the ping counts but was not stored.
//   GET  /api/v1/heartbeats         every heartbeat: its last ping and when it will be late
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/json_writer.h"
#include "core/duration.h"
#include "heartbeats/heartbeats.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

// A ping's message is shown back as it came; a few lines are plenty.
constexpr size_t kMaxMessageBytes = 4096;

Result<std::string> ParseMessage(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string();
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("malformed JSON body: ") + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  auto it = j.find("message");
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument("message must be a string");
  std::string m = it->get<std::string>();
  if (m.size() > kMaxMessageBytes) {
    return Status::InvalidArgument(
        fmt::format("message is {} bytes long; at most {} are kept", m.size(), kMaxMessageBytes));
  }
  return m;
}

Response PostPing(const ApiContext& ctx, const Request& req) {
  if (!ctx.heartbeats) return Response::Error(404, "no heartbeats are configured");
  auto message = ParseMessage(req.body);
  if (!message.ok()) return Response::Error(400, message.status().message());
  const std::string& name = req.path_params.at("name");
  Status s = ctx.heartbeats->Ping(name, std::move(*message));
  if (s.code() == Status::Code::kNotFound) return Response::Error(404, s.message());
  if (!s.ok()) return Response::Error(503, s.message());
  return Response::Json(200, "{\"status\":\"ok\"}\n");
}

Response GetHeartbeats(const ApiContext& ctx) {
  std::string b = "{\"heartbeats\":[";
  if (ctx.heartbeats) {
    bool first = true;
    for (const auto& h : ctx.heartbeats->List()) {
      if (!first) b.push_back(',');
      first = false;
      b += "{\"name\":";
      AppendJsonString(&b, h.name);
      b += ",\"timeout\":";
      AppendJsonString(&b, FormatDuration(h.timeout));
      b += ",\"since\":";
      AppendTimeOrNull(&b, h.since);
      b += ",\"lastPing\":";
      AppendTimeOrNull(&b, h.last_ping);
      b += ",\"lastPingSource\":";
      AppendJsonString(&b, h.source);
      b += ",\"message\":";
      AppendJsonString(&b, h.message);
      b += ",\"lateAt\":";
      AppendDateTimeJson(&b, h.late_at);
      b += h.late ? ",\"late\":true" : ",\"late\":false";
      b += ",\"alertMatchers\":[";
      for (size_t i = 0; i < h.alert_matchers.size(); ++i) {
        if (i) b.push_back(',');
        AppendJsonString(&b, h.alert_matchers[i]);
      }
      b += "]}";
    }
  }
  b += "]}\n";
  return Response::Json(200, std::move(b));
}

}  // namespace

void RegisterHeartbeatsV1(Router& router, const ApiContext& ctx) {
  router.HandleSync("POST", "/api/v1/heartbeats/{name}",
                    [ctx](const Request& req) { return PostPing(ctx, req); });
  router.HandleSync("GET", "/api/v1/heartbeats",
                    [ctx](const Request&) { return GetHeartbeats(ctx); });
}

}  // namespace alertd::api
