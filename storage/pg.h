// A PostgreSQL connection through libpq, for the stores of the PostgreSQL backend
// (storage.postgres.dsn): connecting with a libpq connection string or URI and a password
// kept apart from it, parameterized statements prepared once per connection, binary
// parameters and results (no text escaping of label sets or fingerprints), transactions,
// pipelines (a sequence of statements in one round trip, all or nothing), and reconnection with
// back-off when the server goes away. <libpq-fe.h> stays in storage/pg.cc.
//
// Errors never carry the DSN or the password: only libpq's message, which names neither.
//
// A PgConn is NOT thread-safe: each store uses its own from one thread (its writer).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct pg_conn;
struct pg_result;

namespace alertd::storage {

// Where PostgreSQL is: `dsn` as libpq takes it (key=value pairs or a postgresql:// URI);
// `password` (may be empty) is passed beside it, never written into it.
struct PgTarget {
  std::string dsn;
  std::string password;
};

// One statement parameter in binary form.
struct PgParam {
  unsigned int type = 0;  // the PostgreSQL type OID
  std::string bytes;
  bool null = false;
  static PgParam Int(int64_t v);
  static PgParam Text(std::string_view v);
  static PgParam Bytes(std::string_view v);
  static PgParam Bool(bool v);
};

// One statement of a pipeline (PgConn::Pipeline): SQL with $1, $2, ... and its parameters.
struct PgStatement {
  std::string sql;
  std::vector<PgParam> params;
};

// A query's rows, columns in binary form. Move-only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  // BIGINT/INTEGER/SMALLINT columns.
  int64_t Int(int row, int col) const;
  // TEXT and BYTEA columns: the bytes.
  std::string_view Bytes(int row, int col) const;
  bool Bool(int row, int col) const;

 private:
  pg_result* r_ = nullptr;
};

class PgConn {
 public:
  // Connects (fails with Unavailable and libpq's reason when the server cannot be reached or
  // refuses the login). `what` names the store in errors ("router state").
  static Result<std::unique_ptr<PgConn>> Connect(const PgTarget& target, std::string what);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs SQL text (possibly several statements) without parameters or results.
  Status Exec(std::string_view sql);
  // Runs one statement with parameters ($1, $2, ...), prepared on first use on this
  // connection. Fails with Unavailable when the connection is lost, InvalidArgument or
  // Internal for the server's refusal (constraint, syntax).
  Result<PgResult> Query(const std::string& sql, const std::vector<PgParam>& params = {});

  // Runs `statements` in order as one transaction in one round trip (libpq's pipeline mode:
  // all are sent, then one sync, then all answers are read). All or nothing: when one fails,
  // those before it are rolled back and those after it are not run, and the error names the
  // statement (its position, from 1) with the server's message, classified as Query's errors
  // are; Unavailable when the connection is lost (if it was lost after COMMIT went out, the
  // transaction may have committed, as with any COMMIT whose answer is lost); InvalidArgument,
  // before anything is sent, for a statement of more than 65,535 parameters. Statements are
  // prepared on first use as Query's are, in the same round trip. Their rows are discarded:
  // meant for writes. Must not be called between Begin() and Commit(). An empty sequence is
  // OK and sends nothing.
  Status Pipeline(const std::vector<PgStatement>& statements);

  Status Begin() { return Exec("BEGIN"); }
  Status Commit() { return Exec("COMMIT"); }
  void Rollback() { (void)Exec("ROLLBACK"); }
  // OK when connected; otherwise tries to reconnect, at most once per back-off interval
  // (1 s doubling to 30 s), and fails with Unavailable until it succeeds.
  Status Ready();
  bool connected() const;
  // Ready(), then a round trip (SELECT 1): whether the server still answers.
  Status Ping();

  // The payloads of the notifications (LISTEN/NOTIFY) this session has received, waiting up
  // to `timeout` on the connection's socket for one when none is there yet (an empty result:
  // none came). Unavailable when the connection is lost (a later Ready() reconnects; the new
  // session listens to nothing).
  Result<std::vector<std::string>> WaitForNotifications(std::chrono::milliseconds timeout);
  // The server process of this session (pg_stat_activity.pid); 0 when not connected.
  int backend_pid() const;

 private:
  PgConn(pg_conn* c, PgTarget target, std::string what)
      : c_(c), target_(std::move(target)), what_(std::move(what)) {}
  Status Error(std::string_view doing, pg_result* r = nullptr) const;
  // The name for a statement not prepared yet.
  std::string NextStatementName();

  pg_conn* c_;
  PgTarget target_;
  std::string what_;
  std::map<std::string, std::string> prepared_;  // SQL -> statement name
  uint64_t statements_named_ = 0;                // names given so far ("s1", "s2", ...)
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{1000};
};

// One alertd per PostgreSQL database (as storage/db_lock.h is for SQLite files): connects and
// takes a session-level advisory lock, held until the returned connection is destroyed.
// Fails with Conflict when another alertd holds it. Replicas (`shared`) take it in shared
// mode: any number of them, but never beside a lone alertd.
Result<std::unique_ptr<PgConn>> LockPostgres(const PgTarget& target, bool shared = false);

// The schema of the PostgreSQL backend, versioned as SQLite's (storage/db.h): migrations in
// order, each in its own transaction recording its version in alertd_schema. Refuses a
// database whose version is newer than this alertd knows, naming both versions. Safe to run
// from several alertd processes at once (an advisory lock serializes them).
Status MigratePostgres(PgConn& conn);

}  // namespace alertd::storage
