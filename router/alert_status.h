// What the API shows about an alert beyond the alert itself: its receivers, whether it is
// silenced, inhibited or muted, and the aggregation groups it is in. The Router implements
// AlertStatusProvider; the API (api/alert_status.h) uses it through this interface.
//
// Implementations must be thread-safe: the HTTP server's threads call them concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/alert.h"

namespace alertd::router {

// Alertmanager's types.AlertStatus plus the receivers the route tree gives the alert.
struct AlertState {
  std::string state = "active";           // "unprocessed", "active" or "suppressed"
  std::vector<std::string> silenced_by;   // silence IDs
  std::vector<std::string> inhibited_by;  // fingerprints of inhibiting alerts
  std::vector<std::string> muted_by;      // time interval names
  std::vector<std::string> receivers;     // receiver names, in route order
};

// One aggregation group as GET /api/v2/alerts/groups lists it.
struct AlertGroupView {
  LabelSet labels;       // the group's group_by labels
  std::string receiver;  // the route's receiver
  std::vector<std::shared_ptr<const Alert>> alerts;
};

class AlertStatusProvider {
 public:
  virtual ~AlertStatusProvider() = default;
  virtual AlertState StateOf(const Alert& alert) const = 0;
  // The groups the given (current, unresolved) alerts form, sorted by labels then receiver;
  // each group's alerts sorted by fingerprint.
  virtual std::vector<AlertGroupView> Groups(
      const std::vector<std::shared_ptr<const Alert>>& alerts) const = 0;
};

}  // namespace alertd::router
