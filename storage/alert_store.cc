#include "storage/alert_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "storage/codec.h"

namespace alertd::storage {
namespace {

int64_t ToNanos(Time t) { return t.time_since_epoch().count(); }
Time FromNanos(int64_t n) { return Time(Duration(n)); }

// Whether `merged` differs from `prev` only in what an endsAt-only log record carries.
bool OnlyEndsChanged(const Alert& prev, const Alert& merged) {
  return merged.starts_at == prev.starts_at && merged.generator_url == prev.generator_url &&
         merged.annotations == prev.annotations && merged.labels == prev.labels;
}

class SqliteAlertStore final : public AlertStore {
 public:
  SqliteAlertStore(std::unique_ptr<Database> db, const Clock* clock, AlertStoreOptions opts)
      : db_(std::move(db)), clock_(clock), opts_(opts) {
    opts_.compact_chunk = std::max<size_t>(opts_.compact_chunk, 1);
    opts_.max_pending_alerts = std::max<size_t>(opts_.max_pending_alerts, 1);
    queue_stats_.capacity = static_cast<int64_t>(opts_.max_pending_alerts);
  }
  ~SqliteAlertStore() override { Close(); }

  Status Init() {
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
    if (auto s = Load(); !s.ok()) return s;
    writer_ = std::thread([this] { WriterLoop(); });
    return Status::Ok();
  }

  Status Put(std::vector<Alert> alerts) override {
    std::promise<Status> p;
    auto f = p.get_future();
    PutAsync(std::move(alerts), [&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }

  void PutAsync(std::vector<Alert> alerts, Done done) override {
    {
      // Before index_mu_: the writer needs it to make room.
      std::unique_lock q(queue_mu_);
      if (!closed_ && pending_order_.size() >= opts_.max_pending_alerts &&
          std::this_thread::get_id() != writer_.get_id()) {
        queue_stats_.delayed++;
        room_cv_.wait(q,
                      [&] { return closed_ || pending_order_.size() < opts_.max_pending_alerts; });
      }
    }
    const Time now = clock_->Now();
    bool closed;
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      closed = closed_;
      if (!closed) Enqueue(alerts, now, std::move(done));
      queue_stats_.length = static_cast<int64_t>(pending_order_.size());
    }
    if (closed) {
      if (done) done(Status::Unavailable("alert store is closed"));
      return;
    }
    queue_cv_.notify_one();
  }

  std::vector<AlertPtr> List() const override {
    std::vector<std::pair<uint64_t, AlertPtr>> keyed;
    {
      std::shared_lock l(index_mu_);
      keyed.reserve(index_.size());
      for (const auto& [fp, a] : index_) keyed.emplace_back(fp, a);
    }
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<AlertPtr> out;
    out.reserve(keyed.size());
    for (auto& [fp, a] : keyed) out.push_back(std::move(a));
    return out;
  }

  AlertPtr Get(uint64_t fingerprint) const override {
    std::shared_lock l(index_mu_);
    auto it = index_.find(fingerprint);
    return it == index_.end() ? nullptr : it->second;
  }

  size_t Size() const override {
    std::shared_lock l(index_mu_);
    return index_.size();
  }

  int Subscribe(Listener listener) override {
    std::lock_guard l(listeners_mu_);
    int id = ++next_listener_id_;
    listeners_.emplace(id, std::move(listener));
    return id;
  }

  void Unsubscribe(int id) override {
    std::lock_guard l(listeners_mu_);
    listeners_.erase(id);
  }

  Result<size_t> CollectGarbage() override {
    size_t removed = 0;
    std::promise<Status> p;
    auto f = p.get_future();
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      if (closed_) return Status::Unavailable("alert store is closed");
      removed = CollectLocked(clock_->Now());
      waiters_.emplace(++enqueued_seq_, [&p](Status s) { p.set_value(std::move(s)); });
    }
    queue_cv_.notify_one();
    Status s = f.get();
    if (!s.ok()) return s;
    return removed;
  }

  Status Compact() override {
    std::promise<Status> p;
    auto f = p.get_future();
    {
      std::lock_guard q(queue_mu_);
      if (closed_) return Status::Unavailable("alert store is closed");
      compact_requests_.push_back([&p](Status s) { p.set_value(std::move(s)); });
    }
    queue_cv_.notify_one();
    return f.get();
  }

