#include "router/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "router/route.h"

namespace alertd::router {

Pipeline::Pipeline(PipelineDeps deps,
                   std::map<std::string, std::vector<notifiers::Integration>> receivers)
    : deps_(std::move(deps)), receivers_(std::move(receivers)) {
  deps_.retry.clock = deps_.clock;

  // What may be sent at all, once per flush, in Alertmanager's order.
  group_stages_.push_back(NewInhibitStage(deps_.inhibitor.get(), deps_.history));
  group_stages_.push_back(NewTimeActiveStage(deps_.time_intervals.get()));
  group_stages_.push_back(NewTimeMuteStage(deps_.time_intervals.get()));
  group_stages_.push_back(NewSilenceStage(deps_.silences, deps_.history));
  if (deps_.acks) group_stages_.push_back(NewAcknowledgedStage(deps_.acks));
  // Escalation is driven by the alerts a flush has to notify and by time, not by whether a
  // delivery succeeds: it starts here, before dedup and delivery.
  if (deps_.escalations) escalation_stage_ = NewEscalationStage(deps_.escalations);

  // Per integration of the receiver, each on its own executor.
  integration_stages_.push_back(NewDedupStage(deps_.nflog, deps_.clock));
  integration_stages_.push_back(NewRetryStage(deps_.retry));
  integration_stages_.push_back(
      NewSetNotifiesStage(deps_.nflog, deps_.clock, deps_.nflog_retention));

  // Receivers an escalation step notified hear of the resolves.
  escalation_resolve_stages_.push_back(NewEscalationResolveStage(deps_.nflog));
  escalation_resolve_stages_.push_back(NewRetryStage(deps_.retry));
  escalation_resolve_stages_.push_back(
      NewSetNotifiesStage(deps_.nflog, deps_.clock, deps_.nflog_retention));

  // An escalation step: sent as it is, and logged so the resolve follows.
  step_stages_.push_back(NewEscalationStepStage());
  step_stages_.push_back(NewRetryStage(deps_.retry));
  step_stages_.push_back(NewSetNotifiesStage(deps_.nflog, deps_.clock, deps_.nflog_retention));

  // An acknowledge event: to integrations that were told of the alerts; not logged.
  ack_event_stages_.push_back(NewAcknowledgeEventStage(deps_.nflog));
  ack_event_stages_.push_back(NewRetryStage(deps_.retry));

  for (auto& [name, integrations] : receivers_) {
    auto& branches = branches_[name];
    for (auto& in : integrations) {
      const std::string key =
          name + "/" + std::string(in.notifier->integration()) + "/" + std::to_string(in.index);
      branches.push_back(Branch{&in, deps_.new_executor(key)});
    }
  }
}

Status Pipeline::RunStages(const std::vector<StagePtr>& stages, FlushContext& ctx,
                           Alerts& alerts) const {
  for (const auto& s : stages) {
    if (alerts.empty()) return Status::Ok();
    if (Status st = s->Exec(ctx, alerts); !st.ok()) return st;
  }
  return Status::Ok();
}

Status Pipeline::RunFlushStages(FlushContext& ctx, Alerts& alerts) const {
  if (Status s = RunStages(group_stages_, ctx, alerts); !s.ok()) return s;
  if (escalation_stage_ && !alerts.empty()) return escalation_stage_->Exec(ctx, alerts);
  return Status::Ok();
}

std::vector<Pipeline::Target> Pipeline::FlushTargets(FlushContext& ctx, const Alerts& alerts,
                                                     Done& done) {
  std::vector<Target> targets;
  targets.emplace_back(ctx.receiver, &integration_stages_);
  if (deps_.escalations) {
    // Read before any stage runs: End below must know which step deliveries had finished
    // (and so were logged for the resolve stages) when this flush began.
    auto view = deps_.escalations->ForFlush(ctx.route->key, ctx.group_key);
    for (const auto& r : view.notified) {
      if (r != ctx.receiver) targets.emplace_back(r, &escalation_resolve_stages_);
    }
    // Whom steps with `schedule:` paged through those receivers: their resolves go there too.
    ctx.on_call_by_receiver = view.on_call;
    const bool any_firing = std::any_of(alerts.begin(), alerts.end(),
                                        [&](const AlertPtr& a) { return !a->ResolvedAt(ctx.now); });
    if (!any_firing) {
      // Every alert resolved: once the resolves are out, a re-fire starts a new escalation.
      // A step delivered meanwhile may have missed them: the flush then counts as failed, so
      // the group keeps its resolved alerts and the next flush tells that receiver.
      done = [this, route_key = ctx.route->key, key = ctx.group_key, view = std::move(view),
              done = std::move(done)](bool ok) {
        if (ok && !deps_.escalations->End(route_key, key, view)) ok = false;
        done(ok);
      };
    }
  }
  return targets;
}

void Pipeline::ForBranch(FlushContext& ctx, const Branch& b) {
  ctx.receiver = b.integration->receiver;
  ctx.integration = b.integration;
  if (auto it = ctx.on_call_by_receiver.find(ctx.receiver); it != ctx.on_call_by_receiver.end())
    ctx.on_call = it->second;
  ctx.nflog_key =
      NflogKey{ctx.group_key, ctx.receiver, std::string(b.integration->notifier->integration()),
               b.integration->index};
}

void Pipeline::Flush(FlushContext ctx, Alerts alerts, Done done) {
  auto targets = FlushTargets(ctx, alerts, done);
  if (Status s = RunFlushStages(ctx, alerts); !s.ok()) {
    spdlog::error("notify {}: {}", ctx.group_key, s.message());
    return done(false);
  }
  FanOut(ctx, std::move(alerts), targets, std::move(done));
}

void Pipeline::Submit(Executor* flush_executor, FlushContext ctx, Alerts alerts, Done done) {
  auto targets = FlushTargets(ctx, alerts, done);
  Branch* single = nullptr;
  if (targets.size() == 1) {
    auto it = branches_.find(ctx.receiver);
    if (it != branches_.end() && it->second.size() == 1 && it->second[0].executor) {
      single = &it->second[0];
    }
  }
  // A flush is work that is redone: when the executor's queue is full it is refused, and the
  // group, told it failed, flushes again at its next group_interval tick (core/queue_stats.h).
  const auto refused = [](const std::string& group_key, const Done& done) {
    spdlog::warn("notify {}: flush queue full; the group flushes again at its next interval",
                 group_key);
    done(false);
  };
  if (single == nullptr) {
    const std::string key = ctx.group_key;
    std::function<void()> work = [this, targets = std::move(targets), ctx = std::move(ctx),
                                  alerts = std::move(alerts), done]() mutable {
      if (Status s = RunFlushStages(ctx, alerts); !s.ok()) {
        spdlog::error("notify {}: {}", ctx.group_key, s.message());
        return done(false);
      }
      FanOut(ctx, std::move(alerts), targets, std::move(done));
    };
    if (!flush_executor->TryPost(work)) refused(key, done);
    return;
  }
  const std::string key = ctx.group_key;
  std::function<void()> work = [this, single, ctx = std::move(ctx), alerts = std::move(alerts),
                                done]() mutable {
    if (Status s = RunFlushStages(ctx, alerts); !s.ok()) {
      spdlog::error("notify {}: {}", ctx.group_key, s.message());
      return done(false);
    }
    if (alerts.empty()) return done(true);
    ForBranch(ctx, *single);
    Status s = RunStages(integration_stages_, ctx, alerts);
    if (!s.ok()) spdlog::error("notify: {}", s.message());
    done(s.ok());
  };
  if (!single->executor->TryPost(work)) refused(key, done);
}

Status Pipeline::Filter(FlushContext& ctx, Alerts& alerts) const {
  return RunStages(group_stages_, ctx, alerts);
}

void Pipeline::NotifyStep(FlushContext ctx, Alerts alerts, Done done) {
  ctx.notification_reason = "escalation";
  FanOut(ctx, std::move(alerts), {{ctx.receiver, &step_stages_}}, std::move(done));
}

void Pipeline::NotifyAcknowledged(FlushContext ctx, Alerts alerts,
                                  const std::vector<std::string>& receivers, Done done) {
  std::vector<Target> targets;
  for (const auto& r : receivers) targets.emplace_back(r, &ack_event_stages_);
  FanOut(ctx, std::move(alerts), targets, std::move(done));
}

void Pipeline::FanOut(const FlushContext& ctx, Alerts alerts, const std::vector<Target>& targets,
                      Done done) {
  std::vector<std::pair<Branch*, const std::vector<StagePtr>*>> work;
  for (const auto& [receiver, stages] : targets) {
    auto it = branches_.find(receiver);
    if (it == branches_.end()) continue;
    for (auto& b : it->second) work.emplace_back(&b, stages);
  }
  if (alerts.empty() || work.empty()) return done(true);

  struct Join {
    std::atomic<int> remaining;
    std::atomic<bool> ok{true};
    Done done;
  };
  auto join = std::make_shared<Join>();
  join->remaining = static_cast<int>(work.size());
  join->done = std::move(done);
  auto shared_alerts = std::make_shared<const Alerts>(std::move(alerts));
  for (auto& [b, stages] : work) {
    FlushContext bctx = ctx;
    ForBranch(bctx, *b);
    if (!b->executor) {  // shut down
      join->ok = false;
      if (--join->remaining == 0) join->done(false);
      continue;
    }
    b->executor->Post(
        [this, join, shared_alerts, stages = stages, bctx = std::move(bctx)]() mutable {
          Alerts alerts = *shared_alerts;
          Status s = RunStages(*stages, bctx, alerts);
          if (!s.ok()) {
            spdlog::error("notify: {}", s.message());
            join->ok = false;
          }
          if (--join->remaining == 0) join->done(join->ok.load());
        });
  }
}

}  // namespace alertd::router

namespace alertd::router {

void Pipeline::Shutdown() {
  for (auto& [name, branches] : branches_) {
    for (auto& b : branches) b.executor.reset();
  }
}

Pipeline::~Pipeline() { Shutdown(); }

}  // namespace alertd::router
