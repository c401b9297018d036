// Per-integration delivery counters for the daemon's /metrics: attempts, failures by reason
// and an attempt-latency histogram, keyed by (integration, receiver) as Alertmanager's
// alertmanager_notifications_total / _failed_total / notification_latency_seconds are.
//
// One NotificationMetrics lives as long as the daemon and is handed to every registry build
// (Deps::metrics), so counters survive configuration reloads. The registry wraps each
// notifier so that every Notify call is counted; nothing else needs to touch these counters.
//
// Thread-safe: counters are atomics; the map of series is guarded by a mutex and its entries
// are never removed, so pointers handed out stay valid.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace alertd::notifiers {

struct NotifyResult;

// The counters of one (integration, receiver) pair.
struct IntegrationMetrics {
  // Histogram upper bounds in seconds (Alertmanager's notification_latency_seconds buckets).
  static constexpr std::array<double, 5> kLatencyBuckets = {1, 5, 10, 15, 20};

  std::atomic<uint64_t> attempts{0};         // every Notify call
  std::atomic<uint64_t> failures{0};         // attempts that did not deliver
  std::atomic<uint64_t> failures_client{0};  // ... because of a 4xx answer (reason "clientError")
  std::atomic<uint64_t> failures_server{0};  // ... because of a 5xx answer (reason "serverError")
  std::atomic<uint64_t> failures_other{0};   // ... transport errors, timeouts, templates ("other")
  // latency_counts[i] counts attempts with latency <= kLatencyBuckets[i] and > the previous
  // bound (not cumulative); the last slot counts the rest (+Inf).
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_counts{};
  std::atomic<uint64_t> latency_sum_ns{0};

  // Records one attempt with its outcome and latency.
  void Record(const NotifyResult& result, Duration latency);
};

class NotificationMetrics {
 public:
  // The counters for (integration, receiver), created on first use. Never null.
  std::shared_ptr<IntegrationMetrics> For(std::string_view integration, std::string_view receiver);

  struct Series {
    std::string integration;
    std::string receiver;
    std::shared_ptr<const IntegrationMetrics> metrics;
  };
  // Every series, sorted by integration then receiver.
  std::vector<Series> Snapshot() const;

  // Appends the Prometheus text exposition of every series:
  //   alertd_notifications_total{integration,receiver}
  //   alertd_notifications_failed_total{integration,receiver,reason}
  //   alertd_notification_latency_seconds{integration,receiver} (histogram)
  void WritePrometheusText(std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<IntegrationMetrics>>
      series_;  // GUARDED_BY(mu_)
};

}  // namespace alertd::notifiers
