#include "router/silences.h"

#include <fmt/format.h>

#include <random>
#include <set>

namespace alertd::router {
namespace {

bool MatchesEmpty(const Matcher& m) { return m.Matches(std::string_view()); }

}  // namespace

std::string_view SilenceStateString(SilenceState s) {
  switch (s) {
    case SilenceState::kExpired:
      return "expired";
    case SilenceState::kActive:
      return "active";
    case SilenceState::kPending:
      return "pending";
  }
  return "expired";
}

SilenceState StateOf(const Silence& s, Time now) {
  if (now < s.starts_at) return SilenceState::kPending;
  if (now < s.ends_at) return SilenceState::kActive;
  return SilenceState::kExpired;
}

Status ValidateSilence(const Silence& s) {
  if (s.matchers.empty()) return Status::InvalidArgument("at least one matcher required");
  bool all_match_empty = true;
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    if (!IsValidLabelName(s.matchers[i].name())) {
      return Status::InvalidArgument(fmt::format("invalid label matcher {}: invalid label name {}",
                                                 i, GoQuote(s.matchers[i].name())));
    }
    all_match_empty = all_match_empty && MatchesEmpty(s.matchers[i]);
  }
  if (all_match_empty) {
    return Status::InvalidArgument("at least one matcher must not match the empty string");
  }
  if (IsZero(s.starts_at)) return Status::InvalidArgument("invalid zero start timestamp");
  if (IsZero(s.ends_at)) return Status::InvalidArgument("invalid zero end timestamp");
  if (s.ends_at < s.starts_at)
    return Status::InvalidArgument("end time must not be before start time");
  return Status::Ok();
}

Status Silences::Load() {
  if (!store_) return Status::Ok();
  auto rows = store_->LoadSilences();
  if (!rows.ok()) return rows.status();
  std::map<std::string, Silence> loaded;
  for (auto& sil : *rows) loaded.emplace(sil.id, std::move(sil));
  MutexLock l(mu_);
  by_id_ = std::move(loaded);
  return Status::Ok();
}

Status Silences::Persist(std::vector<Silence> rows) {
  if (!store_) return Status::Ok();
  return AwaitStore([&](StoreDone done) { store_->PutSilences(std::move(rows), std::move(done)); });
}

