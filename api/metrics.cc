// GET /metrics: alertd's own metrics in the Prometheus text exposition format (version
// 0.0.4): the registry's families (HTTP requests, reloads, storage commits, alerts by state,
// notifications, ...) and then the writers registered in ApiContext::metrics (the rule
// engine's prometheus_rule_* families, ...).
#include "api/api.h"

namespace alertd::api {

void RegisterMetrics(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/metrics",
                    [registry = ctx.registry, writers = ctx.metrics](const Request&) {
                      std::string body = registry ? registry->Text() : std::string();
                      for (const auto& w : writers) w(&body);
                      Response r = Response::Text(200, std::move(body));
                      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                      return r;
                    });
}

Router::Observer MakeHttpMetricsObserver(MetricsRegistry* registry) {
  // Labelled by route pattern, not path, so silence IDs and fingerprints do not each make a
  // series (Prometheus's prometheus_http_requests_total does the same).
  auto& requests = registry->AddCounter("alertd_http_requests_total",
                                        "HTTP requests answered, by handler and status code.",
                                        {"handler", "code"});
  auto& latency = registry->AddHistogram(
      "alertd_http_request_duration_seconds",
      "Time from dispatching an HTTP request to its answer, by handler.", {"handler"});
  return [&requests, &latency](const Request& req, const Response& res, Duration took) {
    const std::string handler = req.route.empty() ? "unmatched" : req.route;
    requests.WithLabels({handler, std::to_string(res.status)}).Inc();
    latency.WithLabels({handler}).ObserveDuration(took);
  };
}

}  // namespace alertd::api
