#include "cluster/membership.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <set>

#include "tests/fakes/cluster_store.h"

namespace alertd::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClusterStore;

// Nodes on one fake database, with one clock for the database and the nodes' steady clocks,
// advanced together by the test.
struct World {
  FakeClusterStore store;
  std::atomic<int64_t> steady_ns{1'000'000'000};

  std::unique_ptr<Membership> Node(const std::string& name, Duration lease = seconds(15)) {
    MembershipOptions o;
    o.self.name = name;
    o.self.instance = name + "-" + std::to_string(++instances);
    o.self.advertise_url = "http://" + name + ":9095";
    o.lease = lease;
    auto m = std::make_unique<Membership>(&store, o, [this] {
      return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns.load()));
    });
    REQUIRE(m->Join().ok());
    return m;
  }
  void Advance(Duration d) {
    steady_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    store.Advance(d);
  }
  int instances = 0;
};

size_t Owned(const Membership& m) {
  size_t n = 0;
  for (uint32_t s = 0; s < kClusterShards; ++s) n += m.Owns(s) ? 1 : 0;
  return n;
}

// Every shard is worked by at most one node (and, with `all`, by exactly one).
void CheckExclusive(const std::vector<Membership*>& nodes, bool all) {
  for (uint32_t s = 0; s < kClusterShards; ++s) {
    int owners = 0;
    for (auto* m : nodes) owners += m->Owns(s) ? 1 : 0;
    INFO("shard " << s);
    CHECK(owners <= 1);
    if (all) CHECK(owners == 1);
  }
}

void Rounds(const std::vector<Membership*>& nodes, int n = 3) {
  for (int i = 0; i < n; ++i) {
    for (auto* m : nodes) REQUIRE(m->RunRound().ok());
  }
}

TEST_CASE("three nodes split the shards 22/21/21, each shard worked by exactly one") {
  World w;
  auto a = w.Node("a"), b = w.Node("b"), c = w.Node("c");
  Rounds({a.get(), b.get(), c.get()});
  CHECK(Owned(*a) == 22);
  CHECK(Owned(*b) == 21);
  CHECK(Owned(*c) == 21);
  CheckExclusive({a.get(), b.get(), c.get()}, true);
  // Renewed every round: a minute later nothing has moved.
  for (int i = 0; i < 120; ++i) {
    w.Advance(milliseconds(500));
    Rounds({a.get(), b.get(), c.get()}, 1);
  }
  CHECK(Owned(*a) == 22);
  CHECK(a->Stats().acquisitions == 22);
  CheckExclusive({a.get(), b.get(), c.get()}, true);
}

TEST_CASE("a node joining takes its share; one leaving on SIGTERM hands over at once") {
  World w;
  auto a = w.Node("a"), b = w.Node("b");
  Rounds({a.get(), b.get()});
  CHECK(Owned(*a) == 32);
  CHECK(Owned(*b) == 32);
  auto c = w.Node("c");
  Rounds({a.get(), b.get(), c.get()});
  CHECK(Owned(*a) == 22);
  CHECK(Owned(*b) == 21);
  CHECK(Owned(*c) == 21);
  CheckExclusive({a.get(), b.get(), c.get()}, true);

  b->Stop(/*leave=*/true);
  CHECK(Owned(*b) == 0);
  // No waiting for b's leases to expire: the next round of each survivor takes them.
  Rounds({a.get(), c.get()}, 1);
  CHECK(Owned(*a) == 32);
  CHECK(Owned(*c) == 32);
  CheckExclusive({a.get(), c.get()}, true);
}

TEST_CASE("a dead node's shards move after the lease, and it stops working them before") {
  World w;
  auto a = w.Node("a"), b = w.Node("b"), c = w.Node("c");
  Rounds({a.get(), b.get(), c.get()});
  // a dies (no more rounds): until its leases expire nobody else works its shards; it stops
  // working them (by its own clock) before anybody may take them.
  Duration elapsed{0};
  bool a_stopped = false;
  Duration taken_at{0};
  while (elapsed < seconds(20)) {
    w.Advance(milliseconds(100));
    elapsed += milliseconds(100);
    Rounds({b.get(), c.get()}, 1);
    CheckExclusive({a.get(), b.get(), c.get()}, false);
    if (!a_stopped && Owned(*a) == 0) a_stopped = true;
    if (taken_at == Duration::zero() && Owned(*b) + Owned(*c) == kClusterShards) {
      taken_at = elapsed;
      CHECK(a_stopped);
    }
  }
  // Lease 15 s, margin 0.25 s, rounds here every 0.1 s: taken within lease + 1 s.
  CHECK(taken_at > seconds(15));
  CHECK(taken_at <= seconds(16));
  CHECK(Owned(*b) == 32);
  CHECK(Owned(*c) == 32);
  CHECK(b->Stats().takeovers + c->Stats().takeovers == 22);
}

