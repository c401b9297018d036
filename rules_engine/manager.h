// The rule manager: owns the rule groups loaded from the rule files, restores their state at
// start, schedules each group on its slots (Prometheus's timing: the first evaluation at the
// group's next slot, a group never overlapping itself, skipped slots counted as missed
// iterations, the evaluation timestamp being the slot), runs group evaluations on a small
// pool of worker threads, swaps groups on reload keeping their alerts, and reports rules and
// metrics for the API.
//
// Scheduling is a pure step, RunDue(now), so unit tests drive it with a fake clock and
// workers = 0 (evaluations run inline); Start() runs the same step on a thread against the
// system clock.
//
// Thread-safe (internal synchronization). Stop() must be called before destruction of the
// objects in ManagerDeps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/alert_sink.h"
#include "core/clock.h"
#include "core/cluster.h"
#include "core/rule_state_store.h"
#include "rules_engine/group.h"
#include "rules_engine/query_client.h"

namespace alertd::rules_engine {

struct ManagerOptions {
  Duration default_interval = std::chrono::minutes(1);  // evaluation.interval
  LabelSet external_labels;                             // evaluation.external_labels
  std::string external_url;                             // evaluation.external_url
  Duration resend_delay = std::chrono::minutes(1);      // evaluation.resend_delay
  RelabelConfigs alert_relabel_configs;                 // evaluation.alert_relabel_configs
  Duration for_grace_period = std::chrono::minutes(10);  // evaluation.for_grace_period
  Duration for_outage_tolerance = std::chrono::hours(1);  // evaluation.for_outage_tolerance
  // Threads evaluating groups concurrently. 0: RunDue evaluates inline (tests). Queries in
  // flight are bounded by the QueryClient itself.
  int workers = 4;
};

// From the daemon's configuration.
ManagerOptions ManagerOptionsFromConfig(const config::Config& cfg);

struct ManagerDeps {
  QueryClient* query = nullptr;     // required
  AlertSink* sink = nullptr;        // may be null
  RuleStateStore* state = nullptr;  // may be null
  const Clock* clock = nullptr;     // required
  SampleSink* samples = nullptr;    // may be null: no remote_write (see GroupDeps::samples)
  // Replicas (core/cluster.h): only the groups whose shard (ShardOf of the group key) this
  // node owns are evaluated here; the others keep their schedule and are skipped. A group
  // evaluated here again after another node's turn first reads its alerts back from `state`
  // (Group::Adopt). Null: every group.
  const ShardOwnership* ownership = nullptr;
  // Waits between query retries (tests drive a fake clock with it); false: stop retrying.
  // Unset: a wait that Stop and Update cut short.
  std::function<bool(Duration)> retry_sleep;
};

class RuleManager {
 public:
  // Builds every group. Fails on a rule whose templates do not parse.
  static Result<std::unique_ptr<RuleManager>> Create(const std::vector<config::RuleGroup>& groups,
                                                     const ManagerOptions& opts,
                                                     ManagerDeps deps);
  ~RuleManager();

  // Loads persisted alerts into the groups (Group::Restore, with `for` restored as
  // Prometheus's RestoreForState from the downtime since each group's last evaluation) and
  // drops the state of groups that no longer exist. A rule whose group is gone (renamed, or
  // moved to another file) takes the alerts of the same rule (name and labels) from it,
  // written under its new group at once. Call before the first evaluation.
  Status Restore();

  // Starts the scheduling thread and the workers. Idempotent.
  void Start();
  // Stops scheduling, waits for evaluations in flight, joins every thread. An evaluation in
  // flight stops after the rule it is at, so this waits for one query at most (bounded by
  // the query client's timeout), not for a whole group. Idempotent.
  void Stop();

  // Starts the evaluation of every idle group whose slot has come by `now` (on the workers,
  // or inline when workers == 0) and returns the earliest time a group is due next.
  Time RunDue(Time now);
  // Blocks until no evaluation is in flight.
  void WaitIdle();

