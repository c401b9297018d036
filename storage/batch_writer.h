// The writer thread every database-backed store of router state runs on, for SQLite
// (storage/state_db.h) and PostgreSQL (storage/pg_router_stores.cc) alike: one connection,
// used only by this thread, which commits whatever is queued since its previous commit in one
// transaction (group commit), so thousands of notification-log writes share one commit. Each
// operation of a batch runs in its own savepoint: one that fails is rolled back alone and gets
// its error, the others commit.
//
// The queue is bounded (max_queued): a Write that finds it full waits until the writer takes
// the next batch (delay, never drop: acknowledgements, silences and the notification log must
// not be lost). Writes from the writer thread itself (a `done` callback) are queued over the
// bound, as waiting there would wait forever. queue() reports it for /metrics.
//
// Conn is what an operation sees; it provides
//   Status Begin(); Status Exec(std::string_view sql); Status Commit(); void Rollback();
//   Status Ready();  // before each batch: OK, or why the database cannot be used now
//   Status Ping();   // when idle for kPingInterval: whether the database still answers
// When Ready() fails (a lost PostgreSQL connection that could not be re-established), the
// batch's operations fail with its error at once instead of waiting: callers answer 503 and
// keep what they hold in memory.
//
// Thread-safe. Operations run on the writer thread, in the order queued; `done` callbacks run
// there too, after the commit, and must be quick.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/queue_stats.h"
#include "core/result.h"
#include "core/thread_annotations.h"

namespace alertd::storage {

template <typename ConnT>
class BatchWriter {
 public:
  using Conn = ConnT;
  using Op = std::function<Status(Conn&)>;
  using Done = std::function<void(Status)>;

  // Operations queued at most before Write waits (see above).
  static constexpr size_t kDefaultMaxQueued = 100000;
  // An idle writer checks the database this often, so reachable() notices an outage before
  // the next write does.
  static constexpr std::chrono::seconds kPingInterval{5};

