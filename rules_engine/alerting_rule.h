// One Prometheus alerting rule and its alerts, with Prometheus's exact state machine
// (rules/alerting.go, 2.42 plus COMPAT.md section 8): evaluation of the expression at the
// group's timestamp, label and annotation templating, inactive → pending → firing with `for`,
// `keep_firing_for`, resolved alerts kept 15 minutes and re-sent, `limit`, duplicate label
// sets, and query errors that leave every alert exactly as it was.
//
// Thread-safety: Eval, CollectAlertsToSend, Restore and ExportRecords are called by the one
// group evaluation that owns the rule (never concurrently); Snapshot and the health accessors
// may be called from any thread at any time (internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "core/result.h"
#include "core/rule_state_store.h"
#include "core/sample_sink.h"
#include "rules_engine/query_client.h"
#include "templating/rule_template.h"

namespace alertd::rules_engine {

// Resolved alerts stay in memory (and keep being sent as resolved) this long (Prometheus's
// resolvedRetention).
inline constexpr Duration kResolvedRetention = std::chrono::minutes(15);

using AlertState = RuleAlertStatus::State;
std::string_view AlertStateString(AlertState s);  // "inactive" | "pending" | "firing"

enum class RuleHealth { kUnknown, kGood, kBad };
std::string_view RuleHealthString(RuleHealth h);  // "unknown" | "ok" | "err"

// Prometheus's rules.Alert. (The rule keeps its alerts keyed by label set and fills `labels`
// in only in copies it hands out, so each alert holds its labels once.)
struct RuleAlert : RuleAlertStatus {
  LabelSet labels;
  LabelSet annotations;
};

// What a rule evaluation needs from its group and the daemon.
struct EvalContext {
  QueryClient* query = nullptr;  // required
  std::map<std::string, std::string> external_labels;  // $externalLabels
  std::string external_url;                             // $externalURL and generatorURL
  int limit = 0;                                        // the group's limit; 0: none
  Duration query_offset{0};                             // the group's query_offset
};

// Pending and firing alerts counted (for /metrics) without copying them.
struct AlertCounts {
  size_t pending = 0;
  size_t firing = 0;
};

// How a rule looks in /api/v1/rules, copied under the rule's lock.
struct RuleSnapshot {
  bool alerting = true;
  std::string name;
  std::string query;  // normalised expression (PromQL String())
  Duration for_{0};
  Duration keep_firing_for{0};
  LabelSet labels;       // the rule's (template) labels
  LabelSet annotations;  // the rule's (template) annotations
  std::vector<RuleAlert> alerts;  // active alerts only (pending and firing)
  AlertState state = AlertState::kInactive;  // the most severe alert state
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  // Load-time warnings of the rule (config::Rule::warnings), e.g. a PromQL function alertd's
  // parser does not know, sent to the datasource as written.
  std::vector<std::string> warnings;
  Duration evaluation_time{0};
  Time last_evaluation = kZeroTime;
};

// Go's strconv.FormatFloat(v, 'e', -1, 64): "9.5e+01", "0e+00", "NaN", "+Inf".
std::string FormatFloatE(double v);

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s);

// Prometheus's generatorURL: <external_url>/graph?g0.expr=<QueryEscape(expr)>&g0.tab=1.
std::string GeneratorURL(std::string_view external_url, std::string_view expr);

class AlertingRule {
 public:
  // Builds the rule; fails when a label or annotation template does not parse (the config
  // loader has checked that already, so this is a safety net). The expression is normalised
  // with the PromQL parser for `query` and generatorURL; the original text is what gets sent
  // to the datasource. `index` numbers the rules of the same name within the group (0 for
  // the first), for rule_key().
  static Result<std::unique_ptr<AlertingRule>> Create(const config::Rule& rule, int index = 0);

  std::string_view name() const { return std::string_view(text_).substr(0, name_len_); }
  // "<name>#<index>": identifies the rule within its group across reloads and restarts.
  std::string rule_key() const;
  std::string_view expr() const { return std::string_view(text_).substr(name_len_, expr_len_); }
  // The normalised expression (the expression itself when normalising changes nothing).
  std::string_view query() const {
    return text_.size() == name_len_ + expr_len_
               ? expr()
               : std::string_view(text_).substr(name_len_ + expr_len_);
  }
  Duration hold_duration() const { return for_; }

