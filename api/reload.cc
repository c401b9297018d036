// POST /-/reload, as Alertmanager and Prometheus offer it (docs/management_api.md): reloads the
// configuration through the daemon's one reload path (the same as SIGHUP). 200 when the new
// configuration is in force; 400 with {"error": ...} when it does not load or validate, 500
// when it could not be applied; in both cases the running configuration stays.
#include "api/api.h"

namespace alertd::api {

void RegisterReload(Router& router, const ApiContext& ctx) {
  router.HandleSync("POST", "/-/reload", [reload = ctx.reload](const Request&) {
    if (!reload) return Response::Error(503, "reload is not available");
    const Status st = reload();
    if (st.ok()) return Response::Json(200, "{\"status\":\"success\"}\n");
    const int code = st.code() == Status::Code::kInvalidArgument ? 400 : 500;
    return Response::Error(code, "failed to reload config: " + st.message());
  });
}

}  // namespace alertd::api
