// The schedules' overrides in force (oncall/oncall.h), kept in memory and written through an
// OverrideStore (core/router_state.h) before they count: what the API's override endpoints
// change and what escalation steps with `schedule:` read.
//
// Thread-safe (provides internal synchronization). Add and Remove block until the store
// committed; call them from a request thread, never from a store callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "core/result.h"
#include "core/router_state.h"
#include "core/thread_annotations.h"

namespace alertd::router {

class ScheduleOverrides {
 public:
  // `store` (not owned) must outlive this; null: overrides live in memory only. `shared`:
  // other processes write the same store (PostgreSQL replicas), so List() reads it again when
  // its copy is older than a second (on a failed read it answers from memory).
  explicit ScheduleOverrides(OverrideStore* store, bool shared = false)
      : store_(store), shared_(shared) {}

  // Reads every stored override. Call once, before the first Add.
  Status Load();

  // Stores `o` with a new id and returns it as stored. The caller validated it (schedule
  // and person known, start < end). Unavailable: the store did not take it; nothing changed.
  Result<ScheduleOverride> Add(ScheduleOverride o);
  // Deletes the override `id` of `schedule`. NotFound: there is none.
  Status Remove(const std::string& schedule, int64_t id);

  // Every override, by id.
  std::vector<ScheduleOverride> List() const;

  // `fn` runs after each Add and Remove that changed something, on the caller's thread. Set
  // once, before the first Add.
  void OnChange(std::function<void()> fn) { on_change_ = std::move(fn); }

 private:
  OverrideStore* const store_;
  const bool shared_;
  std::function<void()> on_change_;
  mutable std::chrono::steady_clock::time_point loaded_at_ GUARDED_BY(mu_){};
  mutable Mutex mu_;
  mutable std::vector<ScheduleOverride> overrides_ GUARDED_BY(mu_);
  int64_t max_id_ GUARDED_BY(mu_) = 0;
  // Add and Remove one at a time, so ids are handed out in order and a delete cannot pass an
  // add of the same id.
  Mutex write_mu_;
};

}  // namespace alertd::router
