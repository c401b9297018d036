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

// How a restart restores `for` (Prometheus's Group.RestoreForState, 2.42).
struct RestoreParams {
  Time now = kZeroTime;        // the restore time (Prometheus: its first evaluation after start)
  // The group's last evaluation before the restart (Prometheus: the last ALERTS_FOR_STATE
  // sample); kZeroTime when unknown (state written before alertd recorded it): the records
  // are then restored exactly as they are.
  Time down_at = kZeroTime;
  Duration for_grace_period{0};      // evaluation.for_grace_period
  Duration for_outage_tolerance{0};  // evaluation.for_outage_tolerance
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
  // The rule's load-time warnings (config::Rule::warnings, e.g. a PromQL function alertd's
  // parser does not know, sent to the datasource as written), then the `warnings` (and
  // `infos`) of the datasource's answer at the last evaluation that got one, e.g. Thanos's
  // partial response warnings.
  std::vector<std::string> warnings;
  Duration evaluation_time{0};
  Time last_evaluation = kZeroTime;
};

// Keeps `warnings`, the warnings of a rule's latest datasource answer, in `*dst` (under
// `*mu`) for /api/v1/rules, and logs each of them when they differ from the previous
// answer's (a warning that persists is logged once, when it appears).
void SetRuleWarnings(std::string_view rule, std::vector<std::string> warnings, std::mutex* mu,
                     std::vector<std::string>* dst);

// Go's strconv.FormatFloat(v, 'e', -1, 64): "9.5e+01", "0e+00", "NaN", "+Inf".
std::string FormatFloatE(double v);

// Prometheus's generatorURL: <external_url>/graph?g0.expr=<QueryEscape(expr)>&g0.tab=1
// (core/encoding.h).
std::string GeneratorURL(std::string_view external_url, std::string_view expr);

class AlertingRule {
 public:
  // Builds the rule; fails when a label or annotation template does not parse (the config
  // loader has checked that already, so this is a safety net). The expression is normalised
  // with the PromQL parser for `query` and generatorURL; the original text is what gets sent
  // to the datasource. `index` numbers the rules of the same identity() within the group (0
  // for the first), `name_index` those of the same name (-1: `index`), for the rule keys.
  static Result<std::unique_ptr<AlertingRule>> Create(const config::Rule& rule, int index = 0,
                                                      int name_index = -1);

  std::string_view name() const { return std::string_view(text_).substr(0, name_len_); }
  // Prometheus's nameAndLabels: the name followed by the rule's label set,
  // `HighLatency{severity="page"}`. What a rule is across reloads: two rules with the same
  // identity are the same rule wherever they are in the file.
  std::string identity() const;
  // "<identity>#<index>": identifies the rule across reloads and restarts, duplicates in
  // order.
  std::string rule_key() const;
  // "<name>#<n-th of that name>", the key alertd persisted before rule keys held the labels;
  // Restore falls back to records under it.
  std::string legacy_rule_key() const;
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
  // Puts restored alerts back (before the first evaluation) as Prometheus 2.42's
  // RestoreForState computes them: when the group was down longer than
  // for_outage_tolerance, pending and firing alerts are dropped (their `for` starts over at
  // the next evaluation); a rule whose `for` is shorter than for_grace_period drops its
  // pending alerts (their `for` starts over, never longer than the grace period); otherwise
  // a pending alert's activeAt moves forward by the downtime, or to fire for_grace_period
  // after `now` when less than that was left. Unlike 2.42, firing alerts stay firing with
  // their activeAt, firedAt and keep_firing_for state (2.42 turns those of a rule with `for`
  // under the grace period back to pending, which resolves them). Resolved alerts are
  // restored as they are, to be re-sent. Marks the rule dirty when something changed.
  void Restore(const std::vector<RuleAlertRecord>& records, const RestoreParams& params);
  // Forgets every alert (a replica taking the rule's group over reads them back from the
  // store).
  void ClearAlerts();
  // Takes over the alerts, health and last good evaluation of the same rule from before a
  // reload (Prometheus's copyState).
  void CopyStateFrom(AlertingRule& old);
  // True while the rule has alerts (pending, firing, or resolved and still re-sent).
  bool has_alerts() const;
  // True when the last successful evaluation is at most `tolerance` before `ts`: during a
  // datasource outage the rule's firing alerts keep being re-sent until then.
  bool WithinOutageTolerance(Time ts, Duration tolerance) const;

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
  int index_ = 0;       // among the group's rules of the same identity
  int name_index_ = 0;  // among the group's rules of the same name
  Duration for_{0};
  Duration keep_firing_for_{0};
  LabelSet labels_;       // template texts
  LabelSet annotations_;  // template texts
  std::vector<std::string> load_warnings_;  // from the config; immutable

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
  std::vector<std::string> warnings_;         // GUARDED_BY(mu_)
  Time last_good_ts_ = kZeroTime;             // GUARDED_BY(mu_): last successful evaluation
};


}  // namespace alertd::rules_engine