std::string Silences::NewId() {
  // A random (version 4) UUID as Alertmanager's silence IDs are. Sixteen random bytes and two
  // fixed nibbles: not worth a dependency on libuuid.
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

Result<std::string> Silences::Set(Silence sil) {
  // Changes are serialized by write_mu_ and committed without mu_, so matching (every flush)
  // never waits behind a disk write.
  MutexLock w(write_mu_);
  // Millisecond precision, the API's: a silence read back from GET and posted again with the
  // same startsAt counts as unchanged (Alertmanager 0.25 keeps the id then too).
  const Time now = std::chrono::floor<std::chrono::milliseconds>(clock_->Now());
  std::optional<Silence> prev;
  if (!sil.id.empty()) {
    MutexLock l(mu_);
    auto it = by_id_.find(sil.id);
    if (it == by_id_.end()) return Status::NotFound("silence not found");
    prev = it->second;
  }
  if (prev) {
    bool can_update = prev->matchers == sil.matchers;
    if (can_update) {
      switch (StateOf(*prev, now)) {
        case SilenceState::kActive:
          can_update = sil.starts_at == prev->starts_at && !(sil.ends_at < now);
          break;
        case SilenceState::kPending:
          can_update = !(sil.starts_at < now);
          break;
        case SilenceState::kExpired:
          can_update = false;
          break;
      }
    }
    if (can_update) {
      sil.updated_at = now;
      if (Status v = ValidateSilence(sil); !v.ok()) return v.WithPrefix("silence invalid");
      if (Status p = Persist({sil}); !p.ok()) return p;
      MutexLock l(mu_);
      by_id_[sil.id] = sil;
      return sil.id;
    }
  }
  Silence next = sil;
  next.id = NewId();
  if (next.starts_at < now) next.starts_at = now;
  next.updated_at = now;
  if (Status v = ValidateSilence(next); !v.ok()) return v.WithPrefix("silence invalid");
  std::vector<Silence> rows;
  if (prev && StateOf(*prev, now) != SilenceState::kExpired) {
    Silence old = *prev;
    if (StateOf(old, now) == SilenceState::kPending) old.starts_at = now;
    old.ends_at = now;
    old.updated_at = now;
    rows.push_back(std::move(old));
  }
  rows.push_back(next);
  // The old silence expires and the new one appears in one transaction.
  if (Status p = Persist(rows); !p.ok()) return p;
  MutexLock l(mu_);
  for (auto& r : rows) by_id_[r.id] = std::move(r);
  return next.id;
}

Status Silences::Expire(const std::string& id) {
  MutexLock w(write_mu_);
  const Time now = std::chrono::floor<std::chrono::milliseconds>(clock_->Now());
  Silence s;
  {
    MutexLock l(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return Status::NotFound("silence not found");
    s = it->second;
  }
  switch (StateOf(s, now)) {
    case SilenceState::kExpired:
      return Status::Ok();
    case SilenceState::kActive:
      s.ends_at = now;
      break;
    case SilenceState::kPending:
      s.starts_at = now;
      s.ends_at = now;
      break;
  }
  s.updated_at = now;
  if (Status p = Persist({s}); !p.ok()) return p;
  MutexLock l(mu_);
  by_id_[id] = std::move(s);
  return Status::Ok();
}

std::optional<Silence> Silences::Get(const std::string& id) const {
  MutexLock l(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<Silence> Silences::List() const {
  MutexLock l(mu_);
  std::vector<Silence> out;
  out.reserve(by_id_.size());
  for (const auto& [id, s] : by_id_) out.push_back(s);
  return out;
}

std::vector<std::string> Silences::Mutes(const LabelSet& labels, Time now) const {
  MutexLock l(mu_);
  std::vector<std::string> out;
  for (const auto& [id, s] : by_id_) {
    if (StateOf(s, now) != SilenceState::kActive) continue;
    if (MatchesAll(s.matchers, labels)) out.push_back(id);
  }
  return out;
}

void Silences::CollectGarbage(Duration retention) {
  std::vector<std::string> dead;
  {
    MutexLock l(mu_);
    const Time cutoff = clock_->Now() - retention;
    for (auto it = by_id_.begin(); it != by_id_.end();) {
      if (it->second.ends_at < cutoff) {
        dead.push_back(it->first);
        it = by_id_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!store_ || dead.empty()) return;
  store_->DeleteSilences(std::move(dead));
}

}  // namespace alertd::router

namespace alertd::router {

void Silences::ApplyLocked(std::vector<Silence>& rows) {
  for (auto& r : rows) {
    auto it = by_id_.find(r.id);
    if (it != by_id_.end() && (it->second.updated_at > r.updated_at || it->second == r)) continue;
    by_id_[r.id] = std::move(r);
  }
}

void Silences::ApplyCommitted(std::vector<Silence> rows) {
  // Not between a Set's commit and its update of memory: the row it committed must not be
  // overwritten by the older version Set started from.
  MutexLock w(write_mu_);
  MutexLock l(mu_);
  ApplyLocked(rows);
}

Status Silences::Resync(const std::function<Result<std::vector<Silence>>()>& load) {
  // With changes held back, every silence held was committed before `load` reads: one it
  // does not return was deleted.
  MutexLock w(write_mu_);
  auto rows = load();
  if (!rows.ok()) return rows.status();
  std::set<std::string> ids;
  for (const auto& r : *rows) ids.insert(r.id);
  MutexLock l(mu_);
  std::erase_if(by_id_, [&ids](const auto& kv) { return !ids.count(kv.first); });
  ApplyLocked(*rows);
  return Status::Ok();
}

}  // namespace alertd::router
