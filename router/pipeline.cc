#include "router/pipeline.h"

#include <spdlog/spdlog.h>

#include <atomic>

namespace alertd::router {

Pipeline::Pipeline(PipelineDeps deps,
                   std::map<std::string, std::vector<notifiers::Integration>> receivers)
    : deps_(std::move(deps)), receivers_(std::move(receivers)) {
  deps_.retry.clock = deps_.clock;

  // What may be sent at all, once per flush, in Alertmanager's order.
  group_stages_.push_back(NewInhibitStage(deps_.inhibitor.get()));
  group_stages_.push_back(NewTimeActiveStage(deps_.time_intervals.get()));
  group_stages_.push_back(NewTimeMuteStage(deps_.time_intervals.get()));
  group_stages_.push_back(NewSilenceStage(deps_.silences));
  // alertd's acknowledgement stage goes here.

  // Per integration of the receiver, each on its own executor.
  integration_stages_.push_back(NewDedupStage(deps_.nflog));
  // alertd's escalation stage goes here.
  integration_stages_.push_back(NewRetryStage(deps_.retry));
  integration_stages_.push_back(NewSetNotifiesStage(deps_.nflog, deps_.clock, deps_.nflog_retention));

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

void Pipeline::Flush(FlushContext ctx, Alerts alerts, Done done) {
  if (Status s = RunStages(group_stages_, ctx, alerts); !s.ok()) {
    spdlog::error("notify {}: {}", ctx.group_key, s.message());
    return done(false);
  }
  auto it = branches_.find(ctx.receiver);
  if (alerts.empty() || it == branches_.end() || it->second.empty()) return done(true);

  struct Join {
    std::atomic<int> remaining;
    std::atomic<bool> ok{true};
    Done done;
  };
  auto join = std::make_shared<Join>();
  join->remaining = static_cast<int>(it->second.size());
  join->done = std::move(done);
  auto shared_alerts = std::make_shared<const Alerts>(std::move(alerts));
  for (auto& b : it->second) {
    FlushContext bctx = ctx;
    bctx.integration = b.integration;
    bctx.nflog_key = NflogKey{ctx.group_key, ctx.receiver,
                              std::string(b.integration->notifier->integration()),
                              b.integration->index};
    if (!b.executor) {  // shut down
      join->ok = false;
      if (--join->remaining == 0) join->done(false);
      continue;
    }
    b.executor->Post([this, join, shared_alerts, bctx = std::move(bctx)]() mutable {
      Alerts alerts = *shared_alerts;
      Status s = RunStages(integration_stages_, bctx, alerts);
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
