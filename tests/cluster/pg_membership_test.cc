// The membership on a real PostgreSQL: the store's statements, and three nodes on real clocks.
#include <doctest/doctest.h>

#include <thread>

#include "cluster/membership.h"
#include "storage/pg_stores.h"
#include "tests/support/postgres.h"

namespace alertd::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::PostgresServer;
using testing::SharedPostgres;

std::unique_ptr<ClusterStore> Open(const std::string& dsn) {
  auto s = storage::OpenPgClusterStore({dsn, PostgresServer::kPassword});
  REQUIRE(s.ok());
  return std::move(*s);
}

ClusterNode NodeNamed(const std::string& name) {
  ClusterNode n;
  n.name = name;
  n.instance = name + "-instance";
  n.advertise_url = "http://127.0.0.1:1/" + name;
  return n;
}

TEST_CASE("PostgreSQL leases: acquire once, renew, fence by epoch, expire, release, leave") {
  const std::string dsn = SharedPostgres().NewDatabase();
  auto store = Open(dsn);
  const ClusterNode a = NodeNamed("a"), b = NodeNamed("b");
  REQUIRE(store->Join(a, seconds(2)).ok());
  REQUIRE(store->Join(b, seconds(2)).ok());
  // Another process under a live node's name is refused.
  ClusterNode a2 = a;
  a2.instance = "other";
  CHECK(store->Join(a2, seconds(2)).code() == Status::Code::kConflict);

  auto e1 = store->Acquire(5, a, seconds(2), milliseconds(200));
  REQUIRE(e1.ok());
  REQUIRE(e1->has_value());
  auto taken = store->Acquire(5, b, seconds(2), milliseconds(200));
  REQUIRE(taken.ok());
  CHECK_FALSE(taken->has_value());
  CHECK(*store->Fence(5, a.instance, **e1));
  CHECK_FALSE(*store->Fence(5, b.instance, **e1));
  CHECK_FALSE(*store->Fence(5, a.instance, **e1 + 1));

  auto round = store->Round(a.instance, seconds(2), milliseconds(200));
  REQUIRE(round.ok());
  CHECK(round->leases.size() == kClusterShards);
  CHECK(round->renewed == std::vector<uint32_t>{5});
  CHECK(round->leases[5].owner == "a");
  CHECK_FALSE(round->leases[5].takeable);
  CHECK(round->leases[6].takeable);
  REQUIRE(round->nodes.size() == 2);
  CHECK(round->nodes[0].name == "a");
  CHECK(round->nodes[0].live);

  // Unrenewed, the lease expires; the fence refuses at once, a round no longer renews it, and
  // after the margin another node takes it with a higher epoch.
  const auto start = std::chrono::steady_clock::now();
  while (*store->Fence(5, a.instance, **e1)) {
    REQUIRE(std::chrono::steady_clock::now() - start < seconds(10));
    std::this_thread::sleep_for(milliseconds(50));
  }
  CHECK(std::chrono::steady_clock::now() - start > milliseconds(1500));
  Result<LeaseRound> late = Status::Internal("no round");
  do {
    REQUIRE(std::chrono::steady_clock::now() - start < seconds(10));
    late = store->Round(a.instance, seconds(2), milliseconds(200));
    REQUIRE(late.ok());
    CHECK(late->renewed.empty());
  } while (!late->leases[5].takeable);
  auto e2 = store->Acquire(5, b, seconds(2), milliseconds(200));
  REQUIRE(e2.ok());
  REQUIRE(e2->has_value());
  CHECK(**e2 == **e1 + 1);

  REQUIRE(store->Release({5}, a.instance).ok());  // not a's any more: nothing happens
  CHECK(*store->Fence(5, b.instance, **e2));
  REQUIRE(store->Release({5}, b.instance).ok());
  CHECK_FALSE(*store->Fence(5, b.instance, **e2));
  auto free_again = store->Acquire(5, a, seconds(2), milliseconds(200));
  REQUIRE(free_again.ok());
  CHECK(free_again->has_value());  // free at once, no margin

  REQUIRE(store->Leave(a.instance).ok());
  auto after = store->Round(b.instance, seconds(2), milliseconds(200));
  REQUIRE(after.ok());
  REQUIRE(after->nodes.size() == 1);
  CHECK(after->nodes[0].name == "b");
  CHECK(after->leases[5].owner.empty());
}

size_t Owned(const Membership& m) {
  size_t n = 0;
  for (uint32_t s = 0; s < kClusterShards; ++s) n += m.Owns(s) ? 1 : 0;
  return n;
}

// Waits for `cond` up to `limit`, checking after each step that no shard has two owners.
template <typename F>
bool WaitExclusive(const std::vector<Membership*>& nodes, Duration limit, F cond) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    for (uint32_t s = 0; s < kClusterShards; ++s) {
      int owners = 0;
      for (auto* m : nodes) owners += m->Owns(s) ? 1 : 0;
      if (owners > 1) {
        FAIL("shard " << s << " has " << owners << " owners");
      }
    }
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

TEST_CASE("three nodes on PostgreSQL balance, hand over on leave and take over after a crash") {
  const std::string dsn = SharedPostgres().NewDatabase();
  std::vector<std::unique_ptr<ClusterStore>> stores;
  std::vector<std::unique_ptr<Membership>> nodes;
  for (const char* name : {"a", "b", "c"}) {
    stores.push_back(Open(dsn));
    MembershipOptions o;
    o.self = NodeNamed(name);
    o.lease = seconds(3);
    nodes.push_back(std::make_unique<Membership>(stores.back().get(), o));
    REQUIRE(nodes.back()->Join().ok());
  }
  std::vector<Membership*> all = {nodes[0].get(), nodes[1].get(), nodes[2].get()};
  for (auto* m : all) m->Start();
  CHECK(WaitExclusive(all, seconds(10), [&] {
    return Owned(*all[0]) == 22 && Owned(*all[1]) == 21 && Owned(*all[2]) == 21;
  }));

  // SIGTERM of b: its shards move at the survivors' next rounds, not after its lease.
  const auto left = std::chrono::steady_clock::now();
  all[1]->Stop(/*leave=*/true);
  CHECK(WaitExclusive(all, seconds(10),
                      [&] { return Owned(*all[0]) == 32 && Owned(*all[2]) == 32; }));
  CHECK(std::chrono::steady_clock::now() - left < seconds(2));

  // kill -9 of c (its rounds stop, its leases stay): a takes them once they expire.
  all[2]->Stop(/*leave=*/false);
  CHECK(WaitExclusive(all, seconds(10), [&] { return Owned(*all[0]) == 64; }));
  CHECK(all[0]->Stats().takeovers == 32);
  all[0]->Stop(true);
}

}  // namespace
}  // namespace alertd::cluster
