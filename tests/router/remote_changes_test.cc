// Two routers sharing one database (the in-memory stores of tests/fakes/router_stores.h,
// which deliver every committed silence and ack to each subscribed router as a change feed
// does): what one router writes is in the other's silences and acknowledgements, applying is
// idempotent and deterministic, and a lost delivery or a deletion heals with a resync.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

constexpr const char* kConfig = R"(
route:
  receiver: r
  group_by: [alertname]
receivers: [{name: r, webhook_configs: [{url: 'http://127.0.0.1:1/'}]}]
)";

struct TwoRouters {
  TwoRouters() {
    db.Subscribe(a.router.get());
    db.Subscribe(b.router.get());
  }
  ~TwoRouters() {
    db.Unsubscribe(a.router.get());
    db.Unsubscribe(b.router.get());
  }
  MemoryRouterStores db;  // first: outlives the routers
  RouterHarness a{kConfig, db.stores()};
  RouterHarness b{kConfig, db.stores()};
};

Silence MakeSilence(const std::string& alertname) {
  Silence s;
  s.matchers = *ParseMatchers("{alertname=\"" + alertname + "\"}");
  s.starts_at = T0();
  s.ends_at = T0() + 1h;
  s.created_by = "alice";
  s.comment = "maintenance";
  return s;
}

Alert Firing(const std::string& alertname) {
  Alert a;
  a.labels.Set("alertname", alertname);
  a.starts_at = T0();
  a.updated_at = T0();
  return a;
}

router::AckRequest By(const std::string& who) {
  router::AckRequest r;
  r.by = who;
  return r;
}

std::optional<int64_t> CurrentAck(RouterHarness& h, const std::string& alertname) {
  auto a = h.router->AckOf(Firing(alertname));
  if (!a) return std::nullopt;
  return a->id;
}

}  // namespace

TEST_CASE("a silence set on one router mutes on the other; its expiry there comes back") {
  TwoRouters n;
  auto id = n.a.router->silences().Set(MakeSilence("A"));
  REQUIRE(id.ok());
  REQUIRE(WaitFor([&] { return n.b.router->silences().Get(*id).has_value(); }, 10s));
  CHECK(n.b.router->silences().Mutes(Firing("A").labels, T0() + 1s) ==
        std::vector<std::string>{*id});
  CHECK(n.b.router->StateOf(Firing("A")).state == "suppressed");
  // The writer's own commit came back too and changed nothing.
  CHECK(n.a.router->silences().List().size() == 1);
  n.b.clock.Add(1s);
  REQUIRE(n.b.router->silences().Expire(*id).ok());
  CHECK(WaitFor(
      [&] {
        auto s = n.a.router->silences().Get(*id);
        return s && router::StateOf(*s, T0() + 1s) == router::SilenceState::kExpired;
      },
      10s));
}

TEST_CASE("an older silence never replaces a newer one; of equal times the committed row wins") {
  FakeClock clock(T0());
  router::Silences held(&clock, nullptr);
  Silence s = MakeSilence("A");
  s.id = "s1";
  s.updated_at = T0() + 10s;
  held.ApplyCommitted({s});
  Silence older = s;
  older.comment = "older";
  older.updated_at = T0() + 5s;
  held.ApplyCommitted({older});
  CHECK(held.Get("s1")->comment == "maintenance");
  Silence same_time = s;
  same_time.comment = "committed last";
  held.ApplyCommitted({same_time});
  CHECK(held.Get("s1")->comment == "committed last");
  held.ApplyCommitted({same_time, same_time});  // again: nothing changes
  CHECK(held.List().size() == 1);
}

TEST_CASE("an ack made on one router covers the alert on the other; ids never collide") {
  TwoRouters n;
  for (auto* h : {&n.a, &n.b}) {
    for (int i = 0; i < 20; ++i) h->Post("alertname=A" + std::to_string(i));
  }
  auto first = n.a.router->Acknowledge(Firing("A0").Fingerprint(), By("alice"));
  REQUIRE(first.ok());
  REQUIRE(WaitFor([&] { return CurrentAck(n.b, "A0") == first->id; }, 10s));
  CHECK(n.b.router->AckOf(Firing("A0"))->by == "alice");
  // Both routers acknowledge at once, each its own alerts.
  std::vector<int64_t> ids_a, ids_b;
  std::thread ta([&] {
    for (int i = 1; i < 20; i += 2) {
      auto r = n.a.router->Acknowledge(Firing("A" + std::to_string(i)).Fingerprint(), By("a"));
      REQUIRE(r.ok());
      ids_a.push_back(r->id);
    }
  });
  std::thread tb([&] {
    for (int i = 2; i < 20; i += 2) {
      auto r = n.b.router->Acknowledge(Firing("A" + std::to_string(i)).Fingerprint(), By("b"));
      REQUIRE(r.ok());
      ids_b.push_back(r->id);
    }
  });
  ta.join();
  tb.join();
  std::set<int64_t> all(ids_a.begin(), ids_a.end());
  all.insert(ids_b.begin(), ids_b.end());
  all.insert(first->id);
  CHECK(all.size() == 20);
  CHECK(WaitFor([&] { return n.a.router->ListAcks(true) == n.b.router->ListAcks(true); }, 10s));
  CHECK(n.a.router->ListAcks(false).size() == 20);
  // Taken back on the other router: ended on both, in the history.
  REQUIRE(n.b.router->Unacknowledge(Firing("A0").Fingerprint()).ok());
  CHECK(WaitFor([&] { return !CurrentAck(n.a, "A0"); }, 10s));
  const auto history = n.a.router->ListAcks(true);
  CHECK(std::any_of(history.begin(), history.end(),
                    [&](const Ack& x) { return x.id == first->id && x.end_reason == "deleted"; }));
}

TEST_CASE("two acks of one alert made at once: both routers keep the higher id current") {
  TwoRouters n;
  n.a.Post("alertname=A");
  n.b.Post("alertname=A");
  n.db.DropDeliveries(true);  // neither hears of the other's ack
  auto x = n.a.router->Acknowledge(Firing("A").Fingerprint(), By("alice"));
  auto y = n.b.router->Acknowledge(Firing("A").Fingerprint(), By("bob"));
  REQUIRE(x.ok());
  REQUIRE(y.ok());
  REQUIRE(x->id != y->id);
  const int64_t higher = std::max(x->id, y->id);
  n.db.DropDeliveries(false);
  n.db.Resync();
  CHECK(WaitFor([&] { return CurrentAck(n.a, "A") == higher && CurrentAck(n.b, "A") == higher; },
                10s));
  CHECK(WaitFor([&] { return n.a.router->ListAcks(true) == n.b.router->ListAcks(true); }, 10s));
}

TEST_CASE("a lost delivery and a deleted silence heal with the resync") {
  TwoRouters n;
  n.db.DropDeliveries(true);
  auto id = n.a.router->silences().Set(MakeSilence("A"));
  REQUIRE(id.ok());
  n.db.DropDeliveries(false);
  n.db.Resync();
  REQUIRE(WaitFor([&] { return n.b.router->silences().Get(*id).has_value(); }, 10s));
  // Expired and collected on one router: the deletion takes it off the other too.
  REQUIRE(n.a.router->silences().Expire(*id).ok());
  n.a.router->silences().CollectGarbage(Duration::zero() - 1s);
  CHECK_FALSE(n.a.router->silences().Get(*id));
  CHECK(WaitFor([&] { return !n.b.router->silences().Get(*id); }, 10s));
}

}  // namespace alertd::testing
