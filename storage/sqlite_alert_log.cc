// The alert store's SQLite persistence (storage/alert_persistence.h): a commit appends one row
// to the alert_log table holding that commit's alerts as records (storage/codec.h); a resend
// that only moves endsAt, as Prometheus sends every minute, is a 25-byte record. Writing every
// alert into its own row of `alerts` instead would rewrite one B-tree page at a random
// position per alert, which made SQLite the bottleneck of ingestion. In the background,
// between commits, compaction copies the alerts the log changed into `alerts` in small
// transactions and then deletes the log rows it covered; at open the store loads `alerts` and
// replays the log on top.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

#include "storage/alert_persistence.h"
#include "storage/codec.h"

namespace alertd::storage {
namespace {

class SqliteAlertLog final : public AlertPersistence {
 public:
  SqliteAlertLog(std::unique_ptr<Database> db, const AlertStoreOptions& opts)
      : db_(std::move(db)), opts_(opts) {
    opts_.compact_chunk = std::max<size_t>(opts_.compact_chunk, 1);
  }

  Status Prepare() {
    struct Sql {
      Statement* stmt;
      const char* text;
    };
    for (const Sql& q : {
             Sql{&upsert_,
                 "INSERT INTO alerts (fingerprint, labels, annotations, starts_at, ends_at, "
                 "updated_at, generator_url, timeout, log_seq) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                 "ON CONFLICT(fingerprint) DO UPDATE SET labels = excluded.labels, "
                 "annotations = excluded.annotations, starts_at = excluded.starts_at, "
                 "ends_at = excluded.ends_at, updated_at = excluded.updated_at, "
                 "generator_url = excluded.generator_url, timeout = excluded.timeout, "
                 "log_seq = excluded.log_seq"},
             Sql{&delete_, "DELETE FROM alerts WHERE fingerprint = ?1"},
             Sql{&log_append_, "INSERT INTO alert_log (seq, records) VALUES (?1, ?2)"},
             Sql{&log_truncate_, "DELETE FROM alert_log WHERE seq <= ?1"},
         }) {
      auto st = db_->Prepare(q.text);
      if (!st.ok()) return st.status();
      *q.stmt = std::move(*st);
    }
    return Status::Ok();
  }

  // Loads `alerts`, then replays the log rows each alert's row does not reflect yet.
  Status Load(std::unordered_map<uint64_t, AlertPtr>* index) override {
    std::unordered_map<uint64_t, uint64_t> row_seq;  // fingerprint -> log_seq of its row
    auto load = db_->Prepare(
        "SELECT fingerprint, labels, annotations, starts_at, ends_at, updated_at, generator_url, "
        "timeout, log_seq FROM alerts");
    if (!load.ok()) return load.status();
    for (;;) {
      auto row = load->Step();
      if (!row.ok()) return row.status().WithPrefix("loading alerts");
      if (!*row) break;
      auto labels = DecodeLabelSet(load->ColumnBlob(1));
      auto annotations = DecodeLabelSet(load->ColumnBlob(2));
      const auto fp = static_cast<uint64_t>(load->ColumnInt64(0));
      if (!labels.ok() || !annotations.ok()) {
        return Status::Internal(fmt::format("{}: alert {:016x} is corrupt", db_->path(), fp));
      }
      auto a = std::make_shared<Alert>();
      a->labels = std::move(*labels);
      a->annotations = std::move(*annotations);
      a->starts_at = FromNanos(load->ColumnInt64(3));
      a->ends_at = FromNanos(load->ColumnInt64(4));
      a->updated_at = FromNanos(load->ColumnInt64(5));
      a->generator_url = std::string(load->ColumnText(6));
      a->timeout = load->ColumnInt64(7) != 0;
      const auto seq = static_cast<uint64_t>(load->ColumnInt64(8));
      if (seq > 0) row_seq.emplace(fp, seq);
      last_seq_ = std::max(last_seq_, seq);
      (*index)[fp] = std::move(a);
    }

    auto log = db_->Prepare("SELECT seq, records FROM alert_log ORDER BY seq");
    if (!log.ok()) return log.status();
    uint64_t replayed = 0;
    for (;;) {
      auto row = log->Step();
      if (!row.ok()) return row.status().WithPrefix("loading the alert log");
      if (!*row) break;
      const auto seq = static_cast<uint64_t>(log->ColumnInt64(0));
      last_seq_ = std::max(last_seq_, seq);
      std::string_view blob = log->ColumnBlob(1);
      while (!blob.empty()) {
        auto rec = DecodeLogRecord(&blob);
        if (!rec.ok()) {
          return Status::Internal(
              fmt::format("{}: alert log row {}: {}", db_->path(), seq, rec.status().message()));
        }
        if (auto rs = row_seq.find(rec->fingerprint); rs != row_seq.end() && seq <= rs->second) {
          continue;  // the row of `alerts` already has this change
        }
        if (auto s = Apply(index, seq, std::move(*rec)); !s.ok()) return s;
        ++replayed;
      }
    }
    records_since_pass_ = replayed;
    {
      std::lock_guard l(stats_mu_);
      stats_.replayed_records = replayed;
    }
    if (replayed) spdlog::info("alert store: replayed {} alert log records", replayed);
    return Status::Ok();
  }

