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

class SqliteAlertStore final : public AlertStore {
 public:
  SqliteAlertStore(std::unique_ptr<Database> db, const Clock* clock, AlertStoreOptions opts)
      : db_(std::move(db)), clock_(clock), opts_(opts) {}
  ~SqliteAlertStore() override { Close(); }

  Status Init() {
    auto upsert = db_->Prepare(
        "INSERT INTO alerts (fingerprint, labels, annotations, starts_at, ends_at, updated_at, "
        "generator_url, timeout) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(fingerprint) DO UPDATE SET labels = excluded.labels, "
        "annotations = excluded.annotations, starts_at = excluded.starts_at, "
        "ends_at = excluded.ends_at, updated_at = excluded.updated_at, "
        "generator_url = excluded.generator_url, timeout = excluded.timeout");
    if (!upsert.ok()) return upsert.status();
    upsert_ = std::move(*upsert);
    auto del = db_->Prepare("DELETE FROM alerts WHERE fingerprint = ?1");
    if (!del.ok()) return del.status();
    delete_ = std::move(*del);

    auto load = db_->Prepare(
        "SELECT fingerprint, labels, annotations, starts_at, ends_at, updated_at, generator_url, "
        "timeout FROM alerts");
    if (!load.ok()) return load.status();
    for (;;) {
      auto row = load->Step();
      if (!row.ok()) return row.status().WithPrefix("loading alerts");
      if (!*row) break;
      auto labels = DecodeLabelSet(load->ColumnBlob(1));
      auto annotations = DecodeLabelSet(load->ColumnBlob(2));
      if (!labels.ok() || !annotations.ok()) {
        return Status::Internal(fmt::format("{}: alert {:016x} is corrupt", db_->path(),
                                            static_cast<uint64_t>(load->ColumnInt64(0))));
      }
      auto a = std::make_shared<Alert>();
      a->labels = std::move(*labels);
      a->annotations = std::move(*annotations);
      a->starts_at = FromNanos(load->ColumnInt64(3));
      a->ends_at = FromNanos(load->ColumnInt64(4));
      a->updated_at = FromNanos(load->ColumnInt64(5));
      a->generator_url = std::string(load->ColumnText(6));
      a->timeout = load->ColumnInt64(7) != 0;
      index_[a->Fingerprint()] = std::move(a);
    }
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
    const Time now = clock_->Now();
    bool closed;
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      closed = closed_;
      if (!closed) Enqueue(alerts, now, std::move(done));
    }
    if (closed) {
      if (done) done(Status::Unavailable("alert store is closed"));
      return;
    }
    queue_cv_.notify_one();
  }

 private:
  // REQUIRES: index_mu_ and queue_mu_ held.
  void Enqueue(std::vector<Alert>& alerts, Time now, Done done) {
    {
      // Merged under both locks so the queue sees updates in the same order as the index.
      for (auto& in : alerts) {
        const uint64_t fp = in.Fingerprint();
        auto [it, inserted] = index_.try_emplace(fp);
        AlertPtr merged = inserted
                              ? std::make_shared<const Alert>(std::move(in))
                              : std::make_shared<const Alert>(MergeAlert(*it->second, in, now));
        it->second = merged;
        pending_deletes_.erase(fp);
        auto [pit, fresh] = pending_upserts_.try_emplace(fp, merged);
        if (!fresh)
          pit->second = merged;
        else
          pending_order_.push_back(fp);
      }
      const uint64_t seq = ++enqueued_seq_;
      if (done) waiters_.emplace(seq, std::move(done));
    }
  }

 public:
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

  void Close() override {
    {
      std::lock_guard q(queue_mu_);
      if (closed_) return;
      closed_ = true;
    }
    queue_cv_.notify_one();
    if (writer_.joinable()) writer_.join();
    upsert_ = Statement();
    delete_ = Statement();
  }

 private:
  // Drops resolved alerts past the retention from the index and queues their deletion.
  // REQUIRES: index_mu_ and queue_mu_ held.
  size_t CollectLocked(Time now) {
    size_t removed = 0;
    for (auto it = index_.begin(); it != index_.end();) {
      const Alert& a = *it->second;
      if (a.ResolvedAt(now) && a.ends_at + opts_.retention < now) {
        pending_upserts_.erase(it->first);
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
      std::unordered_map<uint64_t, AlertPtr> upserts;
      std::vector<uint64_t> order;
      std::unordered_set<uint64_t> deletes;
      std::map<uint64_t, Done> waiters;
      bool closing;
      {
        std::unique_lock q(queue_mu_);
        queue_cv_.wait_until(q, next_gc, [&] {
          return closed_ || !waiters_.empty() || !pending_order_.empty() ||
                 !pending_deletes_.empty();
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
        upserts.swap(pending_upserts_);
        order.swap(pending_order_);
        deletes.swap(pending_deletes_);
        waiters.swap(waiters_);
      }
      std::vector<AlertPtr> changed;
      changed.reserve(upserts.size());
      Status s = Status::Ok();
      if (!upserts.empty() || !deletes.empty()) s = Write(order, upserts, deletes, &changed);
      if (!s.ok()) spdlog::error("alert store: commit failed: {}", s.message());
      // Listeners first: once a Put has returned, subscribers (the router) have seen it.
      if (s.ok() && !changed.empty()) {
        std::lock_guard l(listeners_mu_);
        for (auto& [id, listener] : listeners_) listener(changed);
      }
      for (auto& [seq, done] : waiters) done(s);
      if (closing) {
        std::lock_guard q(queue_mu_);
        if (pending_order_.empty() && pending_deletes_.empty() && waiters_.empty()) return;
      }
    }
  }

  Status Write(const std::vector<uint64_t>& order, std::unordered_map<uint64_t, AlertPtr>& upserts,
               const std::unordered_set<uint64_t>& deletes, std::vector<AlertPtr>* changed) {
    if (auto s = db_->Begin(); !s.ok()) return s;
    std::string labels, annotations;
    for (uint64_t fp : order) {
      auto it = upserts.find(fp);
      // Missing: deleted by garbage collection since it was queued, or already written (a
      // fingerprint collected and then re-added appears twice in `order`).
      if (it == upserts.end()) continue;
      const Alert& a = *it->second;
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
      if (auto s = upsert_.Run(); !s.ok()) {
        db_->Rollback();
        return s;
      }
      changed->push_back(it->second);
      upserts.erase(it);
    }
    for (uint64_t fp : deletes) {
      delete_.BindInt64(1, static_cast<int64_t>(fp));
      if (auto s = delete_.Run(); !s.ok()) {
        db_->Rollback();
        return s;
      }
    }
    if (auto s = db_->Commit(); !s.ok()) {
      db_->Rollback();
      changed->clear();
      return s;
    }
    return Status::Ok();
  }

  std::unique_ptr<Database> db_;  // used by the writer thread only (and Init before it starts)
  const Clock* clock_;
  const AlertStoreOptions opts_;
  Statement upsert_;
  Statement delete_;

  // Lock order: index_mu_, then queue_mu_.
  mutable std::shared_mutex index_mu_;
  std::unordered_map<uint64_t, AlertPtr> index_;  // GUARDED_BY(index_mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  // Latest merged version per fingerprint since the last commit, and first-seen order.
  std::unordered_map<uint64_t, AlertPtr> pending_upserts_;  // GUARDED_BY(queue_mu_)
  std::vector<uint64_t> pending_order_;                     // GUARDED_BY(queue_mu_)
  std::unordered_set<uint64_t> pending_deletes_;            // GUARDED_BY(queue_mu_)
  std::map<uint64_t, Done> waiters_;                        // GUARDED_BY(queue_mu_)
  uint64_t enqueued_seq_ = 0;                               // GUARDED_BY(queue_mu_)
  bool closed_ = false;                                     // GUARDED_BY(queue_mu_)

  std::mutex listeners_mu_;
  std::map<int, Listener> listeners_;  // GUARDED_BY(listeners_mu_)
  int next_listener_id_ = 0;           // GUARDED_BY(listeners_mu_)

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
