// A Clock and Scheduler for tests: time stands still until the test advances it, and Advance
// runs every task that falls due, in time order, on the calling thread. With an
// InlineExecutor, everything a timer triggers has happened when Advance returns.
// Thread-safe, but meant to be driven from the test's thread.
#pragma once

#include <map>
#include <mutex>

#include "core/clock.h"
#include "core/scheduler.h"
#include "core/time.h"

namespace alertd::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Time start) : now_(start) {}
  Time Now() const override {
    std::lock_guard l(mu_);
    return now_;
  }
  void Set(Time t) {
    std::lock_guard l(mu_);
    now_ = t;
  }
  void Add(Duration d) {
    std::lock_guard l(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  Time now_;
};

class FakeScheduler final : public Scheduler {
 public:
  explicit FakeScheduler(FakeClock* clock) : clock_(clock) {}

  TaskId Schedule(Time when, Task task) override {
    std::lock_guard l(mu_);
    const TaskId id = ++next_id_;
    tasks_.emplace(Key{when, id}, std::move(task));
    return id;
  }
  bool Cancel(TaskId id) override {
    std::lock_guard l(mu_);
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
      if (it->first.second == id) {
        tasks_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Moves the clock forward by `d`, running each task when the clock reaches its time
  // (tasks scheduled by tasks run too, if due within the window).
  void Advance(Duration d) { AdvanceTo(clock_->Now() + d); }
  void AdvanceTo(Time end) {
    for (;;) {
      Task task;
      {
        std::lock_guard l(mu_);
        if (tasks_.empty() || tasks_.begin()->first.first > end) break;
        auto it = tasks_.begin();
        if (it->first.first > clock_->Now()) clock_->Set(it->first.first);
        task = std::move(it->second);
        tasks_.erase(it);
      }
      task();
    }
    if (clock_->Now() < end) clock_->Set(end);
  }
  // Runs what is due now without moving the clock.
  void RunDue() { AdvanceTo(clock_->Now()); }
  size_t pending() const {
    std::lock_guard l(mu_);
    return tasks_.size();
  }

 private:
  using Key = std::pair<Time, TaskId>;
  FakeClock* clock_;
  mutable std::mutex mu_;
  TaskId next_id_ = 0;
  std::map<Key, Task> tasks_;
};

}  // namespace alertd::testing
