// One aggregation group (dispatch/dispatch.go aggrGroup): the alerts one route groups under
// one set of group labels, and the state of the group's timer. The Dispatcher owns the groups
// and drives their timers; this class holds the state and the rules that only concern one
// group: which alerts a flush sends and which resolved alerts leave after a successful flush
// (only those not updated since).
//
// Thread-compatible: the Dispatcher guards every group with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/alert.h"
#include "core/scheduler.h"
#include "router/route.h"
#include "router/stage.h"

namespace alertd::router {

class AggregationGroup {
 public:
  AggregationGroup(const RouteNode* route, LabelSet labels)
      : route_(route), labels_(std::move(labels)), key_(GroupKey(*route, labels_)) {}

  const RouteNode* route() const { return route_; }
  const LabelSet& labels() const { return labels_; }
  const std::string& key() const { return key_; }  // Alertmanager's group key

  // Adds or replaces the alert (by fingerprint). Returns true when the group must flush at
  // once: it has never flushed and the alert's startsAt + group_wait has already passed.
  bool Insert(AlertPtr alert, Time now);
  bool empty() const { return alerts_.empty(); }
  size_t size() const { return alerts_.size(); }
  std::vector<AlertPtr> alerts() const;

  // What a flush sends: every alert, in payload order. `originals` receives the
  // stored alerts the flush saw, for DeleteResolved. The alerts are shared, not copied:
  // everything after the flush decides firing or resolved against the flush time
  // (FlushContext::now, Notification::now), and the payloads show a firing alert's endsAt
  // as zero (notifiers::internal::MakeTemplateData), as Alertmanager's aggrGroup.flush does
  // by copying each alert.
  Alerts Snapshot(std::vector<AlertPtr>* originals) const;
  // After a successful flush at `now`: removes the alerts of `originals` that were resolved
  // then and have not been replaced since (DeleteIfNotModified). Returns their fingerprints.
  std::vector<uint64_t> DeleteResolved(const std::vector<AlertPtr>& originals, Time now);
  bool Has(uint64_t fingerprint) const { return alerts_.count(fingerprint) > 0; }

  // Timer state, managed by the Dispatcher.
  Time next_flush = kZeroTime;
  bool has_flushed = false;
  bool flushing = false;       // a flush is in the pipeline
  bool flush_pending = false;  // a tick came while flushing: flush again when it ends
  bool removed = false;
  Scheduler::TaskId timer = 0;
  // A notification the next flush owes regardless of the notification log
  // (FlushContext::forced_reason, forced).
  std::string forced_reason;
  std::vector<uint64_t> forced;

 private:
  const RouteNode* route_;
  LabelSet labels_;
  std::string key_;
  std::map<uint64_t, AlertPtr> alerts_;  // by fingerprint
};

}  // namespace alertd::router
