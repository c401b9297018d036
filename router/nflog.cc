#include "router/nflog.h"

#include <algorithm>

namespace alertd::router {

Status NotificationLog::Load(Time now) {
  if (!store_) return Status::Ok();
  auto rows = store_->LoadNflog(now);
  if (!rows.ok()) return rows.status();
  std::unordered_map<std::string, NflogEntry> loaded;
  for (auto& [k, e] : *rows) loaded.emplace(k.String(), std::move(e));
  MutexLock l(mu_);
  entries_ = std::move(loaded);
  return Status::Ok();
}

Status NotificationLog::Adopt(const std::function<bool(const std::string& group_key)>& owned,
                              Time now) {
  if (!store_) return Status::Ok();
  auto rows = store_->LoadNflog(now);
  if (!rows.ok()) return rows.status();
  MutexLock l(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return owned(kv.second.group_key); });
  for (auto& [k, e] : *rows) {
    if (owned(e.group_key)) entries_[k.String()] = std::move(e);
  }
  return Status::Ok();
}

std::optional<NflogEntry> NotificationLog::Query(const NflogKey& key) const {
  MutexLock l(mu_);
  auto it = entries_.find(key.String());
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void NotificationLog::Log(const NflogKey& key, std::vector<uint64_t> firing,
                          std::vector<uint64_t> resolved, Time now, Duration retention) {
  std::sort(firing.begin(), firing.end());
  std::sort(resolved.begin(), resolved.end());
  NflogEntry e{key.group_key, std::move(firing), std::move(resolved), now, now + retention};
  if (store_) store_->PutNflog(key, e);
  MutexLock l(mu_);
  entries_[key.String()] = std::move(e);
}

void NotificationLog::CollectGarbage(Time now) {
  {
    MutexLock l(mu_);
    std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  }
  if (store_) store_->DeleteExpiredNflog(now);
}

std::unordered_map<std::string, std::unordered_set<uint64_t>> NotificationLog::FiringByGroup()
    const {
  MutexLock l(mu_);
  std::unordered_map<std::string, std::unordered_set<uint64_t>> out;
  for (const auto& [k, e] : entries_) out[e.group_key].insert(e.firing.begin(), e.firing.end());
  return out;
}

size_t NotificationLog::size() const {
  MutexLock l(mu_);
  return entries_.size();
}

}  // namespace alertd::router
