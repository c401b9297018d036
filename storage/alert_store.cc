#include "storage/alert_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "storage/alert_persistence.h"

namespace alertd::storage {
namespace {

// Whether `merged` differs from `prev` only in what an endsAt-only log record carries.
bool OnlyEndsChanged(const Alert& prev, const Alert& merged) {
  return merged.starts_at == prev.starts_at && merged.generator_url == prev.generator_url &&
         merged.annotations == prev.annotations && merged.labels == prev.labels;
}

class CachedAlertStore final : public AlertStore {
 public:
  CachedAlertStore(std::unique_ptr<AlertPersistence> persistence, const Clock* clock,
                   AlertStoreOptions opts)
      : persistence_(std::move(persistence)), clock_(clock), opts_(opts) {
    opts_.max_pending_alerts = std::max<size_t>(opts_.max_pending_alerts, 1);
    queue_stats_.capacity = static_cast<int64_t>(opts_.max_pending_alerts);
  }
  ~CachedAlertStore() override { Close(); }

  Status Init() {
    if (auto s = persistence_->Load(&index_); !s.ok()) return s;
    slots_ = std::max<size_t>(1, persistence_->commit_slots());
    next_gc_ = std::chrono::steady_clock::now() + opts_.gc_interval;
    for (size_t slot = 0; slot < slots_; ++slot) {
      writers_.emplace_back([this, slot] { WriterLoop(slot); });
    }
    return Status::Ok();
  }

  Status Put(std::vector<Alert> alerts) override {
    std::promise<Status> p;
    auto f = p.get_future();
    PutAsync(
        std::move(alerts), [&p](Status s) { p.set_value(std::move(s)); }, AlertSource::kRule);
    return f.get();
  }

  void PutAsync(std::vector<Alert> alerts, Done done, AlertSource source) override {
    {
      // Before index_mu_: the writer needs it to make room.
      std::unique_lock q(queue_mu_);
      if (!closed_ && pending_order_.size() >= opts_.max_pending_alerts && !OnWriterThread()) {
        queue_stats_.delayed++;
        room_cv_.wait(q,
                      [&] { return closed_ || pending_order_.size() < opts_.max_pending_alerts; });
      }
    }
    const Time now = clock_->Now();
    bool closed;
    std::vector<AlertEvent> events;
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      closed = closed_;
      if (!closed) {
        Enqueue(alerts, now, std::move(done), opts_.history ? &events : nullptr, source);
      }
      queue_stats_.length = static_cast<int64_t>(pending_order_.size());
    }
    if (!events.empty()) opts_.history->Append(std::move(events));
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

  void ApplyCommitted(std::vector<std::pair<uint64_t, AlertPtr>> rows) override {
    const Time now = clock_->Now();
    // Applied and announced under listeners_mu_, so a commit's announcement (which drops what
    // a newer committed version replaced, see Commit) never comes between the two.
    std::lock_guard l(listeners_mu_);
    std::vector<AlertPtr> changed;
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      if (closed_) return;
      changed = ApplyLocked(rows, now);
    }
    AnnounceLocked(changed);
  }

  Status Resync(const LoadAll& load) override {
    // An alert held that the database does not have was deleted by another writer, unless
    // this store's own commit of it may not have been visible to `load`: it was queued, in
    // flight or left for a retry when `load` began, or queued since (touched_). Alerts
    // committed before `load` began are in what it reads.
    std::unordered_set<uint64_t> keep;
    {
      std::lock_guard q(queue_mu_);
      if (closed_) return Status::Unavailable("alert store is closed");
      watching_ = true;
      touched_.clear();
      keep = UncommittedLocked();
    }
    std::vector<std::pair<uint64_t, AlertPtr>> rows;
    Status s = load(&rows);
    const Time now = clock_->Now();
    std::lock_guard l(listeners_mu_);
    std::vector<AlertPtr> changed;
    {
      std::unique_lock idx(index_mu_);
      std::lock_guard q(queue_mu_);
      watching_ = false;
      if (s.ok() && !closed_) {
        keep.merge(touched_);
        keep.merge(UncommittedLocked());
        std::unordered_set<uint64_t> in_db;
        in_db.reserve(rows.size());
        for (const auto& [fp, a] : rows) in_db.insert(fp);
        size_t dropped = std::erase_if(index_, [&](const auto& kv) {
          return !in_db.count(kv.first) && !keep.count(kv.first);
        });
        if (dropped) spdlog::debug("alert store: {} alerts deleted by another writer", dropped);
        changed = ApplyLocked(rows, now);
      }
      touched_.clear();
    }
    AnnounceLocked(changed);
    return s;
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
    AlertStoreStats out;
    persistence_->AddStats(&out);
    return out;
  }

