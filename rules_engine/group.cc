#include "rules_engine/group.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <deque>
#include <map>

#include "rules_engine/promql/ast.h"
#include "rules_engine/promql/parser.h"
#include "rules_engine/query_retry.h"

namespace alertd::rules_engine {
namespace {

constexpr uint64_t kP1 = 11400714785074694791ULL;
constexpr uint64_t kP2 = 14029467366897019727ULL;
constexpr uint64_t kP3 = 1609587929392839161ULL;
constexpr uint64_t kP4 = 9650029242287828579ULL;
constexpr uint64_t kP5 = 2870177450012600261ULL;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t Read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts only, as every platform alertd targets
  return v;
}
inline uint32_t Read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Round(uint64_t acc, uint64_t input) {
  acc += input * kP2;
  acc = Rotl(acc, 31);
  return acc * kP1;
}
inline uint64_t Merge(uint64_t acc, uint64_t val) {
  acc ^= Round(0, val);
  return acc * kP1 + kP4;
}

}  // namespace

uint64_t XXHash64(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const auto* end = p + data.size();
  uint64_t h;
  if (data.size() >= 32) {
    uint64_t v1 = kP1 + kP2, v2 = kP2, v3 = 0, v4 = 0 - kP1;
    const auto* limit = end - 32;
    do {
      v1 = Round(v1, Read64(p));
      v2 = Round(v2, Read64(p + 8));
      v3 = Round(v3, Read64(p + 16));
      v4 = Round(v4, Read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
    h = Merge(h, v1);
    h = Merge(h, v2);
    h = Merge(h, v3);
    h = Merge(h, v4);
  } else {
    h = kP5;
  }
  h += data.size();
  while (p + 8 <= end) {
    h ^= Round(0, Read64(p));
    h = Rotl(h, 27) * kP1 + kP4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(Read32(p)) * kP1;
    h = Rotl(h, 23) * kP2 + kP3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(*p) * kP5;
    h = Rotl(h, 11) * kP1;
    ++p;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

uint64_t GroupHash(std::string_view file, std::string_view name) {
  std::string b;
  b.reserve(file.size() + name.size() + 12);
  b.append("file").push_back('\xff');
  b.append(file).push_back('\xff');
  b.append("name").push_back('\xff');
  b.append(name).push_back('\xff');
  return XXHash64(b);
}

Time EvalTimestamp(Time now, Duration interval, uint64_t hash) {
  const int64_t iv = interval.count();
  if (iv <= 0) return now;
  const int64_t offset = static_cast<int64_t>(hash % static_cast<uint64_t>(iv));
  const int64_t adj = now.time_since_epoch().count() - offset;
  int64_t base = adj - (adj % iv);
  if (adj % iv < 0) base -= iv;  // Go's % truncates too; only matters before 1970
  return Time(Duration(base + offset));
}

Result<std::unique_ptr<Group>> Group::Create(const config::RuleGroup& cfg,
                                             Duration default_interval) {
  std::unique_ptr<Group> g(new Group());
  g->name_ = cfg.name;
  g->file_ = cfg.file;
  g->key_ = cfg.file + ";" + cfg.name;
  g->interval_ = cfg.interval.value_or(default_interval);
  if (g->interval_.count() <= 0) g->interval_ = default_interval;
  g->limit_ = cfg.limit;
  g->query_offset_ = cfg.query_offset;
  g->hash_ = GroupHash(cfg.file, cfg.name);
  std::map<std::string, int> seen_names, seen_identities;
  g->rules_.reserve(cfg.rules.size());
  for (const auto& r : cfg.rules) {
    Entry e;
    if (!r.alert.empty()) {
      const int name_index = seen_names[r.alert]++;
      const int index = seen_identities[r.alert + LabelSet::FromMap(r.labels).String()]++;
      auto ar = AlertingRule::Create(r, index, name_index);
      if (!ar.ok()) {
        return ar.status().WithPrefix(
            fmt::format("group {:?} rule {:?}", cfg.name, r.alert));
      }
      e.alerting = std::move(*ar);
    } else {
      e.recording = RecordingRule::Create(r);
    }
    g->rules_.push_back(std::move(e));
  }
  g->metrics_.rules = g->rules_.size();
  return g;
}

void Group::Eval(Time ts, const GroupDeps& deps) {
  const Time wall_start = deps.clock->Now();
  const auto t0 = std::chrono::steady_clock::now();
  // Queries failing with a connection error, 5xx or 429 are retried until the next
  // evaluation is due.
  QueryRetryPolicy retry;
  retry.deadline = ts + interval_;
  retry.clock = deps.clock;
  retry.sleep = deps.retry_sleep;
  retry.retries = &query_retries_;
  RetryingQueryClient query(deps.query, std::move(retry));
  EvalContext ctx;
  ctx.query = &query;
  ctx.external_labels = deps.external_labels.ToMap();
  ctx.external_url = deps.external_url;
  ctx.limit = limit_;
  ctx.query_offset = query_offset_;

  std::vector<Alert> to_send;
  uint64_t evaluations = 0, failures = 0;
  bool dirty = false;
  std::vector<Sample> samples;
  bool alerting_ok = false, has_alerts = false;
  for (auto& e : rules_) {
    if (e.recording) {
      if (!deps.samples) {
        e.recording->SetNotEvaluated(kNoRemoteWriteError);
        continue;
      }
      if (deps.abandon && deps.abandon()) break;
      ++evaluations;
      Status st = e.recording->Eval(ts, ctx, deps.clock->Now(), &samples);
      if (!st.ok()) {
        ++failures;
        spdlog::debug("rule group {:?}: rule {:?}: {}", name_, e.recording->name(), st.message());
      }
      continue;
    }
    if (deps.abandon && deps.abandon()) break;
    ++evaluations;
    Status st = e.alerting->Eval(ts, ctx, deps.clock->Now());
    if (st.ok() && deps.samples) {
      const size_t from = samples.size();
      e.alerting->AppendAlertSeries(ts, &samples);
      e.alert_series.Update(ts, &samples, from);
    }
    if (!st.ok()) {
      ++failures;
      spdlog::debug("rule group {:?}: rule {:?}: {}", name_, e.alerting->name(), st.message());
    } else {
      alerting_ok = true;
    }
    // A failed evaluation leaves the alerts as they were; firing ones keep being re-sent
    // (fresh endsAt) within the outage tolerance, so the receiver resolves nothing while the
    // datasource is down.
    if (st.ok() || e.alerting->WithinOutageTolerance(ts, deps.for_outage_tolerance)) {
      auto alerts = e.alerting->CollectAlertsToSend(ts, deps.clock->Now(), deps.resend_delay,
                                                    interval_, deps.external_labels,
                                                    deps.external_url);
      for (auto& a : alerts) {
        if (!Relabel(deps.alert_relabel_configs, &a.labels) || a.labels.empty()) continue;
        to_send.push_back(std::move(a));
      }
    }
    dirty = dirty || e.alerting->dirty();
    has_alerts = has_alerts || e.alerting->has_alerts();
  }
  // Prometheus appends each rule's samples as the rule finishes; one batch per group costs one
  // queue transaction instead of one per rule, and the receiver sees them at the same time
  // either way (a later rule reads an earlier one's result only from the datasource).
  if (deps.samples && !samples.empty()) deps.samples->Append(std::move(samples));
  if (deps.sink && !to_send.empty()) {
    Status st = deps.sink->Put(std::move(to_send));
    if (!st.ok()) spdlog::warn("rule group {:?}: storing alerts: {}", name_, st.message());
  }
  // The state is written after the alerts it describes as sent, so a crash in between re-sends
  // (harmless: the store merges by fingerprint) rather than forgets to send.
  if (deps.state && dirty) {
    std::vector<RuleAlertRecord> records;
    for (auto& e : rules_) {
      if (!e.alerting) continue;
      auto r = e.alerting->ExportRecords(key_);
      for (auto& x : r) records.push_back(std::move(x));
    }
    Status st = deps.state->ReplaceGroup(key_, records);
    if (!st.ok()) spdlog::warn("rule group {:?}: persisting state: {}", name_, st.message());
  }
  // The evaluation time of a group with alerts, which a restore measures the downtime from
  // (Prometheus: the timestamp of the last ALERTS_FOR_STATE sample, written by evaluations
  // that succeed).
  if (deps.state && has_alerts && alerting_ok) {
    Status st = deps.state->SetGroupEvaluated(key_, ts);
    if (!st.ok()) spdlog::warn("rule group {:?}: persisting state: {}", name_, st.message());
  }
  const Duration took = std::chrono::steady_clock::now() - t0;
  std::lock_guard l(mu_);
  metrics_.iterations++;
  metrics_.evaluations += evaluations;
  metrics_.evaluation_failures += failures;
  metrics_.last_duration_s = std::chrono::duration<double>(took).count();
  metrics_.duration_sum_s += metrics_.last_duration_s;
  metrics_.last_evaluation_ts = ts;
  evaluation_time_ = took;
  last_evaluation_ = wall_start;
}

void Group::AddMissed(uint64_t n) {
  std::lock_guard l(mu_);
  metrics_.iterations_missed += n;
}

size_t Group::Restore(RecordsByRule* records, const RestoreParams& params, bool legacy_keys) {
  size_t n = 0;
  for (auto& e : rules_) {
    if (!e.alerting || e.took_state) continue;
    auto it = records->find(e.alerting->rule_key());
    if (it == records->end() && legacy_keys) it = records->find(e.alerting->legacy_rule_key());
    if (it == records->end()) continue;
    e.alerting->Restore(it->second, params);
    e.took_state = true;
    n += it->second.size();
    records->erase(it);
  }
  return n;
}

namespace {

// The identity of a rule entry (AlertingRule::identity, RecordingRule::identity).
template <typename E>
std::string EntryIdentity(const E& e) {
  return e.alerting ? e.alerting->identity() : e.recording->identity();
}

}  // namespace

size_t Group::CopyStateFrom(Group& old) {
  // rules/manager.go CopyState: old rules by name and labels, duplicates in file order.
  std::map<std::string, std::deque<Entry*>> old_rules;
  for (auto& e : old.rules_) {
    if (!e.gave_state) old_rules[EntryIdentity(e)].push_back(&e);
  }
  size_t n = 0;
  for (auto& e : rules_) {
    if (e.took_state) continue;
    auto it = old_rules.find(EntryIdentity(e));
    if (it == old_rules.end() || it->second.empty()) continue;
    Entry* from = it->second.front();
    it->second.pop_front();
    if (e.alerting && from->alerting) {
      e.alerting->CopyStateFrom(*from->alerting);
      e.alert_series = from->alert_series;
    } else if (e.recording && from->recording) {
      e.recording->CopyStateFrom(*from->recording);
    }
    e.took_state = true;
    from->gave_state = true;
    ++n;
  }
  return n;
}

Status Group::Adopt(RuleStateStore* store, Time now) {
  auto records = store->LoadGroup(key_);
  if (!records.ok()) return records.status();
  RecordsByRule by_rule;
  for (auto& r : *records) by_rule[r.rule_key].push_back(std::move(r));
  for (auto& e : rules_) {
    if (e.alerting) e.alerting->ClearAlerts();
    e.took_state = e.gave_state = false;
  }
  RestoreParams params;  // no down_at: restored as they are
  params.now = now;
  Restore(&by_rule, params, /*legacy_keys=*/false);
  return Status::Ok();
}

void Group::Release() {
  for (auto& e : rules_) {
    if (e.alerting) e.alerting->ClearAlerts();
  }
}

void Group::ResetMatching() {
  for (auto& e : rules_) e.took_state = e.gave_state = false;
}

Status Group::Persist(RuleStateStore* store) {
  std::vector<RuleAlertRecord> records;
  for (auto& e : rules_) {
    if (!e.alerting) continue;
    for (auto& r : e.alerting->ExportRecords(key_)) records.push_back(std::move(r));
  }
  return store->ReplaceGroup(key_, records);
}

void Group::CopyMetricsFrom(const Group& old) {
  query_retries_ = old.query_retries_.load();
  std::scoped_lock l(mu_, old.mu_);
  metrics_.iterations = old.metrics_.iterations;
  metrics_.iterations_missed = old.metrics_.iterations_missed;
  metrics_.evaluations = old.metrics_.evaluations;
  metrics_.evaluation_failures = old.metrics_.evaluation_failures;
  metrics_.duration_sum_s = old.metrics_.duration_sum_s;
}

GroupSnapshot Group::Snapshot() const {
  GroupSnapshot s;
  s.name = name_;
  s.file = file_;
  s.interval = interval_;
  s.limit = limit_;
  {
    std::lock_guard l(mu_);
    s.evaluation_time = evaluation_time_;
    s.last_evaluation = last_evaluation_;
  }
  for (const auto& e : rules_) {
    if (e.alerting) {
      s.rules.push_back(e.alerting->Snapshot());
    } else {
      s.rules.push_back(e.recording->Snapshot());
    }
  }
  return s;
}

void Group::CountAlerts(AlertCounts* counts) const {
  for (const auto& e : rules_) {
    if (e.alerting) e.alerting->CountAlerts(counts);
  }
}

GroupMetrics Group::Metrics() const {
  std::lock_guard l(mu_);
  GroupMetrics m = metrics_;
  m.query_retries = query_retries_.load(std::memory_order_relaxed);
  return m;
}

}  // namespace alertd::rules_engine
