// POST /api/v1/webhook/alertmanager: receives Alertmanager webhook notifications (payload
// version "4", notify/webhook/webhook.go) so an existing Alertmanager can forward to alertd
// through a webhook_configs entry. Every alert in the payload, firing or resolved, is ingested
// exactly as if it had been posted to /api/v2/alerts. Alertmanager sends firing alerts with
// the zero endsAt, so they get now + global.resolve_timeout and stay firing as long as the
// forwarding Alertmanager repeats them at least that often (its repeat_interval).
#include "api/api.h"
#include "api/ingest.h"

namespace alertd::api {

void RegisterWebhookReceiver(Router& router, const ApiContext& ctx) {
  router.Handle("POST", "/api/v1/webhook/alertmanager", [ctx](Request& req, Responder respond) {
    HandleIngest(ctx, &ParseWebhookPayload, storage::AlertSource::kWebhook, req, std::move(respond));
  });
}

}  // namespace alertd::api