  void Close() override {
    {
      std::lock_guard q(queue_mu_);
      if (closed_) return;
      closed_ = true;
    }
    queue_cv_.notify_all();
    room_cv_.notify_all();
    for (auto& w : writers_) {
      if (w.joinable()) w.join();
    }
    persistence_->Close();
  }

 private:
  // Whether the caller is one of the writer threads (a `done` callback): it must never wait
  // for room, which only the writers make.
  bool OnWriterThread() const {
    const auto self = std::this_thread::get_id();
    return std::any_of(writers_.begin(), writers_.end(),
                       [self](const std::thread& w) { return w.get_id() == self; });
  }

  // The latest merged version of an alert queued since the last commit, and whether the log
  // needs all of it (kFull) or only its endsAt (kEnds).
  struct Pending {
    AlertPtr alert;
    bool full;
  };

  // Whether garbage collection removes `a` at `now`.
  bool Collectible(const Alert& a, Time now) const {
    return a.ResolvedAt(now) && a.ends_at + opts_.retention < now;
  }

  // The alerts whose latest version here may not be committed yet.
  // REQUIRES: queue_mu_ held.
  std::unordered_set<uint64_t> UncommittedLocked() const {
    std::unordered_set<uint64_t> out(in_flight_fps_.begin(), in_flight_fps_.end());
    for (const auto& [fp, p] : pending_) out.insert(fp);
    out.insert(retry_.begin(), retry_.end());
    return out;
  }

  // Applies committed rows (ApplyCommitted); returns the versions that went into the index.
  // REQUIRES: index_mu_ and queue_mu_ held.
  std::vector<AlertPtr> ApplyLocked(std::vector<std::pair<uint64_t, AlertPtr>>& rows, Time now) {
    std::vector<AlertPtr> changed;
    for (auto& [fp, a] : rows) {
      if (!a || pending_deletes_.count(fp) || retry_deletes_.count(fp) || Collectible(*a, now)) {
        continue;
      }
      auto it = index_.find(fp);
      if (it == index_.end()) {
        // Not held and in flight: its deletion is being committed.
        if (in_flight_fps_.count(fp)) continue;
        it = index_.emplace(fp, a).first;
      } else {
        if (it->second->updated_at > a->updated_at || *it->second == *a) continue;
        it->second = a;
      }
      changed.push_back(a);
    }
    if (!changed.empty()) remote_applied_.store(true, std::memory_order_relaxed);
    return changed;
  }

  // Tells every listener of `changed`. REQUIRES: listeners_mu_ held.
  void AnnounceLocked(const std::vector<AlertPtr>& changed) {
    if (changed.empty()) return;
    for (auto& [id, listener] : listeners_) listener(changed);
  }

