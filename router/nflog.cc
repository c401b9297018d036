#include "router/nflog.h"

#include <algorithm>
#include <cstring>

namespace alertd::router {
namespace {

int64_t ToNanos(Time t) { return t.time_since_epoch().count(); }
Time FromNanos(int64_t n) { return Time(Duration(n)); }

std::string Pack(const std::vector<uint64_t>& v) {
  std::string out(v.size() * 8, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>((v[i] >> (8 * b)) & 0xff);
  }
  return out;
}

std::vector<uint64_t> Unpack(std::string_view s) {
  std::vector<uint64_t> out(s.size() / 8);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t x = 0;
    for (int b = 0; b < 8; ++b)
      x |= static_cast<uint64_t>(static_cast<unsigned char>(s[i * 8 + b])) << (8 * b);
    out[i] = x;
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Subset(const std::vector<uint64_t>& set, const std::vector<uint64_t>& subset) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

}  // namespace

std::string NflogKey::String() const {
  return group_key + ":" + receiver + "/" + integration + "/" + std::to_string(index);
}

bool NflogEntry::IsFiringSubset(const std::vector<uint64_t>& subset) const {
  return Subset(firing, subset);
}
bool NflogEntry::IsResolvedSubset(const std::vector<uint64_t>& subset) const {
  return Subset(resolved, subset);
}

Status NotificationLog::Load(Time now) {
  if (!db_) return Status::Ok();
  std::unordered_map<std::string, NflogEntry> loaded;
  Status s = db_->Query(
      "SELECT group_key, receiver, integration, idx, firing, resolved, logged_at, expires_at "
      "FROM nflog WHERE expires_at > ?",
      [&loaded](const storage::Statement& q) -> Status {
        NflogKey k{std::string(q.ColumnText(0)), std::string(q.ColumnText(1)),
                   std::string(q.ColumnText(2)), static_cast<int>(q.ColumnInt64(3))};
        NflogEntry e;
        e.group_key = k.group_key;
        e.firing = Unpack(q.ColumnBlob(4));
        e.resolved = Unpack(q.ColumnBlob(5));
        e.logged_at = FromNanos(q.ColumnInt64(6));
        e.expires_at = FromNanos(q.ColumnInt64(7));
        loaded.emplace(k.String(), std::move(e));
        return Status::Ok();
      },
      [now](storage::Statement& q) { q.BindInt64(1, ToNanos(now)); });
  if (!s.ok()) return s;
  MutexLock l(mu_);
  entries_ = std::move(loaded);
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
  if (db_) {
    db_->Write([key, f = Pack(e.firing), r = Pack(e.resolved), logged = ToNanos(e.logged_at),
                exp = ToNanos(e.expires_at)](StateDb::Conn& c) -> Status {
      // An upsert updates the row in place (INSERT OR REPLACE deletes and re-inserts it).
      static const std::string kSql =
          "INSERT INTO nflog (group_key, receiver, integration, idx, firing, resolved, "
          "logged_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (group_key, receiver, integration, idx) DO UPDATE SET "
          "firing = excluded.firing, resolved = excluded.resolved, "
          "logged_at = excluded.logged_at, expires_at = excluded.expires_at";
      auto st = c.Stmt(kSql);
      if (!st.ok()) return st.status();
      auto* s = *st;
      s->BindText(1, key.group_key);
      s->BindText(2, key.receiver);
      s->BindText(3, key.integration);
      s->BindInt64(4, key.index);
      s->BindBlob(5, f);
      s->BindBlob(6, r);
      s->BindInt64(7, logged);
      s->BindInt64(8, exp);
      return s->Run();
    });
  }
  MutexLock l(mu_);
  entries_[key.String()] = std::move(e);
}

void NotificationLog::CollectGarbage(Time now) {
  {
    MutexLock l(mu_);
    std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  }
  if (!db_) return;
  db_->Write([n = ToNanos(now)](StateDb::Conn& c) -> Status {
    auto st = c.Stmt("DELETE FROM nflog WHERE expires_at <= ?");
    if (!st.ok()) return st.status();
    (*st)->BindInt64(1, n);
    return (*st)->Run();
  });
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
