// The alert model shared by every module: what Alertmanager calls types.Alert. An alert's
// identity is its label set (fingerprint); everything else is state that merges.
// Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "core/labels.h"
#include "core/time.h"

namespace alertd {

enum class AlertStatus { kFiring, kResolved };
inline std::string_view AlertStatusString(AlertStatus s) {
  return s == AlertStatus::kFiring ? "firing" : "resolved";
}

struct Alert {
  LabelSet labels;
  LabelSet annotations;  // same sorted name/value shape as labels; names not validated
  Time starts_at = kZeroTime;
  Time ends_at = kZeroTime;    // kZeroTime: not set
  Time updated_at = kZeroTime;
  std::string generator_url;
  // True when ends_at was not sent and was set to now + resolve_timeout by the receiver.
  bool timeout = false;

  uint64_t Fingerprint() const { return labels.Fingerprint(); }
  // Resolved once ends_at is set and not after `now`.
  bool ResolvedAt(Time now) const { return !IsZero(ends_at) && ends_at <= now; }
  AlertStatus StatusAt(Time now) const {
    return ResolvedAt(now) ? AlertStatus::kResolved : AlertStatus::kFiring;
  }

  bool operator==(const Alert&) const = default;
};

// Alertmanager's ingestion rule for an alert whose fingerprint is already stored
// (provider/mem Put + alert.Merge): when the incoming alert's activity range overlaps the
// stored one, the two merge (the newer update wins, the earliest startsAt is kept, a later
// non-timeout endsAt wins); otherwise the incoming alert replaces the stored one (a new
// incident). `now` decides what counts as resolved.
Alert MergeAlert(const Alert& stored, const Alert& incoming, Time now);
// Same, moving from `incoming` instead of copying it when it wins (the ingestion path).
Alert MergeAlert(const Alert& stored, Alert&& incoming, Time now);

}  // namespace alertd
