// Escalation policies (config `escalation_policies`, `escalation:` on routes): while an
// aggregation group has firing alerts nobody acknowledged, each step of the route's policy
// notifies its receivers once its `after` has passed since the group's first notification
// (every `after` counts from that moment); `repeat: N` runs the list N more times, each
// round's `after`s counted from the end of the previous round (when its last step fired).
//
// A step that falls due while the group has nothing to escalate (every firing alert
// acknowledged, silenced, inhibited or muted) waits; Check() (called when an ack ends, when
// alerts change and by maintenance) fires it at once when there is something again. The
// state of each group (first notification, round, next step, receivers notified) is persisted
// in SQLite (table `escalations`) before a step's notification leaves, so after a crash the
// next step fires at its original time and no step is sent twice. Escalate() of the group's
// own notification starts a policy; End() (after the group's resolve notifications went out)
// forgets it, so a re-fire starts a new escalation.
//
// Thread-safe. Timers run on the Scheduler. The Host is called with this object's lock held:
// it must not call back into Escalations.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/scheduler.h"
#include "router/stage.h"
#include "router/state_db.h"

namespace alertd::router {

struct EscalationToken;

struct EscalationState {
  std::string route_id;
  std::string group_key;
  std::string policy;
  Time started_at = kZeroTime;        // the group's first notification
  int round = 0;                      // 0: the first run through the steps
  Time round_start = kZeroTime;       // the `after`s of this round count from here
  int next_step = 0;                  // index into the policy's steps
  std::vector<std::string> notified;  // step receivers notified so far, sorted, unique
};

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
    virtual std::optional<Alerts> Escalatable(const std::string& route_id,
                                              const std::string& group_key, Time now) = 0;
    // Sends a step notification with `alerts` to `receiver` for the group (asynchronously).
    virtual void NotifyStep(const EscalationState& st, const std::string& receiver, Alerts alerts,
                            int step) = 0;
  };

  // `db` may be null (nothing persisted). Every pointer must outlive this.
  Escalations(const Clock* clock, Scheduler* scheduler, StateDb* db, Host* host);
  ~Escalations();  // Stop()

  // Loads persisted states (no timers yet). Call once, before Resume.
  Status Load();
  // Arms the timers of every loaded state (a step already due fires at once).
  void Resume();

  // The group's own receiver was notified of firing alerts at `at`: starts `policy` for the
  // group unless it is already running.
  void Start(const std::string& route_id, const std::string& group_key, const std::string& policy,
             Time at);
  // Re-evaluates the group now: fires a waiting step that is due. No-op for unknown groups.
  void Check(const std::string& route_id, const std::string& group_key);
  void CheckAll();
  // The step receivers notified so far (for resolve and acknowledge notifications).
  std::vector<std::string> Notified(const std::string& route_id,
                                    const std::string& group_key) const;
  // The group has no firing alerts left and its resolve notifications were delivered.
  void End(const std::string& route_id, const std::string& group_key);
  // A person ended the escalation elsewhere (PagerDuty resolved the incident): no further step
  // fires. The state is kept, with every round counted as run (and persisted), so the group's
  // next flush does not start the policy again and Notified() still lists the step
  // receivers; End() forgets it once the group resolves. Returns false when the group has no
  // escalation or it had already run every round.
  bool Finish(const std::string& route_id, const std::string& group_key,
              std::string_view reason);

  std::optional<EscalationState> Get(const std::string& route_id,
                                     const std::string& group_key) const;
  size_t size() const;
  // Steps fired since start (each notifies its receivers once), for /metrics.
  uint64_t steps_fired() const { return steps_fired_.load(std::memory_order_relaxed); }
  // Cancels every timer; later calls do nothing. Idempotent.
  void Stop();

 private:
  using Key = std::pair<std::string, std::string>;  // route id, group key
  struct Entry {
    EscalationState st;
    Scheduler::TaskId timer = 0;
  };
  void EvaluateLocked(Entry& e, Time now);
  void ArmLocked(Entry& e, Time when);
  void PersistLocked(const EscalationState& st, std::function<void()> then);
  void UnpersistLocked(const Key& k);

  const Clock* clock_;
  Scheduler* scheduler_;
  StateDb* db_;
  Host* host_;
  // Timer tasks and commit callbacks reach this object only while it runs.
  std::shared_ptr<EscalationToken> token_;

  mutable std::mutex mu_;
  bool stopped_ = false;          // GUARDED_BY(mu_)
  std::map<Key, Entry> entries_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> steps_fired_{0};
};

}  // namespace alertd::router
