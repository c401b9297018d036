// Ingestion of received alerts, shared by POST /api/v2/alerts and the Alertmanager webhook
// receiver: parsing the JSON bodies, Alertmanager's server-side defaults and validation
// (api/v2/api.go postAlertsHandler), and handing the valid alerts to the store.
// Pure functions except IngestAlerts; all thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/server.h"
#include "core/alert.h"
#include "core/result.h"
#include "storage/alert_store.h"

namespace alertd::api {

// Parses a postableAlerts body (a JSON array); times not sent are kZeroTime. Fails, naming the
// alert (by index) and the field, on malformed JSON or a wrong type; labels are required.
Result<std::vector<Alert>> ParsePostableAlerts(std::string_view body);

// Parses an Alertmanager webhook payload (version "4") and returns its alerts (firing and
// resolved), as the API would receive them.
Result<std::vector<Alert>> ParseWebhookPayload(std::string_view body);

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

// Stores the valid alerts and answers: 200 (empty body) when all were valid and stored, 400
// {"error": ...} naming every invalid one (the valid ones are still stored, as Alertmanager
// does), 500 when the store failed. Responds after the commit.
void IngestAlerts(storage::AlertStore* store, PreparedAlerts prepared, Responder respond);

}  // namespace alertd::api
