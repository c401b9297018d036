// One step of the notification pipeline (Alertmanager's notify.Stage): it receives the alerts
// a flush would send and passes on those the next step gets. The group stages (inhibition,
// time intervals, silences, acknowledgement) run once per flush; the integration
// stages (dedup against the notification log, retry + notify, log the delivery) run once per
// integration of the receiver, each on that integration's own executor. router/pipeline.cc
// lists them, in order, in one place.
//
// A stage is immutable after construction and thread-safe: several flushes run it at once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/labels.h"
#include "core/result.h"
#include "notifiers/notifier.h"
#include "router/nflog.h"

namespace alertd::router {

struct RouteNode;
using AlertPtr = std::shared_ptr<const Alert>;
using Alerts = std::vector<AlertPtr>;

// What a flush carries through the stages (Alertmanager's context values).
struct FlushContext {
  // Set by the aggregation group.
  std::string group_key;
  LabelSet group_labels;
  const RouteNode* route = nullptr;  // its config gives receiver, timers and intervals
  std::string receiver;
  Time now = kZeroTime;       // the flush time: what is resolved is decided against it
  Time deadline = kZeroTime;  // retries stop here (max(group_interval, 10s) after `now`)
  // Set by the fan-out, for the integration stages.
  notifiers::Integration* integration = nullptr;
  NflogKey nflog_key;
  // Set by the dedup stage: fingerprints of the firing and resolved alerts, and why the
  // notification is sent ("first notification", "new alerts added", ...).
  std::vector<uint64_t> firing;
  std::vector<uint64_t> resolved;
  std::string notification_reason;
  // Set by the acknowledgement stage: fingerprints (sorted) of the firing alerts it left out
  // because a person acknowledged them, and those alerts. They still count as firing in the
  // notification log, so their resolve is delivered later, and in the notification
  // (Notification::acknowledged), so its status stays firing while one of them fires.
  std::vector<uint64_t> acknowledged;
  Alerts acknowledged_alerts;
  // Set by the dispatcher when something other than the alerts makes the group notify now
  // (an acknowledgement ended while its alert fires): why, and about which alerts (sorted
  // fingerprints). Integrations that were told of one of them notify with this reason, even
  // when the notification log has nothing new.
  std::string forced_reason;
  std::vector<uint64_t> forced;
  // alertd's acknowledgement events (EventKind::kAcknowledge): who, why, and whether every
  // firing alert of the group is now acknowledged (PagerDuty acknowledges the incident only
  // then).
  notifiers::EventKind kind = notifiers::EventKind::kAlerts;
  std::string acknowledged_by;
  std::string ack_comment;
  bool group_acknowledged = false;
  // Set for an escalation step with `schedule:`: the person on call it pages (.OnCall).
  notifiers::OnCallPerson on_call;
  // Set for a flush: the person each receiver last paged for a step with `schedule:`
  // (its resolves go to them); the fan-out sets `on_call` from it.
  std::map<std::string, notifiers::OnCallPerson> on_call_by_receiver;
  // An escalation step's notification: the step's index in its policy; -1 otherwise.
  int escalation_step = -1;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  // Replaces `alerts` with what the next stage gets. Leaving it empty ends the flush here,
  // successfully (nothing to send). An error fails this flush: the group keeps its resolved
  // alerts and the next group_interval tick tries again.
  virtual Status Exec(FlushContext& ctx, Alerts& alerts) = 0;
};

using StagePtr = std::unique_ptr<Stage>;

}  // namespace alertd::router
