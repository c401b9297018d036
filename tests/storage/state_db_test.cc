// The router's state writer: its bounded queue makes producers wait (never drops), a `done`
// callback may still write, the numbers reach QueueStats, and an operation that fails in a
// batch is rolled back alone.
#include "storage/state_db.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "storage/db.h"
#include "tests/storage/writer_gate.h"
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
    storage::StateDb state(std::move(*db), /*max_queued=*/2);
    CHECK(state.queue().capacity == 2);
    // The writer is held inside the first transaction.
    state.Write([&](storage::StateDb::Conn&) {
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
    state.Write([](storage::StateDb::Conn&) { return Status::Ok(); }, count);
    // A `done` that writes runs on the writer thread: it is queued over the bound.
    state.Write([](storage::StateDb::Conn&) { return Status::Ok(); },
                [&](Status s) {
                  count(s);
                  state.Write([](storage::StateDb::Conn&) { return Status::Ok(); }, count);
                  state.Write([](storage::StateDb::Conn&) { return Status::Ok(); }, count);
                });
    CHECK(state.queue().length == 2);
    std::atomic<bool> queued{false};
    std::thread producer([&] {
      state.Write([](storage::StateDb::Conn&) { return Status::Ok(); }, count);
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
    REQUIRE(state.WriteSync([](storage::StateDb::Conn&) { return Status::Ok(); }).ok());
    state.Close();
  }
  CHECK(committed == 5);
  testing::RemoveTree(dir);
}

namespace {

Status Exec(storage::StateDb::Conn& c, const std::string& sql) { return c.db().Exec(sql); }

std::vector<std::string> Rows(storage::StateDb* db) {
  std::vector<std::string> out;
  REQUIRE(db->Query("SELECT k FROM t ORDER BY k", [&](const storage::Statement& q) {
              out.emplace_back(q.ColumnText(0));
              return Status::Ok();
            }).ok());
  return out;
}

}  // namespace

TEST_CASE("a failed operation in a state batch is rolled back alone; the others commit") {
  const std::string dir = testing::MakeTempDir("router-batch");
  auto opened = storage::Database::Open(dir + "/alertd.db");
  REQUIRE(opened.ok());
  auto db = std::make_unique<storage::StateDb>(std::move(*opened));
  REQUIRE(db->WriteSync([](storage::StateDb::Conn& c) {
              return Exec(c, "CREATE TABLE t (k TEXT PRIMARY KEY)");
            }).ok());
  std::promise<Status> s1, s2, s3;
  {
    testing::WriterGate gate(db.get());
    db->Write([](storage::StateDb::Conn& c) { return Exec(c, "INSERT INTO t VALUES ('one')"); },
              [&](Status s) { s1.set_value(s); });
    // Writes a row, then fails: its row must not be committed.
    db->Write(
        [](storage::StateDb::Conn& c) {
          if (Status s = Exec(c, "INSERT INTO t VALUES ('half')"); !s.ok()) return s;
          return Status::Internal("second statement failed");
        },
        [&](Status s) { s2.set_value(s); });
    db->Write([](storage::StateDb::Conn& c) { return Exec(c, "INSERT INTO t VALUES ('three')"); },
              [&](Status s) { s3.set_value(s); });
  }
  CHECK(s1.get_future().get().ok());
  Status failed = s2.get_future().get();
  CHECK_FALSE(failed.ok());
  CHECK(failed.message().find("second statement failed") != std::string::npos);
  CHECK(s3.get_future().get().ok());
  const auto rows = Rows(db.get());
  CHECK(rows == std::vector<std::string>{"one", "three"});

  // A later batch is unaffected by the earlier failure.
  REQUIRE(db->WriteSync([](storage::StateDb::Conn& c) {
              return Exec(c, "INSERT INTO t VALUES ('four')");
            }).ok());
  CHECK(Rows(db.get()) == std::vector<std::string>{"four", "one", "three"});
  db->Close();
  testing::RemoveTree(dir);
}
