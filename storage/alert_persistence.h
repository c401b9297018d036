// Where an alert store (storage/alert_store.h) keeps its alerts durably: the part of the store
// that differs between SQLite (storage/sqlite_alert_log.cc: an append-only log with
// compaction) and PostgreSQL (storage/pg_alert_store.cc: upserts, a batch per transaction).
// The store itself (storage/alert_store.cc) keeps every alert in memory, merges, queues,
// coalesces, notifies listeners and collects garbage the same way on both.
//
// Not thread-safe: the store calls it from its writer thread only (Load before that thread
// starts).
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "storage/alert_store.h"

namespace alertd::storage {

class AlertPersistence {
 public:
  // One alert of a group commit: its merged version, and whether anything but endsAt (and
  // updated_at, timeout) changed since the version committed before.
  struct Change {
    uint64_t fingerprint;
    AlertPtr alert;
    bool full;
  };
  // An alert's current in-memory version (nullptr: not stored any more).
  using Lookup = std::function<AlertPtr(uint64_t fingerprint)>;

  virtual ~AlertPersistence() = default;
  // Every stored alert, into `index`, when the store opens.
  virtual Status Load(std::unordered_map<uint64_t, AlertPtr>* index) = 0;
  // One group commit: every change and every deletion, or (on error) none of them.
  virtual Status Commit(const std::vector<Change>& changes,
                        const std::unordered_set<uint64_t>& deletes) = 0;
  // Background work between commits (SQLite's compaction): whether some is under way, so
  // the writer keeps calling Background instead of waiting for new alerts.
  virtual bool BackgroundPending() const { return false; }
  // One short step of background work, after a successful commit.
  virtual Status Background(const Lookup& lookup) { return Status::Ok(); }
  // All background work now (AlertStore::Compact).
  virtual Status Flush(const Lookup& lookup) { return Status::Ok(); }
  // Adds what it did since opening (log rows, records, compactions) to `stats`.
  virtual void AddStats(AlertStoreStats* stats) const {}
  // Releases the database (after the writer's last commit).
  virtual void Close() {}
};

// The store over `persistence` (which Load()s here): what OpenAlertStore and
// OpenPgAlertStore return. `clock` must outlive the store.
Result<std::unique_ptr<AlertStore>> OpenAlertStoreOn(std::unique_ptr<AlertPersistence> persistence,
                                                     const Clock* clock,
                                                     const AlertStoreOptions& opts);

}  // namespace alertd::storage
