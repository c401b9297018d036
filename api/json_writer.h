// Writes JSON text straight into a std::string. The API's large responses (GET /api/v2/alerts
// with tens of thousands of alerts) are written with this rather than by building an
// nlohmann::json tree first, which costs several times more CPU and memory for the same text.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/json_string.h"
#include "core/labels.h"
#include "core/time.h"

namespace alertd::api {

// JSON string literals: core/json_string.h.
using ::alertd::AppendJsonString;
using ::alertd::JsonString;

// {"name":"value",...} in label-name order.
void AppendLabelSetJson(std::string* out, const LabelSet& ls);

// go-openapi strfmt.DateTime as Alertmanager's API prints it: RFC 3339 in UTC with exactly
// three fraction digits ("2024-05-01T10:00:00.000Z"), quotes included. The zero time prints
// as "0001-01-01T00:00:00.000Z".
void AppendDateTimeJson(std::string* out, Time t);
// The same, or null for the zero time (alertd's own endpoints: "not yet", "never").
void AppendTimeOrNull(std::string* out, Time t);

}  // namespace alertd::api
