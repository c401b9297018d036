// Records what happens into the HistoryStore (core/history.h): the alert store reports the
// changes of each Put, the router's pipeline every delivery attempt and what silenced or
// inhibited an alert at a flush. Writes are asynchronous and never hold up the caller; a failed
// write is logged and counted (history is a record, not state: nothing else depends on it).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/history.h"
#include "core/time.h"

namespace alertd::storage {

// Where a Put's alerts came from.
enum class AlertSource : uint8_t { kRule, kApi, kWebhook, kHeartbeat };
std::string_view AlertSourceName(AlertSource s);

class HistoryRecorder {
 public:
  // `store` null: nothing is recorded (tools, tests that do not look). Must outlive this.
  // `retention` (storage.history_retention): how long records are kept; zero: nothing is
  // recorded.
  explicit HistoryRecorder(HistoryStore* store, Duration retention = std::chrono::hours(720))
      : store_(store), retention_(retention.count()) {}
  // A reload's storage.history_retention.
  void SetRetention(Duration retention) { retention_.store(retention.count()); }
  Duration retention() const { return Duration(retention_.load()); }

  // A Put from `source` changed an alert: `before` is what was stored (null: nothing), `after`
  // the merged result. Appends to `events` what changed: received, refired or resolved.
  static void AlertChanged(const Alert* before, const Alert& after, AlertSource source, Time now,
                           std::vector<AlertEvent>* events);
  void Append(std::vector<AlertEvent> events);

  void Notification(NotificationRecord rec);

  // What a flush found muting an alert: the silences (their ids, sorted; `describe` gives a
  // silence's creator and comment) and the alert that inhibits it. Records the changes from
  // what the last flush found. An alert neither silenced nor inhibited is not remembered.
  struct SilenceInfo {
    std::string created_by;
    std::string comment;
  };
  void Silenced(uint64_t fingerprint, const std::vector<std::string>& silence_ids, Time now,
                const std::function<std::optional<SilenceInfo>(const std::string&)>& describe);
  void Inhibited(uint64_t fingerprint, std::optional<uint64_t> by, Time now);
  // The alert resolved or was removed: what muted it is forgotten.
  void Forget(uint64_t fingerprint);

  // Deletes what is older than the retention before `now`, at most once per `every`.
  void MaybePrune(Time now, Duration every = std::chrono::minutes(10));

  bool enabled() const { return store_ != nullptr && retention_.load() > 0; }
  HistoryStore* store() const { return store_; }

  struct Counts {
    uint64_t notifications = 0;  // records written
    uint64_t alert_events = 0;
    uint64_t write_failures = 0;
    uint64_t prunes = 0;
  };
  Counts GetCounts() const;
  // alertd_history_* for /metrics.
  void AppendMetrics(std::string* out) const;

 private:
  StoreDone Counted(std::atomic<uint64_t>* ok, uint64_t n);

  HistoryStore* store_;
  std::atomic<Duration::rep> retention_;
  std::mutex mu_;
  struct Muted {
    std::vector<std::string> silences;
    std::optional<uint64_t> inhibitor;
  };
  std::map<uint64_t, Muted> muted_;  // GUARDED_BY(mu_)
  Time last_prune_ = kZeroTime;      // GUARDED_BY(mu_)
  std::atomic<uint64_t> notifications_{0};
  std::atomic<uint64_t> alert_events_{0};
  std::atomic<uint64_t> write_failures_{0};
  std::atomic<uint64_t> prunes_{0};
};

}  // namespace alertd::storage