  const QueueStats& WriteQueue() const override { return queue_stats_; }

  AlertStoreStats Stats() const override {
    std::lock_guard l(stats_mu_);
    return stats_;
  }

  void Close() override {
    {
      std::lock_guard q(queue_mu_);
      if (closed_) return;
      closed_ = true;
    }
    queue_cv_.notify_one();
    room_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    upsert_ = Statement();
    delete_ = Statement();
    log_append_ = Statement();
    log_truncate_ = Statement();
  }

 private:
  // The latest merged version of an alert queued since the last commit, and whether the log
  // needs all of it (kFull) or only its endsAt (kEnds).
  struct Pending {
    AlertPtr alert;
    bool full;
  };

  // Loads `alerts`, then replays the log rows each alert's row does not reflect yet.
  Status Load() {
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
      index_[fp] = std::move(a);
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
        if (auto s = Apply(seq, std::move(*rec)); !s.ok()) return s;
        ++replayed;
      }
    }
    records_since_pass_ = replayed;
    stats_.replayed_records = replayed;
    if (replayed) spdlog::info("alert store: replayed {} alert log records", replayed);
    return Status::Ok();
  }

  // Applies one replayed log record to the index.
  Status Apply(uint64_t seq, LogRecord rec) {
    const uint64_t fp = rec.fingerprint;
    switch (rec.kind) {
      case LogRecordKind::kFull:
        index_[fp] = std::make_shared<const Alert>(std::move(rec.alert));
        break;
      case LogRecordKind::kEnds: {
        auto it = index_.find(fp);
        if (it == index_.end()) {
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
        index_.erase(fp);
        dirty_.erase(fp);
        return Status::Ok();
    }
    dirty_[fp] = seq;
    return Status::Ok();
  }

  // REQUIRES: index_mu_ and queue_mu_ held.
  void Enqueue(std::vector<Alert>& alerts, Time now, Done done) {
    // Merged under both locks so the queue sees updates in the same order as the index.
    for (auto& in : alerts) {
      const uint64_t fp = in.Fingerprint();
      auto [it, inserted] = index_.try_emplace(fp);
      AlertPtr merged;
      bool full = true;
      if (inserted) {
        merged = std::make_shared<const Alert>(std::move(in));
      } else {
        auto m = std::make_shared<const Alert>(MergeAlert(*it->second, std::move(in), now));
        full = !OnlyEndsChanged(*it->second, *m);
        merged = std::move(m);
      }
      it->second = merged;
      pending_deletes_.erase(fp);
      Queue(fp, std::move(merged), full);
    }
    const uint64_t seq = ++enqueued_seq_;
    if (done) waiters_.emplace(seq, std::move(done));
  }

  // REQUIRES: queue_mu_ held.
  void Queue(uint64_t fp, AlertPtr alert, bool full) {
    auto [pit, fresh] = pending_.try_emplace(fp, Pending{alert, full});
    if (fresh) {
      pending_order_.push_back(fp);
    } else {
      pit->second.alert = std::move(alert);
      pit->second.full = pit->second.full || full;
    }
  }

  // Drops resolved alerts past the retention from the index and queues their deletion.
  // REQUIRES: index_mu_ and queue_mu_ held.
  size_t CollectLocked(Time now) {
    size_t removed = 0;
    for (auto it = index_.begin(); it != index_.end();) {
      const Alert& a = *it->second;
      if (a.ResolvedAt(now) && a.ends_at + opts_.retention < now) {
        pending_.erase(it->first);
        pending_deletes_.insert(it->first);
        it = index_.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }

  void WriterLoop() {
    auto next_gc = std::chrono::steady_clock::now() + opts_.gc_interval;
    for (;;) {
      std::unordered_map<uint64_t, Pending> pending;
      std::vector<uint64_t> order;
      std::unordered_set<uint64_t> deletes;
      std::map<uint64_t, Done> waiters;
      std::vector<Done> compact_requests;
      bool closing;
      {
        std::unique_lock q(queue_mu_);
        queue_cv_.wait_until(q, next_gc, [&] {
          return closed_ || !waiters_.empty() || !pending_order_.empty() ||
                 !pending_deletes_.empty() || !compact_requests_.empty() || pass_active_;
        });
        closing = closed_;
        if (!closing && std::chrono::steady_clock::now() >= next_gc) {
          q.unlock();
          {
            std::unique_lock idx(index_mu_);
            q.lock();
            size_t n = CollectLocked(clock_->Now());
            if (n) spdlog::debug("alert store: garbage-collecting {} resolved alerts", n);
          }
          next_gc = std::chrono::steady_clock::now() + opts_.gc_interval;
        }
        pending.swap(pending_);
        order.swap(pending_order_);
        queue_stats_.length = 0;
        room_cv_.notify_all();
        deletes.swap(pending_deletes_);
        waiters.swap(waiters_);
        compact_requests.swap(compact_requests_);
      }
      std::vector<AlertPtr> changed;
      changed.reserve(pending.size());
      Status s = Status::Ok();
      if (!pending.empty() || !deletes.empty()) {
        TakeRetries(order, pending, deletes);
        s = AppendToLog(order, pending, deletes, &changed);
        if (!s.ok()) {
          spdlog::error("alert store: commit failed: {}", s.message());
          KeepForRetry(order, pending, deletes);
        }
      }
      // Listeners first: once a Put has returned, subscribers (the router) have seen it.
      if (s.ok() && !changed.empty()) {
        std::lock_guard l(listeners_mu_);
        for (auto& [id, listener] : listeners_) listener(changed);
      }
      for (auto& [seq, done] : waiters) done(s);

      if (!compact_requests.empty()) {
        // A requested pass starts afresh, so that it covers every committed record.
        Status cs = StartPass(/*forced=*/true);
        while (cs.ok() && pass_active_) cs = CompactChunk();
        for (auto& done : compact_requests) done(cs);
      } else if (s.ok()) {
        if (!pass_active_ && CompactionDue()) (void)StartPass(false);
        if (pass_active_) {
          if (Status cs = CompactChunk(); !cs.ok()) {
            spdlog::error("alert store: compaction failed: {}", cs.message());
          }
        }
      }
      if (closing) {
        std::lock_guard q(queue_mu_);
        if (pending_order_.empty() && pending_deletes_.empty() && waiters_.empty() &&
            compact_requests_.empty()) {
          return;
        }
      }
    }
  }

  // One group commit: a single alert_log row with every queued change, plus the deletion of
  // garbage-collected rows.
  Status AppendToLog(const std::vector<uint64_t>& order,
                     const std::unordered_map<uint64_t, Pending>& pending,
                     const std::unordered_set<uint64_t>& deletes, std::vector<AlertPtr>* changed) {
    blob_.clear();
    uint64_t full = 0, ends = 0;
    for (uint64_t fp : deletes) AppendDeleteRecord(fp, &blob_);
    written_.clear();
    // `order` is longer than `pending` only when garbage collection dropped a queued alert;
    // if it was re-added, its fingerprint appears twice.
    std::unordered_set<uint64_t> seen;
    const bool may_repeat = order.size() != pending.size();
    for (uint64_t fp : order) {
      auto it = pending.find(fp);
      if (it == pending.end() || (may_repeat && !seen.insert(fp).second)) continue;
      if (it->second.full) {
        AppendFullRecord(fp, *it->second.alert, &blob_);
        ++full;
      } else {
        AppendEndsRecord(fp, *it->second.alert, &blob_);
        ++ends;
      }
      changed->push_back(it->second.alert);
      written_.push_back(fp);
    }
    const uint64_t seq = last_seq_ + 1;
    auto fail = [&](Status s) {
      db_->Rollback();
      changed->clear();
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
    for (uint64_t fp : written_) dirty_[fp] = seq;
    for (uint64_t fp : deletes) dirty_.erase(fp);
    records_since_pass_ += written_.size() + deletes.size();
    std::lock_guard l(stats_mu_);
    ++stats_.log_rows_written;
    stats_.full_records += full;
    stats_.ends_records += ends;
    return Status::Ok();
  }

  // Keeps what a failed commit did not write, to go with the next commit (not retried on its
  // own, so a broken disk does not make the writer spin). As whole alerts: later endsAt-only
  // records would otherwise refer to versions the log never got.
  void KeepForRetry(const std::vector<uint64_t>& order,
                    const std::unordered_map<uint64_t, Pending>& pending,
                    const std::unordered_set<uint64_t>& deletes) {
    for (uint64_t fp : order) {
      if (pending.count(fp)) retry_.insert(fp);
    }
    retry_deletes_.insert(deletes.begin(), deletes.end());
  }

  // Adds the alerts a failed commit left to this batch, in their current version.
  void TakeRetries(std::vector<uint64_t>& order, std::unordered_map<uint64_t, Pending>& pending,
                   std::unordered_set<uint64_t>& deletes) {
    if (retry_.empty() && retry_deletes_.empty()) return;
    std::shared_lock idx(index_mu_);
    for (uint64_t fp : retry_) {
      auto it = index_.find(fp);
      if (it == index_.end()) continue;  // collected since: its deletion is queued
      auto [p, fresh] = pending.try_emplace(fp, Pending{it->second, true});
      if (fresh) {
        order.push_back(fp);
      } else {
        p->second.full = true;
      }
    }
    for (uint64_t fp : retry_deletes_) {
      if (!index_.count(fp)) deletes.insert(fp);
    }
    retry_.clear();
    retry_deletes_.clear();
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
  Status CompactChunk() {
    const size_t end = std::min(pass_fps_.size(), pass_pos_ + opts_.compact_chunk);
    std::vector<std::pair<uint64_t, AlertPtr>> chunk;
    chunk.reserve(end - pass_pos_);
    {
      std::shared_lock idx(index_mu_);
      for (size_t i = pass_pos_; i < end; ++i) {
        auto it = index_.find(pass_fps_[i]);
        // Not stored any more: garbage collection deleted its row with the tombstone.
        if (it != index_.end()) chunk.emplace_back(it->first, it->second);
      }
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

  std::unique_ptr<Database> db_;  // used by the writer thread only (and Init before it starts)
  const Clock* clock_;
  AlertStoreOptions opts_;
  Statement upsert_;
  Statement delete_;
  Statement log_append_;
  Statement log_truncate_;

  // Lock order: index_mu_, then queue_mu_.
  mutable std::shared_mutex index_mu_;
  std::unordered_map<uint64_t, AlertPtr> index_;  // GUARDED_BY(index_mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable room_cv_;  // the writer took the queued alerts
  QueueStats queue_stats_;
  // Latest merged version per fingerprint since the last commit, and first-seen order.
  std::unordered_map<uint64_t, Pending> pending_;  // GUARDED_BY(queue_mu_)
  std::vector<uint64_t> pending_order_;            // GUARDED_BY(queue_mu_)
  std::unordered_set<uint64_t> pending_deletes_;   // GUARDED_BY(queue_mu_)
  std::map<uint64_t, Done> waiters_;               // GUARDED_BY(queue_mu_)
  std::vector<Done> compact_requests_;             // GUARDED_BY(queue_mu_)
  uint64_t enqueued_seq_ = 0;                      // GUARDED_BY(queue_mu_)
  bool closed_ = false;                            // GUARDED_BY(queue_mu_)

  // The writer thread's own state (and Init's, before the thread starts).
  uint64_t last_seq_ = 0;  // the last committed alert_log row
  // Alerts whose latest change is in the log but not yet in `alerts`, with the log row of
  // that change.
  std::unordered_map<uint64_t, uint64_t> dirty_;
  uint64_t records_since_pass_ = 0;
  bool pass_active_ = false;  // read by the wait predicate under queue_mu_; written here only
  uint64_t pass_upto_ = 0;
  std::vector<uint64_t> pass_fps_;
  size_t pass_pos_ = 0;
  std::string blob_;
  std::vector<uint64_t> written_;
  // Left by a failed commit for the next one.
  std::unordered_set<uint64_t> retry_;
  std::unordered_set<uint64_t> retry_deletes_;

  std::mutex listeners_mu_;
  std::map<int, Listener> listeners_;  // GUARDED_BY(listeners_mu_)
  int next_listener_id_ = 0;           // GUARDED_BY(listeners_mu_)

  mutable std::mutex stats_mu_;
  AlertStoreStats stats_;  // GUARDED_BY(stats_mu_)

  std::thread writer_;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> OpenAlertStore(std::unique_ptr<Database> db, const Clock* clock,
                                                   const AlertStoreOptions& opts) {
  auto store = std::make_unique<SqliteAlertStore>(std::move(db), clock, opts);
  if (auto s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<AlertStore>(std::move(store));
}

}  // namespace alertd::storage
