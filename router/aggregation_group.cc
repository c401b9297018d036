#include "router/aggregation_group.h"

#include "router/stages.h"

namespace alertd::router {

bool AggregationGroup::Insert(AlertPtr alert, Time now) {
  const bool flush_now = !has_flushed && alert->starts_at + route_->config->group_wait < now;
  alerts_[alert->Fingerprint()] = std::move(alert);
  return flush_now;
}

std::vector<AlertPtr> AggregationGroup::alerts() const {
  std::vector<AlertPtr> out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) out.push_back(a);
  return out;
}

Alerts AggregationGroup::Snapshot(std::vector<AlertPtr>* originals) const {
  Alerts out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) out.push_back(a);
  *originals = out;
  SortAlertsForPayload(out);
  return out;
}

std::vector<uint64_t> AggregationGroup::DeleteResolved(const std::vector<AlertPtr>& originals,
                                                       Time now) {
  std::vector<uint64_t> gone;
  for (const auto& a : originals) {
    if (!a->ResolvedAt(now)) continue;
    auto it = alerts_.find(a->Fingerprint());
    if (it != alerts_.end() && it->second == a) {
      gone.push_back(it->first);
      alerts_.erase(it);
    }
  }
  return gone;
}

}  // namespace alertd::router
