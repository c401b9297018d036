#include "notifiers/metrics.h"

#include <fmt/format.h>

#include "core/metrics.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

void IntegrationMetrics::Record(const NotifyResult& result, Duration latency) {
  attempts.fetch_add(1, std::memory_order_relaxed);
  if (!result.status.ok()) {
    failures.fetch_add(1, std::memory_order_relaxed);
    const long cls = result.http_status / 100;
    if (cls == 4) {
      failures_client.fetch_add(1, std::memory_order_relaxed);
    } else if (cls == 5) {
      failures_server.fetch_add(1, std::memory_order_relaxed);
    } else {
      failures_other.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const double secs = std::chrono::duration<double>(latency).count();
  size_t i = 0;
  while (i < kLatencyBuckets.size() && secs > kLatencyBuckets[i]) ++i;
  latency_counts[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, latency.count())),
                           std::memory_order_relaxed);
}

std::shared_ptr<IntegrationMetrics> NotificationMetrics::For(std::string_view integration,
                                                             std::string_view receiver) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = series_[{std::string(integration), std::string(receiver)}];
  if (!slot) slot = std::make_shared<IntegrationMetrics>();
  return slot;
}

std::vector<NotificationMetrics::Series> NotificationMetrics::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Series> out;
  out.reserve(series_.size());
  for (const auto& [k, v] : series_) out.push_back({k.first, k.second, v});
  return out;
}


void NotificationMetrics::WritePrometheusText(std::string* out) const {
  const auto series = Snapshot();
  auto labels = [](const Series& s) {
    return fmt::format("integration=\"{}\",receiver=\"{}\"", EscapeLabelValue(s.integration),
                       EscapeLabelValue(s.receiver));
  };
  *out += "# HELP alertd_notifications_total Notification attempts per integration.\n";
  *out += "# TYPE alertd_notifications_total counter\n";
  for (const auto& s : series) {
    *out +=
        fmt::format("alertd_notifications_total{{{}}} {}\n", labels(s), s.metrics->attempts.load());
  }
  *out +=
      "# HELP alertd_notifications_failed_total Failed notification attempts per integration.\n";
  *out += "# TYPE alertd_notifications_failed_total counter\n";
  for (const auto& s : series) {
    const std::pair<const char*, uint64_t> reasons[] = {
        {"clientError", s.metrics->failures_client.load()},
        {"serverError", s.metrics->failures_server.load()},
        {"other", s.metrics->failures_other.load()},
    };
    for (const auto& [reason, v] : reasons) {
      *out += fmt::format("alertd_notifications_failed_total{{{},reason=\"{}\"}} {}\n", labels(s),
                          reason, v);
    }
  }
  *out += "# HELP alertd_notification_latency_seconds Latency of notification attempts.\n";
  *out += "# TYPE alertd_notification_latency_seconds histogram\n";
  for (const auto& s : series) {
    uint64_t cumulative = 0;
    const auto& m = *s.metrics;
    for (size_t i = 0; i < IntegrationMetrics::kLatencyBuckets.size(); ++i) {
      cumulative += m.latency_counts[i].load();
      *out += fmt::format("alertd_notification_latency_seconds_bucket{{{},le=\"{}\"}} {}\n",
                          labels(s), IntegrationMetrics::kLatencyBuckets[i], cumulative);
    }
    cumulative += m.latency_counts.back().load();
    *out += fmt::format("alertd_notification_latency_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                        labels(s), cumulative);
    *out += fmt::format("alertd_notification_latency_seconds_sum{{{}}} {}\n", labels(s),
                        static_cast<double>(m.latency_sum_ns.load()) / 1e9);
    *out +=
        fmt::format("alertd_notification_latency_seconds_count{{{}}} {}\n", labels(s), cumulative);
  }
}

}  // namespace alertd::notifiers