  // Evaluates the rule at `ts` and advances the state machine. On error (query failed,
  // non-vector result, duplicate label sets, limit exceeded) the rule becomes unhealthy with
  // that error; except for the limit (which drops every alert, as Prometheus does) the alerts
  // are left untouched. Records evaluation_time and last_evaluation (`wall_start`).
  Status Eval(Time ts, const EvalContext& ctx, Time wall_start);

  // The alerts Prometheus would send at `ts` (never pending ones; resolved ones since the last
  // send; the rest once `resend_delay` has passed since their last send), marking them sent
  // and giving firing ones endsAt = ts + 4 * max(group_interval, resend_delay). The alerts
  // carry `external_labels` where absent, generatorURL, startsAt = firedAt, updatedAt = now.
  std::vector<Alert> CollectAlertsToSend(Time ts, Time now, Duration resend_delay,
                                         Duration group_interval, const LabelSet& external_labels,
                                         const std::string& external_url);

  // True when something worth persisting changed since the last ExportRecords (a new alert,
  // a state change, a send, keep_firing_for state); value and annotation refreshes are not.
  bool dirty() const { return dirty_; }
  // The alerts as persistent records (clears dirty).
  std::vector<RuleAlertRecord> ExportRecords(const std::string& group_key);
  // Puts restored alerts back (before the first evaluation). Pending alerts keep their
  // activeAt, so `for` continues on its original schedule.
  void Restore(const std::vector<RuleAlertRecord>& records);
  // Takes over the alerts of the same rule from before a reload (Prometheus copyState).
  void CopyStateFrom(AlertingRule& old);

  // Appends the ALERTS{alertstate} = 1 and ALERTS_FOR_STATE = activeAt (Unix seconds) samples
  // of every pending and firing alert at `ts`, as Prometheus 2.42's AlertingRule.Eval returns
  // them (labels: the rule's label texts, overridden by the alert's labels, then __name__,
  // alertname and alertstate). Call after a successful Eval.
  void AppendAlertSeries(Time ts, std::vector<Sample>* out) const;

  RuleSnapshot Snapshot() const;
  // Adds this rule's pending and firing alerts to `counts`.
  void CountAlerts(AlertCounts* counts) const;
  RuleHealth health() const;
  std::string last_error() const;

 private:
  AlertingRule() = default;
  void SetResult(const Status& st, Time wall_start, Duration took);

  // Only the template texts are kept: they are compiled when an evaluation has alerts to
  // expand, once per evaluation, as Prometheus compiles them at each expansion. A compiled
  // template takes about 3 KB (its parse tree, with the $labels/$value prelude), which for
  // thousands of rules would outweigh everything else the rule engine holds, while compiling
  // costs a few microseconds per rule and cycle.
  // The name, the expression as written and the normalised one (only when it differs), one
  // after the other in one string: one allocation a rule instead of three strings' worth.
  std::string text_;
  uint32_t name_len_ = 0;
  uint32_t expr_len_ = 0;
  int index_ = 0;      // among the group's rules of the same name
  Duration for_{0};
  Duration keep_firing_for_{0};
  LabelSet labels_;       // template texts
  LabelSet annotations_;  // template texts
  std::vector<std::string> warnings_;  // from the config; immutable

  bool dirty_ = false;  // evaluation thread only

  // An alert as the rule keeps it: RuleAlert without its labels, which are the map's key.
  struct StoredAlert : RuleAlertStatus {
    LabelSet annotations;
  };
  static RuleAlert Unpack(const LabelSet& labels, const StoredAlert& a);

  mutable std::mutex mu_;
  std::map<LabelSet, StoredAlert> active_;  // GUARDED_BY(mu_) for writers vs Snapshot
  RuleHealth health_ = RuleHealth::kUnknown;  // GUARDED_BY(mu_)
  std::string last_error_;                    // GUARDED_BY(mu_)
  Duration evaluation_time_{0};               // GUARDED_BY(mu_)
  Time last_evaluation_ = kZeroTime;          // GUARDED_BY(mu_)
};


}  // namespace alertd::rules_engine
