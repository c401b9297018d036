// The webhook integration: POSTs Alertmanager's webhook payload version "4" (COMPAT.md
// section 2) to `url` (or the URL in `url_file`, read when the notifier is built; both are
// templates, as in Alertmanager).
//
// Payload: {receiver, status, alerts[{status, labels, annotations, startsAt, endsAt,
// generatorURL, fingerprint}], notification_reason, groupLabels, commonLabels,
// commonAnnotations, externalURL, version:"4", groupKey, truncatedAlerts}. `max_alerts` keeps
// the first N alerts in the order the router gives them (Alertmanager's order) and counts the
// rest in truncatedAlerts; status and common labels are computed over the kept alerts.
// Acknowledged firing alerts (Notification::acknowledged) are not listed: they count in
// truncatedAlerts and keep `status` "firing".
// An acknowledgement notice (EventKind::kAcknowledge, only with send_acknowledged) is the same
// payload with two more keys: "acknowledgedBy" and "ackComment"; `status` stays what the
// alerts say (firing), so receivers that only know v4 still parse it.
//
// Thread-safe (immutable after construction).
#pragma once

#include <memory>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `webhook_configs` entries. Defaults are Alertmanager's (notify/webhook and config/notifiers.go
// upstream) unless marked alertd.
struct WebhookConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "webhook"; read by notifiers/webhook/config.cc
  std::string_view kind() const override { return "webhook"; }
  bool resolved() const override { return send_resolved; }
  bool acknowledged() const override { return send_acknowledged; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;
  std::string url;  // secret
  std::string url_file;
  uint64_t max_alerts = 0;  // 0: all
  Duration timeout = std::chrono::seconds(0);    // 0: no per-request limit beyond the flush deadline
  bool send_acknowledged = false;
};


Result<std::unique_ptr<Notifier>> NewNotifier(const WebhookConfig& cfg,
                                                     const Deps& deps);

// The JSON body NewNotifier(WebhookConfig) sends (also used by tests and `alertd test`).
std::string WebhookPayload(const Notification& n, uint64_t max_alerts);

}  // namespace alertd::notifiers
