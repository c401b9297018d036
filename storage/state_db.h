// The writer of the router's durable state in SQLite: storage/router_stores.cc runs every
// statement of silences, the notification log, acks, escalations and group timers on it. A
// BatchWriter (storage/batch_writer.h: one writer thread, group commit, a savepoint per
// operation, a bounded queue) over one SQLite connection, plus Query for loads.
//
// Thread-safe. Operations run on the writer thread, in the order queued; `done` callbacks run
// there too, after the commit, and must be quick.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "storage/batch_writer.h"
#include "storage/db.h"

namespace alertd::storage {

// What an operation on the SQLite writer sees: the connection, and prepared statements cached
// by their SQL. Writer thread only.
class SqliteConn {
 public:
  explicit SqliteConn(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Database& db() { return *db_; }
  // A cached statement for `sql` (reset before it is returned). Fails when SQL is invalid.
  Result<Statement*> Stmt(const std::string& sql);

  // For BatchWriter.
  Status Begin() { return db_->Begin(); }
  Status Exec(std::string_view sql) { return db_->Exec(sql); }
  Status Commit() { return db_->Commit(); }
  void Rollback() { db_->Rollback(); }
  Status Ready() { return Status::Ok(); }  // a file is always there
  Status Ping() { return Status::Ok(); }

 private:
  std::unique_ptr<Database> db_;
  // After the database: its statements are finalized before it closes.
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

class StateDb : public BatchWriter<SqliteConn> {
 public:
  // Takes the database (with AllMigrations() applied) and starts the writer thread.
  explicit StateDb(std::unique_ptr<Database> db, size_t max_queued = kDefaultMaxQueued)
      : BatchWriter(std::make_unique<SqliteConn>(std::move(db)), "router state", max_queued) {}

  // A Read of `sql` (after `bind` sets its parameters) calling `row` for each result row, up to
  // the first error `row` returns: what every store's Load does.
  using Binder = std::function<void(Statement&)>;
  using RowFn = std::function<Status(const Statement&)>;
  Status Query(const std::string& sql, const RowFn& row, const Binder& bind = {});
};

}  // namespace alertd::storage
