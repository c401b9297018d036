// A rule group as Prometheus runs it (rules/group.go): its rules in file order, evaluated
// together at one timestamp every `interval`, on slots offset within the interval by a hash
// of the group's name and file, so groups spread out over the interval the same way
// Prometheus spreads them (the same file path and name give the same slots as Prometheus).
//
// Thread-safety: Eval is called by one thread at a time (the manager never overlaps a group
// with itself); Snapshot and the metric accessors may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "core/alert_sink.h"
#include "core/clock.h"
#include "core/relabel.h"
#include "core/rule_state_store.h"
#include "core/sample_sink.h"
#include "rules_engine/alerting_rule.h"
#include "rules_engine/recording_rule.h"

namespace alertd::rules_engine {

// XXH64 with seed 0 (Prometheus hashes label sets with github.com/cespare/xxhash). Written
// here because it is 40 lines and the only use is choosing the same evaluation slots as
// Prometheus, not worth a new library dependency.
uint64_t XXHash64(std::string_view data);

// Prometheus's Group.hash(): xxhash of the label set {file=<file>, name=<name>} in its
// "name 0xFF value 0xFF" byte form.
uint64_t GroupHash(std::string_view file, std::string_view name);

// The latest evaluation slot at or before `now` (Prometheus's Group.EvalTimestamp).
Time EvalTimestamp(Time now, Duration interval, uint64_t hash);

// Everything a group evaluation talks to. Pointers must outlive the group's evaluations.
struct GroupDeps {
  QueryClient* query = nullptr;        // required
  AlertSink* sink = nullptr;           // where alerts go; may be null (nothing is sent)
  RuleStateStore* state = nullptr;     // may be null (state is not persisted)
  // Where recording rule results and ALERTS / ALERTS_FOR_STATE go (remote write). Null: no
  // remote_write is configured; recording rules are then not evaluated and report
  // kNoRemoteWriteError, and no ALERTS series are produced.
  SampleSink* samples = nullptr;
  const Clock* clock = nullptr;        // required: wall time for durations and updatedAt
  LabelSet external_labels;            // added to sent alerts when absent
  std::string external_url;            // generatorURL and $externalURL
  Duration resend_delay = std::chrono::minutes(1);
  // Applied to each alert sent, after external_labels, as Prometheus's notifier does: an
  // alert a step drops, or that is left without labels, is not sent.
  RelabelConfigs alert_relabel_configs;
  // Polled before each rule; once true the evaluation stops, leaving the rules not reached
  // as they were (the manager sets it when it stops or swaps groups, so neither waits for
  // the queries of a whole group against a hung datasource). Unset: never.
  std::function<bool()> abandon;
  // evaluation.for_outage_tolerance: while its queries fail, an alerting rule keeps
  // re-sending its firing alerts (fresh endsAt) for this long after its last successful
  // evaluation, so a datasource outage resolves nothing.
  Duration for_outage_tolerance = std::chrono::hours(1);
  // Waits between query retries (QueryRetryPolicy::sleep); false: stop retrying. Unset:
  // std::this_thread::sleep_for.
  std::function<bool(Duration)> retry_sleep;
};

struct GroupSnapshot {
  std::string name;
  std::string file;
  Duration interval{0};
  int limit = 0;
  Duration evaluation_time{0};
  Time last_evaluation = kZeroTime;
  std::vector<RuleSnapshot> rules;  // in file order; recording rules have alerting = false
};

// Counters and gauges of one group, as Prometheus names them (prometheus_rule_group_*).
struct GroupMetrics {
  uint64_t iterations = 0;          // prometheus_rule_group_iterations_total
  uint64_t iterations_missed = 0;   // prometheus_rule_group_iterations_missed_total
  uint64_t evaluations = 0;         // prometheus_rule_evaluations_total
  uint64_t evaluation_failures = 0; // prometheus_rule_evaluation_failures_total
  double last_duration_s = 0;       // prometheus_rule_group_last_duration_seconds
  double duration_sum_s = 0;        // prometheus_rule_group_duration_seconds_sum (this group)
  Time last_evaluation_ts = kZeroTime;  // prometheus_rule_group_last_evaluation_timestamp_seconds
  size_t rules = 0;                 // prometheus_rule_group_rules
  uint64_t query_retries = 0;       // alertd_rule_query_retries_total
};

class Group {
 public:
  // Builds the group's rules (see AlertingRule::Create). `default_interval` applies when the
  // group sets none.
  static Result<std::unique_ptr<Group>> Create(const config::RuleGroup& cfg,
                                               Duration default_interval);

  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  // Prometheus's GroupKey: "<file>;<name>".
  const std::string& key() const { return key_; }
  Duration interval() const { return interval_; }
  uint64_t hash() const { return hash_; }

