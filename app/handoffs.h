// Handoff notifications: each schedule's `handoff_receivers` are told when someone else goes
// on call ("bob is on call for primary until Mon 09:00"), through the receivers' own
// integrations, as a firing alert OnCallHandoff{schedule, person} whose templates see the
// person as .OnCall. The first answer after start is only remembered (a restart does not
// re-announce whoever is on call); a handoff while alertd was down is not announced.
//
// Thread-safe. Checks run on the Scheduler; sends on an own thread, one at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/cluster.h"
#include "core/scheduler.h"
#include "core/thread_annotations.h"
#include "router/schedule_overrides.h"

namespace alertd::app {

struct HandoffDeps {
  const Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;
  std::function<std::shared_ptr<const config::Config>()> config;  // the one in force
  router::ScheduleOverrides* overrides = nullptr;                 // may be null
  // Replicas: the node owning the key "oncall/<schedule>" announces. Null: this node.
  const ShardOwnership* ownership = nullptr;
};

class HandoffNotifier {
 public:
  explicit HandoffNotifier(HandoffDeps deps);
  ~HandoffNotifier();  // Stop()

  // Looks at every schedule now and at each coming change (at least once a minute, so new
  // overrides and reloads are seen).
  void Start() EXCLUDES(mu_);
  // Looks again now (an override was made or removed). Any thread.
  void CheckSoon() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);

 private:
  void Check() EXCLUDES(mu_);

  HandoffDeps deps_;
  std::unique_ptr<Executor> sender_;
  Mutex mu_;
  bool stopped_ GUARDED_BY(mu_) = false;
  Scheduler::TaskId timer_ GUARDED_BY(mu_) = 0;
  // Per schedule: who was on call at the last check ("" nobody), and from which source.
  std::map<std::string, std::string> last_ GUARDED_BY(mu_);
  // Lets timer tasks reach this object only while it runs: Stop() clears `self` under the
  // token's lock, so it also waits for a check in progress.
  struct Token {
    Mutex mu;
    HandoffNotifier* self GUARDED_BY(mu) = nullptr;
  };
  std::shared_ptr<Token> token_;
};

}  // namespace alertd::app
