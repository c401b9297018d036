// The SQLite database that holds alertd's durable state: opening (WAL, durability settings),
// refusing files it cannot use (corrupt, or written by a newer alertd), and the versioned
// schema migrations, tracked with PRAGMA user_version.
//
// A Database handle is a single SQLite connection. It is NOT thread-safe: each store owns
// its connection(s) and uses them from one thread (the store's writer thread), or guards
// them itself. <sqlite3.h> stays inside storage/*.cc; this header forward-declares it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"
#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace alertd::storage {

// One step of the schema. Migrations are applied in order, each in its own transaction that
// also sets PRAGMA user_version = version. Versions start at 1 and increase by one; a
// migration, once released, is never edited (add a new one instead).
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // one or more statements
};

// Every migration alertd knows, oldest first (storage/migrations.cc). Later stores (rule
// state, silences, acknowledgements, notification log, escalation, aggregation groups) append
// their tables here as new versions.
const std::vector<Migration>& AllMigrations();

// The database file `path` names: `path` itself, or `path`/alertd.db when `path` is an
// existing directory (what Alertmanager users pass as a data directory).
std::string DatabaseFile(const std::string& path);

// Bytes SQLite holds in the heap across every connection of the process (page caches,
// schemas, statements): sqlite3_memory_used.
int64_t SqliteMemoryUsed();

enum class Synchronous {
  kNormal,  // WAL: commits survive a process crash (kill -9) but not a power loss
  kFull,    // WAL: every commit is fsynced; survives a power loss too (default)
};

struct DatabaseOptions {
  Synchronous synchronous = Synchronous::kFull;
  int busy_timeout_ms = 5000;
  bool read_only = false;  // for tools and tests that inspect a live database
};

// A prepared statement. Move-only; finalized on destruction. Bind indexes are 1-based as in
// SQLite. Column indexes are 0-based.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void BindInt64(int idx, int64_t v);
  void BindText(int idx, std::string_view v);
  void BindBlob(int idx, std::string_view v);
  void BindNull(int idx);

  // Executes one step. Returns true when a row is available, false when done; an error
  // status on failure.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Resets for the next execution and clears bindings.
  void Reset();

  int64_t ColumnInt64(int col) const;
  std::string_view ColumnText(int col) const;
  std::string_view ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating if needed) the database at `path` and brings its schema up to the latest
  // migration. Fails, never touching the file's contents, when:
  //   - the file is not a SQLite database or is corrupt ("... is not a valid alertd
  //     database ...: file is not a database");
  //   - its user_version is newer than this alertd knows ("written by a newer alertd").
  // `migrations` defaults to AllMigrations(); tests pass their own lists.
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const DatabaseOptions& opts = {});
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const DatabaseOptions& opts,
                                                const std::vector<Migration>& migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL text (possibly several statements) with no results.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // The rowid of the row the last successful INSERT on this connection made.
  int64_t LastInsertRowid() const;

  Status Begin() { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() {
    if (!commit_latency_) return Exec("COMMIT");
    const auto start = std::chrono::steady_clock::now();
    Status s = Exec("COMMIT");
    commit_latency_->ObserveDuration(std::chrono::steady_clock::now() - start);
    return s;
  }
  // Records the latency of every Commit (the fsync, mostly) in `h` (null: stop recording).
  // `h` must outlive the database; the daemon labels one per store for /metrics.
  void ObserveCommits(Histogram* h) { commit_latency_ = h; }
  void Rollback();

  // Changes PRAGMA synchronous for the following commits, e.g. for writes whose loss on a
  // power failure is harmless; OpenedSynchronous() is what the database was opened with.
  Status SetSynchronous(Synchronous s);
  Synchronous OpenedSynchronous() const { return synchronous_; }

  // PRAGMA user_version.
  Result<int> SchemaVersion();
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Migrate(const std::vector<Migration>& migrations);
  Status Error(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
  Histogram* commit_latency_ = nullptr;
  Synchronous synchronous_ = Synchronous::kFull;
};

}  // namespace alertd::storage
