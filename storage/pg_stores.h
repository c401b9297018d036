// The PostgreSQL backend (storage.postgres.dsn): the stores of core/router_state.h and
// core/rule_state_store.h on the same tables as SQLite's (storage/pg.cc's schema).
//
// The router's stores: the same
// tables as on SQLite (storage/pg.cc's schema), written by one BatchWriter thread over one
// connection (group commit, a savepoint per call, order kept across the five stores), loads
// on that thread after the writes queued before them.
//
// When PostgreSQL is unreachable, writes fail at once with Unavailable (the API answers 503,
// the router keeps what it holds in memory and goes on notifying), and the writer reconnects
// with back-off before each later batch.
//
// Thread-safe.
#pragma once

#include <memory>

#include "core/clock.h"
#include "core/cluster.h"
#include "core/result.h"
#include "core/rule_state_store.h"
#include "storage/alert_store.h"
#include "storage/pg.h"
#include "storage/router_stores.h"

namespace alertd::storage {

// Connects to `target`, brings the schema up to date (MigratePostgres) and starts the writer.
Result<std::unique_ptr<RouterStateBackend>> OpenPgRouterStores(
    const PgTarget& target, size_t max_queued = BatchWriter<PgConn>::kDefaultMaxQueued);

// The alert store (storage/alert_store.h) on table `alerts`: every alert in memory as on
// SQLite, each group commit one transaction of multi-row upserts. While PostgreSQL is
// unreachable, Puts fail with Unavailable (the API answers 503) and the alerts stay queued
// for the next commit. `clock` must outlive the store.
Result<std::unique_ptr<AlertStore>> OpenPgAlertStore(const PgTarget& target, const Clock* clock,
                                                     const AlertStoreOptions& opts = {});

// The rule engine's state: one connection of its own, each call one transaction. Fails with
// Unavailable while PostgreSQL is unreachable (the rule engine keeps evaluating from memory and
// writes again at its next evaluation).
Result<std::unique_ptr<RuleStateStore>> OpenPgRuleStateStore(const PgTarget& target);

// The cluster's leases and nodes (core/cluster.h): two connections of its own (rounds, and
// the fences of sends). Brings the schema up to date first.
Result<std::unique_ptr<ClusterStore>> OpenPgClusterStore(const PgTarget& target);

}  // namespace alertd::storage
