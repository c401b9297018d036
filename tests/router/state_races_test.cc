// The router's shared state under concurrency: a batch of the state writer in which one
// operation fails, acknowledgements and silences read while a change of theirs waits for its
// commit, and concurrent acknowledgements of one alert.
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

#include "router/acks.h"
#include "router/silences.h"
#include "router/state_db.h"
#include "storage/db.h"
#include "tests/router/harness.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

std::unique_ptr<router::StateDb> OpenState(const std::string& path) {
  auto db = storage::Database::Open(path);
  REQUIRE(db.ok());
  return std::make_unique<router::StateDb>(std::move(*db));
}

Status Exec(router::StateDb::Conn& c, const std::string& sql) { return c.db().Exec(sql); }

std::vector<std::string> Rows(router::StateDb* db) {
  std::vector<std::string> out;
  REQUIRE(db->Query("SELECT k FROM t ORDER BY k", [&](const storage::Statement& q) {
               out.emplace_back(q.ColumnText(0));
               return Status::Ok();
             }).ok());
  return out;
}

}  // namespace

TEST_CASE("a failed operation in a state batch is rolled back alone; the others commit") {
  const std::string dir = MakeTempDir("router-batch");
  auto db = OpenState(dir + "/alertd.db");
  REQUIRE(db->WriteSync([](router::StateDb::Conn& c) {
               return Exec(c, "CREATE TABLE t (k TEXT PRIMARY KEY)");
             }).ok());
  std::promise<Status> s1, s2, s3;
  {
    WriterGate gate(db.get());
    db->Write([](router::StateDb::Conn& c) { return Exec(c, "INSERT INTO t VALUES ('one')"); },
              [&](Status s) { s1.set_value(s); });
    // Writes a row, then fails: its row must not be committed.
    db->Write(
        [](router::StateDb::Conn& c) {
          if (Status s = Exec(c, "INSERT INTO t VALUES ('half')"); !s.ok()) return s;
          return Status::Internal("second statement failed");
        },
        [&](Status s) { s2.set_value(s); });
    db->Write([](router::StateDb::Conn& c) { return Exec(c, "INSERT INTO t VALUES ('three')"); },
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
  REQUIRE(db->WriteSync([](router::StateDb::Conn& c) {
               return Exec(c, "INSERT INTO t VALUES ('four')");
             }).ok());
  CHECK(Rows(db.get()) == std::vector<std::string>{"four", "one", "three"});
  db->Close();
  RemoveTree(dir);
}

TEST_CASE("acks and silences answer reads while a change of theirs waits for its commit") {
  const std::string dir = MakeTempDir("router-fsync");
  auto db = OpenState(dir + "/alertd.db");
  FakeClock clock(T0());
  router::Acknowledgements acks(db.get());
  router::Silences silences(&clock, db.get());
  REQUIRE(acks.Load().ok());
  REQUIRE(silences.Load().ok());
  auto alert = std::make_shared<Alert>();
  alert->labels.Set("alertname", "A");
  alert->starts_at = T0();

  std::future<Result<std::vector<router::Ack>>> added;
  std::future<Result<std::string>> set;
  {
    WriterGate gate(db.get());
    added = std::async(std::launch::async, [&] {
      return acks.Add({alert}, router::AckRequest{"alice", "", {}}, T0());
    });
    set = std::async(std::launch::async, [&] {
      router::Silence s;
      s.matchers = *ParseMatchers(R"({alertname="A"})");
      s.starts_at = T0();
      s.ends_at = T0() + std::chrono::hours(1);
      s.created_by = "me";
      s.comment = "c";
      return silences.Set(s);
    });
    // Both changes reach the writer and wait there within this window; reads keep being
    // answered throughout it instead of waiting behind them.
    auto reads = std::async(std::launch::async, [&] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (std::chrono::steady_clock::now() < until) {
        (void)acks.CoveringAck(*alert, T0());
        (void)acks.List(true);
        (void)silences.Mutes(alert->labels, T0());
        (void)silences.List();
        std::this_thread::yield();
      }
    });
    CHECK(reads.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    // Neither change is reported before its commit.
    CHECK(added.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    CHECK(set.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    gate.Release();
    reads.wait();
  }
  auto a = added.get();
  REQUIRE(a.ok());
  REQUIRE(set.get().ok());
  // The change shows once committed.
  CHECK(acks.CoveringAck(*alert, T0()).has_value());
  CHECK(silences.Mutes(alert->labels, T0() + std::chrono::minutes(1)).size() == 1);
  db->Close();
  RemoveTree(dir);
}

TEST_CASE("concurrent acks of one alert keep one current ack and a consistent history") {
  const std::string dir = MakeTempDir("router-acks-conc");
  auto db = OpenState(dir + "/alertd.db");
  router::Acknowledgements acks(db.get());
  REQUIRE(acks.Load().ok());
  auto alert = std::make_shared<Alert>();
  alert->labels.Set("alertname", "A");
  alert->starts_at = T0();
  std::vector<std::future<bool>> fs;
  for (int i = 0; i < 8; ++i) {
    fs.push_back(std::async(std::launch::async, [&, i] {
      return acks.Add({alert}, router::AckRequest{"p" + std::to_string(i), "", {}}, T0()).ok();
    }));
  }
  for (auto& f : fs) CHECK(f.get());
  const auto all = acks.List(true);
  REQUIRE(all.size() == 8);
  CHECK_FALSE(all[0].ended());
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].end_reason == "replaced");
  // The database holds the same: one current ack after reloading.
  router::Acknowledgements again(db.get());
  REQUIRE(again.Load().ok());
  CHECK(again.List(false).size() == 1);
  CHECK(again.List(false)[0].by == all[0].by);
  db->Close();
  RemoveTree(dir);
}

}  // namespace alertd::testing
