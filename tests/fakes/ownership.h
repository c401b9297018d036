// A ShardOwnership (core/cluster.h) the test sets by hand: which shards this "node" owns,
// whether the fencing write succeeds, and gains announced to the listeners as a membership
// round would (gain listeners, then owned, then owned listeners).
#pragma once

#include <mutex>
#include <set>
#include <vector>

#include "core/cluster.h"

namespace alertd::testing {

class FakeOwnership final : public ShardOwnership {
 public:
  bool Owns(uint32_t shard) const override {
    std::lock_guard l(mu_);
    return owned_.count(shard) > 0;
  }
  bool FenceSend(uint32_t shard) override {
    std::lock_guard l(mu_);
    ++fences_;
    return owned_.count(shard) > 0 && fence_ok_;
  }
  void OnGained(GainListener listener) override {
    std::lock_guard l(mu_);
    listeners_.push_back(std::move(listener));
  }
  void OnOwned(GainListener listener) override {
    std::lock_guard l(mu_);
    owned_listeners_.push_back(std::move(listener));
  }

  void GainAll() {
    std::vector<uint32_t> all;
    for (uint32_t s = 0; s < kClusterShards; ++s) all.push_back(s);
    Gain(all);
  }
  void Gain(const std::vector<uint32_t>& shards) {
    std::vector<GainListener> ls;
    {
      std::lock_guard l(mu_);
      ls = listeners_;
    }
    for (const auto& fn : ls) fn(shards);
    {
      std::lock_guard l(mu_);
      owned_.insert(shards.begin(), shards.end());
      ls = owned_listeners_;
    }
    for (const auto& fn : ls) fn(shards);
  }
  void LoseAll() {
    std::lock_guard l(mu_);
    owned_.clear();
  }
  // Owns() still says yes, but the database refuses the fence (a lease taken meanwhile).
  void RefuseFences(bool refuse) {
    std::lock_guard l(mu_);
    fence_ok_ = !refuse;
  }
  int fences() const {
    std::lock_guard l(mu_);
    return fences_;
  }

 private:
  mutable std::mutex mu_;
  std::set<uint32_t> owned_;
  bool fence_ok_ = true;
  int fences_ = 0;
  std::vector<GainListener> listeners_;
  std::vector<GainListener> owned_listeners_;
};

}  // namespace alertd::testing
