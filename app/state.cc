#include "app/state.h"

#include <filesystem>
#include <fstream>

#include "storage/db.h"
#include "storage/pg_stores.h"
#include "storage/rule_state_store.h"

namespace alertd::app {

Result<std::string> ReadPostgresPassword(const config::PostgresConfig& pg) {
  std::string password;
  if (pg.password_file.empty()) return password;
  std::ifstream in(pg.password_file);
  if (!in) {
    return Status::InvalidArgument("storage.postgres.password_file: cannot read " +
                                   pg.password_file);
  }
  std::getline(in, password);
  return password;
}

Result<State> OpenState(const config::StorageConfig& storage, const Clock* clock,
                        HistogramFamily* commit_latency, bool replicas, bool history) {
  State st;
  storage::AlertStoreOptions store_opts;
  store_opts.retention = storage.retention;
  // The router's stores open first: the history the alert store records into is theirs.
  auto with_history = [&] {
    if (!history) return;
    st.history =
        std::make_unique<storage::HistoryRecorder>(st.router.get(), storage.history_retention);
    store_opts.history = st.history.get();
  };
  if (!storage.postgres.dsn.empty()) {
    auto password = ReadPostgresPassword(storage.postgres);
    if (!password.ok()) return password.status();
    const storage::PgTarget target{storage.postgres.dsn, std::move(*password)};
    auto lock = storage::LockPostgres(target, /*shared=*/replicas);
    if (!lock.ok()) return lock.status();
    st.pg_lock = std::move(*lock);
    if (replicas) {
      auto cluster = storage::OpenPgClusterStore(target);  // migrates first
      if (!cluster.ok()) return cluster.status();
      st.cluster = std::move(*cluster);
    }
    auto router = storage::OpenPgRouterStores(target);
    if (!router.ok()) return router.status();
    st.router = std::move(*router);
    with_history();
    auto alerts = storage::OpenPgAlertStore(target, clock, store_opts);
    if (!alerts.ok()) return alerts.status();
    st.alerts = std::move(*alerts);
    st.open_rule_state = [target] { return storage::OpenPgRuleStateStore(target); };
    st.where = "PostgreSQL";
    st.postgres = target;
    return st;
  }

  const std::string db_path = storage::DatabaseFile(storage.path);
  if (auto parent = std::filesystem::path(db_path).parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::InvalidArgument("cannot create directory " + parent.string() + ": " +
                                     ec.message());
    }
  }
  // One alertd per database (see storage/db_lock.h).
  auto lock = storage::LockDatabase(db_path);
  if (!lock.ok()) return lock.status();
  st.sqlite_lock = std::move(*lock);
  // Each store on a connection of its own (WAL lets them share the file). By value:
  // open_rule_state calls it after OpenState returns.
  auto open = [db_path,
               commit_latency](const char* store) -> Result<std::unique_ptr<storage::Database>> {
    auto db = storage::Database::Open(db_path);
    if (!db.ok()) return db.status();
    if (commit_latency != nullptr) (*db)->ObserveCommits(&commit_latency->WithLabels({store}));
    return db;
  };
  auto router_db = open("router");
  if (!router_db.ok()) return router_db.status();
  st.router = std::make_unique<storage::SqliteRouterStores>(std::move(*router_db));
  with_history();
  auto db = open("alerts");
  if (!db.ok()) return db.status();
  auto alerts = storage::OpenAlertStore(std::move(*db), clock, store_opts);
  if (!alerts.ok()) return alerts.status();
  st.alerts = std::move(*alerts);
  st.open_rule_state = [open]() -> Result<std::unique_ptr<RuleStateStore>> {
    auto db = open("rules");
    if (!db.ok()) return db.status();
    return storage::OpenRuleStateStore(std::move(*db));
  };
  st.where = db_path;
  return st;
}

}  // namespace alertd::app
