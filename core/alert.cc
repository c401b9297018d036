#include "core/alert.h"

namespace alertd {
namespace {

// alert.Merge with `a` older and `res` (already a copy of the younger one, by updated_at)
// receiving the merged fields.
void MergeInto(const Alert& a, Alert& res, Time now) {
  const Alert& o = res;
  if (a.starts_at < o.starts_at) res.starts_at = a.starts_at;
  if (o.ResolvedAt(now)) {
    // The latest explicit resolve time wins if both are resolved.
    if (a.ResolvedAt(now) && a.ends_at > o.ends_at) res.ends_at = a.ends_at;
  } else if (a.ends_at > o.ends_at && !a.timeout) {
    // A non-timeout end time rules if it is the latest.
    res.ends_at = a.ends_at;
  }
}

bool Overlaps(const Alert& stored, const Alert& incoming) {
  return (incoming.ends_at > stored.starts_at && incoming.ends_at < stored.ends_at) ||
         (incoming.starts_at > stored.starts_at && incoming.starts_at < stored.ends_at);
}

}  // namespace

Alert MergeAlert(const Alert& stored, const Alert& incoming, Time now) {
  return MergeAlert(stored, Alert(incoming), now);
}

Alert MergeAlert(const Alert& stored, Alert&& incoming, Time now) {
  if (!Overlaps(stored, incoming)) return std::move(incoming);
  if (incoming.updated_at < stored.updated_at) {
    Alert res = stored;
    MergeInto(incoming, res, now);
    return res;
  }
  Alert res = std::move(incoming);
  MergeInto(stored, res, now);
  return res;
}

}  // namespace alertd
