// The one place that lists alertd's endpoints.
#include "api/access.h"
#include "api/api.h"

namespace alertd::api {

void RegisterApi(Router& router, const ApiContext& ctx) {
  RegisterStatus(router, ctx);
  RegisterAlertsV2(router, ctx);
  RegisterWebhookReceiver(router, ctx);
  RegisterSilencesV2(router, ctx);
  RegisterPrometheusV1(router, ctx);
  RegisterMetrics(router, ctx);
  RegisterReload(router, ctx);
  RegisterReceiversV1(router, ctx);
  RegisterAcksV1(router, ctx);
  RegisterIntegrations(router, ctx);
  RegisterHeartbeatsV1(router, ctx);
  RegisterSchedulesV1(router, ctx);
  RegisterHistoryV1(router, ctx);
  RegisterWeb(router, ctx);
  router.SetGuard(MakeAccessGuard(ctx.auth));
  if (ctx.registry) router.SetObserver(MakeHttpMetricsObserver(ctx.registry));
}

}  // namespace alertd::api