  // `what` names the database in errors and logs ("router state").
  BatchWriter(std::unique_ptr<Conn> conn, std::string what, size_t max_queued = kDefaultMaxQueued)
      : max_queued_(std::max<size_t>(1, max_queued)),
        what_(std::move(what)),
        conn_(std::move(conn)),
        thread_([this] { Loop(); }) {
    stats_.capacity = static_cast<int64_t>(max_queued_);
  }
  ~BatchWriter() { Close(); }
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues `op` to run in the next transaction; `done` (may be empty) gets the commit's
  // status, or op's own error (op's writes are then rolled back, the batch's others kept).
  // After Close, `done` gets Unavailable at once. Waits while the queue is full.
  void Write(Op op, Done done = nullptr) EXCLUDES(mu_) {
    {
      MutexLock l(mu_);
      if (!closed_ && queue_.size() >= max_queued_ &&
          std::this_thread::get_id() != thread_.get_id()) {
        stats_.delayed++;
        room_cv_.Wait(mu_, [&] {
          mu_.AssertHeld();
          return closed_ || queue_.size() < max_queued_;
        });
      }
      if (!closed_) {
        queue_.push_back(Item{std::move(op), std::move(done), false});
        stats_.length = static_cast<int64_t>(queue_.size());
        cv_.NotifyOne();
        return;
      }
    }
    if (done) done(Status::Unavailable(what_ + " database is closed"));
  }
  // Queues `op` and waits until its transaction committed.
  Status WriteSync(Op op) {
    std::promise<Status> p;
    auto f = p.get_future();
    Write(std::move(op), [&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
  // Runs `op` on the writer thread outside any batch (for loading) and waits.
  Status Read(Op op) EXCLUDES(mu_) {
    std::promise<Status> p;
    auto f = p.get_future();
    {
      MutexLock l(mu_);
      if (closed_) return Status::Unavailable(what_ + " database is closed");
      queue_.push_back(Item{std::move(op), [&p](Status s) { p.set_value(std::move(s)); }, true});
      stats_.length = static_cast<int64_t>(queue_.size());
      cv_.NotifyOne();
    }
    return f.get();
  }
  // Commits everything queued and stops the thread. Idempotent.
  void Close() EXCLUDES(mu_) {
    {
      MutexLock l(mu_);
      if (closed_) return;
      closed_ = true;
      cv_.NotifyAll();
      room_cv_.NotifyAll();
    }
    thread_.join();
  }
  const QueueStats& queue() const { return stats_; }
  // Whether the last batch, load or idle check reached the database (/-/ready).
  bool reachable() const { return reachable_.load(std::memory_order_relaxed); }

 private:
  struct Item {
    Op op;
    Done done;
    bool read = false;
  };

  // Records whether `s` reached the database. An unreachable database is logged when it goes
  // and when it comes back, not per batch.
  void Note(const Status& s) {
    const bool up = s.ok() || s.code() != Status::Code::kUnavailable;
    const bool was = reachable_.exchange(up, std::memory_order_relaxed);
    if (up && !was) spdlog::info("{}: the database is reachable again", what_);
    if (!up && was) spdlog::error("{}: {}", what_, s.message());
  }

  void Loop() EXCLUDES(mu_) {
    mu_.lock();
    for (;;) {
      const bool woken = cv_.WaitFor(mu_, kPingInterval, [this] {
        mu_.AssertHeld();
        return closed_ || !queue_.empty();
      });
      if (!woken) {
        mu_.unlock();
        Note(conn_->Ping());
        mu_.lock();
        continue;
      }
      if (queue_.empty()) {
        if (closed_) break;
        continue;
      }
      if (queue_.front().read) {
        Item it = std::move(queue_.front());
        queue_.pop_front();
        stats_.length = static_cast<int64_t>(queue_.size());
        room_cv_.NotifyAll();
        mu_.unlock();
        Status ready = conn_->Ready();
        Note(ready);
        it.done(ready.ok() ? it.op(*conn_) : ready);
        mu_.lock();
        continue;
      }
      // Take every write queued up to the next read: one transaction.
      std::vector<Item> batch;
      while (!queue_.empty() && !queue_.front().read) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stats_.length = static_cast<int64_t>(queue_.size());
      room_cv_.NotifyAll();
      mu_.unlock();
      std::vector<Status> results(batch.size());
      // Each operation runs in its own savepoint: one that fails is rolled back alone (its
      // partial writes undone) and reports its error; the others still commit together.
      Status s = conn_->Ready();
      if (s.ok()) s = conn_->Begin();
      if (s.ok()) {
        for (size_t i = 0; i < batch.size() && s.ok(); ++i) {
          s = conn_->Exec("SAVEPOINT op");
          if (!s.ok()) break;
          results[i] = batch[i].op(*conn_);
          if (results[i].ok()) {
            s = conn_->Exec("RELEASE SAVEPOINT op");
          } else {
            spdlog::error("{}: {} (rolled back)", what_, results[i].message());
            s = conn_->Exec("ROLLBACK TO SAVEPOINT op");
            if (s.ok()) s = conn_->Exec("RELEASE SAVEPOINT op");
          }
        }
        if (s.ok()) s = conn_->Commit();
        if (!s.ok()) conn_->Rollback();
      }
      if (!s.ok() && s.code() != Status::Code::kUnavailable) {
        spdlog::error("{}: commit failed: {}", what_, s.message());
      }
      Note(s);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].done) batch[i].done(s.ok() ? results[i] : s);
      }
      mu_.lock();
    }
    mu_.unlock();
  }

  QueueStats stats_;
  const size_t max_queued_;
  const std::string what_;
  std::unique_ptr<Conn> conn_;
  std::atomic<bool> reachable_{true};
  Mutex mu_;  // the queue only; never held while an operation runs
  CondVar cv_;
  CondVar room_cv_;  // the writer took a batch
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace alertd::storage
