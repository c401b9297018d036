// Escalation policies (config `escalation_policies`, `escalation:` on routes): while an
// aggregation group has firing alerts nobody acknowledged, each step of the route's policy
// notifies its receivers once its `after` has passed since the group's first notification
// (every `after` counts from that moment); `repeat: N` runs the list N more times, each
// round's `after`s counted from the end of the previous round (when its last step fired).
//
// What drives it is the group's firing, unacknowledged alerts and time, never a delivery's
// outcome: the pipeline starts the policy at the group's first flush that has firing alerts
// left after inhibition, silences, time intervals and acknowledgements, before dedup and
// delivery, so a receiver that is down or a send the notification log suppresses still
// starts it, and every step fires on time whether earlier deliveries failed or not.
//
// A step that falls due while the group has nothing to escalate (every firing alert
// acknowledged, silenced, inhibited or muted) waits; Check() (called when an ack ends, when
// alerts change and by maintenance) fires it at once when there is something again. The
// state of each group (first notification, round, next step, receivers notified) is persisted
// (an EscalationStore, core/router_state.h) before a step's notification leaves, so after a crash
// the next step fires at its original time and no step is sent twice (while the database is
// unreachable a step goes out unpersisted: paging beats a possible repeat). A step whose commit
// completes after its escalation ended is dropped; one whose group has nothing left to escalate by
// then is dropped too.
//
// Escalations are keyed by the route's Alertmanager key (RouteNode::key, stored in the
// table's route_id column) and the group key, so a reload that renumbers routes keeps them;
// Reconcile() ends, with a logged reason, those whose route is gone or no longer uses the
// policy. End() (after the group's resolve notifications went out) forgets one, so a re-fire
// starts a new escalation; it refuses while a step's delivery is in flight, so the receivers
// of that step still get the resolve at the group's next flush.
//
// A step with `schedule:` pages whoever is on call in that schedule when it fires, through its
// receivers (their templates see the person as .OnCall); when nobody is on call (a gap in a
// restricted rotation) it notifies nobody, is logged and listed (OnCallPages), and the next
// step runs at once rather than at its `after` (after a restart in between, at its `after`).
//
// Thread-safe. Timers run on the Scheduler, commit callbacks on the store's thread. The Host
// is called with this object's lock held: it must not call back into Escalations, and
// NotifyStep's `done` must not either if it runs before NotifyStep returns (lock order:
// router/lock_order.h).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/router_state.h"
#include "core/scheduler.h"
#include "core/thread_annotations.h"
#include "notifiers/notifier.h"
#include "router/alert_status.h"
#include "router/route.h"
#include "router/stage.h"

namespace alertd::router {

struct EscalationToken;

class Escalations {
 public:
  // What the escalation needs from the router. Implemented by the Router.
  class Host {
   public:
    virtual ~Host() = default;
    // The policy by name in the current configuration; nullptr when it no longer exists.
    virtual const config::EscalationPolicy* Policy(const std::string& name) const = 0;
    // The group's firing alerts that still need a person at `now` (not acknowledged,
    // silenced, inhibited or muted). nullopt when the group is gone.
    virtual std::optional<Alerts> Escalatable(const std::string& route_key,
                                              const std::string& group_key, Time now) = 0;
    // Sends a step notification with `alerts` to `receiver` for the group (asynchronously).
    // `done` runs exactly once, when the delivery finished or failed (possibly before
    // NotifyStep returns).
    virtual void NotifyStep(const EscalationState& st, const std::string& receiver, Alerts alerts,
                            int step, std::function<void()> done) = 0;
    // alertd: who is on call in `schedule` at `now` (oncall/oncall.h); an empty name: nobody.
    virtual notifiers::OnCallPerson WhoIsOnCall(const std::string& /*schedule*/, Time /*now*/) {
      return {};
    }
    // NotifyStep for a step with `schedule:`: the receiver's templates see `person` as .OnCall.
    virtual void NotifyStepOnCall(const EscalationState& st, const std::string& receiver,
                                  Alerts alerts, int step, const notifiers::OnCallPerson& person,
                                  std::function<void()> done) {
      (void)person;
      NotifyStep(st, receiver, std::move(alerts), step, std::move(done));
    }
  };

  // `store` may be null (nothing persisted). Every pointer must outlive this.
  Escalations(const Clock* clock, Scheduler* scheduler, EscalationStore* store, Host* host);
  ~Escalations();  // Stop()

  // Loads persisted states (no timers yet). Call once, before Resume.
  Status Load() EXCLUDES(mu_);
  // Arms the timers of every loaded state (a step already due fires at once).
  void Resume() EXCLUDES(mu_);
  // Replicas: this node now owns the groups `owned` says yes to (core/cluster.h). Their
  // states are read again from the store, as the previous owner left them, replacing what
  // this node held of them, and their timers armed (a step already due waits for Check, once
  // the node owns the group).
  Status Adopt(const std::function<bool(const std::string& group_key)>& owned) EXCLUDES(mu_);

