// The cluster's leases and nodes (core/cluster.h) on PostgreSQL: tables cluster_nodes and
// cluster_leases (storage/pg.cc's schema, version 3), times as Unix nanoseconds taken from the
// database's now() in the statements themselves, so no node's clock is ever compared with
// another's. Two connections, each behind its own mutex: one for the membership thread's
// rounds, one for the fences of deliveries, so a send never waits behind a round.
#include <fmt/format.h>

#include <mutex>

#include "core/cluster.h"
#include "storage/codec.h"
#include "storage/pg_stores.h"

namespace alertd::storage {
namespace {

// now() as Unix nanoseconds (microsecond resolution, as PostgreSQL keeps it). now() is the
// transaction's start: a lease renewed in a transaction expires no later than lease after
// the commit, and a takeover check sees the lease no sooner expired than it is.
constexpr std::string_view kNowNs = "((EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT * 1000)";

int64_t Nanos(Duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

std::string Sql(std::string_view pattern) {
  std::string s(pattern);
  for (size_t at; (at = s.find("@NOW")) != std::string::npos;) s.replace(at, 4, kNowNs);
  return s;
}

// A Postgres array literal of shards ('{1,2,3}'), passed as text and cast in the statement.
std::string ShardArray(const std::vector<uint32_t>& shards) {
  std::string out = "{";
  for (size_t i = 0; i < shards.size(); ++i) out += (i ? "," : "") + std::to_string(shards[i]);
  return out + "}";
}

class PgClusterStore final : public ClusterStore {
 public:
  PgClusterStore(std::unique_ptr<PgConn> rounds, std::unique_ptr<PgConn> fences)
      : rounds_(std::move(rounds)), fences_(std::move(fences)) {}

  Status Join(const ClusterNode& node, Duration lease) override {
    std::lock_guard l(rounds_mu_);
    if (Status s = rounds_->Ready(); !s.ok()) return s;
    // A row of the same name is taken over when it is this process's or went unseen for a
    // lease (a node restarted after a crash: its leases have expired by then too).
    auto r = rounds_->Query(
        Sql("INSERT INTO cluster_nodes (name, instance, advertise_url, started_at, last_seen) "
            "VALUES ($1, $2, $3, @NOW, @NOW) ON CONFLICT (name) DO UPDATE SET "
            "instance = EXCLUDED.instance, advertise_url = EXCLUDED.advertise_url, "
            "started_at = EXCLUDED.started_at, last_seen = EXCLUDED.last_seen "
            "WHERE cluster_nodes.instance = EXCLUDED.instance OR "
            "cluster_nodes.last_seen < @NOW - $4 RETURNING name"),
        {PgParam::Text(node.name), PgParam::Text(node.instance), PgParam::Text(node.advertise_url),
         PgParam::Int(Nanos(lease))});
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return Status::Conflict(fmt::format(
          "another alertd named {:?} is running on this database (cluster.node_name must be "
          "unique)",
          node.name));
    }
    return Status::Ok();
  }

  Result<LeaseRound> Round(const std::string& instance, Duration lease,
                           Duration margin) override {
    std::lock_guard l(rounds_mu_);
    if (Status s = rounds_->Ready(); !s.ok()) return s;
    if (Status s = rounds_->Begin(); !s.ok()) return s;
    auto out = RoundLocked(instance, lease, margin);
    if (!out.ok()) {
      rounds_->Rollback();
      return out.status();
    }
    if (Status s = rounds_->Commit(); !s.ok()) return s;
    return out;
  }

  Result<std::optional<int64_t>> Acquire(uint32_t shard, const ClusterNode& node, Duration lease,
                                         Duration margin) override {
    std::lock_guard l(rounds_mu_);
    if (Status s = rounds_->Ready(); !s.ok()) return s;
    auto r = rounds_->Query(
        Sql("UPDATE cluster_leases SET owner = $2, instance = $3, epoch = epoch + 1, "
            "expires_at = @NOW + $4 WHERE shard = $1 AND (instance = '' OR "
            "expires_at < @NOW - $5) RETURNING epoch"),
        {PgParam::Int(shard), PgParam::Text(node.name), PgParam::Text(node.instance),
         PgParam::Int(Nanos(lease)), PgParam::Int(Nanos(margin))});
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(r->Int(0, 0));
  }

  Status Release(const std::vector<uint32_t>& shards, const std::string& instance) override {
    if (shards.empty()) return Status::Ok();
    std::lock_guard l(rounds_mu_);
    if (Status s = rounds_->Ready(); !s.ok()) return s;
    return rounds_
        ->Query("UPDATE cluster_leases SET owner = '', instance = '', expires_at = 0 "
                "WHERE instance = $1 AND shard = ANY ($2::TEXT::INTEGER[])",
                {PgParam::Text(instance), PgParam::Text(ShardArray(shards))})
        .status();
  }

  Status Leave(const std::string& instance) override {
    std::lock_guard l(rounds_mu_);
    if (Status s = rounds_->Ready(); !s.ok()) return s;
    return rounds_->Pipeline(
        {{"UPDATE cluster_leases SET owner = '', instance = '', expires_at = 0 WHERE "
          "instance = $1",
          {PgParam::Text(instance)}},
         {"DELETE FROM cluster_nodes WHERE instance = $1", {PgParam::Text(instance)}}});
  }

  Result<bool> Fence(uint32_t shard, const std::string& instance, int64_t epoch) override {
    std::lock_guard l(fences_mu_);
    if (Status s = fences_->Ready(); !s.ok()) return s;
    auto r = fences_->Query(Sql("UPDATE cluster_leases SET fenced_at = @NOW WHERE shard = $1 "
                                "AND instance = $2 AND epoch = $3 AND expires_at > @NOW "
                                "RETURNING shard"),
                            {PgParam::Int(shard), PgParam::Text(instance), PgParam::Int(epoch)});
    if (!r.ok()) return r.status();
    return r->rows() == 1;
  }

 private:
  Result<LeaseRound> RoundLocked(const std::string& instance, Duration lease, Duration margin) {
    auto seen = rounds_->Query(Sql("UPDATE cluster_nodes SET last_seen = @NOW WHERE instance = $1"),
                               {PgParam::Text(instance)});
    if (!seen.ok()) return seen.status();
    auto renew = rounds_->Query(
        Sql("UPDATE cluster_leases SET expires_at = @NOW + $2 WHERE instance = $1 AND "
            "expires_at > @NOW RETURNING shard::BIGINT"),
        {PgParam::Text(instance), PgParam::Int(Nanos(lease))});
    if (!renew.ok()) return renew.status();
    auto leases = rounds_->Query(
        Sql("SELECT shard::BIGINT, owner, instance, epoch, expires_at, "
            "(instance = '' OR expires_at < @NOW - $1) FROM cluster_leases ORDER BY shard"),
        {PgParam::Int(Nanos(margin))});
    if (!leases.ok()) return leases.status();
    auto nodes = rounds_->Query(
        Sql("SELECT name, instance, advertise_url, started_at, last_seen, "
            "last_seen >= @NOW - $1 FROM cluster_nodes ORDER BY name COLLATE \"C\""),
        {PgParam::Int(Nanos(lease))});
    if (!nodes.ok()) return nodes.status();
    LeaseRound out;
    for (int i = 0; i < renew->rows(); ++i) {
      out.renewed.push_back(static_cast<uint32_t>(renew->Int(i, 0)));
    }
    for (int i = 0; i < leases->rows(); ++i) {
      ShardLease sl;
      sl.shard = static_cast<uint32_t>(leases->Int(i, 0));
      sl.owner = std::string(leases->Bytes(i, 1));
      sl.instance = std::string(leases->Bytes(i, 2));
      sl.epoch = leases->Int(i, 3);
      sl.expires_at = FromNanos(leases->Int(i, 4));
      sl.takeable = leases->Bool(i, 5);
      out.leases.push_back(std::move(sl));
    }
    for (int i = 0; i < nodes->rows(); ++i) {
      ClusterNode n;
      n.name = std::string(nodes->Bytes(i, 0));
      n.instance = std::string(nodes->Bytes(i, 1));
      n.advertise_url = std::string(nodes->Bytes(i, 2));
      n.started_at = FromNanos(nodes->Int(i, 3));
      n.last_seen = FromNanos(nodes->Int(i, 4));
      n.live = nodes->Bool(i, 5);
      out.nodes.push_back(std::move(n));
    }
    return out;
  }

  std::mutex rounds_mu_;
  std::unique_ptr<PgConn> rounds_;  // GUARDED_BY(rounds_mu_)
  std::mutex fences_mu_;
  std::unique_ptr<PgConn> fences_;  // GUARDED_BY(fences_mu_)
};

}  // namespace

Result<std::unique_ptr<ClusterStore>> OpenPgClusterStore(const PgTarget& target) {
  auto rounds = PgConn::Connect(target, "cluster");
  if (!rounds.ok()) return rounds.status();
  if (Status s = MigratePostgres(**rounds); !s.ok()) return s;
  auto fences = PgConn::Connect(target, "cluster fencing");
  if (!fences.ok()) return fences.status();
  return std::unique_ptr<ClusterStore>(
      std::make_unique<PgClusterStore>(std::move(*rounds), std::move(*fences)));
}

}  // namespace alertd::storage
