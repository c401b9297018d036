// Records what happens into the HistoryStore (core/history.h): the alert store reports the
// changes of each Put, the router's pipeline every delivery attempt and what silenced or
// inhibited an alert at a flush. Records are buffered and written once a second (or at 10,000),
// in one group commit with the rest of the router's state: a burst of new alerts costs one
// extra commit a second, not one per POST (on SQLite that commit shares the file's write lock
// with the alert store's). A crash loses at most the last second of records. A failed write
// is logged and counted (history is a record, not state: nothing else depends on it).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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
  explicit HistoryRecorder(HistoryStore* store, Duration retention = std::chrono::hours(720));
  ~HistoryRecorder();  // Stop()
  // Queues what is buffered to the store: a read of the store after it sees every record made
  // before. Not from a store's `done` callback.
  void Flush();
  // Flushes and stops the writing thread; later records are dropped. Idempotent. Before the
  // store closes.
  void Stop();
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
  void FlusherLoop();
  static constexpr size_t kFlushAt = 10000;  // records buffered: written at once
  // Adds `items` to `buf` (one of the buffers); wakes the writer once there are kFlushAt.
  template <typename T>
  void Buffer(std::vector<T>* buf, std::vector<T> items) {
    bool full;
    {
      std::lock_guard l(buf_mu_);
      if (stopping_) return;
      buf->insert(buf->end(), std::make_move_iterator(items.begin()),
                  std::make_move_iterator(items.end()));
      full = events_buf_.size() + records_buf_.size() >= kFlushAt;
    }
    if (full) buf_cv_.notify_one();
  }
  // Hands the buffers to the store. REQUIRES: flush_mu_ held.
  void WriteBuffered();

  HistoryStore* store_;
  std::atomic<Duration::rep> retention_;
  // The buffers, and the thread that writes them.
  std::mutex buf_mu_;
  std::condition_variable buf_cv_;
  std::vector<AlertEvent> events_buf_;            // GUARDED_BY(buf_mu_)
  std::vector<NotificationRecord> records_buf_;  // GUARDED_BY(buf_mu_)
  bool stopping_ = false;                         // GUARDED_BY(buf_mu_)
  std::mutex flush_mu_;  // held while buffers are handed over, so writes queue in order
  std::thread flusher_;
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
