#include "storage/db.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>

namespace alertd::storage {

std::string DatabaseFile(const std::string& path) {
  std::error_code ec;
  if (!path.empty() && std::filesystem::is_directory(path, ec)) {
    return (std::filesystem::path(path) / "alertd.db").string();
  }
  return path;
}

// ---------------------------------------------------------------- Statement

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

void Statement::BindInt64(int idx, int64_t v) { sqlite3_bind_int64(stmt_, idx, v); }
void Statement::BindText(int idx, std::string_view v) {
  sqlite3_bind_text64(stmt_, idx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void Statement::BindBlob(int idx, std::string_view v) {
  // A zero-length blob must still bind as a blob, not NULL: give SQLite a valid pointer.
  sqlite3_bind_blob64(stmt_, idx, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
}
void Statement::BindNull(int idx) { sqlite3_bind_null(stmt_, idx); }

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Status::Internal(fmt::format("sqlite: {}", sqlite3_errmsg(db_)));
}

Status Statement::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) {
      Reset();
      return r.status();
    }
    if (!*r) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string_view Statement::ColumnText(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string_view(p, n) : std::string_view();
}
std::string_view Statement::ColumnBlob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string_view(p, n) : std::string_view();
}
bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// ---------------------------------------------------------------- Database

Database::~Database() {
  // Statements must be finalized by their owners before this; close_v2 defers the close
  // until they are, instead of failing.
  sqlite3_close_v2(db_);
}

Status Database::Error(std::string_view what) const {
  return Status::Internal(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

Status Database::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status::Internal(fmt::format("{}: sqlite: {}", path_, msg));
  }
  return Status::Ok();
}

int64_t Database::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Error(fmt::format("preparing \"{}\"", sql));
  return Statement(db_, s);
}

void Database::Rollback() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<int> Database::SchemaVersion() {
  auto st = Prepare("PRAGMA user_version");
  if (!st.ok()) return st.status();
  auto row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("PRAGMA user_version returned no row");
  return static_cast<int>(st->ColumnInt64(0));
}

int64_t SqliteMemoryUsed() { return sqlite3_memory_used(); }

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& opts) {
  return Open(path, opts, AllMigrations());
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& opts,
                                                 const std::vector<Migration>& migrations) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;  // each handle is confined to one thread by its owner
  flags |= opts.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Status::Unavailable(fmt::format("cannot open database {}: {}", path, msg));
  }
  std::unique_ptr<Database> db(new Database(raw, path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, opts.busy_timeout_ms);

  // Read before writing anything: a file that is not a database, or whose header is damaged,
  // fails here and is left exactly as it was.
  auto version = db->SchemaVersion();
  if (!version.ok()) {
    return Status::Internal(fmt::format(
        "{} is not a valid alertd database (it is corrupt or not a SQLite file); it was left "
        "untouched, move it away or restore a backup: {}",
        path, sqlite3_errmsg(raw)));
  }
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*version > latest) {
    return Status::Internal(fmt::format(
        "{} was written by a newer alertd (schema version {}, this alertd knows up to {}); "
        "refusing to start: upgrade alertd or point storage.path elsewhere",
        path, *version, latest));
  }
  if (*version > 0) {
    // Damage inside the file (not in its header) shows up here rather than at some later
    // write. quick_check is O(size) but cheap next to reading every alert at start.
    auto check = db->Prepare("PRAGMA quick_check(1)");
    if (!check.ok()) return check.status().WithPrefix(path + " is not a valid alertd database");
    auto row = check->Step();
    std::string verdict = row.ok() && *row ? std::string(check->ColumnText(0)) : "no answer";
    if (!row.ok() || verdict != "ok") {
      return Status::Internal(fmt::format(
          "{} is corrupt (integrity check: {}); it was left untouched, move it away or restore "
          "a backup",
          path, row.ok() ? verdict : row.status().message()));
    }
  }
  if (opts.read_only) return db;

  // WAL: readers never block the writer, and a commit is one sequential append.
  auto mode = db->Prepare("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  auto mrow = mode->Step();
  if (!mrow.ok() || !*mrow || mode->ColumnText(0) != "wal") {
    return Status::Internal(fmt::format("{}: cannot switch to WAL journal mode", path));
  }
  mode = Statement();
  if (auto s = db->SetSynchronous(opts.synchronous); !s.ok()) return s;
  db->synchronous_ = opts.synchronous;
  if (auto s = db->Exec("PRAGMA foreign_keys=ON"); !s.ok()) return s;
  // 16 MiB of page cache (default 2 MiB): re-posted alerts update rows all over the table, and
  // reading their pages back from the OS on every commit costs more than the memory.
  if (auto s = db->Exec("PRAGMA cache_size=-16384"); !s.ok()) return s;
  // Checkpoint every 10,000 WAL pages (about 40 MiB) rather than 1,000: alerts re-posted
  // every few seconds rewrite the same pages, and a longer interval copies each page back to
  // the database once per checkpoint instead of once per few commits.
  if (auto s = db->Exec("PRAGMA wal_autocheckpoint=10000"); !s.ok()) return s;
  if (auto s = db->Migrate(migrations); !s.ok()) return s;
  return db;
}

Status Database::SetSynchronous(Synchronous s) {
  return Exec(s == Synchronous::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

Status Database::Migrate(const std::vector<Migration>& migrations) {
  auto current = SchemaVersion();
  if (!current.ok()) return current.status();
  int expected = 1;
  for (const auto& m : migrations) {
    if (m.version != expected++) {
      return Status::Internal(
          fmt::format("migration list is not contiguous at {} ({})", m.version, m.name));
    }
    if (m.version <= *current) continue;
    if (auto s = Begin(); !s.ok()) return s;
    Status s = Exec(m.sql);
    if (s.ok()) s = Exec(fmt::format("PRAGMA user_version = {}", m.version));
    if (s.ok()) s = Commit();
    if (!s.ok()) {
      Rollback();
      return s.WithPrefix(fmt::format("schema migration {} ({})", m.version, m.name));
    }
  }
  return Status::Ok();
}

}  // namespace alertd::storage
