// Internal helpers shared by the integrations under notifiers/: the template data of a
// notification, rendering receiver fields, Alertmanager's truncation and the group-key hash.
// Not for use outside notifiers/.
//
// Pure functions and an immutable-after-construction Renderer; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "notifiers/deps.h"
#include "notifiers/notifier.h"
#include "templating/notification.h"
#include "templating/value.h"

namespace alertd::notifiers::internal {

// Go's regexp.QuoteMeta: Alertmanager puts the receiver name through it before it reaches the
// templates and the webhook payload ("team.a" becomes "team\.a").
std::string QuoteMeta(std::string_view s);

// Alertmanager's template.Data for `alerts` (a prefix of n.alerts after max_alerts
// truncation): status of each alert at n.now, firing alerts with a zero endsAt, common labels
// and annotations over `alerts`, the quoted receiver name.
templating::NotificationData MakeTemplateData(const Notification& n,
                                              std::span<const AlertPtr> alerts);

// notify.TruncateInRunes: at most `n` runes, the last one replaced by "…" when cut.
std::string TruncateInRunes(std::string_view s, size_t n, bool* truncated = nullptr);

// notify.Key.Hash(): lower-case hex SHA-256 of the group key (PagerDuty's dedup_key).
std::string GroupKeyHash(std::string_view group_key);

// Renders receiver fields against one notification's data. A field whose template fails
// renders with "<error: ...>" in place of the failing action (the notification still goes
// out); `errors()` counts them and `first_error()` describes the first.
class Renderer {
 public:
  Renderer(const Deps& deps, const templating::NotificationData& data);
  std::string operator()(std::string_view text);
  int errors() const { return errors_; }
  const Status& first_error() const { return first_error_; }

 private:
  const Deps& deps_;
  templating::Value value_;
  int errors_ = 0;
  Status first_error_;
};

// Logs (once per notification) that templates failed, naming integration and receiver.
void LogTemplateErrors(std::string_view integration, const Notification& n, const Renderer& r);

// The current time from deps.now or the system clock.
Time Now(const Deps& deps);

}  // namespace alertd::notifiers::internal
