// The interface between the router and the integrations (Slack, email, webhook, PagerDuty).
// The router decides when a group is sent and to whom; a Notifier turns one notification into
// one delivery attempt and says whether a failure is worth retrying. Retries with backoff,
// deadlines and fan-out across integrations belong to the router's pipeline.
//
// Notifiers are immutable after construction and thread-safe: the router may call Notify on
// one notifier from several threads (different groups) at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "core/result.h"

namespace alertd::notifiers {

using AlertPtr = std::shared_ptr<const Alert>;

// What kind of event a notification is. Alertmanager only knows firing/resolved (derived
// from the alerts); alertd adds acknowledgements.
enum class EventKind {
  kAlerts,       // the group's current firing and resolved alerts (Alertmanager's notification)
  kAcknowledge,  // a person acknowledged the group's alerts (PagerDuty `acknowledge`, or a
                 // notice on integrations with send_acknowledged)
};

// alertd: the person an escalation step with `schedule:` pages (config `people`); templates
// see it as .OnCall. All empty in other notifications.
struct OnCallPerson {
  std::string name;
  std::string email;
  std::string slack;
  std::string phone;
};

struct Notification {
  std::string receiver;   // receiver name, as the payload's `receiver`
  std::string group_key;  // raw Alertmanager group key: {}/{severity="critical"}:{alertname="X"}
  LabelSet group_labels;
  std::vector<AlertPtr> alerts;     // firing and resolved, already filtered by send_resolved;
                                    // sorted as Alertmanager sorts them
  // alertd: firing alerts of the group this receiver was told of and a person acknowledged.
  // They are left out of `alerts`, not out of the group: while one is here the notification's
  // status is "firing" (PagerDuty: `trigger`, never `resolve`) and the webhook counts them in
  // truncatedAlerts.
  std::vector<AlertPtr> acknowledged;
  Time now = kZeroTime;             // the flush time: decides firing vs resolved
  std::string notification_reason;  // "first notification", "new alerts added", ...
  EventKind kind = EventKind::kAlerts;
  std::string acknowledged_by;  // for kAcknowledge
  std::string ack_comment;
  std::string external_url;  // alertd's external URL, the payload's externalURL
  OnCallPerson on_call;      // alertd: who a schedule step pages (.OnCall)
  // When the attempt must be over: the flush deadline (Alertmanager cancels its notify
  // context then, a group's flush timeout: max(group_interval, 10s)). A request still in
  // flight is cut off at this time and fails like a timeout (retryable). max(): none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct NotifyResult {
  Status status;           // OK when delivered
  bool retryable = false;  // on failure: 5xx and network errors are (CheckHttpResponse)
  long http_status = 0;    // the peer's HTTP status (SMTP reply code for email); 0 if none
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // "slack", "email", "webhook" or "pagerduty" (the integration name in the nflog key and
  // in metrics).
  virtual std::string_view integration() const = 0;
  // Whether resolved alerts go out to this integration (send_resolved).
  virtual bool send_resolved() const = 0;
  // Whether this integration wants kAcknowledge notifications.
  virtual bool wants_acknowledge() const = 0;
  // One delivery attempt. Blocks up to the integration's timeout and never past n.deadline.
  // Never logs secrets.
  virtual NotifyResult Notify(const Notification& n) = 0;
};

// The name integrations give a group outside alertd: lower-case hex SHA-256 of the group key
// (Alertmanager's notify.Key.Hash()). It is PagerDuty's dedup_key and the value of Slack's
// Acknowledge button, so callbacks from those services name the group by it.
std::string GroupKeyHash(std::string_view group_key);

// A receiver's integrations, in config order (slack, email, webhook, pagerduty lists).
// `index` is the position within its integration kind, as in Alertmanager's nflog key.
struct Integration {
  std::string receiver;
  int index = 0;
  std::unique_ptr<Notifier> notifier;
};

}  // namespace alertd::notifiers
