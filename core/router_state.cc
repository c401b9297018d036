#include "core/router_state.h"

#include <algorithm>

namespace alertd {
namespace {

bool Subset(const std::vector<uint64_t>& set, const std::vector<uint64_t>& subset) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

}  // namespace

bool NflogEntry::IsFiringSubset(const std::vector<uint64_t>& subset) const {
  return Subset(firing, subset);
}
bool NflogEntry::IsResolvedSubset(const std::vector<uint64_t>& subset) const {
  return Subset(resolved, subset);
}

bool Ack::Covers(const Alert& alert, Time now) const {
  if (ended() || alert.Fingerprint() != fingerprint) return false;
  if (alert.ResolvedAt(now)) return false;
  if (!IsZero(expires_at) && now >= expires_at) return false;
  return alert.starts_at <= std::max(starts_at, at);
}

}  // namespace alertd