TEST_CASE("a paused node that wakes after losing its shards works none of them") {
  World w;
  auto a = w.Node("a"), b = w.Node("b");
  Rounds({a.get(), b.get()});
  std::vector<uint32_t> a_had = a->View().owned;
  REQUIRE(a_had.size() == 32);
  // SIGSTOP for 3 leases: b takes everything meanwhile.
  for (int i = 0; i < 90; ++i) {
    w.Advance(milliseconds(500));
    REQUIRE(b->RunRound().ok());
  }
  CHECK(Owned(*b) == 64);
  // SIGCONT: before its first round, a works nothing and the fence refuses every send.
  CHECK(Owned(*a) == 0);
  for (uint32_t s : a_had) CHECK_FALSE(a->FenceSend(s));
  const uint64_t fences_before = w.store.fences();
  for (uint32_t s : a_had) CHECK(b->FenceSend(s));
  CHECK(w.store.fences() == fences_before + a_had.size());
  // Its next rounds: it registers again and the two balance again.
  Rounds({a.get(), b.get()});
  CHECK(Owned(*a) == 32);
  CHECK(Owned(*b) == 32);
  CheckExclusive({a.get(), b.get()}, true);
}

TEST_CASE("the fence refuses a send for a shard another node took, even if not yet noticed") {
  World w;
  auto a = w.Node("a");
  Rounds({a.get()});
  REQUIRE(Owned(*a) == 64);
  // a's clock stands still (a stall the steady clock does not see, e.g. a VM frozen), while
  // the database moves on and b takes over.
  w.store.Advance(seconds(30));
  auto b = w.Node("b");
  REQUIRE(b->RunRound().ok());
  REQUIRE(Owned(*b) == 64);
  CHECK(Owned(*a) == 64);  // a's own reckoning says its leases still run ...
  CHECK_FALSE(a->FenceSend(7));  // ... but the database says no
  CHECK_FALSE(a->Owns(7));
  CHECK(a->Stats().fence_refusals == 1);
}

TEST_CASE("with the database unreachable a node keeps paging the shards it held (fail open)") {
  World w;
  auto a = w.Node("a"), b = w.Node("b");
  Rounds({a.get(), b.get()});
  w.store.SetDown(true);
  for (int i = 0; i < 60; ++i) {
    w.Advance(milliseconds(500));
    CHECK_FALSE(a->RunRound().ok());
  }
  CHECK(Owned(*a) == 32);  // 30 s after its last renewal
  CHECK(a->FenceSend(a->View().owned.front()));
  CHECK(a->Stats().fence_fail_open == 1);
  // Back: the leases lapsed, so the nodes take the shards again with new epochs.
  w.store.SetDown(false);
  Rounds({a.get(), b.get()});
  CHECK(Owned(*a) == 32);
  CHECK(Owned(*b) == 32);
  CheckExclusive({a.get(), b.get()}, true);
  CHECK(a->Stats().lost == 32);
}

TEST_CASE("gain listeners run with the new shards before the node works them") {
  World w;
  auto a = w.Node("a");
  std::vector<uint32_t> seen;
  bool owned_during = false;
  a->OnGained([&](const std::vector<uint32_t>& shards) {
    seen.insert(seen.end(), shards.begin(), shards.end());
    for (uint32_t s : shards) owned_during |= a->Owns(s);
  });
  REQUIRE(a->RunRound().ok());
  CHECK(seen.size() == 64);
  CHECK_FALSE(owned_during);
  CHECK(Owned(*a) == 64);
}

TEST_CASE("a second process with a live node's name is refused; a stale one is replaced") {
  World w;
  auto a = w.Node("a", seconds(3));
  REQUIRE(a->RunRound().ok());
  // A restart after a crash: the old row went unseen for a lease, the new process takes it.
  w.Advance(seconds(4));
  auto again = w.Node("a", seconds(3));
  REQUIRE(again->RunRound().ok());
  CHECK(Owned(*again) == 64);
  // Another process under the same name while this one is live: refused once the wait (a
  // lease and a round, by the steady clock) is over. Real time passes here.
  MembershipOptions o;
  o.self.name = "a";
  o.self.instance = "intruder";
  o.lease = seconds(3);
  Membership intruder(&w.store, o);
  Status st = intruder.Join();
  CHECK(st.code() == Status::Code::kConflict);
}

TEST_CASE("ShardOf is stable and spreads keys over every shard") {
  // Part of the stored data: these values must never change.
  CHECK(ShardOf("") == 14695981039346656037ULL % kClusterShards);
  CHECK(ShardOf("alerts.yml;node") == ShardOf("alerts.yml;node"));
  std::set<uint32_t> hit;
  for (int i = 0; i < 2000; ++i) hit.insert(ShardOf("{}:{alertname=\"A" + std::to_string(i) + "\"}"));
  CHECK(hit.size() == kClusterShards);
}

}  // namespace
}  // namespace alertd::cluster
