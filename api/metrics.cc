// GET /metrics: alertd's own metrics in the Prometheus text exposition format (version
// 0.0.4), written by the components that registered a writer in ApiContext::metrics (the rule
// engine's prometheus_rule_* families, ...).
#include "api/api.h"

namespace alertd::api {

void RegisterMetrics(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/metrics", [writers = ctx.metrics](const Request&) {
    std::string body;
    for (const auto& w : writers) w(&body);
    Response r = Response::Text(200, std::move(body));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
}

}  // namespace alertd::api
