#include "core/scheduler.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace alertd {
namespace {

class ThreadScheduler final : public Scheduler {
 public:
  explicit ThreadScheduler(const Clock* clock) : clock_(clock), thread_([this] { Loop(); }) {}

  ~ThreadScheduler() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  TaskId Schedule(Time when, Task task) override {
    std::lock_guard l(mu_);
    const TaskId id = ++next_id_;
    // (time, id) orders tasks due at the same time by scheduling order.
    tasks_.emplace(Key{when, id}, std::move(task));
    index_.emplace(id, when);
    cv_.notify_all();
    return id;
  }

  bool Cancel(TaskId id) override {
    std::lock_guard l(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    tasks_.erase(Key{it->second, id});
    index_.erase(it);
    return true;
  }

 private:
  using Key = std::pair<Time, TaskId>;

  void Loop() {
    std::unique_lock l(mu_);
    while (!stop_) {
      if (tasks_.empty()) {
        cv_.wait(l);
        continue;
      }
      auto first = tasks_.begin();
      const Time due = first->first.first;
      if (clock_->Now() < due) {
        // The system clock's time line: SystemClock::Now() is system_clock::now().
        cv_.wait_until(l, std::chrono::time_point_cast<std::chrono::system_clock::duration>(due));
        continue;
      }
      Task task = std::move(first->second);
      index_.erase(first->first.second);
      tasks_.erase(first);
      l.unlock();
      task();
      l.lock();
    }
  }

  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;             // GUARDED_BY(mu_)
  TaskId next_id_ = 0;            // GUARDED_BY(mu_)
  std::map<Key, Task> tasks_;     // GUARDED_BY(mu_)
  std::map<TaskId, Time> index_;  // GUARDED_BY(mu_)
  std::thread thread_;            // last: starts after the members above exist
};

class ThreadPool final : public Executor {
 public:
  explicit ThreadPool(const ThreadPoolOptions& opts)
      : max_threads_(opts.threads < 1 ? 1 : opts.threads),
        max_queued_(opts.max_queued),
        stats_(opts.stats) {
    // Several pools may share one QueueStats (every integration's): they add up.
    if (stats_) stats_->capacity += static_cast<int64_t>(max_queued_);
  }

  ~ThreadPool() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    if (stats_) stats_->capacity -= static_cast<int64_t>(max_queued_);
  }

  void Post(std::function<void()> work) override {
    std::unique_lock l(mu_);
    if (Full() && !OnPoolThread()) {
      if (stats_) stats_->delayed++;
      room_cv_.wait(l, [&] { return !Full(); });
    }
    Push(std::move(work));
  }

  bool TryPost(std::function<void()>& work) override {
    std::lock_guard l(mu_);
    if (Full()) {
      if (stats_) stats_->dropped++;
      return false;
    }
    Push(std::move(work));
    return true;
  }

 private:
  // REQUIRES: mu_ held.
  bool Full() const { return max_queued_ > 0 && queue_.size() >= max_queued_; }
  bool OnPoolThread() const {
    const auto self = std::this_thread::get_id();
    for (const auto& t : threads_) {
      if (t.get_id() == self) return true;
    }
    return false;
  }
  // REQUIRES: mu_ held.
  void Push(std::function<void()> work) {
    queue_.push_back(std::move(work));
    if (stats_) stats_->length++;
    if (idle_ == 0 && static_cast<int>(threads_.size()) < max_threads_) {
      threads_.emplace_back([this] { Loop(); });
    } else {
      cv_.notify_one();
    }
  }

  void Loop() {
    std::unique_lock l(mu_);
    for (;;) {
      if (queue_.empty()) {
        if (stop_) return;
        ++idle_;
        cv_.wait(l);
        --idle_;
        continue;
      }
      auto work = std::move(queue_.front());
      queue_.pop_front();
      if (stats_) stats_->length--;
      room_cv_.notify_one();
      l.unlock();
      work();
      l.lock();
    }
  }

  const int max_threads_;
  const size_t max_queued_;
  QueueStats* const stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable room_cv_;          // a queued item was taken
  bool stop_ = false;                        // GUARDED_BY(mu_)
  int idle_ = 0;                             // GUARDED_BY(mu_)
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;         // GUARDED_BY(mu_)
};

}  // namespace

std::unique_ptr<Scheduler> NewThreadScheduler(const Clock* clock) {
  return std::make_unique<ThreadScheduler>(clock);
}

std::unique_ptr<Executor> NewThreadPool(int threads) {
  ThreadPoolOptions opts;
  opts.threads = threads;
  return std::make_unique<ThreadPool>(opts);
}

std::unique_ptr<Executor> NewThreadPool(const ThreadPoolOptions& opts) {
  return std::make_unique<ThreadPool>(opts);
}

}  // namespace alertd