  // The group flushed at `at` with firing alerts to notify: starts `policy` for the group
  // unless one is already running.
  void Start(const std::string& route_key, const std::string& group_key, const std::string& policy,
             Time at) EXCLUDES(mu_);
  // Re-evaluates the group now: fires a waiting step that is due. No-op for unknown groups.
  void Check(const std::string& route_key, const std::string& group_key) EXCLUDES(mu_);
  void CheckAll() EXCLUDES(mu_);
  // A person ended the escalation elsewhere (PagerDuty resolved the incident): no further step
  // fires. The state is kept, with every round counted as run (and persisted), so the group's
  // next flush does not start the policy again and Notified() still lists the step
  // receivers; End() forgets it once the group resolves. Returns false when the group has no
  // escalation or it had already run every round.
  bool Finish(const std::string& route_key, const std::string& group_key, std::string_view reason)
      EXCLUDES(mu_);

  // What a flush of the group needs to know, read once before its stages run: the step
  // receivers notified so far (they get the resolves) and how many step deliveries had
  // finished (for End).
  struct FlushView {
    std::vector<std::string> notified;
    // Receivers of steps with `schedule:`: the person each last paged.
    std::map<std::string, notifiers::OnCallPerson> on_call;
    uint64_t deliveries_done = 0;
  };
  FlushView ForFlush(const std::string& route_key, const std::string& group_key) const
      EXCLUDES(mu_);
  // The step receivers notified so far (for acknowledge notifications).
  std::vector<std::string> Notified(const std::string& route_key,
                                    const std::string& group_key) const EXCLUDES(mu_);
  // The steps with `schedule:` that fired for the group, oldest first (in memory only).
  std::vector<OnCallPage> OnCallPages(const std::string& route_key,
                                      const std::string& group_key) const EXCLUDES(mu_);
  // The group has no firing alerts left and the resolve notifications of a flush that read
  // `seen` (ForFlush) before its stages ran were delivered: forgets its escalation. Returns
  // false, changing nothing, when a step delivery started that the flush did not see finish
  // (its receiver may not have been told of the resolve: the flush must count as failed, so
  // the group's next flush sends it); true otherwise (also when there is no escalation).
  bool End(const std::string& route_key, const std::string& group_key, const FlushView& seen)
      EXCLUDES(mu_);
  // After a reload to `routes`: keeps the escalations whose route (by key) still exists and
  // still uses their policy, re-evaluating them against the policy as it is now; ends the
  // others, logging why, in memory and in the database. Rows persisted under a route's old
  // index-based id are moved to its key.
  void Reconcile(const RouteTree& routes) EXCLUDES(mu_);

  std::optional<EscalationState> Get(const std::string& route_key,
                                     const std::string& group_key) const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);
  // Steps fired since start (each notifies its receivers once), for /metrics.
  uint64_t steps_fired() const { return steps_fired_.load(std::memory_order_relaxed); }
  // Cancels every timer; later calls do nothing. Idempotent.
  void Stop() EXCLUDES(mu_);

 private:
  using Key = std::pair<std::string, std::string>;  // route key, group key
  struct Entry {
    EscalationState st;
    uint64_t incarnation = 0;  // unique per escalation, so a late commit knows it ended
    Scheduler::TaskId timer = 0;
    // Step deliveries started and finished (or dropped); End waits for them to match. The
    // finished count is shared with the deliveries' callbacks, which must not take mu_.
    uint64_t deliveries_started = 0;
    std::shared_ptr<std::atomic<uint64_t>> deliveries_done =
        std::make_shared<std::atomic<uint64_t>>(0);
    std::vector<OnCallPage> on_call;  // steps with `schedule:` that fired
    // Receivers of steps with `schedule:`: the person each last paged (in memory).
    std::map<std::string, notifiers::OnCallPerson> paged;
  };
  void EvaluateLocked(Entry& e, Time now) REQUIRES(mu_);
  void ArmLocked(Entry& e, Time when) REQUIRES(mu_);
  // A step's state committed (`s`): sends it to `receivers` if its escalation still runs and
  // the group still has something to escalate.
  void StepCommitted(const Key& k, uint64_t incarnation, int step,
                     const std::vector<std::string>& receivers,
                     const notifiers::OnCallPerson& person, const Status& s) EXCLUDES(mu_);
  // Hands a step's notification of `alerts` to the Host, once per receiver; `person` (name
  // set) for a step with `schedule:`.
  void SendStepLocked(Entry& e, int step, const std::vector<std::string>& receivers, Alerts alerts,
                      const notifiers::OnCallPerson& person) REQUIRES(mu_);
  // Queues the state's write; `done` (may be empty) runs after its commit. No-op without a
  // store.
  void PersistLocked(const EscalationState& st, StoreDone done) REQUIRES(mu_);
  void UnpersistLocked(const Key& k) REQUIRES(mu_);
  void EndLocked(std::map<Key, Entry>::iterator it, const std::string& reason) REQUIRES(mu_);

  const Clock* clock_;
  Scheduler* scheduler_;
  EscalationStore* store_;
  Host* host_;
  // Timer tasks and commit callbacks reach this object only while it runs.
  std::shared_ptr<EscalationToken> token_;

  mutable Mutex mu_;
  bool stopped_ GUARDED_BY(mu_) = false;
  bool resumed_ GUARDED_BY(mu_) = false;  // Resume ran: timers are armed
  uint64_t next_incarnation_ GUARDED_BY(mu_) = 1;
  std::map<Key, Entry> entries_ GUARDED_BY(mu_);
  std::atomic<uint64_t> steps_fired_{0};
};

}  // namespace alertd::router
