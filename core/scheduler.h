// Timers as an interface, so aggregation-group timers (group_wait, group_interval), retry
// back-off and maintenance run on a FakeScheduler in tests and on a timer thread in the daemon.
// A Scheduler runs each task once, at or after its time as the Clock it was built with tells
// time; tasks due at the same time run in the order they were scheduled.
//
// Thread-safe. Tasks run on the scheduler's own thread (one at a time): they must be quick and
// hand long work (HTTP deliveries) to an executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/queue_stats.h"
#include "core/time.h"

namespace alertd {

class Scheduler {
 public:
  using TaskId = uint64_t;
  using Task = std::function<void()>;

  virtual ~Scheduler() = default;
  // Runs `task` once at `when` (at once if `when` has passed). Returns an id for Cancel; ids
  // are never 0 and never reused.
  virtual TaskId Schedule(Time when, Task task) = 0;
  // Cancels a task that has not started. Returns false when it already ran, is running or is
  // unknown. A task that is running when Cancel returns is not waited for.
  virtual bool Cancel(TaskId id) = 0;
};

// Runs tasks on one thread that sleeps until the earliest task is due. `clock` (which must
// outlive the scheduler) should be the SystemClock: waits use the system clock's time line.
// The destructor stops the thread; tasks not yet run are dropped.
std::unique_ptr<Scheduler> NewThreadScheduler(const Clock* clock);

// Runs work now, elsewhere: a pool of threads in the daemon, the calling thread in tests.
// Thread-safe.
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `work` later. A bounded executor that is full makes the caller wait for room.
  virtual void Post(std::function<void()> work) = 0;
  // Like Post, but a bounded executor that is full does not wait: it returns false and leaves
  // `work` with the caller, untouched. For work that can be redone. By default: Post, true.
  virtual bool TryPost(std::function<void()>& work) {
    Post(std::move(work));
    return true;
  }
};

struct ThreadPoolOptions {
  int threads = 1;
  // Work waiting (not yet running) at most; 0: unbounded. When full, Post waits for room
  // (delay), except from one of the pool's own threads, which would wait on itself: that work
  // is queued over the bound; TryPost refuses (drop).
  size_t max_queued = 0;
  // Where the pool reports its queue (core/queue_stats.h), if set; must outlive the pool.
  // Pools sharing one add up (length and capacity are sums).
  QueueStats* stats = nullptr;
};

// A pool of `threads` threads (started lazily, up to that many, as work queues up). The
// destructor finishes the queued work and joins the threads.
std::unique_ptr<Executor> NewThreadPool(int threads);
std::unique_ptr<Executor> NewThreadPool(const ThreadPoolOptions& opts);

// Runs the work on the calling thread, before Post returns.
class InlineExecutor final : public Executor {
 public:
  void Post(std::function<void()> work) override { work(); }
};

}  // namespace alertd
