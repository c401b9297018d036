// The router's stores (core/router_state.h) on SQLite, and the heartbeats': every statement
// on the tables `silences`, `nflog`, `acks`, `escalations`, `aggregation_groups`,
// `heartbeats`, the history's (`notifications`, `notification_alerts`, `alert_events`) and
// `schedule_overrides` (created by storage/migrations.cc) lives here. Every write runs on one StateDb writer thread
// (storage/state_db.h), so writes of all five stores commit in the order queued, in group
// commits of one transaction each, every call in its own savepoint; loads run on that thread
// too, after the writes queued before them.
//
// Thread-safe.
#pragma once

#include <memory>

#include "core/queue_stats.h"
#include "core/result.h"
#include "core/history.h"
#include "core/router_state.h"
#include "storage/db.h"
#include "storage/state_db.h"

namespace alertd::storage {

// The five stores of the router, the heartbeats', the history's and the overrides' on one
// database: SQLite below, PostgreSQL in storage/pg_router_stores.h.
class RouterStateBackend : public SilenceStore,
                           public NotificationLogStore,
                           public AckStore,
                           public EscalationStore,
                           public GroupTimerStore,
                           public HeartbeatStore,
                           public HistoryStore,
                           public OverrideStore {
 public:
  // All five, for RouterDeps.
  RouterStores stores() { return RouterStores{this, this, this, this, this}; }
  // The writer queue, for /metrics.
  virtual const QueueStats& queue() const = 0;
  // Commits everything queued and stops the writer; later writes fail with Unavailable.
  virtual void Close() = 0;
  // Whether the database answered the last write or check (/-/ready).
  virtual bool reachable() const = 0;
};

class SqliteRouterStores final : public RouterStateBackend {
 public:
  // Takes the database (with AllMigrations() applied) and starts its writer thread.
  explicit SqliteRouterStores(std::unique_ptr<Database> db,
                              size_t max_queued = StateDb::kDefaultMaxQueued);
  ~SqliteRouterStores() override;  // Close()

  const QueueStats& queue() const override { return db_.queue(); }
  void Close() override { db_.Close(); }
  bool reachable() const override { return db_.reachable(); }
  // The writer itself: tests hold it or look at the tables.
  StateDb& state_db() { return db_; }

  Result<std::vector<Silence>> LoadSilences() override;
  void PutSilences(std::vector<Silence> rows, StoreDone done) override;
  void DeleteSilences(std::vector<std::string> ids, StoreDone done) override;

  Result<std::vector<std::pair<NflogKey, NflogEntry>>> LoadNflog(Time now) override;
  void PutNflog(NflogKey key, NflogEntry entry, StoreDone done) override;
  void DeleteExpiredNflog(Time now, StoreDone done) override;

  Result<std::vector<Ack>> LoadAcks() override;
  void PutAcks(std::vector<Ack> rows, StoreDone done) override;
  void DeleteAcks(std::vector<int64_t> ids, StoreDone done) override;

  Result<std::vector<EscalationState>> LoadEscalations() override;
  void PutEscalation(EscalationState st, StoreDone done) override;
  void DeleteEscalation(std::string route_key, std::string group_key, StoreDone done) override;

  Result<std::vector<GroupTimer>> LoadGroupTimers() override;
  void PutGroupTimer(GroupTimer t, StoreDone done) override;
  void DeleteGroupTimer(std::string route_id, std::string group_key, StoreDone done) override;

  Result<std::vector<HeartbeatState>> LoadHeartbeats() override;
  void PutHeartbeat(HeartbeatState st, StoreDone done) override;

  void AppendNotification(NotificationRecord rec, StoreDone done) override;
  void AppendAlertEvents(std::vector<AlertEvent> events, StoreDone done) override;
  Result<std::vector<NotificationRecord>> QueryNotifications(const NotificationQuery& q) override;
  Result<std::vector<AlertEvent>> LoadAlertEvents(uint64_t fingerprint, size_t limit) override;
  void PruneHistory(Time before, StoreDone done) override;

  Result<std::vector<ScheduleOverride>> LoadOverrides() override;
  void PutOverride(ScheduleOverride o, StoreDone done) override;
  void DeleteOverride(int64_t id, StoreDone done) override;

 private:
  StateDb db_;
};

}  // namespace alertd::storage
