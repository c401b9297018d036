// An in-memory ClusterStore (core/cluster.h) with the PostgreSQL store's semantics, on a clock
// the test sets (`now`, the database's clock) and a switch that makes it unreachable.
#pragma once

#include <map>
#include <mutex>

#include "core/cluster.h"

namespace alertd::testing {

class FakeClusterStore final : public ClusterStore {
 public:
  FakeClusterStore() : leases_(kClusterShards) {
    for (uint32_t s = 0; s < kClusterShards; ++s) leases_[s].shard = s;
  }

  void SetNow(Time t) {
    std::lock_guard l(mu_);
    now_ = t;
  }
  void Advance(Duration d) {
    std::lock_guard l(mu_);
    now_ += d;
  }
  void SetDown(bool down) {
    std::lock_guard l(mu_);
    down_ = down;
  }
  std::vector<ShardLease> Leases() {
    std::lock_guard l(mu_);
    return leases_;
  }
  uint64_t fences() {
    std::lock_guard l(mu_);
    return fences_;
  }

  Status Join(const ClusterNode& node, Duration lease) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    auto it = nodes_.find(node.name);
    if (it != nodes_.end() && it->second.instance != node.instance &&
        it->second.last_seen >= now_ - lease) {
      return Status::Conflict("another alertd named " + node.name);
    }
    ClusterNode n = node;
    n.started_at = n.last_seen = now_;
    nodes_[node.name] = n;
    return Status::Ok();
  }

  Result<LeaseRound> Round(const std::string& instance, Duration lease,
                           Duration margin) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    LeaseRound out;
    for (auto& [name, n] : nodes_) {
      if (n.instance == instance) n.last_seen = now_;
    }
    for (auto& sl : leases_) {
      if (sl.instance == instance && sl.expires_at > now_) {
        sl.expires_at = now_ + lease;
        out.renewed.push_back(sl.shard);
      }
    }
    for (auto sl : leases_) {
      sl.takeable = sl.instance.empty() || sl.expires_at < now_ - margin;
      out.leases.push_back(sl);
    }
    for (auto [name, n] : nodes_) {
      n.live = n.last_seen >= now_ - lease;
      out.nodes.push_back(n);
    }
    return out;
  }

  Result<std::optional<int64_t>> Acquire(uint32_t shard, const ClusterNode& node, Duration lease,
                                         Duration margin) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    ShardLease& sl = leases_.at(shard);
    if (!sl.instance.empty() && sl.expires_at >= now_ - margin) return std::optional<int64_t>();
    sl.owner = node.name;
    sl.instance = node.instance;
    sl.epoch += 1;
    sl.expires_at = now_ + lease;
    return std::optional<int64_t>(sl.epoch);
  }

  Status Release(const std::vector<uint32_t>& shards, const std::string& instance) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    for (uint32_t s : shards) {
      if (leases_.at(s).instance == instance) Free(leases_[s]);
    }
    return Status::Ok();
  }

  Status Leave(const std::string& instance) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    for (auto& sl : leases_) {
      if (sl.instance == instance) Free(sl);
    }
    std::erase_if(nodes_, [&](const auto& kv) { return kv.second.instance == instance; });
    return Status::Ok();
  }

  Result<bool> Fence(uint32_t shard, const std::string& instance, int64_t epoch) override {
    std::lock_guard l(mu_);
    if (down_) return Status::Unavailable("down");
    const ShardLease& sl = leases_.at(shard);
    const bool ok = sl.instance == instance && sl.epoch == epoch && sl.expires_at > now_;
    if (ok) ++fences_;
    return ok;
  }

 private:
  static void Free(ShardLease& sl) {
    sl.owner.clear();
    sl.instance.clear();
    sl.expires_at = Time(Duration(0));
  }

  std::mutex mu_;
  Time now_ = Time(std::chrono::hours(24 * 365 * 50));
  bool down_ = false;
  std::vector<ShardLease> leases_;
  std::map<std::string, ClusterNode> nodes_;
  uint64_t fences_ = 0;
};

}  // namespace alertd::testing
