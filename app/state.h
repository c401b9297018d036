// Where alertd's state lives: the stores on SQLite (storage.path) or PostgreSQL
// (storage.postgres), opened together with the lock that keeps a second alertd off the same
// database. The daemon runs on them; `alertd migrate` opens two of them and copies one into the
// other.
//
// Thread-safety: OpenState is called from one thread; the stores it returns are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/cluster.h"
#include "core/metrics.h"
#include "core/result.h"
#include "core/rule_state_store.h"
#include "storage/alert_store.h"
#include "storage/db_lock.h"
#include "storage/pg.h"
#include "storage/router_stores.h"

namespace alertd::app {

struct State {
  // The lock taken before anything is opened; held for as long as the State lives.
  std::unique_ptr<storage::DatabaseLock> sqlite_lock;
  std::unique_ptr<storage::PgConn> pg_lock;
  // With cluster: (replicas share the PostgreSQL database instead of locking it): the leases.
  std::unique_ptr<ClusterStore> cluster;
  // In this order: `alerts` records into `history`, which writes into `router` (its
  // HistoryStore), so each is destroyed before what it uses.
  std::unique_ptr<storage::RouterStateBackend> router;
  // Set when OpenState was asked for a history: what happens, recorded.
  std::unique_ptr<storage::HistoryRecorder> history;
  std::unique_ptr<storage::AlertStore> alerts;
  // Opens the rule engine's store (the daemon opens it only when rules run).
  std::function<Result<std::unique_ptr<RuleStateStore>>()> open_rule_state;
  std::string where;  // for the log: the SQLite file, or "PostgreSQL"
  // Set on PostgreSQL: where the daemon's change feed (storage/pg_stores.h) connects.
  std::optional<storage::PgTarget> postgres;
};

// Takes the database's lock (Conflict when another alertd holds it), brings the schema up to
// date and opens the alert and router stores. With `replicas` (cluster:, PostgreSQL only) no
// lock is taken: several alertd share the database, and the cluster's store is opened too.
// With `history` (the daemon; not `alertd migrate`, which copies alerts rather than receives
// them), State::history records what happens. `commit_latency` (may be null) observes SQLite's
// commits by store. `clock` and `commit_latency` must outlive the State.
Result<State> OpenState(const config::StorageConfig& storage, const Clock* clock,
                        HistogramFamily* commit_latency, bool replicas = false,
                        bool history = false);

// The password of storage.postgres: the first line of password_file, or empty without one.
Result<std::string> ReadPostgresPassword(const config::PostgresConfig& pg);

}  // namespace alertd::app
