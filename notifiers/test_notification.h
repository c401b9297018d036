// Testing a receiver without waiting for an incident (`alertd test receiver` and
// POST /api/v1/receivers/{name}/test): a synthetic firing alert, sent once through each of the
// receiver's real integrations, with each one's outcome and latency. One attempt, no retries:
// the outcome is what the vendor answered that attempt.
//
// Thread-compatible (SendTestNotification calls the integrations' Notify, which are
// thread-safe).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/labels.h"
#include "core/result.h"
#include "core/time.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// The synthetic alert's labels: alertname="TestAlert", instance="alertd", then `labels` (which
// may replace them); annotations summary and description, then `annotations`.
struct TestAlert {
  LabelSet labels;
  LabelSet annotations;
};
TestAlert MakeTestAlert(const std::string& receiver, const LabelSet& labels,
                        const LabelSet& annotations);

// The notification `receiver` gets for `alert`, firing since `now`: grouped by all its labels,
// under a group key no route can produce ("{}/test:{...}"), reason "test notification".
Notification TestNotification(const std::string& receiver, const TestAlert& alert, Time now,
                              const std::string& external_url);

struct TestOutcome {
  std::string integration;  // "slack", "webhook", ...
  int index = 0;            // position within the receiver's configs of that kind
  Status status;            // OK: delivered
  long http_status = 0;     // the vendor's HTTP status (SMTP reply code for email); 0: none
  bool retryable = false;   // on failure: whether the router would have retried
  Duration latency{0};
};

// One Notify per integration, in order.
std::vector<TestOutcome> SendTestNotification(std::vector<Integration>& integrations,
                                              const Notification& n);

}  // namespace alertd::notifiers
