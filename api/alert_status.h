// What the API shows about an alert beyond the alert itself: its receivers, whether it is
// silenced, inhibited or muted, and the aggregation groups it is in. The router (route tree,
// silences, inhibition) implements this interface once it exists, through an adapter that
// app/ wires in; until then NewRouteTreeStatusProvider answers from the configured route tree
// alone (every alert "active", nothing silenced or inhibited).
//
// Implementations must be thread-safe: the HTTP server's threads call them concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/alert.h"

namespace alertd::api {

using AlertPtr = std::shared_ptr<const Alert>;

// Alertmanager's types.AlertStatus plus the receivers the route tree gives the alert.
struct AlertState {
  std::string state = "active";  // "unprocessed", "active" or "suppressed"
  std::vector<std::string> silenced_by;   // silence IDs
  std::vector<std::string> inhibited_by;  // fingerprints of inhibiting alerts
  std::vector<std::string> muted_by;      // time interval names
  std::vector<std::string> receivers;     // receiver names, in route order
};

// One aggregation group as GET /api/v2/alerts/groups lists it.
struct AlertGroupView {
  LabelSet labels;       // the group's group_by labels
  std::string receiver;  // the route's receiver
  std::vector<AlertPtr> alerts;
};

class AlertStatusProvider {
 public:
  virtual ~AlertStatusProvider() = default;
  virtual AlertState StateOf(const Alert& alert) const = 0;
  // The groups the given (current, unresolved) alerts form, sorted by labels then receiver;
  // each group's alerts sorted by fingerprint.
  virtual std::vector<AlertGroupView> Groups(const std::vector<AlertPtr>& alerts) const = 0;
};

// Answers from the route tree of the current config (`config` is called per request, so a
// reload takes effect at once): receivers by Alertmanager's route matching (depth first,
// `continue`), groups by each matched route's group_by; state "active", nothing silenced,
// inhibited or muted.
std::shared_ptr<AlertStatusProvider> NewRouteTreeStatusProvider(
    std::function<std::shared_ptr<const config::Config>()> config);

// The routes an alert with `labels` matches (dispatch/route.go Match).
std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels);

}  // namespace alertd::api