  // One group commit: a single alert_log row with every change, plus the deletion of
  // garbage-collected rows. One slot: SQLite has one writer.
  Status Commit(size_t /*slot*/, const std::vector<Change>& changes,
                const std::unordered_set<uint64_t>& deletes) override {
    blob_.clear();
    uint64_t full = 0, ends = 0;
    for (uint64_t fp : deletes) AppendDeleteRecord(fp, &blob_);
    for (const auto& c : changes) {
      if (c.full) {
        AppendFullRecord(c.fingerprint, *c.alert, &blob_);
        ++full;
      } else {
        AppendEndsRecord(c.fingerprint, *c.alert, &blob_);
        ++ends;
      }
    }
    const uint64_t seq = last_seq_ + 1;
    auto fail = [&](Status s) {
      db_->Rollback();
      return s;
    };
    if (auto s = db_->Begin(); !s.ok()) return fail(s);
    log_append_.BindInt64(1, static_cast<int64_t>(seq));
    log_append_.BindBlob(2, blob_);
    if (auto s = log_append_.Run(); !s.ok()) return fail(s);
    for (uint64_t fp : deletes) {
      delete_.BindInt64(1, static_cast<int64_t>(fp));
      if (auto s = delete_.Run(); !s.ok()) return fail(s);
    }
    if (auto s = db_->Commit(); !s.ok()) return fail(s);
    last_seq_ = seq;
    for (const auto& c : changes) dirty_[c.fingerprint] = seq;
    for (uint64_t fp : deletes) dirty_.erase(fp);
    records_since_pass_ += changes.size() + deletes.size();
    std::lock_guard l(stats_mu_);
    ++stats_.log_rows_written;
    stats_.full_records += full;
    stats_.ends_records += ends;
    return Status::Ok();
  }

  bool BackgroundPending() const override { return pass_active_; }

  Status Background(const Lookup& lookup) override {
    if (!pass_active_ && CompactionDue()) (void)StartPass(false);
    if (!pass_active_) return Status::Ok();
    Status s = CompactChunk(lookup);
    if (!s.ok()) spdlog::error("alert store: compaction failed: {}", s.message());
    return s;
  }

  Status Flush(const Lookup& lookup) override {
    // A requested pass starts afresh, so that it covers every committed record.
    Status s = StartPass(/*forced=*/true);
    while (s.ok() && pass_active_) s = CompactChunk(lookup);
    return s;
  }

  void AddStats(AlertStoreStats* out) const override {
    std::lock_guard l(stats_mu_);
    out->log_rows_written += stats_.log_rows_written;
    out->full_records += stats_.full_records;
    out->ends_records += stats_.ends_records;
    out->compactions += stats_.compactions;
    out->compacted_alerts += stats_.compacted_alerts;
    out->replayed_records += stats_.replayed_records;
  }

  void Close() override {
    upsert_ = Statement();
    delete_ = Statement();
    log_append_ = Statement();
    log_truncate_ = Statement();
    db_.reset();
  }

 private:
  // Applies one replayed log record to the index.
  Status Apply(std::unordered_map<uint64_t, AlertPtr>* index, uint64_t seq, LogRecord rec) {
    const uint64_t fp = rec.fingerprint;
    switch (rec.kind) {
      case LogRecordKind::kFull:
        (*index)[fp] = std::make_shared<const Alert>(std::move(rec.alert));
        break;
      case LogRecordKind::kEnds: {
        auto it = index->find(fp);
        if (it == index->end()) {
          return Status::Internal(
              fmt::format("{}: alert log row {} updates alert {:016x}, which is not stored",
                          db_->path(), seq, fp));
        }
        auto a = std::make_shared<Alert>(*it->second);
        a->ends_at = rec.alert.ends_at;
        a->updated_at = rec.alert.updated_at;
        a->timeout = rec.alert.timeout;
        it->second = std::move(a);
        break;
      }
      case LogRecordKind::kDelete:
        index->erase(fp);
        dirty_.erase(fp);
        return Status::Ok();
    }
    dirty_[fp] = seq;
    return Status::Ok();
  }

  bool CompactionDue() const {
    const size_t threshold =
        std::max(opts_.compact_min_records, opts_.compact_records_per_alert * dirty_.size());
    return records_since_pass_ > 0 && records_since_pass_ >= threshold;
  }

  // Starts a pass over the alerts the log changed up to now. Without `forced`, only when due.
  Status StartPass(bool forced) {
    if (!forced && !CompactionDue()) return Status::Ok();
    pass_upto_ = last_seq_;
    pass_fps_.clear();
    pass_fps_.reserve(dirty_.size());
    for (const auto& [fp, seq] : dirty_) pass_fps_.push_back(fp);
    // In the table's order (the rowid is the fingerprint as a signed integer), so that each
    // chunk rewrites a few neighbouring pages instead of one page per alert.
    std::sort(pass_fps_.begin(), pass_fps_.end(), [](uint64_t a, uint64_t b) {
      return static_cast<int64_t>(a) < static_cast<int64_t>(b);
    });
    pass_pos_ = 0;
    pass_active_ = true;
    records_since_pass_ = 0;
    return Status::Ok();
  }

