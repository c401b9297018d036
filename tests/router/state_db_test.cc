// The router's state writer: its bounded queue makes producers wait (never drops), a `done`
// callback may still write, and the numbers reach QueueStats.
#include "router/state_db.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/db.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace std::chrono_literals;

TEST_CASE("a full router state queue delays writers and loses no write") {
  const std::string dir = testing::MakeTempDir("alertd-statedb");
  auto db = storage::Database::Open(dir + "/state.db");
  REQUIRE(db.ok());
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, entered = false;
  std::atomic<int> committed{0};
  {
    router::StateDb state(std::move(*db), /*max_queued=*/2);
    CHECK(state.queue().capacity == 2);
    // The writer is held inside the first transaction.
    state.Write([&](router::StateDb::Conn&) {
      std::unique_lock l(mu);
      entered = true;
      cv.notify_all();
      cv.wait(l, [&] { return open; });
      return Status::Ok();
    });
    {
      std::unique_lock l(mu);
      REQUIRE(cv.wait_for(l, 10s, [&] { return entered; }));
    }
    const auto count = [&](Status s) {
      if (s.ok()) ++committed;
    };
    state.Write([](router::StateDb::Conn&) { return Status::Ok(); }, count);
    // A `done` that writes runs on the writer thread: it is queued over the bound.
    state.Write([](router::StateDb::Conn&) { return Status::Ok(); },
                [&](Status s) {
                  count(s);
                  state.Write([](router::StateDb::Conn&) { return Status::Ok(); }, count);
                  state.Write([](router::StateDb::Conn&) { return Status::Ok(); }, count);
                });
    CHECK(state.queue().length == 2);
    std::atomic<bool> queued{false};
    std::thread producer([&] {
      state.Write([](router::StateDb::Conn&) { return Status::Ok(); }, count);
      queued = true;
    });
    REQUIRE(testing::WaitFor([&] { return state.queue().delayed == 1; }, 10s));
    CHECK_FALSE(queued.load());
    {
      std::lock_guard l(mu);
      open = true;
      cv.notify_all();
    }
    producer.join();
    REQUIRE(state.WriteSync([](router::StateDb::Conn&) { return Status::Ok(); }).ok());
    state.Close();
  }
  CHECK(committed == 5);
  testing::RemoveTree(dir);
}
