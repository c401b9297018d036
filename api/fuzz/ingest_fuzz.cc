// libFuzzer target: random bodies into the ingestion parsers, POST /api/v2/alerts (a
// postableAlerts array) and the Alertmanager webhook payload, then Alertmanager's defaults and
// validation (PrepareAlerts) at a fixed time. Nothing may crash or overflow; every prepared
// alert is valid (a label, ends not before starts) and every refused body has a message.
// The first byte chooses the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto alerts = data[0] & 1 ? api::ParseWebhookPayload(body) : api::ParsePostableAlerts(body);
  if (!alerts.ok()) {
    if (alerts.status().message().empty()) std::abort();
    return 0;
  }
  const Time now = *ParseRFC3339("2026-01-01T00:00:00Z");
  const size_t n = alerts->size();
  auto prepared = api::PrepareAlerts(std::move(*alerts), now, std::chrono::minutes(5));
  if (prepared.valid.size() + prepared.errors.size() != n) std::abort();
  for (const Alert& a : prepared.valid) {
    if (a.labels.empty() || a.ends_at < a.starts_at || !a.labels.Validate().ok()) std::abort();
  }
  return 0;
}
