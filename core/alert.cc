#include "core/alert.h"

namespace alertd {
namespace {

// alert.Merge: `a` older, `o` younger by updated_at.
Alert MergeByUpdate(const Alert& a, const Alert& o, Time now) {
  if (o.updated_at < a.updated_at) return MergeByUpdate(o, a, now);
  Alert res = o;
  if (a.starts_at < o.starts_at) res.starts_at = a.starts_at;
  if (o.ResolvedAt(now)) {
    // The latest explicit resolve time wins if both are resolved.
    if (a.ResolvedAt(now) && a.ends_at > o.ends_at) res.ends_at = a.ends_at;
  } else if (a.ends_at > o.ends_at && !a.timeout) {
    // A non-timeout end time rules if it is the latest.
    res.ends_at = a.ends_at;
  }
  return res;
}

}  // namespace

Alert MergeAlert(const Alert& stored, const Alert& incoming, Time now) {
  const bool overlaps = (incoming.ends_at > stored.starts_at && incoming.ends_at < stored.ends_at) ||
                        (incoming.starts_at > stored.starts_at && incoming.starts_at < stored.ends_at);
  if (!overlaps) return incoming;
  return MergeByUpdate(stored, incoming, now);
}

}  // namespace alertd
