// What every notifier factory needs besides its own config section: the parsed notification
// templates, the metrics sink, timeouts and a clock. Built once per configuration load by the
// daemon (see registry.h) and shared by all integrations of that configuration.
//
// Plain value type; the pointed-to objects must outlive the notifiers built with it (the
// TemplateSet is shared by ownership, NotificationMetrics by the daemon's lifetime).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/time.h"
#include "templating/template.h"

namespace alertd::notifiers {

class NotificationMetrics;

struct Deps {
  // Alertmanager's default templates plus the config's `templates:` files (LoadTemplates in
  // registry.h). Required.
  std::shared_ptr<const templating::TemplateSet> templates;
  // Where Notify attempts are counted; null: not counted.
  NotificationMetrics* metrics = nullptr;
  // Per-attempt timeout of integrations that have no `timeout` of their own (all but
  // webhook, whose `timeout: 0` means no limit but the flush deadline, as in Alertmanager).
  // Every attempt also ends at the flush deadline (Notification::deadline).
  Duration timeout = std::chrono::seconds(30);
  // Sent as User-Agent on HTTP requests.
  std::string user_agent = "alertd/0.1.0";
  // The host name in email Message-Id headers; empty: gethostname().
  std::string hostname;
  // The clock for email Date/Message-Id and the templates' `since`; empty: system clock.
  std::function<Time()> now;
};

}  // namespace alertd::notifiers
