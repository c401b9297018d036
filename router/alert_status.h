// What the API shows about an alert beyond the alert itself: its receivers, whether it is
// silenced, inhibited or muted, and the aggregation groups it is in. The Router implements
// AlertStatusProvider; the API (api/alert_status.h) uses it through this interface.
//
// Implementations must be thread-safe: the HTTP server's threads call them concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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

// A step with `schedule:` that fired: whom it paged, or that nobody was on call (then the
// next step ran at once).
struct OnCallPage {
  int step = 0;   // 0-based index into the policy's steps
  int round = 0;  // 0: the first run through the steps
  std::string schedule;
  std::string person;  // empty: nobody was on call, the step was skipped
  Time at = kZeroTime;
  bool operator==(const OnCallPage&) const = default;
};

// Where a group's escalation policy stands (router/escalation.h), for the API and the page.
struct EscalationView {
  std::string policy;
  Time started_at = kZeroTime;  // the group's first notification
  int round = 0;                // 0: the first run through the steps
  int rounds = 1;               // 1 + the policy's `repeat`
  int next_step = 0;            // index of the step that fires next
  int steps = 0;
  bool finished = false;        // every round ran, or a person ended it (PagerDuty)
  // When the next step is due (it may be past: the step waits while nothing is left to
  // escalate) and whom it notifies; unset when finished.
  std::optional<Time> next_at;
  std::vector<std::string> next_receivers;
  std::vector<std::string> notified;  // step receivers notified so far
  // Steps with `schedule:` since this process took up the escalation (kept in memory).
  std::vector<OnCallPage> on_call;
};

// One aggregation group as GET /api/v2/alerts/groups lists it.
struct AlertGroupView {
  LabelSet labels;                                   // the group's group_by labels
  std::string receiver;                              // the route's receiver
  std::vector<std::shared_ptr<const Alert>> alerts;  // Alertmanager's order (job, instance, labels)
  std::optional<EscalationView> escalation;          // unset: no policy runs for the group
};

// What GET /api/v2/alerts/groups lists (Alertmanager's Dispatcher.Groups): the groups, sorted
// by labels (model.LabelSet.Before) then receiver, and for each alert listed the receivers of
// the groups it is listed in, sorted by name (a receiver reached by two routes twice).
struct AlertGroups {
  std::vector<AlertGroupView> groups;
  std::unordered_map<uint64_t, std::vector<std::string>> receivers;  // by fingerprint
};

// Sorts the groups as Alertmanager's AlertGroups (labels by model.LabelSet.Before, then
// receiver) and each alert's receiver names.
void SortAlertGroups(AlertGroups& groups);

class AlertStatusProvider {
 public:
  virtual ~AlertStatusProvider() = default;
  virtual AlertState StateOf(const Alert& alert) const = 0;
  // The aggregation groups whose route's receiver passes `route_filter`, each with its alerts
  // that pass `alert_filter` (Alertmanager's alertFilter: it decides about resolved alerts
  // too); groups left without alerts are not listed. The filters are not called under the
  // provider's locks, so they may call StateOf.
  virtual AlertGroups Groups(const std::function<bool(const std::string& receiver)>& route_filter,
                             const std::function<bool(const Alert&)>& alert_filter) const = 0;
};

}  // namespace alertd::router
