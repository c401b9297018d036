// Acknowledgements of a whole aggregation group, named the way the services people are paged
// through name it: by its dedup key, the lower-case hex SHA-256 of the group key that alertd
// sends as PagerDuty's dedup_key and puts in Slack's Acknowledge button
// (notifiers::GroupKeyHash). The callbacks of those services (api/integrations.cc) call this
// when someone acknowledges, un-acknowledges or resolves there. Implemented by the Router.
//
// Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "router/acks.h"

namespace alertd::router {

struct GroupAckOutcome {
  std::string group_key;  // the raw group key the dedup key named
  std::vector<Ack> acks;  // the acks made (Acknowledge) or ended (Unacknowledge)
  int escalations_ended = 0;  // EndEscalation: running escalations it ended
};

class GroupAckService {
 public:
  virtual ~GroupAckService() = default;
  // Acknowledges every firing alert of the group(s) with this dedup key that no current ack
  // covers (an alert someone already acknowledged keeps that ack and its `by`). Receivers get
  // the acknowledge event as for any ack. Errors: NotFound (no group has this dedup key),
  // Internal (not persisted; nothing changed).
  virtual Result<GroupAckOutcome> AcknowledgeGroup(std::string_view dedup_key,
                                                   const AckRequest& req) = 0;
  // Takes back the current acks of the group's firing alerts (end reason "deleted"); the
  // escalation goes on, a step whose time passed fires at once. NotFound as above.
  virtual Result<GroupAckOutcome> UnacknowledgeGroup(std::string_view dedup_key) = 0;
  // Ends the group's escalation: no further step fires for it until every alert of the group
  // has resolved (a re-fire after that starts a new escalation); receivers a step notified
  // still get the resolves. Alerts are not touched. `reason` is logged. NotFound as above.
  virtual Result<GroupAckOutcome> EndEscalation(std::string_view dedup_key,
                                                std::string_view reason) = 0;
};

}  // namespace alertd::router
