// The bounded thread pool: a full queue delays Post and refuses TryPost, a pool thread
// posting to its own full pool is not made to wait on itself, and the queue's numbers reach
// QueueStats (and the /metrics text).
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/queue_stats.h"
#include "core/scheduler.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace std::chrono_literals;

namespace {

// Holds the threads that Wait() until Open().
class Gate {
 public:
  void Wait() {
    std::unique_lock l(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [&] { return open_; });
  }
  void Open() {
    std::lock_guard l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int waiting() {
    std::lock_guard l(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

}  // namespace

TEST_CASE("a bounded thread pool delays Post and refuses TryPost when its queue is full") {
  QueueStats stats;
  Gate gate;
  std::atomic<int> ran{0};
  {
    ThreadPoolOptions opts;
    opts.threads = 1;
    opts.max_queued = 2;
    opts.stats = &stats;
    auto pool = NewThreadPool(opts);
    CHECK(stats.capacity == 2);
    pool->Post([&] {
      gate.Wait();
      ++ran;
    });
    REQUIRE(testing::WaitFor([&] { return gate.waiting() == 1; }, 10s));  // running, held
    pool->Post([&] { ++ran; });
    std::function<void()> second = [&] { ++ran; };
    CHECK(pool->TryPost(second));
    CHECK(stats.length == 2);
    // Full: TryPost refuses and leaves the work with the caller.
    std::function<void()> refused = [&] { ran += 100; };
    CHECK_FALSE(pool->TryPost(refused));
    CHECK(stats.dropped == 1);
    REQUIRE(refused);
    // Post waits for room.
    std::atomic<bool> posted{false};
    std::thread producer([&] {
      pool->Post([&] { ++ran; });
      posted = true;
    });
    REQUIRE(testing::WaitFor([&] { return stats.delayed == 1; }, 10s));
    CHECK_FALSE(posted.load());
    gate.Open();
    producer.join();
    CHECK(posted.load());
  }  // the destructor finishes the queued work
  CHECK(ran == 4);
  CHECK(stats.length == 0);
  CHECK(stats.capacity == 0);  // the pool's share is gone with it
  std::string text;
  AppendQueueMetrics(&text, {{"test", &stats}});
  CHECK(text.find("alertd_queue_delayed_total{queue=\"test\"} 1\n") != std::string::npos);
  CHECK(text.find("alertd_queue_dropped_total{queue=\"test\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE alertd_queue_length gauge\n") != std::string::npos);
}

TEST_CASE("work posted by a pool's own thread to its full queue is queued, not waited for") {
  QueueStats stats;
  std::atomic<int> ran{0};
  {
    ThreadPoolOptions opts;
    opts.threads = 1;
    opts.max_queued = 1;
    opts.stats = &stats;
    auto pool = NewThreadPool(opts);
    Executor* p = pool.get();
    std::atomic<bool> done{false};
    pool->Post([&] {
      // The queue holds one item; the second would wait forever on this very thread.
      p->Post([&] { ++ran; });
      p->Post([&] { ++ran; });
      done = true;
    });
    REQUIRE(testing::WaitFor([&] { return done.load(); }, 10s));
  }
  CHECK(ran == 2);
  CHECK(stats.delayed == 0);
}
