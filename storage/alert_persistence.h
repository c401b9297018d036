// Where an alert store (storage/alert_store.h) keeps its alerts durably: the part of the store
// that differs between SQLite (storage/sqlite_alert_log.cc: an append-only log with
// compaction) and PostgreSQL (storage/pg_alert_store.cc: upserts, a batch per transaction).
// The store itself (storage/alert_store.cc) keeps every alert in memory, merges, queues,
// coalesces, notifies listeners and collects garbage the same way on both.
//
// Thread-compatible: the store calls it from its writer threads only (Load before they start).
// A persistence with one commit slot (SQLite: one writer) sees one call at a time. One with
// several (PostgreSQL: a connection each) sees Commit on different slots at once, never two on
// the same slot, and never two commits that share a fingerprint (the store holds back a batch
// that changes or deletes an alert of a commit in flight until that commit is done, and commits a
// batch that retries a failed one alone); everything else runs with no commit in flight, or
// (AddStats) at any time.
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
  // How many commits may be in flight at once (see above); at least 1. The store runs one
  // writer thread per slot, so a commit waiting for the disk does not hold back the next.
  virtual size_t commit_slots() const { return 1; }
  // One group commit on `slot` (< commit_slots()): every change and every deletion, or (on
  // error) none of them.
  virtual Status Commit(size_t slot, const std::vector<Change>& changes,
                        const std::unordered_set<uint64_t>& deletes) = 0;
  // Background work between commits (SQLite's compaction; only with one commit slot): whether
  // some is under way, so the writer keeps calling Background instead of waiting for alerts.
  virtual bool BackgroundPending() const { return false; }
  // One short step of background work, after a successful commit.
  virtual Status Background(const Lookup& /*lookup*/) { return Status::Ok(); }
  // All background work now (AlertStore::Compact).
  virtual Status Flush(const Lookup& /*lookup*/) { return Status::Ok(); }
  // Adds what it did since opening (log rows, records, compactions) to `stats`.
  virtual void AddStats(AlertStoreStats* /*stats*/) const {}
  // Releases the database (after the writer's last commit).
  virtual void Close() {}
};

// The store over `persistence` (which Load()s here): what OpenAlertStore and
// OpenPgAlertStore return. `clock` must outlive the store.
Result<std::unique_ptr<AlertStore>> OpenAlertStoreOn(std::unique_ptr<AlertPersistence> persistence,
                                                     const Clock* clock,
                                                     const AlertStoreOptions& opts);

}  // namespace alertd::storage
