// GET /api/v2/status and /api/v2/receivers as Alertmanager 0.25 answers them (api/v2/api.go
// getStatusHandler, getReceiversHandler), and the management endpoints /-/healthy and
// /-/ready (docs/management_api.md), which answer GET and HEAD. The configuration is shown as
// Alertmanager shows it, with every secret as `<secret>` (Config::redacted_yaml, computed
// once when the configuration loads).
#include "api/api.h"
#include "api/json_writer.h"

namespace alertd::api {

void RegisterStatus(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/-/healthy", [](const Request&) { return Response::Text(200, "OK"); });
  router.HandleSync("GET", "/-/ready", [ctx](const Request&) {
    if (ctx.ready && !ctx.ready()) return Response::Text(503, "Service Unavailable");
    return Response::Text(200, "OK");
  });

  router.HandleSync("GET", "/api/v2/status", [ctx](const Request&) {
    const auto cfg = ctx.config();
    std::string b = "{\"cluster\":{\"peers\":[],\"status\":\"disabled\"},\"config\":{\"original\":";
    AppendJsonString(&b, cfg ? cfg->redacted_yaml : "");
    b += "},\"uptime\":";
    AppendDateTimeJson(&b, ctx.start_time);
    b += ",\"versionInfo\":{\"branch\":";
    AppendJsonString(&b, ctx.version.branch);
    b += ",\"buildDate\":";
    AppendJsonString(&b, ctx.version.build_date);
    b += ",\"buildUser\":";
    AppendJsonString(&b, ctx.version.build_user);
    b += ",\"goVersion\":";
    AppendJsonString(&b, ctx.version.go_version);
    b += ",\"revision\":";
    AppendJsonString(&b, ctx.version.revision);
    b += ",\"version\":";
    AppendJsonString(&b, ctx.version.version);
    b += "}}\n";
    return Response::Json(200, std::move(b));
  });

  router.HandleSync("GET", "/api/v2/receivers", [ctx](const Request&) {
    const auto cfg = ctx.config();
    std::string b = "[";
    if (cfg) {
      for (size_t i = 0; i < cfg->receivers.size(); ++i) {
        if (i) b += ',';
        b += "{\"name\":";
        AppendJsonString(&b, cfg->receivers[i].name);
        b += '}';
      }
    }
    b += "]\n";
    return Response::Json(200, std::move(b));
  });
}

}  // namespace alertd::api
