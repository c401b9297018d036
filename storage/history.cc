#include "storage/history.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/labels.h"
#include "core/metrics.h"

namespace alertd::storage {

std::string_view AlertSourceName(AlertSource s) {
  switch (s) {
    case AlertSource::kRule: return "rule";
    case AlertSource::kApi: return "api";
    case AlertSource::kWebhook: return "webhook";
    case AlertSource::kHeartbeat: return "heartbeat";
  }
  return "api";
}

void HistoryRecorder::AlertChanged(const Alert* before, const Alert& after, AlertSource source,
                                   Time now, std::vector<AlertEvent>* events) {
  const char* kind = nullptr;
  const bool resolved = after.ResolvedAt(now);
  if (before == nullptr) {
    kind = "received";
  } else if (before->ResolvedAt(now) && !resolved) {
    kind = "refired";
  } else if (!before->ResolvedAt(now) && resolved) {
    kind = "resolved";
  }
  if (kind == nullptr) return;
  AlertEvent e;
  e.fingerprint = after.Fingerprint();
  // When alertd learnt of it (a sender may resolve with an endsAt in the past: the alert shows
  // that), so the timeline is in the order alertd saw things happen.
  e.at = now;
  e.kind = kind;
  e.ref = std::string(AlertSourceName(source));
  events->push_back(std::move(e));
}

namespace {
constexpr auto kFlushEvery = std::chrono::seconds(1);
}  // namespace

HistoryRecorder::HistoryRecorder(HistoryStore* store, Duration retention)
    : store_(store), retention_(retention.count()) {
  if (store_ != nullptr) flusher_ = std::thread([this] { FlusherLoop(); });
}

HistoryRecorder::~HistoryRecorder() { Stop(); }

void HistoryRecorder::Stop() {
  {
    std::lock_guard l(buf_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  buf_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard f(flush_mu_);
  WriteBuffered();
}

void HistoryRecorder::Flush() {
  std::lock_guard f(flush_mu_);
  WriteBuffered();
}

void HistoryRecorder::WriteBuffered() {
  std::vector<AlertEvent> events;
  std::vector<NotificationRecord> records;
  {
    std::lock_guard l(buf_mu_);
    events.swap(events_buf_);
    records.swap(records_buf_);
  }
  if (store_ == nullptr) return;
  if (!events.empty()) {
    const uint64_t n = events.size();
    store_->AppendAlertEvents(std::move(events), Counted(&alert_events_, n));
  }
  for (auto& r : records) store_->AppendNotification(std::move(r), Counted(&notifications_, 1));
}

void HistoryRecorder::FlusherLoop() {
  std::unique_lock l(buf_mu_);
  while (!stopping_) {
    buf_cv_.wait_for(l, kFlushEvery, [this] {
      return stopping_ || events_buf_.size() + records_buf_.size() >= kFlushAt;
    });
    if (stopping_) return;  // Stop() writes what is left
    l.unlock();
    {
      std::lock_guard f(flush_mu_);
      WriteBuffered();
    }
    l.lock();
  }
}

StoreDone HistoryRecorder::Counted(std::atomic<uint64_t>* ok, uint64_t n) {
  return [this, ok, n](Status s) {
    if (s.ok()) {
      ok->fetch_add(n, std::memory_order_relaxed);
      return;
    }
    // Once per failure would flood the log while the database is down; the counter tells.
    if (write_failures_.fetch_add(1, std::memory_order_relaxed) % 100 == 0) {
      spdlog::warn("history: a write failed (counted in alertd_history_write_failures_total): {}",
                   s.message());
    }
  };
}

void HistoryRecorder::Append(std::vector<AlertEvent> events) {
  if (!enabled() || events.empty()) return;
  {
    // A resolved alert is no longer muted by anything: a flush does not look at it again.
    std::lock_guard l(mu_);
    for (const auto& e : events) {
      if (e.kind == "resolved" && !muted_.empty()) muted_.erase(e.fingerprint);
    }
  }
  Buffer(&events_buf_, std::move(events));
}

void HistoryRecorder::Notification(NotificationRecord rec) {
  if (!enabled()) return;
  std::vector<NotificationRecord> one;
  one.push_back(std::move(rec));
  Buffer(&records_buf_, std::move(one));
}

void HistoryRecorder::Silenced(
    uint64_t fingerprint, const std::vector<std::string>& silence_ids, Time now,
    const std::function<std::optional<SilenceInfo>(const std::string&)>& describe) {
  if (!enabled()) return;
  std::vector<AlertEvent> events;
  {
    std::lock_guard l(mu_);
    auto it = muted_.find(fingerprint);
    if (it == muted_.end()) {
      if (silence_ids.empty()) return;  // the common case: not muted before, nor now
      it = muted_.emplace(fingerprint, Muted{}).first;
    }
    const std::vector<std::string>& was = it->second.silences;
    for (const auto& id : silence_ids) {
      if (std::binary_search(was.begin(), was.end(), id)) continue;
      AlertEvent e{0, fingerprint, now, "silenced", id, "", ""};
      if (auto info = describe(id)) {
        e.by = info->created_by;
        e.text = info->comment;
      }
      events.push_back(std::move(e));
    }
    for (const auto& id : was) {
      if (!std::binary_search(silence_ids.begin(), silence_ids.end(), id)) {
        events.push_back(AlertEvent{0, fingerprint, now, "unsilenced", id, "", ""});
      }
    }
    it->second.silences = silence_ids;
    if (it->second.silences.empty() && !it->second.inhibitor) muted_.erase(it);
  }
  Append(std::move(events));
}

void HistoryRecorder::Inhibited(uint64_t fingerprint, std::optional<uint64_t> by, Time now) {
  if (!enabled()) return;
  std::vector<AlertEvent> events;
  {
    std::lock_guard l(mu_);
    auto it = muted_.find(fingerprint);
    if (it == muted_.end()) {
      if (!by) return;
      it = muted_.emplace(fingerprint, Muted{}).first;
    }
    const std::optional<uint64_t> was = it->second.inhibitor;
    if (was == by) return;
    if (was) {
      events.push_back(AlertEvent{0, fingerprint, now, "uninhibited", FingerprintHex(*was), "", ""});
    }
    if (by) events.push_back(AlertEvent{0, fingerprint, now, "inhibited", FingerprintHex(*by), "", ""});
    it->second.inhibitor = by;
    if (it->second.silences.empty() && !it->second.inhibitor) muted_.erase(it);
  }
  Append(std::move(events));
}

void HistoryRecorder::Forget(uint64_t fingerprint) {
  std::lock_guard l(mu_);
  muted_.erase(fingerprint);
}

void HistoryRecorder::MaybePrune(Time now, Duration every) {
  const Duration retention = this->retention();
  // With the history off (retention 0) what was recorded before stays until it is on again.
  if (store_ == nullptr || retention <= Duration::zero()) return;
  {
    std::lock_guard l(mu_);
    if (!IsZero(last_prune_) && now - last_prune_ < every) return;
    last_prune_ = now;
  }
  store_->PruneHistory(now - retention, Counted(&prunes_, 1));
}

HistoryRecorder::Counts HistoryRecorder::GetCounts() const {
  return Counts{notifications_.load(), alert_events_.load(), write_failures_.load(),
                prunes_.load()};
}

void HistoryRecorder::AppendMetrics(std::string* out) const {
  const Counts c = GetCounts();
  AppendFamilyHeader(out, "alertd_history_records_total", "counter",
                     "Records written to the history (storage.history_retention), by kind.");
  *out += fmt::format("alertd_history_records_total{{kind=\"notification\"}} {}\n",
                      c.notifications);
  *out += fmt::format("alertd_history_records_total{{kind=\"alert_event\"}} {}\n",
                      c.alert_events);
  AppendFamilyHeader(out, "alertd_history_write_failures_total", "counter",
                     "History writes the database refused or could not take.");
  *out += fmt::format("alertd_history_write_failures_total {}\n", c.write_failures);
  AppendFamilyHeader(out, "alertd_history_prunes_total", "counter",
                     "Completed deletions of history older than the retention.");
  *out += fmt::format("alertd_history_prunes_total {}\n", c.prunes);
}

}  // namespace alertd::storage