  // Replaces the groups with `groups` (a reload). Groups with the same key keep their rules'
  // alerts (matched by rule name and labels, duplicates in order: Prometheus's CopyState)
  // and their schedule; then rules still without state take it from the same rule of any
  // group they may have come from (a group renamed or moved to another file, which
  // Prometheus does not carry over), persisted under the new group at once.
  // The replaced groups are kept until CommitUpdate (or the next Update), so RevertUpdate can
  // put them back. Evaluations in flight stop after the rule they are at, as in Stop.
  Status Update(const std::vector<config::RuleGroup>& groups, const ManagerOptions& opts);
  // Puts back the groups and options the last Update replaced, taking over the alerts of the
  // current groups as Update does. OK and nothing changes when there is nothing to revert.
  Status RevertUpdate();
  // Lets go of the groups the last Update replaced (RevertUpdate is then a no-op).
  void CommitUpdate();

  std::vector<GroupSnapshot> Snapshot() const;
  // Appends the prometheus_rule_* metrics in the Prometheus text exposition format.
  void AppendMetrics(std::string* out) const;
  size_t group_count() const;
  // The pending and firing alerts of every rule, counted in place: what /metrics needs,
  // without the copies Snapshot makes (with thousands of alerts, megabytes per scrape).
  AlertCounts CountAlerts() const;

 private:
  struct Slot {
    std::shared_ptr<Group> group;
    Time next = kZeroTime;     // the slot it is due at next
    Time last_ts = kZeroTime;  // timestamp of its last evaluation
    bool running = false;
    // Replicas: this node evaluated the group at its last slot. When it had not, the next
    // evaluation here adopts the group's state from the store first.
    bool owned = false;
  };

  RuleManager(const ManagerOptions& opts, ManagerDeps deps) : opts_(opts), deps_(deps) {}
  static Result<std::vector<std::shared_ptr<Group>>> Build(
      const std::vector<config::RuleGroup>& groups, Duration default_interval);
  // Puts `built` in place of the current groups (taking over their state) and `opts` in
  // force; hands back the groups and options replaced. The error is the state store's,
  // dropping the state of groups that are gone; the swap happens regardless.
  Status Swap(std::vector<std::shared_ptr<Group>> built, const ManagerOptions& opts,
              std::vector<std::shared_ptr<Group>>* replaced, ManagerOptions* replaced_opts);
  GroupDeps MakeGroupDeps() const;  // REQUIRES: mu_ held
  void Loop();
  void WorkerLoop();
  void Finished(const Group* g);
  // Waits `d` between query retries; false when abandon_ is set (stop, reload).
  bool RetrySleep(Duration d) const;
  void WakeRetrySleepers();

  ManagerOptions opts_;  // GUARDED_BY(mu_)
  const ManagerDeps deps_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the scheduler (stop, a group finished, update)
  std::condition_variable idle_cv_;  // signalled when running_ drops to 0
  std::vector<Slot> slots_;          // GUARDED_BY(mu_)
  int running_ = 0;                  // GUARDED_BY(mu_)
  bool paused_ = false;              // GUARDED_BY(mu_): no new evaluations (during Update)
  bool stop_ = false;                // GUARDED_BY(mu_)
  // Set while Stop or a swap waits for evaluations in flight (GroupDeps::abandon).
  std::atomic<bool> abandon_{false};
  mutable std::mutex retry_mu_;               // guards nothing: retry_cv_'s mutex
  mutable std::condition_variable retry_cv_;  // wakes RetrySleep when abandon_ is set
  bool started_ = false;             // GUARDED_BY(mu_)
  // GUARDED_BY(mu_): work for the workers. Bounded by the number of groups: a group is
  // queued only when it is not running or queued already (Slot::running).
  std::deque<std::function<void()>> queue_;
  // What the last Update replaced, for RevertUpdate. GUARDED_BY(update_mu_).
  std::mutex update_mu_;  // serialises Update, RevertUpdate and CommitUpdate
  bool has_previous_ = false;
  std::vector<std::shared_ptr<Group>> previous_groups_;
  ManagerOptions previous_opts_;
  std::condition_variable work_cv_;
  std::thread loop_;
  std::vector<std::thread> workers_;
};

}  // namespace alertd::rules_engine
