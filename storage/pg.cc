#include "storage/pg.h"

#include <endian.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include "core/cluster.h"

namespace alertd::storage {
namespace {

// PostgreSQL type OIDs (pg_type.dat), for binary parameters.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// libpq's messages end with a newline; errors read better on one line.
std::string OneLine(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// A statement's parameters as libpq takes them (pointers into the PgParams, all binary).
struct LibpqParams {
  explicit LibpqParams(const std::vector<PgParam>& params) {
    for (const auto& p : params) {
      values.push_back(p.null ? nullptr : p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(1);
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};

std::vector<Oid> ParamTypes(const std::vector<PgParam>& params) {
  std::vector<Oid> types;
  types.reserve(params.size());
  for (const auto& p : params) types.push_back(p.type);
  return types;
}

}  // namespace

PgParam PgParam::Int(int64_t v) {
  PgParam p;
  p.type = kInt8Oid;
  const uint64_t be = htobe64(static_cast<uint64_t>(v));
  p.bytes.assign(reinterpret_cast<const char*>(&be), 8);
  return p;
}
PgParam PgParam::Text(std::string_view v) {
  PgParam p;
  p.type = kTextOid;
  p.bytes.assign(v);
  return p;
}
PgParam PgParam::Bytes(std::string_view v) {
  PgParam p;
  p.type = kByteaOid;
  p.bytes.assign(v);
  return p;
}
PgParam PgParam::Bool(bool v) {
  PgParam p;
  p.type = kBoolOid;
  p.bytes.assign(1, v ? '\1' : '\0');
  return p;
}

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}
PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
int64_t PgResult::Int(int row, int col) const {
  const char* v = PQgetvalue(r_, row, col);
  switch (PQgetlength(r_, row, col)) {
    case 8: {
      uint64_t x;
      std::memcpy(&x, v, 8);
      return static_cast<int64_t>(be64toh(x));
    }
    case 4: {
      uint32_t x;
      std::memcpy(&x, v, 4);
      return static_cast<int32_t>(be32toh(x));
    }
    case 2: {
      uint16_t x;
      std::memcpy(&x, v, 2);
      return static_cast<int16_t>(be16toh(x));
    }
    default:
      return 0;
  }
}
std::string_view PgResult::Bytes(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}
bool PgResult::Bool(int row, int col) const {
  return PQgetlength(r_, row, col) == 1 && PQgetvalue(r_, row, col)[0] != 0;
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const PgTarget& target, std::string what) {
  // The password goes beside the DSN (PQconnectdbParams with expand_dbname), so it is never
  // part of a string that could be logged.
  // Defaults first: the DSN's own settings (expanded at `dbname`) override them.
  std::vector<const char*> keys = {"connect_timeout", "application_name", "dbname"};
  std::vector<const char*> values = {"10", "alertd", target.dsn.c_str()};
  if (!target.password.empty()) {
    keys.push_back("password");
    values.push_back(target.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* c = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (!c) return Status::Unavailable(what + ": PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = OneLine(PQerrorMessage(c));
    PQfinish(c);
    return Status::Unavailable(fmt::format("{}: PostgreSQL: {}", what, msg));
  }
  // Server notices ("relation already exists, skipping") are not alertd's to print.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConn>(new PgConn(c, target, std::move(what)));
}

PgConn::~PgConn() {
  if (c_) PQfinish(c_);
}

bool PgConn::connected() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

Status PgConn::Error(std::string_view doing, pg_result* r) const {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = OneLine(r ? PQresultErrorMessage(r) : PQerrorMessage(c_));
  if (msg.empty()) msg = OneLine(PQerrorMessage(c_));
  std::string text = fmt::format("{}: PostgreSQL: {}: {}", what_, doing, msg);
  // Class 08 is a connection exception, 57P0x the server shutting down or not yet up; a dead
  // connection gives no SQLSTATE at all.
  if (!connected() || !state || std::string_view(state).substr(0, 2) == "08" ||
      std::string_view(state).substr(0, 4) == "57P0") {
    return Status::Unavailable(std::move(text));
  }
  if (std::string_view(state).substr(0, 2) == "23") return Status::Conflict(std::move(text));
  return Status::Internal(std::move(text));
}

std::string PgConn::NextStatementName() { return fmt::format("s{}", ++statements_named_); }

Status PgConn::Exec(std::string_view sql) {
  pg_result* r = PQexec(c_, std::string(sql).c_str());
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  Status out = Status::Ok();
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) out = Error("exec", r);
  if (r) PQclear(r);
  return out;
}

Result<PgResult> PgConn::Query(const std::string& sql, const std::vector<PgParam>& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = NextStatementName();
    const std::vector<Oid> types = ParamTypes(params);
    pg_result* r =
        PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(params.size()), types.data());
    const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    Status err = ok ? Status::Ok() : Error("prepare", r);
    if (r) PQclear(r);
    if (!ok) return err;
    it = prepared_.emplace(sql, name).first;
  }
  const LibpqParams p(params);
  pg_result* r = PQexecPrepared(c_, it->second.c_str(), static_cast<int>(params.size()),
                                p.values.data(), p.lengths.data(), p.formats.data(),
                                /*resultFormat=*/1);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status err = Error("query", r);
    if (r) PQclear(r);
    return err;
  }
  return PgResult(r);
}

Status PgConn::Pipeline(const std::vector<PgStatement>& statements) {
  if (statements.empty()) return Status::Ok();
  for (const auto& st : statements) {
    // libpq's own limit (the protocol counts parameters in 16 bits); refused before anything
    // is sent.
    if (st.params.size() > 65535) {
      return Status::InvalidArgument(
          fmt::format("{}: PostgreSQL: a statement with {} parameters (at most 65535)", what_,
                      st.params.size()));
    }
  }
  // What was sent, in order: each answer is read back against it. BEGIN and COMMIT go in the
  // same round trip: an explicit transaction (rather than the implicit one a sync ends) means
  // nothing commits unless COMMIT was sent, even when sending fails half-way.
  struct Sent {
    int statement;             // position in `statements` from 1; 0 for BEGIN and COMMIT
    std::string prepare_name;  // non-empty: this is the statement's prepare, not its run
  };
  std::vector<Sent> sent;
  std::map<std::string, std::string> preparing;  // SQL -> name, prepared in this pipeline
  auto send_plain = [&](const char* sql) {
    if (PQsendQueryParams(c_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1) != 1) return false;
    sent.push_back({0, ""});
    return true;
  };
  if (PQenterPipelineMode(c_) != 1) return Error("pipeline");
  bool sending = send_plain("BEGIN");
  for (size_t i = 0; i < statements.size() && sending; ++i) {
    const PgStatement& st = statements[i];
    std::string name;
    if (auto it = prepared_.find(st.sql); it != prepared_.end()) {
      name = it->second;
    } else if (auto pit = preparing.find(st.sql); pit != preparing.end()) {
      name = pit->second;
    } else {
      name = NextStatementName();
      const std::vector<Oid> types = ParamTypes(st.params);
      sending = PQsendPrepare(c_, name.c_str(), st.sql.c_str(), static_cast<int>(st.params.size()),
                              types.data()) == 1;
      if (!sending) break;
      preparing.emplace(st.sql, name);
      sent.push_back({static_cast<int>(i + 1), name});
    }
    const LibpqParams p(st.params);
    sending = PQsendQueryPrepared(c_, name.c_str(), static_cast<int>(st.params.size()),
                                  p.values.data(), p.lengths.data(), p.formats.data(),
                                  /*resultFormat=*/1) == 1;
    if (sending) sent.push_back({static_cast<int>(i + 1), ""});
  }
  Status failed = Status::Ok();
  if (sending) sending = send_plain("COMMIT");
  if (!sending) failed = Error("pipeline: sending");
  const bool synced = PQpipelineSync(c_) == 1;
  if (!synced && failed.ok()) failed = Error("pipeline: sending");
  // Each answer is a result then a null, in the order sent; the sync's answer comes last.
  // Statements after a failed one come back PGRES_PIPELINE_ABORTED (the server skipped them).
  size_t k = 0;
  bool after_null = false;
  // The first failure's result, kept until the answers are read: only then does libpq know
  // whether the connection survived it (which decides Unavailable).
  pg_result* first_error = nullptr;
  std::string first_error_at;
  while (synced && connected()) {
    pg_result* r = PQgetResult(c_);
    if (!r) {
      if (after_null) break;  // two nulls in a row: nothing more is coming
      after_null = true;
      continue;
    }
    after_null = false;
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED &&
        failed.ok() && !first_error) {
      const int n = k < sent.size() ? sent[k].statement : 0;
      first_error_at = n ? fmt::format("pipeline: statement {}", n)
                         : (k == 0 ? "pipeline: BEGIN" : "pipeline: COMMIT");
      first_error = r;
    } else {
      PQclear(r);
    }
    ++k;
  }
  if (first_error) {
    failed = Error(first_error_at, first_error);
    PQclear(first_error);
  }
  if (failed.ok() && !connected()) failed = Error("pipeline");
  (void)PQexitPipelineMode(c_);
  if (!failed.ok()) {
    // After a failed statement the transaction is open and aborted: end it. (A lost
    // connection is reset by the next Ready().)
    if (connected() && PQtransactionStatus(c_) != PQTRANS_IDLE) Rollback();
    return failed;
  }
  // Prepared statements are recorded only once the pipeline succeeded: whether a prepare in a
  // failed one survives its rollback is not relied on (a leftover is merely unused).
  for (const Sent& s : sent) {
    if (!s.prepare_name.empty()) prepared_.emplace(statements[s.statement - 1].sql, s.prepare_name);
  }
  return Status::Ok();
}

Status PgConn::Ready() {
  if (connected()) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    return Status::Unavailable(fmt::format("{}: PostgreSQL is unreachable", what_));
  }
  PQreset(c_);
  if (connected()) {
    prepared_.clear();  // prepared statements belong to the old session
    backoff_ = std::chrono::milliseconds(1000);
    next_attempt_ = {};
    return Status::Ok();
  }
  next_attempt_ = now + backoff_;
  backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::seconds(30));
  return Status::Unavailable(
      fmt::format("{}: PostgreSQL is unreachable: {}", what_, OneLine(PQerrorMessage(c_))));
}

