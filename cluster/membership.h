// This node's part in a cluster of alertd replicas (core/cluster.h): it registers the node,
// and every round (lease/3 at most, 0.25 s by default) marks it seen, renews the leases it
// holds, and balances shards over the live nodes: with N live nodes, sorted by name, the
// first kClusterShards % N take kClusterShards / N + 1 shards and the others
// kClusterShards / N. A node over its share frees the extra shards (after it has stopped
// working them); a node under its share takes free shards, and shards whose lease expired more
// than the margin ago (their owner died or was paused).
//
// Fencing, in time: a lease renewed by a round started at t (by this node's steady clock)
// expires at the database's commit time + lease, which is after t + lease; this node stops
// working the shard at t + lease - margin, and no other node takes it before the database's
// now() passes the expiry + margin. A paused node that wakes therefore finds its leases
// lapsed before it sends; and every send is still preceded by FenceSend, a write that checks
// the epoch in the database.
//
// Fail open: when a round cannot reach the database, the node keeps the shards it held (it
// goes on notifying them from memory) until the database answers again; the other nodes,
// seeing its leases expire, take them, so both may send (duplicates, never silence).
//
// Thread-safe. Gain listeners run on the round thread (or the caller of RunRound).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/thread_annotations.h"

namespace alertd::cluster {

struct MembershipOptions {
  ClusterNode self;  // name, instance (random, new per process), advertise_url
  Duration lease = std::chrono::seconds(15);
  // How often a round runs; zero: min(lease / 3, 250 ms).
  Duration round = Duration::zero();
  // The takeover margin beyond an expired lease, and the safety a holder keeps before its own
  // reckoning of the expiry; zero: max(lease / 60, 200 ms).
  Duration margin = Duration::zero();
};

// What the membership has done since it started (for /metrics).
struct MembershipStats {
  uint64_t rounds = 0;
  uint64_t round_failures = 0;    // rounds that could not reach the database
  uint64_t renewals = 0;          // leases renewed (one per shard per round)
  uint64_t acquisitions = 0;      // shards taken
  uint64_t takeovers = 0;         // shards taken from another node whose lease had expired
  uint64_t releases = 0;          // shards given up to balance or on leaving
  uint64_t lost = 0;              // shards found taken by another node (a lapsed lease)
  uint64_t fence_refusals = 0;    // sends refused by the fencing write
  uint64_t fence_fail_open = 0;   // sends let through with the database unreachable
};

// The cluster as the last successful round saw it.
struct ClusterView {
  ClusterNode self;
  std::vector<ClusterNode> nodes;
  std::vector<ShardLease> leases;
  std::vector<uint32_t> owned;  // what this node works now
  bool database_reachable = false;
  bool joined = false;
};

class Membership final : public ShardOwnership {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
  // `store` must outlive the membership. `now` (tests): the steady clock.
  Membership(ClusterStore* store, MembershipOptions opts, SteadyNow now = {});
  ~Membership() override;

  // Registers the node. While a previous process of the same name is still seen as live (a
  // restart right after a crash), waits for it to go stale, for one lease and a round at
  // most; Conflict after that (two processes with one name).
  Status Join();
  // Runs rounds on a thread of its own. Idempotent.
  void Start();
  // Stops the rounds. With `leave` (SIGTERM), gives up every shard at once (Owns is false for
  // all of them from here) and removes the node, so the others take its share at their next
  // round instead of waiting for the leases to expire. Idempotent.
  void Stop(bool leave);
  // One round (the thread calls it; tests drive it).
  Status RunRound();

  // ShardOwnership.
  bool Owns(uint32_t shard) const override;
  bool FenceSend(uint32_t shard) override;
  void OnGained(GainListener listener) override;
  void OnOwned(GainListener listener) override;

  const MembershipOptions& options() const { return opts_; }
  ClusterView View() const;
  MembershipStats Stats() const;
  // The alertd_cluster_* metrics in the Prometheus text format.
  void AppendMetrics(std::string* out) const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Held {
    int64_t epoch = 0;
    SteadyTime deadline;  // works the shard until then, unless the database is unreachable
  };
  bool OwnsLocked(uint32_t shard, SteadyTime now) const REQUIRES(mu_);
  void Loop();

  ClusterStore* const store_;
  MembershipOptions opts_;
  const SteadyNow now_;

  mutable Mutex mu_;
  std::map<uint32_t, Held> held_ GUARDED_BY(mu_);
  bool db_down_ GUARDED_BY(mu_) = false;
  bool joined_ GUARDED_BY(mu_) = false;
  LeaseRound last_ GUARDED_BY(mu_);
  MembershipStats stats_ GUARDED_BY(mu_);
  std::vector<GainListener> listeners_ GUARDED_BY(mu_);        // OnGained
  std::vector<GainListener> owned_listeners_ GUARDED_BY(mu_);  // OnOwned
  bool stop_ GUARDED_BY(mu_) = false;
  CondVar cv_;
  // Serializes rounds with Stop's leave, so no round takes a shard after the node has left.
  Mutex round_mu_ ACQUIRED_BEFORE(mu_);
  bool left_ GUARDED_BY(round_mu_) = false;
  std::thread thread_;
};

}  // namespace alertd::cluster
