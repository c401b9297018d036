// One Prometheus recording rule (rules/recording.go, 2.42): the expression evaluated at the
// group's timestamp, each resulting sample renamed to `record` with the rule's labels set
// (an empty label value removes the label), label sets that collide after that refused, and
// the group's `limit`. The samples go to the group's SampleSink (remote write); alertd keeps
// no time series itself.
//
// Thread-safety: Eval is called by the one group evaluation that owns the rule; Snapshot may
// be called from any thread at any time (internal mutex).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/sample_sink.h"
#include "rules_engine/alerting_rule.h"

namespace alertd::rules_engine {

// The health error of recording rules when no `remote_write` is configured.
inline constexpr const char* kNoRemoteWriteError =
    "recording rule not evaluated: no remote_write is configured, its results would have "
    "nowhere to go";

// The series one rule wrote at its previous successful evaluation, for the staleness markers
// Prometheus's group evaluation writes (seriesInPreviousEval): a series gone since gets a
// StaleNaN sample at the new evaluation's timestamp.
class StaleSeries {
 public:
  // The samples out[from..] are this evaluation's: appends a StaleNaN at `ts` for each series
  // of the previous evaluation not among them, and remembers these.
  void Update(Time ts, std::vector<Sample>* out, size_t from);

 private:
  std::set<LabelSet> previous_;
};

class RecordingRule {
 public:
  static std::unique_ptr<RecordingRule> Create(const config::Rule& rule);

  const std::string& name() const { return name_; }
  // The name followed by the rule's labels, as AlertingRule::identity().
  std::string identity() const { return name_ + labels_.String(); }
  // Takes over health and the series of the previous evaluation (for staleness markers) of
  // the same rule before a reload, as Prometheus's CopyState does.
  void CopyStateFrom(RecordingRule& old);

  // Evaluates the rule at `ts` and appends its samples (timestamp `ts`) to `out`, plus a
  // staleness marker for every series of the previous successful evaluation that is gone. On
  // error (query failed, non-vector result, duplicate label sets, limit exceeded) nothing is
  // appended and the rule becomes unhealthy with that error.
  Status Eval(Time ts, const EvalContext& ctx, Time wall_start, std::vector<Sample>* out);

  // Marks the rule unhealthy with `error` without evaluating it (no remote_write).
  void SetNotEvaluated(const std::string& error);

  RuleSnapshot Snapshot() const;

 private:
  RecordingRule() = default;
  void SetResult(const Status& st, Time wall_start, Duration took);

  std::string name_;
  std::string expr_;   // as written; sent to the datasource
  std::string query_;  // normalised
  LabelSet labels_;
  std::vector<std::string> load_warnings_;  // from the config; immutable
  StaleSeries stale_;  // eval thread only

  mutable std::mutex mu_;
  RuleHealth health_ = RuleHealth::kUnknown;  // GUARDED_BY(mu_)
  std::string last_error_;                    // GUARDED_BY(mu_)
  Duration evaluation_time_{0};               // GUARDED_BY(mu_)
  Time last_evaluation_ = kZeroTime;          // GUARDED_BY(mu_)
  std::vector<std::string> warnings_;         // GUARDED_BY(mu_)
};

}  // namespace alertd::rules_engine
