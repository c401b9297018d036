#include "app/reloader.h"

#include <spdlog/spdlog.h>

namespace alertd::app {
namespace {

double UnixSeconds(Time t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

}  // namespace

Reloader::Reloader(Loader load, std::vector<ReloadStep> steps, ConfigHolder* holder,
                   const Clock* clock, MetricsRegistry* registry)
    : load_(std::move(load)), steps_(std::move(steps)), holder_(holder), clock_(clock) {
  // Standalone placeholders keep Reload free of null checks when there is no registry.
  static Gauge unused_gauge;
  static Counter unused_counter;
  last_successful_ = &unused_gauge;
  last_success_time_ = &unused_gauge;
  reloads_ = &unused_counter;
  failures_ = &unused_counter;
  if (registry) {
    last_successful_ = &registry
                            ->AddGauge("alertd_config_last_reload_successful",
                                       "Whether the last configuration reload attempt was "
                                       "successful (1) or not (0).")
                            .Get();
    last_success_time_ = &registry
                              ->AddGauge("alertd_config_last_reload_success_timestamp_seconds",
                                         "Timestamp of the last successful configuration load.")
                              .Get();
    reloads_ = &registry
                    ->AddCounter("alertd_config_reloads_total",
                                 "Configuration reload attempts (SIGHUP and POST /-/reload).")
                    .Get();
    failures_ = &registry
                     ->AddCounter("alertd_config_reloads_failed_total",
                                  "Configuration reloads refused; the previous configuration "
                                  "kept running.")
                     .Get();
  }
  last_successful_->Set(1);
  last_success_time_->Set(UnixSeconds(clock_->Now()));
}

Status Reloader::Reload(std::string_view trigger) {
  std::lock_guard l(mu_);
  reloads_->Inc();
  Status st = ReloadLocked(trigger);
  for (const auto& step : steps_) {
    if (step.finish) step.finish();
  }
  if (st.ok()) {
    last_successful_->Set(1);
    last_success_time_->Set(UnixSeconds(clock_->Now()));
  } else {
    last_successful_->Set(0);
    failures_->Inc();
    spdlog::error("config: reload ({}) refused: {}; the running configuration stays", trigger,
                  st.message());
  }
  return st;
}

Status Reloader::ReloadLocked(std::string_view trigger) {
  spdlog::info("config: reloading ({})", trigger);
  auto next = load_();
  if (!next.ok()) {
    // The loader names the problems; make sure the kind says "the configuration is bad".
    return next.status().code() == Status::Code::kInvalidArgument
               ? next.status()
               : Status::InvalidArgument(next.status().message());
  }
  const ConfigPtr prev = holder_->Get();
  size_t applied = 0;
  Status failed;
  for (; applied < steps_.size(); ++applied) {
    const auto& step = steps_[applied];
    if (Status st = step.apply(*next, prev); !st.ok()) {
      failed = st.WithPrefix(step.name);
      break;
    }
  }
  if (failed.ok()) {
    holder_->Set(*next);
    spdlog::info("config: reloaded ({})", trigger);
    return Status::Ok();
  }
  while (applied-- > 0) {
    const auto& step = steps_[applied];
    if (!step.revert) continue;
    if (Status st = step.revert(prev, *next); !st.ok()) {
      spdlog::error("config: reverting {} after a failed reload: {}", step.name, st.message());
    }
  }
  return failed;
}

}  // namespace alertd::app
