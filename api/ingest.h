// Ingestion of received alerts, shared by POST /api/v2/alerts and the Alertmanager webhook
// receiver: parsing the JSON bodies, Alertmanager's server-side defaults and validation
// (api/v2/api.go postAlertsHandler), and handing the valid alerts to the store.
// Pure functions except IngestAlerts; all thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/server.h"
#include "config/config.h"
#include "core/alert.h"
#include "core/result.h"
#include "storage/alert_store.h"

namespace alertd::api {

// Parses a postableAlerts body (a JSON array); times not sent are kZeroTime. Fails, naming the
// alert (by index) and the field, on malformed JSON or a wrong type; labels are required.
// Fails, naming the limit, when the body is over one of `limits` (alerts in the body; entries
// or bytes of one alert's labels or annotations); the check comes before the set is built.
// O(n log n) in the labels of an alert (core/labels.h LabelSetBuilder).
Result<std::vector<Alert>> ParsePostableAlerts(std::string_view body,
                                               const config::ServerLimits& limits = {});

// Parses an Alertmanager webhook payload (version "4") and returns its alerts (firing and
// resolved), as the API would receive them. Limits as for ParsePostableAlerts.
Result<std::vector<Alert>> ParseWebhookPayload(std::string_view body,
                                               const config::ServerLimits& limits = {});

struct PreparedAlerts {
  std::vector<Alert> valid;
  std::vector<std::string> errors;  // one per invalid alert, naming it
};

// Alertmanager's postAlertsHandler, in its order: updated_at = now; a missing starts_at
// becomes now (or ends_at if only that was sent); a missing ends_at becomes now +
// resolve_timeout with timeout = true; labels with empty values are removed; then each alert
// is validated (labels: at least one, valid names, UTF-8 values; annotations: valid names;
// ends_at not before starts_at).
PreparedAlerts PrepareAlerts(std::vector<Alert> alerts, Time now, Duration resolve_timeout);

struct ApiContext;
using AlertParser = Result<std::vector<Alert>> (*)(std::string_view body,
                                                   const config::ServerLimits& limits);

// The whole of POST /api/v2/alerts and the webhook intake: parses the request's body with
// `parse` under the current `server.limits`, prepares the alerts (PrepareAlerts) and stores
// them (IngestAlerts), answering through `respond`. Runs on ctx.ingest_executor when set, so
// the server's I/O threads never parse a body (a 4 MiB one takes tens of milliseconds) and
// keep answering other clients meanwhile; the body is moved out of `req`. `source`: what the
// alerts' history says they came from.
void HandleIngest(const ApiContext& ctx, AlertParser parse, storage::AlertSource source,
                  Request& req, Responder respond);

// Stores the valid alerts and answers: 200 (empty body) when all were valid and stored, 400
// {"error": ...} naming every invalid one (the valid ones are still stored, as Alertmanager
// does), 500 when the store failed. Responds after the commit.
void IngestAlerts(storage::AlertStore* store, PreparedAlerts prepared,
                  storage::AlertSource source, Responder respond);

}  // namespace alertd::api
