// The dispatcher (dispatch/dispatch.go): sorts alerts into aggregation groups by route and
// group labels and drives each group's timer with Alertmanager's semantics:
//   - a new group flushes group_wait after its creation, or at once when an alert's
//     startsAt + group_wait has already passed and the group has never flushed;
//   - each tick re-arms the timer at group_interval and then flushes (a new alert in an
//     existing group waits for the next tick; repeat_interval is checked at ticks);
//   - resolved alerts leave a group after a successful flush; an empty group is removed by
//     maintenance (every 30 s) and keeps its tick schedule until then.
// Group timers are persisted (a GroupTimerStore, core/router_state.h): the first tick
// once, since later ticks follow it every group_interval, so a group restored after a restart
// or reload flushes when it would have.
//
// Thread-safe. Timers run on the Scheduler's thread, flushes on the flush executor; neither
// runs under the dispatcher's lock (lock order: router/lock_order.h). Hold it by shared_ptr
// (timers and flushes keep it alive).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/cluster.h"
#include "core/router_state.h"
#include "core/scheduler.h"
#include "core/thread_annotations.h"
#include "router/aggregation_group.h"
#include "router/pipeline.h"
#include "router/route.h"

namespace alertd::router {

// What the API and tests see of a group.
struct GroupView {
  const RouteNode* route = nullptr;
  std::string key;
  LabelSet labels;
  std::vector<AlertPtr> alerts;
  Time next_flush = kZeroTime;
};

struct DispatcherOptions {
  Duration maintenance_interval = std::chrono::seconds(30);  // removal of empty groups
  Duration min_flush_timeout = std::chrono::seconds(10);     // notify.MinTimeout
  // Replicas (core/cluster.h): the groups whose shard this node does not own keep their
  // alerts and their tick schedule here, but do not flush, and their timers are neither
  // written nor deleted in the store (the owner's are). Null: every group is this node's.
  const ShardOwnership* ownership = nullptr;
};

class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  // All pointers must outlive the dispatcher; `timers` may be null (nothing persisted).
  Dispatcher(std::shared_ptr<const RouteTree> routes, std::shared_ptr<Pipeline> pipeline,
             const Clock* clock, Scheduler* scheduler, Executor* flush_executor,
             GroupTimerStore* timers, DispatcherOptions opts = {});
  ~Dispatcher();

  // Builds the groups of `alerts` (the store's content), giving groups found in `persisted`
  // their timers back; persisted timers of groups that no longer exist are deleted.
  // Resolved alerts are only taken in when `notified_firing` (group key -> fingerprints the
  // notification log last recorded as firing) says a receiver still believes them firing.
  void Start(const std::vector<AlertPtr>& alerts, const std::vector<GroupTimer>& persisted,
             const std::unordered_map<std::string, std::unordered_set<uint64_t>>& notified_firing);
  // Puts changed alerts into their groups.
  void Insert(const std::vector<AlertPtr>& alerts) EXCLUDES(mu_);
  // Cancels every timer; flushes in flight finish. Idempotent.
  void Stop() EXCLUDES(mu_);
  // Flushes the group now (or when its flush in flight ends) with ctx.forced_reason =
  // `reason` about `fingerprints`, whatever the notification log says (an acknowledgement of
  // one of them ended while it fires). No-op for unknown groups and groups that never flushed
  // (nobody was told of them yet).
  // The group is named by its route node: sibling routes with equal matchers share route
  // and group keys.
  void Notify(const RouteNode* route, const std::string& group_key, const std::string& reason,
              std::vector<uint64_t> fingerprints) EXCLUDES(mu_);

  // Replicas: this node now owns the groups `owned` says yes to. Those with a timer in
  // `persisted` (the previous owner's, read from the store) take it over: one that has
  // flushed flushes at once (what fell due meanwhile goes out; the notification log keeps
  // what was sent from repeating), one that has not keeps its first tick. The others keep
  // their own schedule.
  void Adopt(const std::function<bool(const std::string& group_key)>& owned,
             const std::vector<GroupTimer>& persisted) EXCLUDES(mu_);

  std::vector<GroupView> Groups() const EXCLUDES(mu_);
  // The group with this route key (RouteNode::key) and group key, if it exists.
  std::optional<GroupView> Group(const std::string& route_key, const std::string& group_key) const
      EXCLUDES(mu_);
  // The groups that hold an alert with one of these fingerprints, each once. Costs in
  // proportion to those groups' alerts, not to every group's (an index by fingerprint).
  std::vector<GroupView> GroupsWith(const std::vector<uint64_t>& fingerprints) const EXCLUDES(mu_);
  std::vector<GroupView> GroupsWith(uint64_t fingerprint) const EXCLUDES(mu_) {
    return GroupsWith(std::vector<uint64_t>{fingerprint});
  }

 private:
  using GroupPtr = std::shared_ptr<AggregationGroup>;
  using GroupId = std::pair<const RouteNode*, uint64_t>;  // route, group labels fingerprint

  void InsertLocked(const AlertPtr& a, Time now,
                    const std::map<std::pair<std::string, std::string>, GroupTimer>* persisted)
      REQUIRES(mu_);
  void ArmLocked(const GroupPtr& g, Time when, bool persist) REQUIRES(mu_);
  void Tick(const GroupPtr& g) EXCLUDES(mu_);
  // Starts a flush of `g`; mu_ is let go while the flush is handed to the pipeline (which
  // may run it inline), and held again on return.
  void FlushLocked(const GroupPtr& g) REQUIRES(mu_);
  void FlushDone(const GroupPtr& g, std::vector<AlertPtr> originals, Time now, bool ok)
      EXCLUDES(mu_);
  void Maintenance() EXCLUDES(mu_);
  // Where a group restored from `t` ticks next, and whether it has flushed (only the first
  // tick is persisted; later ones follow it every group_interval).
  static Time ResumeAt(const GroupTimer& t, const RouteNode& route, Time now);
  bool Owned(const AggregationGroup& g) const { return OwnsKey(opts_.ownership, g.key()); }
  void PersistLocked(const AggregationGroup& g) REQUIRES(mu_);
  void Unpersist(const std::string& route_id, const std::string& group_key);
  static GroupView ViewOf(const AggregationGroup& g);

  const std::shared_ptr<const RouteTree> routes_;
  const std::shared_ptr<Pipeline> pipeline_;
  const Clock* clock_;
  Scheduler* scheduler_;
  Executor* flush_executor_;
  GroupTimerStore* timers_;
  const DispatcherOptions opts_;

  mutable Mutex mu_;
  bool stopped_ GUARDED_BY(mu_) = false;
  std::map<GroupId, GroupPtr> groups_ GUARDED_BY(mu_);
  // The groups each alert is in, by fingerprint (GroupsWith).
  std::unordered_map<uint64_t, std::vector<GroupId>> by_alert_ GUARDED_BY(mu_);
  Scheduler::TaskId maintenance_ GUARDED_BY(mu_) = 0;
};

}  // namespace alertd::router