  // REQUIRES: index_mu_ and queue_mu_ held.
  // `events` (null: no history): what the history records of the changes.
  void Enqueue(std::vector<Alert>& alerts, Time now, Done done, std::vector<AlertEvent>* events,
               AlertSource source) {
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
      if (events) {
        HistoryRecorder::AlertChanged(inserted ? nullptr : it->second.get(), *merged, source, now,
                                      events);
      }
      it->second = merged;
      if (watching_) touched_.insert(fp);
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
      if (Collectible(*it->second, now)) {
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

  // The work queued for the writers, taken in one piece by the writer that commits it.
  struct Batch {
    std::unordered_map<uint64_t, Pending> pending;
    std::vector<uint64_t> order;
    std::unordered_set<uint64_t> deletes;
    std::map<uint64_t, Done> waiters;
    std::vector<Done> compact_requests;
    // Alerts and deletions a failed commit left (see KeepForRetry).
    std::unordered_set<uint64_t> retry, retry_deletes;
    // Committed with no other commit in flight (retries, compaction).
    bool alone = false;
  };

  // Whether something is queued for a commit (or a compaction was asked for).
  // REQUIRES: queue_mu_ held.
  bool HasQueued() const {
    return !waiters_.empty() || !pending_order_.empty() || !pending_deletes_.empty() ||
           !compact_requests_.empty();
  }
  // Queued work, or background work to go on with (not once closed: closing does not wait
  // for a compaction pass to end).
  // REQUIRES: queue_mu_ held.
  bool HasWork() const {
    return HasQueued() || (!closed_ && slots_ == 1 && persistence_->BackgroundPending());
  }

  // Whether a writer may take the queued work now: a slot is free and nothing queued touches
  // an alert of a commit in flight (two commits of one alert in flight at once could land in
  // either order).
  // REQUIRES: queue_mu_ held.
  bool CanStart() const {
    if (in_flight_ >= slots_ || alone_in_flight_ || !HasWork()) return false;
    if (in_flight_ == 0) return true;
    if (!retry_.empty() || !retry_deletes_.empty() || !compact_requests_.empty()) return false;
    for (uint64_t fp : pending_order_) {
      if (in_flight_fps_.count(fp)) return false;
    }
    for (uint64_t fp : pending_deletes_) {
      if (in_flight_fps_.count(fp)) return false;
    }
    return true;
  }

  // One writer thread per commit slot of the persistence; `slot` is this thread's.
  void WriterLoop(size_t slot) {
    std::vector<AlertPersistence::Change> changes;  // reused from batch to batch
    std::unique_lock q(queue_mu_);
    for (;;) {
      const auto ready = [&] { return CanStart() || (closed_ && !HasQueued()); };
      if (closed_) {
        queue_cv_.wait(q, ready);  // no more garbage collection: only the last commits
      } else {
        queue_cv_.wait_until(q, next_gc_, ready);
      }
      if (closed_ && !HasQueued()) return;
      if (!closed_ && std::chrono::steady_clock::now() >= next_gc_) {
        q.unlock();
        {
          std::unique_lock idx(index_mu_);
          q.lock();
          size_t n = CollectLocked(clock_->Now());
          if (n) spdlog::debug("alert store: garbage-collecting {} resolved alerts", n);
        }
        next_gc_ = std::chrono::steady_clock::now() + opts_.gc_interval;
        continue;
      }
      if (!CanStart()) continue;
      Batch b = Take();
      q.unlock();
      Commit(slot, b, changes);
      q.lock();
      --in_flight_;
      if (b.alone) alone_in_flight_ = false;
      for (uint64_t fp : b.order) in_flight_fps_.erase(fp);
      for (uint64_t fp : b.deletes) in_flight_fps_.erase(fp);
      queue_cv_.notify_all();
    }
  }

  // Takes everything queued as the next batch and counts it in flight.
  // REQUIRES: queue_mu_ held, CanStart().
  Batch Take() {
    Batch b;
    b.pending.swap(pending_);
    b.order.swap(pending_order_);
    queue_stats_.length = 0;
    room_cv_.notify_all();
    b.deletes.swap(pending_deletes_);
    b.waiters.swap(waiters_);
    b.compact_requests.swap(compact_requests_);
    b.retry.swap(retry_);
    b.retry_deletes.swap(retry_deletes_);
    b.alone = !b.retry.empty() || !b.retry_deletes.empty() || !b.compact_requests.empty();
    ++in_flight_;
    if (b.alone) alone_in_flight_ = true;
    in_flight_fps_.insert(b.order.begin(), b.order.end());
    in_flight_fps_.insert(b.deletes.begin(), b.deletes.end());
    return b;
  }

  // Commits `b` on `slot`, tells listeners and waiters, and runs background work.
  void Commit(size_t slot, Batch& b, std::vector<AlertPersistence::Change>& changes) {
    std::vector<AlertPtr> changed;
    changed.reserve(b.pending.size());
    Status s = Status::Ok();
    TakeRetries(b);
    if (!b.pending.empty() || !b.deletes.empty()) {
      s = CommitBatch(slot, b, changes, &changed);
      if (!s.ok()) {
        spdlog::error("alert store: commit failed: {}", s.message());
        // Before the waiters hear of the failure: a Put they make next carries these.
        std::lock_guard q(queue_mu_);
        KeepForRetry(b);
      }
    }
    // Listeners first: once a Put has returned, subscribers (the router) have seen it.
    if (s.ok() && !changed.empty()) {
      std::lock_guard l(listeners_mu_);
      DropSuperseded(changes, &changed);
      AnnounceLocked(changed);
    }
    for (auto& [seq, done] : b.waiters) done(s);

    const AlertPersistence::Lookup lookup = [this](uint64_t fp) -> AlertPtr {
      std::shared_lock idx(index_mu_);
      auto it = index_.find(fp);
      return it == index_.end() ? nullptr : it->second;
    };
    if (!b.compact_requests.empty()) {
      Status cs = persistence_->Flush(lookup);
      for (auto& done : b.compact_requests) done(cs);
    } else if (s.ok() && slots_ == 1) {
      (void)persistence_->Background(lookup);
    }
  }

  // Drops from a commit's announcement the alerts whose version in the index is newer and was
  // applied from another writer's commit (ApplyCommitted announced it already: announcing the
  // older one after it would take listeners back). A newer version queued here is announced
  // when it commits, so the older one still is now. Only once something was applied.
  // `changed[i]` is `changes[i]`'s alert. REQUIRES: listeners_mu_ held.
  void DropSuperseded(const std::vector<AlertPersistence::Change>& changes,
                      std::vector<AlertPtr>* changed) {
    if (!remote_applied_.load(std::memory_order_relaxed)) return;
    std::shared_lock idx(index_mu_);
    std::lock_guard q(queue_mu_);
    size_t out = 0;
    for (size_t i = 0; i < changed->size(); ++i) {
      const uint64_t fp = changes[i].fingerprint;
      auto it = index_.find(fp);
      const bool superseded = it != index_.end() &&
                              it->second->updated_at > (*changed)[i]->updated_at &&
                              !pending_.count(fp) && !retry_.count(fp);
      if (!superseded) (*changed)[out++] = std::move((*changed)[i]);
    }
    changed->resize(out);
  }

  // One group commit of every queued change and garbage-collected deletion.
  Status CommitBatch(size_t slot, const Batch& b, std::vector<AlertPersistence::Change>& changes,
                     std::vector<AlertPtr>* changed) {
    changes.clear();
    // `order` is longer than `pending` only when garbage collection dropped a queued alert;
    // if it was re-added, its fingerprint appears twice.
    std::unordered_set<uint64_t> seen;
    const bool may_repeat = b.order.size() != b.pending.size();
    for (uint64_t fp : b.order) {
      auto it = b.pending.find(fp);
      if (it == b.pending.end() || (may_repeat && !seen.insert(fp).second)) continue;
      changes.push_back(AlertPersistence::Change{fp, it->second.alert, it->second.full});
    }
    if (Status s = persistence_->Commit(slot, changes, b.deletes); !s.ok()) return s;
    for (const auto& c : changes) changed->push_back(c.alert);
    return Status::Ok();
  }

  // Keeps what a failed commit did not write, to go with the next commit (not retried on its
  // own, so a broken disk does not make the writer spin). As whole alerts: later endsAt-only
  // records would otherwise refer to versions the log never got.
  // REQUIRES: queue_mu_ held.
  void KeepForRetry(const Batch& b) {
    for (uint64_t fp : b.order) {
      if (b.pending.count(fp)) retry_.insert(fp);
    }
    retry_deletes_.insert(b.deletes.begin(), b.deletes.end());
  }

  // Adds the alerts a failed commit left to this batch, in their current version.
  void TakeRetries(Batch& b) {
    if (b.retry.empty() && b.retry_deletes.empty()) return;
    std::shared_lock idx(index_mu_);
    for (uint64_t fp : b.retry) {
      auto it = index_.find(fp);
      if (it == index_.end()) continue;  // collected since: its deletion is queued
      auto [p, fresh] = b.pending.try_emplace(fp, Pending{it->second, true});
      if (fresh) {
        b.order.push_back(fp);
      } else {
        p->second.full = true;
      }
    }
    for (uint64_t fp : b.retry_deletes) {
      if (!index_.count(fp)) b.deletes.insert(fp);
    }
  }

  std::unique_ptr<AlertPersistence> persistence_;  // the writer threads (see its contract)
  const Clock* clock_;
  AlertStoreOptions opts_;
  size_t slots_ = 1;  // persistence_->commit_slots(): writer threads

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
  // Left by a failed commit for the next one.
  std::unordered_set<uint64_t> retry_;          // GUARDED_BY(queue_mu_)
  std::unordered_set<uint64_t> retry_deletes_;  // GUARDED_BY(queue_mu_)
  // Commits in flight, whether one of them runs alone, and the alerts they change or delete.
  size_t in_flight_ = 0;                        // GUARDED_BY(queue_mu_)
  bool alone_in_flight_ = false;                // GUARDED_BY(queue_mu_)
  std::unordered_set<uint64_t> in_flight_fps_;  // GUARDED_BY(queue_mu_)
  // While a Resync reads the database: the alerts queued meanwhile.
  bool watching_ = false;                 // GUARDED_BY(queue_mu_)
  std::unordered_set<uint64_t> touched_;  // GUARDED_BY(queue_mu_)
  // Whether ApplyCommitted ever put something into the index.
  std::atomic<bool> remote_applied_{false};
  std::chrono::steady_clock::time_point next_gc_;  // GUARDED_BY(queue_mu_)

  std::mutex listeners_mu_;
  std::map<int, Listener> listeners_;  // GUARDED_BY(listeners_mu_)
  int next_listener_id_ = 0;           // GUARDED_BY(listeners_mu_)

  std::vector<std::thread> writers_;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> OpenAlertStoreOn(std::unique_ptr<AlertPersistence> persistence,
                                                     const Clock* clock,
                                                     const AlertStoreOptions& opts) {
  auto store = std::make_unique<CachedAlertStore>(std::move(persistence), clock, opts);
  if (auto s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<AlertStore>(std::move(store));
}

}  // namespace alertd::storage
