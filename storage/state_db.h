// The writer of the router's durable state in SQLite: storage/router_stores.cc runs every
// statement of silences, the notification log, acks, escalations and group timers on it. One
// connection, used only by one writer thread that commits whatever is queued since its previous
// commit in one transaction (group commit), so thousands of notification-log writes share one
// fsync. Each operation of a batch runs in its own savepoint: one that fails is rolled back alone
// and gets its error, the others commit.
//
// The queue is bounded (max_queued): a Write that finds it full waits until the writer takes
// the next batch (delay, never drop: acknowledgements, silences and the notification log must
// not be lost). Writes from the writer thread itself (a `done` callback) are queued over the
// bound, as waiting there would wait forever. queue() reports it for /metrics.
//
// Thread-safe. Operations run on the writer thread, in the order queued; `done` callbacks run
// there too, after the commit, and must be quick.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/queue_stats.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "storage/db.h"

namespace alertd::storage {

class StateDb {
 public:
  // What an operation sees: the connection, and prepared statements cached by their SQL.
  class Conn {
   public:
    explicit Conn(Database* db) : db_(db) {}
    Database& db() { return *db_; }
    // A cached statement for `sql` (reset before it is returned). Fails when SQL is invalid.
    Result<Statement*> Stmt(const std::string& sql);

   private:
    Database* db_;
    std::map<std::string, std::unique_ptr<Statement>> cache_;
  };
  using Op = std::function<Status(Conn&)>;
  using Done = std::function<void(Status)>;

  // Operations queued at most before Write waits (see above).
  static constexpr size_t kDefaultMaxQueued = 100000;

  // Takes the database (with AllMigrations() applied) and starts the writer thread.
  explicit StateDb(std::unique_ptr<Database> db, size_t max_queued = kDefaultMaxQueued);
  ~StateDb();  // Close()
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  // Queues `op` to run in the next transaction; `done` (may be empty) gets the commit's
  // status, or op's own error (op's writes are then rolled back, the batch's others kept).
  // After Close, `done` gets Unavailable at once. Waits while the queue is full.
  void Write(Op op, Done done = nullptr) EXCLUDES(mu_);
  // Queues `op` and waits until its transaction committed.
  Status WriteSync(Op op);
  // Runs `op` on the writer thread outside any batch (for loading at start-up) and waits.
  Status Read(Op op);
  // A Read of `sql` (after `bind` sets its parameters) calling `row` for each result row, up to
  // the first error `row` returns: what every store's Load does.
  using Binder = std::function<void(Statement&)>;
  using RowFn = std::function<Status(const Statement&)>;
  Status Query(const std::string& sql, const RowFn& row, const Binder& bind = {});
  // Commits everything queued and stops the thread. Idempotent.
  void Close();
  const QueueStats& queue() const { return stats_; }

 private:
  struct Item {
    Op op;
    Done done;
    bool read = false;
  };
  void Loop();

  QueueStats stats_;
  const size_t max_queued_;
  std::unique_ptr<Database> db_;
  Conn conn_;
  Mutex mu_;  // the queue only; never held while an operation runs
  CondVar cv_;
  CondVar room_cv_;  // the writer took a batch
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace alertd::storage
