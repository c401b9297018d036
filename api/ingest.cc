#include "api/ingest.h"

#include <spdlog/spdlog.h>

#include "api/api.h"

namespace alertd::api {

void IngestAlerts(storage::AlertStore* store, PreparedAlerts prepared,
                  storage::AlertSource source, Responder respond) {
  std::string errors;
  for (const auto& e : prepared.errors) {
    if (!errors.empty()) errors += "; ";
    errors += e;
  }
  auto finish = [respond = std::move(respond), errors = std::move(errors)](Status s) {
    // Unavailable: the database is unreachable (PostgreSQL down); Prometheus retries a 503.
    if (!s.ok()) {
      return respond(Response::Error(s.code() == Status::Code::kUnavailable ? 503 : 500,
                                     "storing alerts failed: " + s.message()));
    }
    if (!errors.empty()) return respond(Response::Error(400, errors));
    respond(Response::Json(200, ""));
  };
  if (prepared.valid.empty()) return finish(Status::Ok());
  store->PutAsync(std::move(prepared.valid), std::move(finish), source);
}

void HandleIngest(const ApiContext& ctx, AlertParser parse, storage::AlertSource source,
                  Request& req, Responder respond) {
  auto work = [store = ctx.alerts, clock = ctx.clock, config = ctx.config, parse, source,
               body = std::move(req.body), respond = std::move(respond)]() mutable {
    try {
      const auto cfg = config();
      auto alerts = parse(body, cfg->server.limits);
      if (!alerts.ok()) return respond(Response::Error(400, alerts.status().message()));
      auto prepared = PrepareAlerts(std::move(*alerts), clock->Now(), cfg->global.resolve_timeout);
      IngestAlerts(store, std::move(prepared), source, std::move(respond));
    } catch (const std::exception& e) {
      // Errors are values; this only keeps a bug from ending the process. The Responder,
      // dropped unanswered, answers 500.
      spdlog::error("http: ingest threw: {}", e.what());
    }
  };
  if (ctx.ingest_executor == nullptr) return work();
  ctx.ingest_executor->Post(std::move(work));
}

}  // namespace alertd::api
