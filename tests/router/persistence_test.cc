// The router's durable state through its store interfaces (core/router_state.h), on the
// in-memory stores: silences, the notification log and group timers come back when a new
// router (a restart) loads them from the same stores.
#include <doctest/doctest.h>

#include "router/dispatcher.h"
#include "router/nflog.h"
#include "router/silences.h"
#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"

namespace alertd::testing {
namespace {

TEST_CASE("silences and the notification log survive a restart") {
  MemoryRouterStores stores;
  FakeClock clock(T0());
  std::string id;
  NflogKey key{"{}:{alertname=\"A\"}", "r", "webhook", 0};
  {
    router::Silences ss(&clock, &stores);
    REQUIRE(ss.Load().ok());
    Silence s;
    s.matchers = *ParseMatchers(R"({alertname="A", job=~"x|y"})");
    s.starts_at = T0();
    s.ends_at = T0() + 1h;
    s.created_by = "me";
    s.comment = "maintenance";
    auto r = ss.Set(s);
    REQUIRE(r.ok());
    id = *r;
    router::NotificationLog log(&stores);
    log.Log(key, {3, 1, 2}, {9}, T0(), 120h);
  }
  {
    router::Silences ss(&clock, &stores);
    REQUIRE(ss.Load().ok());
    auto s = ss.Get(id);
    REQUIRE(s);
    CHECK(MatchersString(s->matchers) == R"({alertname="A",job=~"x|y"})");
    CHECK(s->ends_at == T0() + 1h);
    CHECK(s->comment == "maintenance");
    router::NotificationLog log(&stores);
    REQUIRE(log.Load(T0() + 1h).ok());
    auto e = log.Query(key);
    REQUIRE(e);
    CHECK(e->firing == std::vector<uint64_t>{1, 2, 3});
    CHECK(e->resolved == std::vector<uint64_t>{9});
    CHECK(e->logged_at == T0());
    CHECK(log.FiringByGroup().at(key.group_key).count(2) == 1);
    // Expired entries are not loaded.
    router::NotificationLog later(&stores);
    REQUIRE(later.Load(T0() + 121h).ok());
    CHECK_FALSE(later.Query(key));
  }
}

TEST_CASE("group timers are persisted and restored") {
  MemoryRouterStores stores;
  const char* cfg = R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 1m
receivers: [{name: r, webhook_configs: [{url: 'http://127.0.0.1:1/'}]}]
)";
  {
    RouterHarness h(cfg, stores.stores());
    h.Post("alertname=A,name=a");
    h.Advance(10s);
    h.router.reset();
  }
  // What the stopped router committed (a Load runs after the writes queued before it).
  auto timers = stores.LoadGroupTimers();
  REQUIRE(timers.ok());
  REQUIRE(timers->size() == 1);
  CHECK((*timers)[0].group_key == "{}:{alertname=\"A\"}");
  CHECK((*timers)[0].route_id == "{}");
  CHECK((*timers)[0].next_flush == T0() + 30s);
  CHECK_FALSE((*timers)[0].has_flushed);
}

}  // namespace
}  // namespace alertd::testing
