// Two routers on one PostgreSQL database, each with its own router stores and change feed
// (storage/pg_stores.h), as two alertd processes: silences and acks made on one are on the
// other within a second, ack ids from both never collide, both end with the same state, and a
// deletion reaches the other at the resync.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "storage/pg_stores.h"
#include "tests/router/harness.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

constexpr const char* kConfig = R"(
route:
  receiver: r
  group_by: [alertname]
receivers: [{name: r, webhook_configs: [{url: 'http://127.0.0.1:1/'}]}]
)";

std::string DbName(const std::string& dsn) {
  const size_t at = dsn.find("dbname=") + 7;
  return dsn.substr(at, dsn.find(' ', at) - at);
}

struct PgRouterNode {
  PgRouterNode(const storage::PgTarget& pg, storage::PgChangeFeedOptions opts) {
    auto b = storage::OpenPgRouterStores(pg);
    REQUIRE_MESSAGE(b.ok(), b.status().message());
    backend = std::move(*b);
    h = std::make_unique<RouterHarness>(kConfig, backend->stores());
    auto f = storage::StartPgChangeFeed(pg, nullptr, h->router.get(), opts);
    REQUIRE_MESSAGE(f.ok(), f.status().message());
    feed = std::move(*f);
  }
  ~PgRouterNode() {
    feed->Stop();
    h.reset();
    backend->Close();
  }
  std::unique_ptr<storage::RouterStateBackend> backend;
  std::unique_ptr<RouterHarness> h;
  std::unique_ptr<storage::PgChangeFeed> feed;
};

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

}  // namespace

TEST_CASE("PostgreSQL: a silence set on one router is on the other within a second, via NOTIFY") {
  const storage::PgTarget pg{SharedPostgres().NewDatabase(), PostgresServer::kPassword};
  storage::PgChangeFeedOptions opts;
  opts.poll_interval = 1h;  // only the notification can bring it in time
  opts.resync_interval = 1h;
  PgRouterNode a(pg, opts), b(pg, opts);
  Silence s;
  s.matchers = *ParseMatchers(R"({alertname="A"})");
  s.starts_at = T0();
  s.ends_at = T0() + 1h;
  s.created_by = "alice";
  s.comment = "maintenance";
  const auto start = std::chrono::steady_clock::now();
  auto id = a.h->router->silences().Set(s);
  REQUIRE(id.ok());
  REQUIRE(WaitFor([&] { return b.h->router->silences().Get(*id).has_value(); }, 10s));
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(b.h->router->silences().Get(*id)->comment == "maintenance");
  CHECK(b.h->router->StateOf(Firing("A")).state == "suppressed");
  // Expired on the other router (a second later): the first one has the expiry.
  a.h->clock.Add(1s);
  b.h->clock.Add(1s);
  REQUIRE(b.h->router->silences().Expire(*id).ok());
  CHECK(WaitFor([&] { return a.h->router->StateOf(Firing("A")).state != "suppressed"; }, 10s));
}

TEST_CASE("PostgreSQL: acks made on two routers at once get distinct ids and the same state") {
  const storage::PgTarget pg{SharedPostgres().NewDatabase(), PostgresServer::kPassword};
  PgRouterNode a(pg, {}), b(pg, {});
  constexpr int kAlerts = 30;
  for (auto* n : {&a, &b}) {
    for (int i = 0; i < kAlerts; ++i) n->h->Post("alertname=A" + std::to_string(i));
  }
  std::vector<int64_t> ids_a, ids_b;
  auto acker = [&](PgRouterNode& n, int from, std::vector<int64_t>* ids) {
    for (int i = from; i < kAlerts; i += 2) {
      auto r = n.h->router->Acknowledge(Firing("A" + std::to_string(i)).Fingerprint(), By("x"));
      REQUIRE_MESSAGE(r.ok(), r.status().message());
      ids->push_back(r->id);
    }
  };
  std::thread ta([&] { acker(a, 0, &ids_a); });
  std::thread tb([&] { acker(b, 1, &ids_b); });
  ta.join();
  tb.join();
  std::set<int64_t> all(ids_a.begin(), ids_a.end());
  all.insert(ids_b.begin(), ids_b.end());
  CHECK(all.size() == static_cast<size_t>(kAlerts));
  CHECK(WaitFor(
      [&] {
        return a.h->router->ListAcks(true).size() == kAlerts &&
               a.h->router->ListAcks(true) == b.h->router->ListAcks(true);
      },
      10s));
  // Every alert is acknowledged on both routers, whichever made the ack.
  for (int i = 0; i < kAlerts; ++i) {
    CHECK(b.h->router->AckOf(Firing("A" + std::to_string(i))));
    CHECK(a.h->router->AckOf(Firing("A" + std::to_string(i))));
  }
  // Taken back on one: ended on the other.
  REQUIRE(a.h->router->Unacknowledge(Firing("A1").Fingerprint()).ok());
  CHECK(WaitFor([&] { return !b.h->router->AckOf(Firing("A1")); }, 10s));
}

TEST_CASE("PostgreSQL: a silence and an ack deleted from the database leave the routers") {
  const std::string dsn = SharedPostgres().NewDatabase();
  const storage::PgTarget pg{dsn, PostgresServer::kPassword};
  storage::PgChangeFeedOptions opts;
  opts.resync_interval = 2s;
  PgRouterNode a(pg, opts), b(pg, opts);
  Silence s;
  s.matchers = *ParseMatchers(R"({alertname="A"})");
  s.starts_at = T0();
  s.ends_at = T0() + 1h;
  s.created_by = "alice";
  auto id = a.h->router->silences().Set(s);
  REQUIRE(id.ok());
  a.h->Post("alertname=A");
  b.h->Post("alertname=A");
  auto ack = a.h->router->Acknowledge(Firing("A").Fingerprint(), By("alice"));
  REQUIRE(ack.ok());
  REQUIRE(WaitFor(
      [&] { return b.h->router->silences().Get(*id) && b.h->router->AckOf(Firing("A")); }, 10s));
  SharedPostgres().Psql("DELETE FROM silences; DELETE FROM acks", DbName(dsn));
  CHECK(WaitFor(
      [&] {
        for (auto* n : {&a, &b}) {
          if (n->h->router->silences().Get(*id) || !n->h->router->ListAcks(true).empty()) {
            return false;
          }
        }
        return true;
      },
      15s));
}

}  // namespace alertd::testing
