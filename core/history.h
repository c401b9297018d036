// What happened and what did not: every delivery attempt (NotificationRecord) and every change
// in an alert's life (AlertEvent), kept for `storage.history_retention` and served by
// GET /api/v1/notifications and GET /api/v1/alerts/{fingerprint}/history. The HistoryStore
// follows the contract of core/router_state.h (asynchronous writes in queue order, loads that
// see every write queued before them); storage/ implements it on SQLite and PostgreSQL,
// storage/history.h records into it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/router_state.h"
#include "core/time.h"

namespace alertd {

// An alert a notification carried, and whether as firing or as resolved.
struct NotifiedAlert {
  uint64_t fingerprint = 0;
  bool firing = true;
  bool operator==(const NotifiedAlert&) const = default;
};

// One delivery attempt to one integration of a receiver.
struct NotificationRecord {
  int64_t id = 0;            // given by the store: later attempts have higher ids
  Time at = kZeroTime;       // when the attempt started
  std::string receiver;
  std::string integration;   // "webhook", "slack", ...
  int index = 0;             // the integration's index in the receiver
  std::string group_key;
  std::string kind;          // "alerts", "acknowledge" (alertd's ack events) or "step" (escalation)
  std::string reason;        // notification_reason ("first notification", ...)
  std::vector<NotifiedAlert> alerts;  // sorted by fingerprint
  std::string outcome;       // "sent", "failed" (retried) or "gave_up"
  int attempt = 1;           // 1 for the first attempt of a flush
  int64_t code = 0;          // the peer's HTTP status or SMTP reply code; 0: none
  std::string error;         // the error's text (integrations never put secrets in it)
  Duration latency = Duration::zero();

  bool operator==(const NotificationRecord&) const = default;
};

// Which records QueryNotifications returns: each set field must match. Newest first.
struct NotificationQuery {
  std::string receiver;
  std::string integration;
  std::string group_key;
  std::string outcome;
  std::optional<uint64_t> fingerprint;  // carried this alert
  Time since = kZeroTime;               // at >= since (zero: no bound)
  Time until = kZeroTime;               // at < until (zero: no bound)
  int64_t before_id = 0;                // id < before_id (0: no bound): the cursor
  size_t limit = 100;
};

// One thing that happened to an alert. `kind` and what the other fields hold:
//   received      first seen; ref: where from ("rule", "api", "webhook", "heartbeat")
//   refired       firing again after it resolved (a new incident); ref: where from
//   resolved      resolved by its sender (endsAt); ref: where from
//   silenced      ref: the silence's id; by: its creator; text: its comment
//   unsilenced    ref: the silence's id
//   inhibited     ref: the inhibiting alert's fingerprint (16 hex digits)
//   uninhibited   ref: that fingerprint
//   acknowledged  ref: the ack's id; by: who; text: the comment
//   ack_ended     ref: the ack's id; text: why ("resolved", "expired", "deleted", "replaced")
//   escalated     ref: the policy; text: "step N: receiver, ..."; by: the group key
struct AlertEvent {
  int64_t id = 0;  // given by the store
  uint64_t fingerprint = 0;
  Time at = kZeroTime;
  std::string kind;
  std::string ref;
  std::string by;
  std::string text;

  bool operator==(const AlertEvent&) const = default;
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  virtual void AppendNotification(NotificationRecord rec, StoreDone done = nullptr) = 0;
  virtual void AppendAlertEvents(std::vector<AlertEvent> events, StoreDone done = nullptr) = 0;
  // The records that match `q`, newest (highest id) first, at most q.limit.
  virtual Result<std::vector<NotificationRecord>> QueryNotifications(
      const NotificationQuery& q) = 0;
  // The alert's events in the order they happened (by at, then id), at most `limit` of the
  // latest.
  virtual Result<std::vector<AlertEvent>> LoadAlertEvents(uint64_t fingerprint,
                                                          size_t limit) = 0;
  // Deletes every record and event from before `before`.
  virtual void PruneHistory(Time before, StoreDone done = nullptr) = 0;
};

}  // namespace alertd