Status PgConn::Ping() {
  if (Status s = Ready(); !s.ok()) return s;
  return Exec("SELECT 1");
}

Result<std::vector<std::string>> PgConn::WaitForNotifications(std::chrono::milliseconds timeout) {
  std::vector<std::string> out;
  const auto drain = [&] {
    while (PGnotify* n = PQnotifies(c_)) {
      out.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
  };
  if (!connected()) return Error("waiting for notifications");
  drain();
  if (!out.empty()) return out;
  pollfd p{PQsocket(c_), POLLIN, 0};
  if (p.fd < 0) return Error("waiting for notifications");
  const int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r < 0 && errno != EINTR) {
    return Status::Unavailable(
        fmt::format("{}: PostgreSQL: waiting for notifications: {}", what_, std::strerror(errno)));
  }
  // Readable: a notification, or the end of the connection (a terminated backend, a server
  // shutting down), which PQconsumeInput reports.
  if (r > 0 && PQconsumeInput(c_) != 1) return Error("waiting for notifications");
  drain();
  if (!connected()) return Error("waiting for notifications");
  return out;
}

int PgConn::backend_pid() const { return connected() ? PQbackendPID(c_) : 0; }

// ---------------------------------------------------------------- schema

namespace {

struct PgMigration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Append only, as storage/migrations.cc. The tables are SQLite's with PostgreSQL's types:
// fingerprints and Unix-nanosecond times as BIGINT (INT64_MIN: not set), label sets as BYTEA in
// storage/codec.h's form.
const std::vector<PgMigration>& PgMigrations() {
  static const std::vector<PgMigration> kMigrations = {
      {1, "schema",
       R"sql(
CREATE TABLE alerts (
  fingerprint   BIGINT PRIMARY KEY,
  labels        BYTEA  NOT NULL,
  annotations   BYTEA  NOT NULL,
  starts_at     BIGINT NOT NULL,
  ends_at       BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  generator_url TEXT   NOT NULL,
  timeout       BOOLEAN NOT NULL
);
CREATE TABLE silences (
  id         TEXT   PRIMARY KEY,
  matchers   TEXT   NOT NULL,
  starts_at  BIGINT NOT NULL,
  ends_at    BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  created_by TEXT   NOT NULL,
  comment    TEXT   NOT NULL
);
CREATE TABLE nflog (
  group_key   TEXT    NOT NULL,
  receiver    TEXT    NOT NULL,
  integration TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  firing      BYTEA   NOT NULL,
  resolved    BYTEA   NOT NULL,
  logged_at   BIGINT  NOT NULL,
  expires_at  BIGINT  NOT NULL,
  PRIMARY KEY (group_key, receiver, integration, idx)
);
CREATE TABLE aggregation_groups (
  route_id    TEXT    NOT NULL,
  group_key   TEXT    NOT NULL,
  next_flush  BIGINT  NOT NULL,
  has_flushed BOOLEAN NOT NULL,
  PRIMARY KEY (route_id, group_key)
);
CREATE TABLE rule_alerts (
  group_key         TEXT     NOT NULL,
  rule_key          TEXT     NOT NULL,
  fingerprint       BIGINT   NOT NULL,
  labels            BYTEA    NOT NULL,
  annotations       BYTEA    NOT NULL,
  state             SMALLINT NOT NULL,
  value             TEXT     NOT NULL,
  active_at         BIGINT   NOT NULL,
  fired_at          BIGINT   NOT NULL,
  resolved_at       BIGINT   NOT NULL,
  last_sent_at      BIGINT   NOT NULL,
  valid_until       BIGINT   NOT NULL,
  keep_firing_since BIGINT   NOT NULL,
  PRIMARY KEY (group_key, rule_key, fingerprint)
);
CREATE TABLE acks (
  id          BIGINT PRIMARY KEY,
  fingerprint BIGINT NOT NULL,
  labels      BYTEA  NOT NULL,
  starts_at   BIGINT NOT NULL,
  acked_by    TEXT   NOT NULL,
  comment     TEXT   NOT NULL,
  acked_at    BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  ended_at    BIGINT NOT NULL,
  end_reason  TEXT   NOT NULL,
  token       TEXT   NOT NULL
);
CREATE INDEX acks_fingerprint ON acks(fingerprint);
CREATE TABLE escalations (
  route_id    TEXT    NOT NULL,
  group_key   TEXT    NOT NULL,
  policy      TEXT    NOT NULL,
  started_at  BIGINT  NOT NULL,
  round       INTEGER NOT NULL,
  round_start BIGINT  NOT NULL,
  next_step   INTEGER NOT NULL,
  notified    TEXT    NOT NULL,
  PRIMARY KEY (route_id, group_key)
);
)sql"},
      // Every resend rewrites its alert's row. With room left on each page the new version
      // goes on the same page, a HOT update that adds no index entry and is pruned in place;
      // on full pages (the default) three in four resends moved the row and grew the index.
      {2, "alerts fillfactor", "ALTER TABLE alerts SET (fillfactor = 50)"},
      // Replicas (core/cluster.h): a lease row per shard, kClusterShards of them. Times are
      // Unix nanoseconds of the database's clock; 0: never.
      {3, "cluster",
       R"sql(
CREATE TABLE cluster_nodes (
  name          TEXT   PRIMARY KEY,
  instance      TEXT   NOT NULL,
  advertise_url TEXT   NOT NULL,
  started_at    BIGINT NOT NULL,
  last_seen     BIGINT NOT NULL
);
CREATE TABLE cluster_leases (
  shard      INTEGER PRIMARY KEY,
  owner      TEXT    NOT NULL DEFAULT '',
  instance   TEXT    NOT NULL DEFAULT '',
  epoch      BIGINT  NOT NULL DEFAULT 0,
  expires_at BIGINT  NOT NULL DEFAULT 0,
  fenced_at  BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO cluster_leases (shard) SELECT generate_series(0, 63);
)sql"},
      // Several alertd processes on one database (storage/pg_change_feed.cc): every row of
      // alerts, silences and acks carries the top-level transaction that wrote it last (each
      // upsert sets it again, ON CONFLICT DO UPDATE included), so a reader can ask for what
      // was committed since it last looked; ack ids come from a sequence, so two writers never
      // take the same one. The sequence starts after the ids already used.
      {4, "change tracking",
       R"sql(
ALTER TABLE alerts ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE silences ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE acks ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX alerts_xact ON alerts(xact);
CREATE INDEX silences_xact ON silences(xact);
CREATE INDEX acks_xact ON acks(xact);
CREATE SEQUENCE ack_ids;
SELECT setval('ack_ids', COALESCE((SELECT MAX(id) FROM acks), 0) + 1, false);
)sql"},
      {5, "heartbeats",
       R"sql(
CREATE TABLE heartbeats (
  name      TEXT   PRIMARY KEY,
  since     BIGINT NOT NULL,
  last_ping BIGINT NOT NULL,
  message   TEXT   NOT NULL,
  source    TEXT   NOT NULL
);
)sql"},
      {6, "history",
       R"sql(
CREATE TABLE notifications (
  id          BIGSERIAL PRIMARY KEY,
  at          BIGINT  NOT NULL,
  receiver    TEXT    NOT NULL,
  integration TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  group_key   TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  outcome     TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  code        BIGINT  NOT NULL,
  error       TEXT    NOT NULL,
  latency     BIGINT  NOT NULL,
  alerts      TEXT    NOT NULL
);
CREATE INDEX notifications_at ON notifications(at);
CREATE TABLE notification_alerts (
  fingerprint  BIGINT NOT NULL,
  notification BIGINT NOT NULL,
  PRIMARY KEY (fingerprint, notification)
);
CREATE TABLE alert_events (
  id          BIGSERIAL PRIMARY KEY,
  fingerprint BIGINT NOT NULL,
  at          BIGINT NOT NULL,
  kind        TEXT   NOT NULL,
  ref         TEXT   NOT NULL,
  actor       TEXT   NOT NULL,
  text        TEXT   NOT NULL
);
CREATE INDEX alert_events_fingerprint ON alert_events(fingerprint, at);
CREATE INDEX alert_events_at ON alert_events(at);
)sql"},
      {7, "schedule_overrides",
       // override_ids gives every replica its ids (OverrideStore::NextOverrideId).
       R"sql(
CREATE TABLE schedule_overrides (
  id         BIGINT PRIMARY KEY,
  schedule   TEXT   NOT NULL,
  person     TEXT   NOT NULL,
  start_at   BIGINT NOT NULL,
  end_at     BIGINT NOT NULL,
  comment    TEXT   NOT NULL,
  created_by TEXT   NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE SEQUENCE override_ids;
)sql"},
  };
  return kMigrations;
}

static_assert(kClusterShards == 64, "migration 3 creates one lease row for each of 64 shards");

// Serializes migrations of several alertd processes starting at once (any constant will do;
// this one is "alertd" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(107116114116100)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(107116114116100)";

}  // namespace

Result<std::unique_ptr<PgConn>> LockPostgres(const PgTarget& target, bool shared) {
  auto conn = PgConn::Connect(target, "storage lock");
  if (!conn.ok()) return conn.status();
  // A key of its own (the migration lock's plus one). Replicas hold it shared, so they keep a
  // lone alertd (which holds it exclusively) off their database, and the other way round.
  auto r = (*conn)->Query(shared ? "SELECT pg_try_advisory_lock_shared(107116114116101)"
                                 : "SELECT pg_try_advisory_lock(107116114116101)");
  if (!r.ok()) return r.status();
  if (!r->Bool(0, 0)) {
    return Status::Conflict(
        shared ? "an alertd without cluster: is using this PostgreSQL database; replicas need "
                 "every alertd on it to run with cluster:"
               : "another alertd is using this PostgreSQL database; one alertd per database "
                 "(or cluster: on every one of them)");
  }
  return std::move(*conn);
}

Status MigratePostgres(PgConn& conn) {
  if (Status s = conn.Exec(kMigrationLock); !s.ok()) return s;
  auto unlock = [&conn](Status s) {
    (void)conn.Exec(kMigrationUnlock);
    return s;
  };
  if (Status s = conn.Exec("CREATE TABLE IF NOT EXISTS alertd_schema (version INTEGER NOT NULL)");
      !s.ok()) {
    return unlock(s);
  }
  auto cur = conn.Query("SELECT version::BIGINT FROM alertd_schema");
  if (!cur.ok()) return unlock(cur.status());
  // Each migration not recorded yet runs, whatever the highest recorded version: versions
  // need not be contiguous (a version number may be taken by a migration that lands later),
  // and one that lands later still runs on a database that has the versions after it.
  std::set<int64_t> applied;
  int64_t have = 0;
  for (int i = 0; i < cur->rows(); ++i) {
    applied.insert(cur->Int(i, 0));
    have = std::max(have, cur->Int(i, 0));
  }
  const auto& all = PgMigrations();
  const int latest = all.back().version;
  if (have > latest) {
    return unlock(Status::InvalidArgument(
        fmt::format("the PostgreSQL database has schema version {}, written by a newer alertd "
                    "(this one knows up to version {})",
                    have, latest)));
  }
  for (const auto& m : all) {
    if (applied.count(m.version)) continue;
    Status s = conn.Begin();
    if (s.ok()) s = conn.Exec(m.sql);
    if (s.ok()) {
      auto r =
          conn.Query("INSERT INTO alertd_schema (version) VALUES ($1)", {PgParam::Int(m.version)});
      if (!r.ok()) s = r.status();
    }
    if (s.ok()) s = conn.Commit();
    if (!s.ok()) {
      conn.Rollback();
      return unlock(s.WithPrefix(fmt::format("migration {} ({})", m.version, m.name)));
    }
  }
  return unlock(Status::Ok());
}

}  // namespace alertd::storage
