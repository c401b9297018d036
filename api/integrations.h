// Callbacks from the services people are paged through, so that an acknowledgement made where
// a person was paged reaches alertd and stops the escalation (api/integrations.cc):
//   POST /api/v1/integrations/pagerduty  PagerDuty v3 webhooks (incident.acknowledged,
//        incident.unacknowledged, incident.resolved), signed with X-PagerDuty-Signature
//   POST /api/v1/integrations/slack      Slack interactivity (the Acknowledge button that
//        slack_configs[].ack_button adds), signed with X-Slack-Signature
// Both name the aggregation group by its dedup key (notifiers::GroupKeyHash) and act through
// router::GroupAckService. They are authenticated by their signatures, not by bearer tokens.
//
// This header holds the parts with a contract of their own: the two signature checks (written
// as the vendors document them) and the replay guard. All are thread-safe; the functions are
// pure.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/time.h"

namespace alertd::api {

// HMAC-SHA256 of `data` keyed with `key`, as lower-case hex.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// PagerDuty (developer docs, "Verifying Signatures"): `header` is the X-PagerDuty-Signature
// value, one or more comma-separated signatures (several while a secret rotates); true when
// one of the `v1=<hex>` ones is HMAC-SHA256(secret, body) in Base16. Other versions are
// skipped. Comparisons take constant time. An empty secret never verifies.
bool VerifyPagerDutySignature(std::string_view secret, std::string_view body,
                              std::string_view header);

// Slack ("Verifying requests from Slack"): `signature` is X-Slack-Signature,
// "v0=" + hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body), with `timestamp`
// the X-Slack-Request-Timestamp header (Unix seconds). A timestamp further than `window`
// from `now`, either way, is refused as a possible replay whatever the signature.
enum class SlackVerdict { kOk, kMissing, kStale, kBadSignature };
SlackVerdict VerifySlackSignature(std::string_view secret, std::string_view timestamp,
                                  std::string_view body, std::string_view signature, Time now,
                                  Duration window = std::chrono::minutes(5));
const char* SlackVerdictName(SlackVerdict v);  // "ok", "missing", "stale", "bad signature"

// Ids seen recently (PagerDuty event ids, Slack request signatures), to refuse a delivery
// seen before. Keeps each id for `keep`, and at most `max_ids` (the oldest go first).
// Thread-safe.
class ReplayGuard {
 public:
  ReplayGuard(Duration keep, size_t max_ids) : keep_(keep), max_ids_(max_ids) {}
  // Records `id` as seen at `now`. False when it was already seen within `keep`: a replay.
  bool FirstSeen(const std::string& id, Time now);
  // Forgets `id`, so that a retry of a delivery that failed inside alertd is processed.
  void Forget(const std::string& id);
  size_t size() const;

 private:
  const Duration keep_;
  const size_t max_ids_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Time> seen_;    // GUARDED_BY(mu_); id -> when seen
  std::deque<std::pair<Time, std::string>> order_;  // GUARDED_BY(mu_); oldest first
};

}  // namespace alertd::api
