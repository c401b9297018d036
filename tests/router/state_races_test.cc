// The router's shared state under concurrency, on in-memory stores: acknowledgements and
// silences read while a change of theirs waits for its commit, and concurrent
// acknowledgements of one alert.
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

#include "router/acks.h"
#include "router/silences.h"
#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"
#include "tests/support/process.h"

namespace alertd::testing {

TEST_CASE("acks and silences answer reads while a change of theirs waits for its commit") {
  MemoryRouterStores db;
  FakeClock clock(T0());
  router::Acknowledgements acks(&db);
  router::Silences silences(&clock, &db);
  REQUIRE(acks.Load().ok());
  REQUIRE(silences.Load().ok());
  auto alert = std::make_shared<Alert>();
  alert->labels.Set("alertname", "A");
  alert->starts_at = T0();

  std::future<Result<std::vector<Ack>>> added;
  std::future<Result<std::string>> set;
  {
    db.Hold();
    added = std::async(std::launch::async, [&] {
      return acks.Add({alert}, router::AckRequest{"alice", "", {}}, T0());
    });
    set = std::async(std::launch::async, [&] {
      Silence s;
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
    db.Release();
    reads.wait();
  }
  auto a = added.get();
  REQUIRE(a.ok());
  REQUIRE(set.get().ok());
  // The change shows once committed.
  CHECK(acks.CoveringAck(*alert, T0()).has_value());
  CHECK(silences.Mutes(alert->labels, T0() + std::chrono::minutes(1)).size() == 1);
}

TEST_CASE("concurrent acks of one alert keep one current ack and a consistent history") {
  MemoryRouterStores db;
  router::Acknowledgements acks(&db);
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
  // The store holds the same: one current ack after reloading.
  router::Acknowledgements again(&db);
  REQUIRE(again.Load().ok());
  CHECK(again.List(false).size() == 1);
  CHECK(again.List(false)[0].by == all[0].by);
}

}  // namespace alertd::testing