  // Evaluates every rule in order at `ts` (up to deps.abandon), then hands the alerts due for
  // sending to the sink in one batch and persists the changed rule state. Rule errors are
  // recorded on the rules, not returned.
  void Eval(Time ts, const GroupDeps& deps);

  // Counts iterations skipped because the previous one overran.
  void AddMissed(uint64_t n);

  // Persisted alerts by rule key (RuleAlertRecord::rule_key).
  using RecordsByRule = std::map<std::string, std::vector<RuleAlertRecord>>;
  // Restores the alerts of `records` into the alerting rules that have none restored yet
  // (see AlertingRule::Restore), matching rule_key(), then with `legacy_keys` the key alertd
  // wrote before rule keys held the labels; the records used are removed from `records`.
  // Returns how many alerts were restored.
  size_t Restore(RecordsByRule* records, const RestoreParams& params, bool legacy_keys);
  // Takes over rule state from `old` (before a reload): rules matched by name and labels,
  // duplicates in order (Prometheus's CopyState), whatever their position. Only rules that
  // took no state yet take it, only rules of `old` that gave none yet give it, so a second
  // call with another old group fills in what the first left (a group renamed or moved to
  // another file). Returns how many rules took state.
  size_t CopyStateFrom(Group& old);
  // Takes over the counters of `old`, the same group (same key) before a reload.
  void CopyMetricsFrom(const Group& old);
  // Forgets which rules took and gave state (before a reload or a restore matches again).
  void ResetMatching();
  // Replicas: this node evaluates the group from now on (core/cluster.h). Its alerts are read
  // back from `store` as the previous owner left them, replacing what this node held, with
  // their `for` timers as they were (a takeover is not a restart: nothing is shifted).
  Status Adopt(RuleStateStore* store, Time now);
  // Replicas: another node evaluates the group from now on. Its alerts are forgotten here, so
  // this node's API does not show them going stale (the owner's state is in the store).
  // REQUIRES: no evaluation of the group is running.
  void Release();
  // Writes the alert state of every alerting rule to `store` now, replacing the group's.
  Status Persist(RuleStateStore* store);

  GroupSnapshot Snapshot() const;
  // Adds the pending and firing alerts of the group's alerting rules to `counts`.
  void CountAlerts(AlertCounts* counts) const;
  GroupMetrics Metrics() const;

 private:
  Group() = default;

  struct Entry {
    std::unique_ptr<AlertingRule> alerting;   // null for a recording rule
    std::unique_ptr<RecordingRule> recording;  // null for an alerting rule
    StaleSeries alert_series;                  // the ALERTS series of an alerting rule
    bool took_state = false;  // matching (CopyStateFrom, Restore): has state from elsewhere
    bool gave_state = false;  // matching (CopyStateFrom): its state went to another rule
  };

  std::string name_, file_, key_;
  Duration interval_{0};
  int limit_ = 0;
  Duration query_offset_{0};
  uint64_t hash_ = 0;
  std::vector<Entry> rules_;
  std::atomic<uint64_t> query_retries_{0};

  mutable std::mutex mu_;
  GroupMetrics metrics_;                // GUARDED_BY(mu_)
  Duration evaluation_time_{0};         // GUARDED_BY(mu_)
  Time last_evaluation_ = kZeroTime;    // GUARDED_BY(mu_)
};

}  // namespace alertd::rules_engine
