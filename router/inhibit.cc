#include "router/inhibit.h"

namespace alertd::router {

Inhibitor::Inhibitor(std::vector<config::InhibitRule> rules) {
  for (auto& r : rules) rules_.push_back(Rule{std::move(r), {}});
}

std::vector<std::string> Inhibitor::EqualValues(const Rule& r, const LabelSet& labels) {
  std::vector<std::string> v;
  v.reserve(r.cfg.equal.size());
  for (const auto& name : r.cfg.equal) v.emplace_back(labels.Get(name));
  return v;
}

void Inhibitor::Update(const std::vector<storage::AlertPtr>& alerts) {
  MutexLock l(mu_);
  for (auto& r : rules_) {
    for (const auto& a : alerts) {
      if (!MatchesAll(r.cfg.source_matchers, a->labels)) continue;
      r.sources[EqualValues(r, a->labels)][a->Fingerprint()] = a;
    }
  }
}

std::optional<uint64_t> Inhibitor::InhibitedBy(const LabelSet& labels, Time now) const {
  MutexLock l(mu_);
  const uint64_t self = labels.Fingerprint();
  for (const auto& r : rules_) {
    if (!MatchesAll(r.cfg.target_matchers, labels)) continue;
    const bool two_sided = MatchesAll(r.cfg.source_matchers, labels);
    auto it = r.sources.find(EqualValues(r, labels));
    if (it == r.sources.end()) continue;
    for (const auto& [fp, a] : it->second) {
      if (a->ResolvedAt(now)) continue;
      if (fp == self && two_sided) continue;
      if (two_sided && MatchesAll(r.cfg.target_matchers, a->labels)) continue;
      return fp;
    }
  }
  return std::nullopt;
}

void Inhibitor::CollectGarbage(Time before) {
  MutexLock l(mu_);
  for (auto& r : rules_) {
    for (auto it = r.sources.begin(); it != r.sources.end();) {
      for (auto jt = it->second.begin(); jt != it->second.end();) {
        if (jt->second->ResolvedAt(before)) {
          jt = it->second.erase(jt);
        } else {
          ++jt;
        }
      }
      it = it->second.empty() ? r.sources.erase(it) : std::next(it);
    }
  }
}

}  // namespace alertd::router
