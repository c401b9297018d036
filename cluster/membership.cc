#include "cluster/membership.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/metrics.h"

namespace alertd::cluster {
namespace {

MembershipOptions WithDefaults(MembershipOptions o) {
  using std::chrono::milliseconds;
  // Frequent rounds keep a takeover close to the lease: a round is one small transaction.
  if (o.round <= Duration::zero()) {
    o.round = std::min<Duration>(o.lease / 3, milliseconds(250));
  }
  if (o.margin <= Duration::zero()) {
    o.margin = std::max<Duration>(o.lease / 60, milliseconds(200));
  }
  return o;
}

// This node's share of the shards: kClusterShards split over the live nodes sorted by name,
// the first ones taking one more when it does not divide evenly.
size_t Share(const std::vector<ClusterNode>& nodes, const std::string& self) {
  std::vector<std::string> live;
  for (const auto& n : nodes) {
    if (n.live || n.name == self) live.push_back(n.name);
  }
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  const size_t n = live.size();
  const size_t idx = static_cast<size_t>(std::find(live.begin(), live.end(), self) - live.begin());
  return kClusterShards / n + (idx < kClusterShards % n ? 1 : 0);
}

}  // namespace

Membership::Membership(ClusterStore* store, MembershipOptions opts, SteadyNow now)
    : store_(store),
      opts_(WithDefaults(std::move(opts))),
      now_(now ? std::move(now) : SteadyNow([] { return std::chrono::steady_clock::now(); })) {}

Membership::~Membership() { Stop(/*leave=*/false); }

Status Membership::Join() {
  const SteadyTime give_up = now_() + opts_.lease + opts_.margin + opts_.round;
  for (;;) {
    Status st = store_->Join(opts_.self, opts_.lease);
    if (st.ok()) {
      MutexLock l(mu_);
      joined_ = true;
      return st;
    }
    if (st.code() != Status::Code::kConflict || now_() >= give_up) return st;
    spdlog::info("cluster: waiting for the previous process named {:?} to go stale",
                 opts_.self.name);
    MutexLock l(mu_);
    if (cv_.WaitFor(mu_, opts_.round, [this] {
          mu_.AssertHeld();
          return stop_;
        })) {
      return Status::Unavailable("cluster: stopped while joining");
    }
  }
}

void Membership::Start() {
  MutexLock l(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Membership::Loop() {
  // Rounds start every `round` (not `round` after the previous one ended), so a slow round
  // does not stretch the renewal interval.
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    Status st = RunRound();
    if (!st.ok()) spdlog::warn("cluster: {}", st.message());
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts_.round);
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;
    MutexLock l(mu_);
    if (cv_.WaitFor(mu_, next - now, [this] {
          mu_.AssertHeld();
          return stop_;
        })) {
      return;
    }
  }
}

void Membership::Stop(bool leave) {
  {
    MutexLock l(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  if (!leave) return;
  MutexLock rl(round_mu_);
  if (left_) return;
  left_ = true;
  size_t given_up = 0;
  {
    MutexLock l(mu_);
    given_up = held_.size();
    stats_.releases += given_up;
    held_.clear();  // nothing more is worked here, before the database lets others take it
  }
  if (Status st = store_->Leave(opts_.self.instance); !st.ok()) {
    spdlog::warn("cluster: leaving: {} (the {} shards move when their leases expire)",
                 st.message(), given_up);
  } else {
    spdlog::info("cluster: left, {} shards given up", given_up);
  }
}

Status Membership::RunRound() {
  MutexLock rl(round_mu_);
  if (left_) return Status::Ok();
  const SteadyTime t0 = now_();
  auto round = store_->Round(opts_.self.instance, opts_.lease, opts_.margin);
  if (!round.ok()) {
    MutexLock l(mu_);
    ++stats_.rounds;
    ++stats_.round_failures;
    if (round.status().code() == Status::Code::kUnavailable) {
      if (!db_down_ && !held_.empty()) {
        spdlog::warn("cluster: database unreachable; going on with the {} shards held",
                     held_.size());
      }
      db_down_ = true;
    }
    return round.status();
  }
  const std::set<uint32_t> renewed(round->renewed.begin(), round->renewed.end());
  bool registered = false;
  for (const auto& n : round->nodes) registered |= n.instance == opts_.self.instance;

  std::vector<uint32_t> release;
  std::vector<const ShardLease*> candidates;
  size_t want = 0;
  {
    MutexLock l(mu_);
    ++stats_.rounds;
    db_down_ = false;
    // Renewed leases are good for another lease from t0; a held lease this round did not
    // renew has lapsed (or was taken): it is not worked any more.
    for (auto it = held_.begin(); it != held_.end();) {
      const ShardLease& sl = round->leases.at(it->first);
      if (renewed.count(it->first) && sl.instance == opts_.self.instance &&
          sl.epoch == it->second.epoch) {
        it->second.deadline = t0 + opts_.lease - opts_.margin;
        ++stats_.renewals;
        ++it;
      } else {
        spdlog::warn("cluster: lost shard {} (its lease lapsed)", it->first);
        ++stats_.lost;
        it = held_.erase(it);
      }
    }
    const size_t share = registered ? Share(round->nodes, opts_.self.name) : 0;
    if (held_.size() > share) {
      // The highest shards go: which ones does not matter, only that the choice is stable.
      while (held_.size() > share) {
        auto last = std::prev(held_.end());
        release.push_back(last->first);
        held_.erase(last);
      }
      stats_.releases += release.size();
    } else if (held_.size() < share) {
      want = share - held_.size();
      // Free shards first, then expired ones: a free shard has nobody's work half done.
      for (int pass = 0; pass < 2; ++pass) {
        for (const auto& sl : round->leases) {
          if (!sl.takeable || held_.count(sl.shard)) continue;
          if ((pass == 0) != sl.instance.empty()) continue;
          candidates.push_back(&sl);
        }
      }
    }
    last_ = *round;
  }
  if (!registered) {
    // Our node row is gone (removed by hand, or replaced after we went stale): register again.
    if (Status st = store_->Join(opts_.self, opts_.lease); !st.ok()) return st;
  }
  if (!release.empty()) {
    if (Status st = store_->Release(release, opts_.self.instance); !st.ok()) {
      return st;  // their leases expire instead; nothing works them here any more
    }
  }
  struct Gained {
    uint32_t shard;
    int64_t epoch;
    SteadyTime t;
    bool takeover;
  };
  std::vector<Gained> gained;
  for (const ShardLease* sl : candidates) {
    if (gained.size() >= want) break;
    const SteadyTime t = now_();
    auto epoch = store_->Acquire(sl->shard, opts_.self, opts_.lease, opts_.margin);
    if (!epoch.ok()) return epoch.status();
    if (!epoch->has_value()) continue;  // another node was faster
    gained.push_back({sl->shard, **epoch, t, !sl->instance.empty()});
  }
  if (gained.empty()) return Status::Ok();
  std::vector<uint32_t> shards;
  std::vector<GainListener> listeners;
  for (const auto& g : gained) shards.push_back(g.shard);
  {
    MutexLock l(mu_);
    listeners = listeners_;
  }
  // What the previous owners left is loaded before anything works the shards here.
  for (const auto& fn : listeners) fn(shards);
  {
    MutexLock l(mu_);
    for (const auto& g : gained) {
      held_[g.shard] = Held{g.epoch, g.t + opts_.lease - opts_.margin};
      ++stats_.acquisitions;
      if (g.takeover) ++stats_.takeovers;
    }
    spdlog::info("cluster: took {} shards, holding {}", gained.size(), held_.size());
    listeners = owned_listeners_;
  }
  for (const auto& fn : listeners) fn(shards);
  return Status::Ok();
}

bool Membership::OwnsLocked(uint32_t shard, SteadyTime now) const {
  auto it = held_.find(shard);
  if (it == held_.end()) return false;
  return db_down_ || now < it->second.deadline;
}

bool Membership::Owns(uint32_t shard) const {
  const SteadyTime now = now_();
  MutexLock l(mu_);
  return OwnsLocked(shard, now);
}

bool Membership::FenceSend(uint32_t shard) {
  int64_t epoch = 0;
  {
    const SteadyTime now = now_();
    MutexLock l(mu_);
    if (!OwnsLocked(shard, now)) {
      ++stats_.fence_refusals;
      return false;
    }
    epoch = held_.at(shard).epoch;
  }
  auto ok = store_->Fence(shard, opts_.self.instance, epoch);
  MutexLock l(mu_);
  if (!ok.ok()) {
    // Fail open: the database cannot say, so this node's own view decides (it held the shard
    // a moment ago).
    ++stats_.fence_fail_open;
    return true;
  }
  if (!*ok) {
    auto it = held_.find(shard);
    if (it != held_.end() && it->second.epoch == epoch) held_.erase(it);
    ++stats_.fence_refusals;
    return false;
  }
  return true;
}

void Membership::OnGained(GainListener listener) {
  MutexLock l(mu_);
  listeners_.push_back(std::move(listener));
}

void Membership::OnOwned(GainListener listener) {
  MutexLock l(mu_);
  owned_listeners_.push_back(std::move(listener));
}

ClusterView Membership::View() const {
  const SteadyTime now = now_();
  MutexLock l(mu_);
  ClusterView v;
  v.self = opts_.self;
  v.nodes = last_.nodes;
  v.leases = last_.leases;
  for (const auto& [shard, h] : held_) {
    if (OwnsLocked(shard, now)) v.owned.push_back(shard);
  }
  v.database_reachable = !db_down_ && stats_.rounds > 0;
  v.joined = joined_;
  return v;
}

MembershipStats Membership::Stats() const {
  MutexLock l(mu_);
  return stats_;
}

void Membership::AppendMetrics(std::string* out) const {
  const ClusterView v = View();
  const MembershipStats s = Stats();
  size_t live = 0;
  for (const auto& n : v.nodes) live += n.live ? 1 : 0;
  auto gauge = [out](const char* name, const char* help, double value) {
    AppendFamilyHeader(out, name, "gauge", help);
    AppendSample(out, name, {}, value);
  };
  auto counter = [out](const char* name, const char* help, uint64_t value) {
    AppendFamilyHeader(out, name, "counter", help);
    AppendSample(out, name, {}, static_cast<double>(value));
  };
  gauge("alertd_cluster_nodes", "Live nodes of the cluster, this one included.",
        static_cast<double>(live));
  gauge("alertd_cluster_shards", "Shards work is split into.", kClusterShards);
  gauge("alertd_cluster_shards_owned", "Shards this node works now.",
        static_cast<double>(v.owned.size()));
  gauge("alertd_cluster_database_reachable",
        "1 when the last membership round reached the database.", v.database_reachable ? 1 : 0);
  counter("alertd_cluster_rounds_total", "Membership rounds run.", s.rounds);
  counter("alertd_cluster_round_failures_total",
          "Membership rounds that failed (the database could not be reached).",
          s.round_failures);
  counter("alertd_cluster_lease_renewals_total", "Shard leases renewed.", s.renewals);
  counter("alertd_cluster_shards_acquired_total", "Shards this node took.", s.acquisitions);
  counter("alertd_cluster_takeovers_total",
          "Shards taken from a node whose lease had expired.", s.takeovers);
  counter("alertd_cluster_shards_released_total", "Shards given up (balancing, leaving).",
          s.releases);
  counter("alertd_cluster_shards_lost_total",
          "Shards found lapsed or taken by another node.", s.lost);
  counter("alertd_cluster_fence_refusals_total",
          "Sends not made because this node no longer held the shard.", s.fence_refusals);
  counter("alertd_cluster_fence_fail_open_total",
          "Sends made without a fencing write because the database was unreachable.",
          s.fence_fail_open);
}

}  // namespace alertd::cluster
