// Where the rule engine keeps the state of its alerting rules across restarts: every active
// alert (pending, firing, or resolved and still being re-sent) with its activeAt, firedAt,
// keep_firing_for and last-sent times. It does the job of Prometheus's ALERTS_FOR_STATE series
// without its gaps (keep_firing_for and the last send are kept too), so a restart neither
// restarts `for` timers nor notifies twice. storage/ implements it over SQLite; the rule
// engine only sees this interface.
//
// Implementations are thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd {

// Where one alert of an alerting rule stands (Prometheus's rules.AlertState) and the times of
// its state machine: what the rule engine keeps for each alert, and what is persisted.
struct RuleAlertStatus {
  enum class State { kInactive = 0, kPending = 1, kFiring = 2 };

  State state = State::kPending;
  double value = 0;
  Time active_at = kZeroTime;
  Time fired_at = kZeroTime;
  Time resolved_at = kZeroTime;
  Time last_sent_at = kZeroTime;
  Time valid_until = kZeroTime;
  Time keep_firing_since = kZeroTime;

  bool operator==(const RuleAlertStatus&) const = default;
};

// One alert of one alerting rule, as stored.
struct RuleAlertRecord : RuleAlertStatus {
  std::string group_key;  // the rule group: "<file>;<group name>" (Prometheus's GroupKey)
  std::string rule_key;   // the rule within its group: "<alert name>#<n-th of that name>"
  LabelSet labels;        // the alert's labels (identity within the rule)
  LabelSet annotations;

  bool operator==(const RuleAlertRecord&) const = default;
};

class RuleStateStore {
 public:
  virtual ~RuleStateStore() = default;
  // Every stored record.
  virtual Result<std::vector<RuleAlertRecord>> LoadAll() = 0;
  // The records of one group (a replica taking the group over reads what its previous owner
  // left).
  virtual Result<std::vector<RuleAlertRecord>> LoadGroup(const std::string& group_key) = 0;
  // Replaces every record of `group_key` with `records` (all of which carry that group key)
  // in one transaction. Durable when it returns OK.
  virtual Status ReplaceGroup(const std::string& group_key,
                              const std::vector<RuleAlertRecord>& records) = 0;
  // Deletes the records of every group not named in `keep` (groups removed from the rule
  // files), their evaluation times included.
  virtual Status RetainGroups(const std::vector<std::string>& keep) = 0;

  // Records that `group_key` was last evaluated at `ts` (the evaluation timestamp), what
  // Prometheus learns from the timestamp of the last ALERTS_FOR_STATE sample: restoring `for`
  // after a restart needs to know how long the rule engine was down. Kept apart from the
  // records: ReplaceGroup leaves it as it is. Durable when it returns OK.
  virtual Status SetGroupEvaluated(const std::string& group_key, Time ts) = 0;
  // The last evaluation time of every group that has one.
  virtual Result<std::map<std::string, Time>> LoadGroupEvaluations() = 0;
};

}  // namespace alertd
