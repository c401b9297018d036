// The notification pipeline: what happens when an aggregation group flushes. Alertmanager's
// order (notify/notify.go PipelineBuilder.New), written once in pipeline.cc:
//   inhibit → time active → time mute → silence → acknowledged
//   → escalation (firing alerts left: the group's first flush starts its policy)
//   → fan-out per integration: dedup (notification log) → retry + notify → log the delivery.
// The escalation stage runs before the fan-out, so a policy starts whatever dedup and the
// deliveries make of the flush. Receivers an escalation step notified get, in the same
// fan-out, the group's resolves (escalation resolve → retry + notify → log). Escalation steps
// and acknowledge events are sent through the same integrations with their own short stage
// lists (NotifyStep, NotifyAcknowledged). Each integration's branch runs on that
// integration's own executor, so a slow or failing receiver never holds up another.
//
// Thread-safe; flushes of different groups run concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/scheduler.h"
#include "notifiers/notifier.h"
#include "router/acks.h"
#include "router/escalation.h"
#include "router/inhibit.h"
#include "router/nflog.h"
#include "router/silences.h"
#include "router/stage.h"
#include "router/stages.h"
#include "storage/history.h"
#include "router/time_intervals.h"

namespace alertd::router {

struct PipelineDeps {
  const Clock* clock = nullptr;
  std::shared_ptr<const Inhibitor> inhibitor;
  const Silences* silences = nullptr;
  std::shared_ptr<const TimeIntervals> time_intervals;
  NotificationLog* nflog = nullptr;
  const Acknowledgements* acks = nullptr;              // null: no acknowledgement stage
  Escalations* escalations = nullptr;                  // null: escalation policies are not run
  Duration nflog_retention = std::chrono::hours(120);  // Alertmanager's --data.retention
  RetryOptions retry;                                  // clock is filled in from `clock`
  storage::HistoryRecorder* history = nullptr;         // what silenced or inhibited an alert
  // An executor for one integration ("receiver/integration/index"); called once per
  // integration when the pipeline is built.
  std::function<std::unique_ptr<Executor>(const std::string& name)> new_executor;
};

class Pipeline {
 public:
  using Done = std::function<void(bool ok)>;

  // `receivers`: each receiver's integrations, by receiver name. The raw pointers in `deps`
  // must outlive the pipeline.
  Pipeline(PipelineDeps deps, std::map<std::string, std::vector<notifiers::Integration>> receivers);

  // Runs the group stages on the calling thread, then each integration's stages on its
  // executor. `done(ok)` runs once, when every branch has finished (on the thread that
  // finished last); ok is false when a stage failed (the group then keeps its resolved
  // alerts for the next flush). A receiver without integrations succeeds at once.
  void Flush(FlushContext ctx, Alerts alerts, Done done);
  // Flush, started from the dispatcher's timer thread: on `flush_executor`, or, when the
  // flush goes to a single integration (the receiver has one and no escalation step
  // notified another), as one task on that integration's executor, which runs the group
  // stages and then the integration's, saving a thread hand-off per notification.
  void Submit(Executor* flush_executor, FlushContext ctx, Alerts alerts, Done done);

  // Runs the group stages on the calling thread: what a flush at ctx.now would let through
  // (ctx.route must be set). Used to decide whether a group still has alerts to escalate.
  Status Filter(FlushContext& ctx, Alerts& alerts) const;
  // Sends an escalation step's notification of `alerts` (firing) to ctx.receiver's
  // integrations, bypassing dedup and recording it in the notification log.
  void NotifyStep(FlushContext ctx, Alerts alerts, Done done);
  // Sends an acknowledge event (ctx.kind, ctx.acknowledged_by, ...) about `alerts` to the
  // integrations of `receivers` that want one and were notified of one of the alerts.
  void NotifyAcknowledged(FlushContext ctx, Alerts alerts,
                          const std::vector<std::string>& receivers, Done done);

  // Finishes the deliveries queued on the integrations' executors and stops their threads.
  // Flushes after this fail. Must not be called from an integration's executor; the
  // destructor calls it, so the last reference must not be dropped there either (the
  // Router keeps its pipelines until it shuts them down).
  void Shutdown();
  ~Pipeline();

 private:
  struct Branch {
    notifiers::Integration* integration;
    std::unique_ptr<Executor> executor;
  };
  Status RunStages(const std::vector<StagePtr>& stages, FlushContext& ctx, Alerts& alerts) const;
  // The group stages of a flush, then the escalation stage (with alerts left).
  Status RunFlushStages(FlushContext& ctx, Alerts& alerts) const;
  // The receivers a flush of this group goes to, with their stage lists; wraps `done` so an
  // all-resolved flush ends the group's escalation.
  using Target = std::pair<std::string, const std::vector<StagePtr>*>;
  std::vector<Target> FlushTargets(FlushContext& ctx, const Alerts& alerts, Done& done);
  // Fills in what the integration stages of `b` need.
  static void ForBranch(FlushContext& ctx, const Branch& b);
  // Runs `stages` on the branches of each receiver in `receivers` (paired with its stage
  // list), then calls done(ok) once.
  void FanOut(const FlushContext& ctx, Alerts alerts, const std::vector<Target>& targets,
              Done done);

  PipelineDeps deps_;
  std::map<std::string, std::vector<notifiers::Integration>> receivers_;
  std::map<std::string, std::vector<Branch>> branches_;  // by receiver name
  std::vector<StagePtr> group_stages_;  // also what Filter runs
  StagePtr escalation_stage_;           // null without escalations
  std::vector<StagePtr> integration_stages_;
  std::vector<StagePtr> escalation_resolve_stages_;  // receivers notified by a step
  std::vector<StagePtr> step_stages_;                // an escalation step's notification
  std::vector<StagePtr> ack_event_stages_;           // acknowledge events
};

}  // namespace alertd::router