  // Writes the next chunk of the pass to `alerts` in one transaction; the last one also
  // deletes the log rows the pass covered.
  Status CompactChunk(const Lookup& lookup) {
    const size_t end = std::min(pass_fps_.size(), pass_pos_ + opts_.compact_chunk);
    std::vector<std::pair<uint64_t, AlertPtr>> chunk;
    chunk.reserve(end - pass_pos_);
    for (size_t i = pass_pos_; i < end; ++i) {
      // Not stored any more: garbage collection deleted its row with the tombstone.
      if (AlertPtr a = lookup(pass_fps_[i])) chunk.emplace_back(pass_fps_[i], std::move(a));
    }
    const bool last = end == pass_fps_.size();
    // A compaction commit need not be fsynced: until the log rows are deleted, the log still
    // holds everything, and the next group commit's fsync of the WAL covers these frames too
    // (WAL frames become durable in order, so that deletion can never outlive the rows).
    const bool relax = db_->OpenedSynchronous() == Synchronous::kFull;
    if (relax) {
      if (auto s = db_->SetSynchronous(Synchronous::kNormal); !s.ok()) return s;
    }
    struct Restore {
      Database* db;
      bool on;
      ~Restore() {
        if (!on) return;
        if (Status s = db->SetSynchronous(Synchronous::kFull); !s.ok()) {
          spdlog::error("alert store: cannot restore synchronous=FULL: {}", s.message());
        }
      }
    } restore{db_.get(), relax};
    auto fail = [&](Status s) {
      db_->Rollback();
      pass_active_ = false;  // the next pass starts over from the dirty set
      return s;
    };
    if (auto s = db_->Begin(); !s.ok()) return fail(s);
    std::string labels, annotations;
    size_t written = 0;
    for (const auto& [fp, alert] : chunk) {
      auto d = dirty_.find(fp);
      if (d == dirty_.end()) continue;  // deleted since the pass started
      // The index may be ahead of the log (a change queued but not committed yet); writing
      // that newer version is harmless, since its own record follows in the log.
      const Alert& a = *alert;
      labels.clear();
      annotations.clear();
      EncodeLabelSet(a.labels, &labels);
      EncodeLabelSet(a.annotations, &annotations);
      upsert_.BindInt64(1, static_cast<int64_t>(fp));
      upsert_.BindBlob(2, labels);
      upsert_.BindBlob(3, annotations);
      upsert_.BindInt64(4, ToNanos(a.starts_at));
      upsert_.BindInt64(5, ToNanos(a.ends_at));
      upsert_.BindInt64(6, ToNanos(a.updated_at));
      upsert_.BindText(7, a.generator_url);
      upsert_.BindInt64(8, a.timeout ? 1 : 0);
      upsert_.BindInt64(9, static_cast<int64_t>(d->second));
      if (auto s = upsert_.Run(); !s.ok()) return fail(s);
      ++written;
    }
    if (last) {
      log_truncate_.BindInt64(1, static_cast<int64_t>(pass_upto_));
      if (auto s = log_truncate_.Run(); !s.ok()) return fail(s);
    }
    if (auto s = db_->Commit(); !s.ok()) return fail(s);
    // Alerts changed again after the pass started stay dirty for the next pass.
    for (const auto& [fp, alert] : chunk) {
      auto d = dirty_.find(fp);
      if (d != dirty_.end() && d->second <= pass_upto_) dirty_.erase(d);
    }
    pass_pos_ = end;
    std::lock_guard l(stats_mu_);
    stats_.compacted_alerts += written;
    if (last) {
      pass_active_ = false;
      pass_fps_ = {};
      ++stats_.compactions;
    }
    return Status::Ok();
  }

  std::unique_ptr<Database> db_;
  AlertStoreOptions opts_;
  Statement upsert_;
  Statement delete_;
  Statement log_append_;
  Statement log_truncate_;

  uint64_t last_seq_ = 0;  // the last committed alert_log row
  // Alerts whose latest change is in the log but not yet in `alerts`, with the log row of
  // that change.
  std::unordered_map<uint64_t, uint64_t> dirty_;
  uint64_t records_since_pass_ = 0;
  bool pass_active_ = false;
  uint64_t pass_upto_ = 0;
  std::vector<uint64_t> pass_fps_;
  size_t pass_pos_ = 0;
  std::string blob_;

  mutable std::mutex stats_mu_;  // Stats() reads from other threads
  AlertStoreStats stats_;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> OpenAlertStore(std::unique_ptr<Database> db, const Clock* clock,
                                                   const AlertStoreOptions& opts) {
  auto log = std::make_unique<SqliteAlertLog>(std::move(db), opts);
  if (Status s = log->Prepare(); !s.ok()) return s;
  return OpenAlertStoreOn(std::move(log), clock, opts);
}

}  // namespace alertd::storage
