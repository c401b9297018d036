// Work shared by several alertd replicas on one PostgreSQL database (`cluster:`). Rule groups
// and aggregation groups are split into kClusterShards shards by a hash of their key; each
// shard has one owner at a time, through a lease row in the database (owner, epoch, expiry).
// The rule engine evaluates, and the router flushes, notifies and escalates, only what the
// node owns (ShardOwnership); every send is fenced by a write that checks the owner's epoch in
// the database first. cluster/membership.h keeps the leases; storage/pg_cluster.cc is the
// ClusterStore on PostgreSQL. Without `cluster:` nothing here is used: a lone alertd owns
// everything (a null ShardOwnership).
//
// Every time compared here is the database's (now() in PostgreSQL), never a node's own clock,
// so clock skew between hosts cannot make two owners.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace alertd {

// The number of shards. It is part of the stored data (one lease row each, created by a
// migration): changing it needs a migration.
inline constexpr uint32_t kClusterShards = 64;

// The shard of a piece of work: FNV-1a (64 bit) of `key` modulo kClusterShards. Rule groups
// by their GroupKey ("<file>;<name>"), aggregation groups by Alertmanager's group key. Stable
// across versions: every replica must agree.
uint32_t ShardOf(std::string_view key);

// One shard's lease as the database holds it.
struct ShardLease {
  uint32_t shard = 0;
  std::string owner;     // the node name; empty: free
  std::string instance;  // the owning process (ClusterNode::instance); empty: free
  int64_t epoch = 0;     // incremented by every acquisition
  Time expires_at = kZeroTime;
  // The lease expired more than the takeover margin ago (database time), or the shard is
  // free: another node may take it.
  bool takeable = false;
};

// A node of the cluster as the database holds it.
struct ClusterNode {
  std::string name;
  std::string instance;  // a random id of the process, new at every start
  std::string advertise_url;
  Time started_at = kZeroTime;
  Time last_seen = kZeroTime;
  bool live = false;  // seen within one lease (database time)
};

// What one membership round sees: every lease (after this node's renewals) and every node.
struct LeaseRound {
  std::vector<ShardLease> leases;  // by shard
  std::vector<ClusterNode> nodes;  // by name
  std::vector<uint32_t> renewed;   // the shards whose lease this round renewed
};

// Where leases live (storage/pg_cluster.cc). Thread-safe: rounds run on the membership thread,
// fences on delivery threads at once. Unavailable: the database cannot be reached (nothing was
// changed, or a commit's outcome is unknown).
class ClusterStore {
 public:
  virtual ~ClusterStore() = default;
  // Registers this process as node `node.name` (advertise_url, instance). Conflict when a
  // live node (seen within `lease`) of that name is another process; a stale one is replaced.
  virtual Status Join(const ClusterNode& node, Duration lease) = 0;
  // One transaction: marks the node seen, renews the leases `instance` holds that have not
  // expired (expires_at = now() + lease; an expired lease is never renewed, since another node
  // may be about to take it), and returns every lease and node.
  virtual Result<LeaseRound> Round(const std::string& instance, Duration lease,
                                   Duration margin) = 0;
  // Takes `shard` for `instance` if it is free or its lease expired more than `margin` ago
  // (database time): a new epoch, expiring `lease` from now(). nullopt: someone else holds it.
  virtual Result<std::optional<int64_t>> Acquire(uint32_t shard, const ClusterNode& node,
                                                 Duration lease, Duration margin) = 0;
  // Frees `shards` held by `instance` (the caller stopped working them), for others to take
  // at once.
  virtual Status Release(const std::vector<uint32_t>& shards, const std::string& instance) = 0;
  // Frees every shard of `instance` and removes its node row.
  virtual Status Leave(const std::string& instance) = 0;
  // The write before a send: records the send on the lease row if `instance` holds `shard` at
  // `epoch` and the lease has not expired, in one statement. true: it does (send); false: it
  // does not (do not send).
  virtual Result<bool> Fence(uint32_t shard, const std::string& instance, int64_t epoch) = 0;
};

// Which shards this node works now. Thread-safe.
class ShardOwnership {
 public:
  virtual ~ShardOwnership() = default;
  // Whether this node may work `shard` now: it holds the lease and its lease has not lapsed by
  // its own reckoning, or it held it when the database became unreachable (fail open: paging
  // beats consistency; another node may send the same, never nobody).
  virtual bool Owns(uint32_t shard) const = 0;
  // Right before a send for `shard`: the fencing write (ClusterStore::Fence). true: send.
  // false: this node no longer holds the shard (it stops working it at once). While the
  // database is unreachable, Owns(shard) decides.
  virtual bool FenceSend(uint32_t shard) = 0;
  // Called on the membership thread with the shards just acquired, before Owns() says so: the
  // listener loads what the previous owner left in the database (group timers, the
  // notification log, escalations, rule state). Register before the first round.
  using GainListener = std::function<void(const std::vector<uint32_t>& shards)>;
  virtual void OnGained(GainListener listener) = 0;
  // Called on the membership thread right after Owns() says yes for the shards just
  // acquired: the listener starts what is due in them (a flush, an escalation step), which
  // the gain listeners could not, as the node did not own them yet. Register before the
  // first round.
  virtual void OnOwned(GainListener listener) = 0;
};

// Owns(ShardOf(key)), and true without a cluster (`ownership` null).
inline bool OwnsKey(const ShardOwnership* ownership, std::string_view key) {
  return ownership == nullptr || ownership->Owns(ShardOf(key));
}

}  // namespace alertd
