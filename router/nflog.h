// The notification log (nflog/nflog.go): for each (group key, receiver, integration, index),
// which alerts were firing and which resolved in the last notification delivered, and when.
// The dedup stage reads it to decide whether a flush sends; a successful delivery writes it.
// Kept in memory and persisted behind the writes (a NotificationLogStore, core/router_state.h): a
// crash in the few milliseconds between a delivery and its commit re-sends that notification once
// after the restart (at least once, as Alertmanager's HA mode).
//
// Alerts are identified by their label-set fingerprint. Alertmanager hashes labels with
// xxhash64 here; the values never leave alertd, so the fingerprint alertd already has serves.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/router_state.h"
#include "core/thread_annotations.h"
#include "core/time.h"

namespace alertd::router {

class NotificationLog {
 public:
  // `store` may be null (nothing persisted); it must outlive this.
  explicit NotificationLog(NotificationLogStore* store) : store_(store) {}

  // Loads the entries not expired at `now`. Call once, before use.
  Status Load(Time now);
  // Replicas: this node now owns the groups `owned` says yes to. Their entries are read again
  // from the store, as the previous owner left them, replacing this node's.
  Status Adopt(const std::function<bool(const std::string& group_key)>& owned, Time now);
  std::optional<NflogEntry> Query(const NflogKey& key) const;
  // Records a delivery at `now`; the entry expires `retention` later.
  void Log(const NflogKey& key, std::vector<uint64_t> firing, std::vector<uint64_t> resolved,
           Time now, Duration retention);
  // For each group key, the fingerprints any of its receivers last heard of as firing.
  std::unordered_map<std::string, std::unordered_set<uint64_t>> FiringByGroup() const;
  // Drops entries expired at `now`.
  void CollectGarbage(Time now);
  size_t size() const;

 private:
  NotificationLogStore* store_;
  mutable Mutex mu_;
  std::unordered_map<std::string, NflogEntry> entries_ GUARDED_BY(mu_);
};

}  // namespace alertd::router
