// The daemon's one configuration reload path, shared by SIGHUP and POST /-/reload.
//
// A reload loads and validates the file, then applies it step by step (auth tokens, the
// router, the rule engine, ... as the daemon lists them); each step either applies fully or
// changes nothing. If any step fails, the steps already applied are reverted in reverse
// order, so the old configuration keeps running as a whole; the failure is logged and
// counted. Only when every step succeeded does ConfigHolder hand out the new configuration.
//
// Metrics (Alertmanager's alertmanager_config_* under alertd_):
//   alertd_config_last_reload_successful               1 or 0
//   alertd_config_last_reload_success_timestamp_seconds
//   alertd_config_reloads_total / alertd_config_reloads_failed_total
// The configuration loaded at start counts as the first successful reload.
//
// Thread-safety: ConfigHolder and Reloader are thread-safe; reloads are serialised.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"

namespace alertd::app {

using ConfigPtr = std::shared_ptr<const config::Config>;

// The configuration in force. Thread-safe.
class ConfigHolder {
 public:
  ConfigPtr Get() const {
    std::lock_guard l(mu_);
    return cfg_;
  }
  void Set(ConfigPtr c) {
    std::lock_guard l(mu_);
    cfg_ = std::move(c);
  }

 private:
  mutable std::mutex mu_;
  ConfigPtr cfg_;  // GUARDED_BY(mu_)
};

struct ReloadStep {
  std::string name;  // for logs: "auth", "router", "rules"
  // Puts `next` into force. On error this step changed nothing.
  std::function<Status(const ConfigPtr& next, const ConfigPtr& prev)> apply;
  // Undoes a successful apply after a later step failed, putting `prev` back. May be empty
  // (nothing to undo). Failures here are logged; there is nothing better to do.
  std::function<Status(const ConfigPtr& prev, const ConfigPtr& next)> revert;
  // Called for every step once a reload is over (applied, refused or reverted), to let go
  // of what only a revert would have needed. May be empty.
  std::function<void()> finish;
};

class Reloader {
 public:
  // Loads and validates the configuration file; InvalidArgument naming every problem when
  // it is broken.
  using Loader = std::function<Result<ConfigPtr>()>;

  // `holder` must already hold the configuration loaded at start; `holder`, `clock` and
  // `registry` (may be null) must outlive the Reloader.
  Reloader(Loader load, std::vector<ReloadStep> steps, ConfigHolder* holder, const Clock* clock,
           MetricsRegistry* registry);

  // Reloads; `trigger` names the cause for the logs ("SIGHUP", "POST /-/reload"). Returns
  // InvalidArgument when the file does not load or validate, another error when a step
  // failed to apply it; either way the previous configuration stays in force.
  Status Reload(std::string_view trigger);

 private:
  Status ReloadLocked(std::string_view trigger);

  const Loader load_;
  const std::vector<ReloadStep> steps_;
  ConfigHolder* const holder_;
  const Clock* const clock_;
  std::mutex mu_;  // serialises reloads
  Gauge* last_successful_ = nullptr;
  Gauge* last_success_time_ = nullptr;
  Counter* reloads_ = nullptr;
  Counter* failures_ = nullptr;
};

}  // namespace alertd::app
