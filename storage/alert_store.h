// The alert store: every alert alertd knows, deduplicated by fingerprint and merged with
// Alertmanager's rule (core::MergeAlert), held in memory for fast reads and persisted for
// restarts, on SQLite (OpenAlertStore; storage/sqlite_alert_log.cc: an append-only log with
// compaction) or PostgreSQL (OpenPgAlertStore, storage/pg_stores.h). Both the API (received
// alerts) and the rule engine write here through core::AlertSink; the router subscribes to
// the alerts that changed.
//
// Writes go through a writer thread that commits everything queued since its previous
// commit in one transaction (group commit), so concurrent Puts share one fsync. On PostgreSQL
// two writers take turns, so one batch is committed while the previous waits for its WAL
// flush; batches that touch the same alert are committed one after the other, in order. Put
// returns, and PutAsync calls back, only once its alerts are committed: after that they
// survive a crash or kill -9 (and with Synchronous::kFull a power loss).
//
// The queue of alerts waiting for a commit is bounded (max_pending_alerts): a producer that
// finds it full waits for the writer (delay; alerts are never dropped).
//
// Thread-safe (internal synchronization). Listeners and PutAsync callbacks run on a writer
// thread: they must be quick and must not call Put (which would wait on the writers).
// Listeners are called one at a time and see the changes of one alert in commit order;
// callbacks of different commits may run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/alert.h"
#include "core/alert_sink.h"
#include "core/clock.h"
#include "core/queue_stats.h"
#include "core/result.h"
#include "storage/db.h"
#include "storage/history.h"

namespace alertd::storage {

using AlertPtr = std::shared_ptr<const Alert>;

struct AlertStoreOptions {
  // Resolved alerts (ends_at in the past) are deleted this long after their ends_at.
  Duration retention = std::chrono::hours(24);
  // How often garbage collection runs on the writer thread.
  Duration gc_interval = std::chrono::minutes(1);
  // Compaction starts once the log holds more records than both of these: a fixed floor, and
  // a multiple of the number of alerts changed since the last pass. A pass then rewrites each
  // changed alert once for about 8 resends of it, and the log stays smaller than the alerts
  // table (an endsAt record is 25 bytes, a stored alert several hundred).
  size_t compact_min_records = 100000;
  size_t compact_records_per_alert = 8;
  // Alerts written to `alerts` per compaction transaction; commits of new alerts run in
  // between, so this bounds the delay compaction adds to a POST.
  size_t compact_chunk = 256;
  // Distinct alerts waiting for the next commit, about at most (several producers may pass
  // the check at once): a Put that finds more waits until the writer takes them (delay,
  // never drop: a received alert is never lost). Resends of one alert coalesce into one entry.
  size_t max_pending_alerts = 100000;
  // Where the changes of Puts (not those applied from other writers' commits) are recorded:
  // first received, resolved, firing again. Null: nowhere.
  HistoryRecorder* history = nullptr;
};

// What the store has done since it opened, for tests and /metrics.
struct AlertStoreStats {
  uint64_t log_rows_written = 0;  // group commits
  uint64_t full_records = 0;      // whole alerts appended to the log
  uint64_t ends_records = 0;      // endsAt-only updates appended to the log
  uint64_t compactions = 0;       // completed compaction passes
  uint64_t compacted_alerts = 0;  // rows written to `alerts` by compaction
  uint64_t replayed_records = 0;  // log records applied at start
};

class AlertStore : public AlertSink {
 public:
  using Listener = std::function<void(const std::vector<AlertPtr>& changed)>;
  using Done = std::function<void(Status)>;

  ~AlertStore() override = default;

  // AlertSink: merges each alert into the store by fingerprint and returns once the result is
  // committed. The caller has already applied ingestion defaults (updated_at, a missing
  // ends_at) and validated the alerts. An error means the commit failed; the in-memory view
  // may then be ahead of the database until the next successful commit of the same alerts.
  Status Put(std::vector<Alert> alerts) override = 0;
  // The rule engine's path: its alerts are recorded in the history as from a rule.
  // Same, without blocking: `done` runs on the writer thread after the commit. `source` is
  // what the history (AlertStoreOptions::history) records as where the alerts came from.
  virtual void PutAsync(std::vector<Alert> alerts, Done done,
                        AlertSource source = AlertSource::kApi) = 0;

  // Every stored alert (firing, and resolved ones within the retention), sorted by
  // fingerprint. The alerts are immutable snapshots; later Puts do not change them.
  virtual std::vector<AlertPtr> List() const = 0;
  // The alert with this fingerprint, or nullptr.
  virtual AlertPtr Get(uint64_t fingerprint) const = 0;
  virtual size_t Size() const = 0;

  // Registers a listener for alerts changed by a committed Put (as merged); it runs before the
  // Put returns (or its PutAsync callback runs). Returns an id for Unsubscribe. Listeners added
  // later do not see earlier changes: read List() first.
  virtual int Subscribe(Listener listener) = 0;
  virtual void Unsubscribe(int id) = 0;

  // Alerts committed to the database by any writer of it (several alertd processes sharing
  // PostgreSQL; storage/pg_change_feed.cc calls these), by fingerprint. Each goes into memory
  // unless the version held has a later updated_at (equal: the committed row wins), is the
  // same, or the alert is being deleted here or is due for garbage collection; listeners are
  // told of those applied, as of a commit. Nothing is written back. Idempotent: this store's
  // own commits coming back change nothing. Not from a listener.
  virtual void ApplyCommitted(std::vector<std::pair<uint64_t, AlertPtr>> rows) = 0;
  // A full resync: `load` reads every alert in the database (it runs on the caller's thread
  // while Puts go on). Alerts held that it does not return are dropped (deleted by another
  // writer), unless they were written here since `load` began or are not committed yet; the
  // rest is applied as by ApplyCommitted. A failed load changes nothing and is returned.
  using LoadAll = std::function<Status(std::vector<std::pair<uint64_t, AlertPtr>>* rows)>;
  virtual Status Resync(const LoadAll& load) = 0;

  // Removes resolved alerts older than the retention now (it also runs every gc_interval).
  // Returns how many were removed once the deletion is committed.
  virtual Result<size_t> CollectGarbage() = 0;

  // Runs a whole compaction pass now (whatever the thresholds), returning once it has
  // committed: afterwards `alerts` holds every stored alert and the log is empty.
  virtual Status Compact() = 0;
  virtual AlertStoreStats Stats() const = 0;
  // The writer's queue (alerts waiting for a commit), for /metrics.
  virtual const QueueStats& WriteQueue() const = 0;

  // Commits what is queued and stops the writer thread. Puts after Close fail. Idempotent;
  // the destructor calls it.
  virtual void Close() = 0;
};

// Opens the alert store over SQLite `db` (which must have the alerts table, i.e.
// AllMigrations()), loading every stored alert into memory. `clock` must outlive the store.
Result<std::unique_ptr<AlertStore>> OpenAlertStore(std::unique_ptr<Database> db, const Clock* clock,
                                                   const AlertStoreOptions& opts = {});

}  // namespace alertd::storage
