#include "router/schedule_overrides.h"

#include <algorithm>

namespace alertd::router {

Status ScheduleOverrides::Load() {
  if (!store_) return Status::Ok();
  auto got = store_->LoadOverrides();
  if (!got.ok()) return got.status().WithPrefix("loading schedule overrides");
  MutexLock l(mu_);
  overrides_ = std::move(*got);
  loaded_at_ = std::chrono::steady_clock::now();
  for (const auto& o : overrides_) max_id_ = std::max(max_id_, o.id);
  return Status::Ok();
}

Result<ScheduleOverride> ScheduleOverrides::Add(ScheduleOverride o) {
  MutexLock w(write_mu_);
  int64_t id = 0;
  if (store_) {
    auto next = store_->NextOverrideId();
    if (!next.ok()) return next.status();
    id = *next;
  }
  {
    MutexLock l(mu_);
    // A store without a shared sequence (SQLite: one process) leaves the id to us.
    if (id <= max_id_) id = max_id_ + 1;
  }
  o.id = id;
  if (store_) {
    Status s = AwaitStore([&](StoreDone done) { store_->PutOverride(o, std::move(done)); });
    if (!s.ok()) return Status::Unavailable("storing the override: " + s.message());
  }
  {
    MutexLock l(mu_);
    max_id_ = std::max(max_id_, id);
    overrides_.push_back(o);
  }
  if (on_change_) on_change_();
  return o;
}

Status ScheduleOverrides::Remove(const std::string& schedule, int64_t id) {
  MutexLock w(write_mu_);
  {
    MutexLock l(mu_);
    auto it = std::find_if(overrides_.begin(), overrides_.end(), [&](const ScheduleOverride& o) {
      return o.id == id && o.schedule == schedule;
    });
    if (it == overrides_.end())
      return Status::NotFound("schedule " + schedule + " has no override " + std::to_string(id));
  }
  if (store_) {
    Status s = AwaitStore([&](StoreDone done) { store_->DeleteOverride(id, std::move(done)); });
    if (!s.ok()) return Status::Unavailable("deleting the override: " + s.message());
  }
  {
    MutexLock l(mu_);
    overrides_.erase(std::remove_if(overrides_.begin(), overrides_.end(),
                                    [id](const ScheduleOverride& o) { return o.id == id; }),
                     overrides_.end());
  }
  if (on_change_) on_change_();
  return Status::Ok();
}

std::vector<ScheduleOverride> ScheduleOverrides::List() const {
  const auto now = std::chrono::steady_clock::now();
  if (shared_ && store_) {
    {
      MutexLock l(mu_);
      if (now - loaded_at_ < std::chrono::seconds(1)) return overrides_;
    }
    auto got = store_->LoadOverrides();
    MutexLock l(mu_);
    if (got.ok()) {
      overrides_ = std::move(*got);
      loaded_at_ = now;
    }
    return overrides_;
  }
  MutexLock l(mu_);
  return overrides_;
}

}  // namespace alertd::router
