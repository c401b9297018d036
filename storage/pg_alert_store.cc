// The alert store's PostgreSQL persistence (storage/alert_persistence.h): table `alerts`, one
// row per fingerprint. A group commit is one transaction whose upserts go as multi-row INSERT
// ... ON CONFLICT statements of up to kRowsPerStatement alerts; garbage-collected alerts are
// deleted in the same transaction. The whole transaction is one pipeline (PgConn::Pipeline),
// so a batch costs one round trip to the server however many alerts it holds. PostgreSQL has no
// single-writer page problem to work around, so there is no log and no compaction.
//
// Commits go over kCommitConnections connections, one commit slot each: while one commit waits
// for its WAL flush, the next batch is already on its way on the other connection, and the
// server flushes both with one write when they meet (a single connection would wait out one
// flush per batch). The store never has two commits of the same alert in flight at once, so
// the row locks never decide which version wins.
//
// Every upsert sets the row's `xact` and each commit that changed alerts notifies
// kChangeChannel, so other alertd processes on the same database follow (pg_change_feed.cc).
#include <fmt/format.h>

#include <algorithm>

#include "storage/alert_persistence.h"
#include "storage/codec.h"
#include "storage/pg_rows.h"
#include "storage/pg_stores.h"

namespace alertd::storage {
namespace {

// Eight parameters per row: 256 rows stay far below PostgreSQL's 65,535 parameters.
constexpr size_t kRowsPerStatement = 256;
// Commits in flight at once (see above).
constexpr size_t kCommitConnections = 2;

std::string UpsertSql(size_t rows) {
  std::string sql =
      "INSERT INTO alerts (fingerprint, labels, annotations, starts_at, ends_at, updated_at, "
      "generator_url, timeout) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    const size_t p = i * 8;
    sql += fmt::format("{}(${},${},${},${},${},${},${},${})", i ? "," : "", p + 1, p + 2, p + 3,
                       p + 4, p + 5, p + 6, p + 7, p + 8);
  }
  sql += " ON CONFLICT (fingerprint) DO UPDATE SET ";
  // Of two alertd processes writing one alert, the newer version stays (pg_rows.h).
  sql += NewerWinsSet("alerts", {"labels", "annotations", "starts_at", "ends_at", "generator_url",
                                 "timeout", "updated_at"});
  return sql;
}

class PgAlertRows final : public AlertPersistence {
 public:
  // `conns`: one per commit slot, at least one; the first also loads.
  explicit PgAlertRows(std::vector<std::unique_ptr<PgConn>> conns) : c_(std::move(conns)) {}

  size_t commit_slots() const override { return c_.size(); }

  Status Load(std::unordered_map<uint64_t, AlertPtr>* index) override {
    auto r = c_[0]->Query(std::string("SELECT ") + kAlertColumns + " FROM alerts");
    if (!r.ok()) return r.status().WithPrefix("loading alerts");
    for (int i = 0; i < r->rows(); ++i) {
      auto row = AlertFromRow(*r, i);
      if (!row.ok()) return row.status();
      (*index)[row->first] = std::move(row->second);
    }
    return Status::Ok();
  }

  Status Commit(size_t slot, const std::vector<Change>& changes,
                const std::unordered_set<uint64_t>& deletes) override {
    PgConn& c = *c_[slot];
    if (Status s = c.Ready(); !s.ok()) return s;
    std::vector<PgStatement> statements;
    statements.reserve(changes.size() / kRowsPerStatement + 2);
    for (size_t start = 0; start < changes.size(); start += kRowsPerStatement) {
      const size_t n = std::min(kRowsPerStatement, changes.size() - start);
      PgStatement& st = statements.emplace_back();
      st.sql = UpsertSql(n);
      st.params.reserve(n * 8);
      for (size_t i = start; i < start + n; ++i) {
        const Alert& a = *changes[i].alert;
        st.params.push_back(PgParam::Int(static_cast<int64_t>(changes[i].fingerprint)));
        st.params.push_back(PgParam::Bytes(EncodeLabelSet(a.labels)));
        st.params.push_back(PgParam::Bytes(EncodeLabelSet(a.annotations)));
        st.params.push_back(PgParam::Int(ToNanos(a.starts_at)));
        st.params.push_back(PgParam::Int(ToNanos(a.ends_at)));
        st.params.push_back(PgParam::Int(ToNanos(a.updated_at)));
        st.params.push_back(PgParam::Text(a.generator_url));
        st.params.push_back(PgParam::Bool(a.timeout));
      }
    }
    if (!deletes.empty()) {
      // The fingerprints as one bigint[] parameter in PostgreSQL's array literal syntax.
      std::string arr = "{";
      for (uint64_t fp : deletes) {
        if (arr.size() > 1) arr += ',';
        arr += std::to_string(static_cast<int64_t>(fp));
      }
      arr += '}';
      statements.push_back({"DELETE FROM alerts WHERE fingerprint = ANY ($1::TEXT::BIGINT[])",
                            {PgParam::Text(arr)}});
    }
    // Other alertd processes on this database fetch the changes when they hear of them
    // (storage/pg_change_feed.cc); the server delivers the notification once this commits.
    if (!changes.empty()) statements.push_back({kNotifyAlerts, {}});
    return c.Pipeline(statements);
  }

  void Close() override { c_.clear(); }

 private:
  std::vector<std::unique_ptr<PgConn>> c_;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> OpenPgAlertStore(const PgTarget& target, const Clock* clock,
                                                     const AlertStoreOptions& opts) {
  std::vector<std::unique_ptr<PgConn>> conns;
  for (size_t i = 0; i < kCommitConnections; ++i) {
    auto conn = PgConn::Connect(target, "alert store");
    if (!conn.ok()) return conn.status();
    if (i == 0) {
      if (Status s = MigratePostgres(**conn); !s.ok()) return s;
    }
    conns.push_back(std::move(*conn));
  }
  return OpenAlertStoreOn(std::make_unique<PgAlertRows>(std::move(conns)), clock, opts);
}

}  // namespace alertd::storage
