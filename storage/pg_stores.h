// The PostgreSQL backend (storage.postgres.dsn): the stores of core/router_state.h and
// core/rule_state_store.h on the same tables as SQLite's (storage/pg.cc's schema).
//
// The router's stores: the same
// tables as on SQLite (storage/pg.cc's schema), written by one BatchWriter thread over one
// connection (group commit, a savepoint per call, order kept across the five stores), loads
// on that thread after the writes queued before them. Ack ids come from the sequence
// `ack_ids` (AckStore::NextAckIds), so processes sharing the database never take the same.
//
// When PostgreSQL is unreachable, writes fail at once with Unavailable (the API answers 503,
// the router keeps what it holds in memory and goes on notifying), and the writer reconnects
// with back-off before each later batch.
//
// Thread-safe.
#pragma once

#include <chrono>
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

// ---------------------------------------------------------------- change feed

// Several alertd processes on one database: the change feed keeps this process's memory in
// step with what any of them commits (storage/pg_change_feed.cc says how, and why nothing
// committed is missed). One per process, on a connection of its own that LISTENs to
// kChangeChannel (storage/pg_rows.h): on a notification, and every poll_interval at the
// latest, it reads the alerts, silences and acks committed since it last looked and applies
// them (AlertStore::ApplyCommitted; RemoteChanges for the router); every resync_interval, and
// after each reconnection, it reads everything (AlertStore::Resync, RemoteChanges::Resync*),
// which also drops what was deleted. When PostgreSQL goes away it reconnects with back-off
// (1 s doubling to 30 s).
struct PgChangeFeedOptions {
  Duration poll_interval = std::chrono::seconds(1);
  Duration resync_interval = std::chrono::seconds(30);
};

class PgChangeFeed {
 public:
  virtual ~PgChangeFeed() = default;  // Stop()s
  // Stops the thread (within about 200 ms, or once a read under way ends). Idempotent.
  virtual void Stop() = 0;
  // The listening session's server process (pg_stat_activity.pid); 0 while disconnected.
  virtual int backend_pid() const = 0;
};

// Connects, LISTENs and resyncs everything once (so the memory is the database's when it
// returns), then follows on a thread of its own, which is the one that calls `alerts` and
// `router`. Either may be null (that kind is not followed); both must outlive the feed.
// Fails with the connection's or the first resync's error.
Result<std::unique_ptr<PgChangeFeed>> StartPgChangeFeed(const PgTarget& target, AlertStore* alerts,
                                                        RemoteChanges* router,
                                                        const PgChangeFeedOptions& opts = {});

// The rule engine's state: one connection of its own, each call one transaction. Fails with
// Unavailable while PostgreSQL is unreachable (the rule engine keeps evaluating from memory and
// writes again at its next evaluation).
Result<std::unique_ptr<RuleStateStore>> OpenPgRuleStateStore(const PgTarget& target);

// The cluster's leases and nodes (core/cluster.h): two connections of its own (rounds, and
// the fences of sends). Brings the schema up to date first.
Result<std::unique_ptr<ClusterStore>> OpenPgClusterStore(const PgTarget& target);

}  // namespace alertd::storage
