#include "rules_engine/alerting_rule.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "core/encoding.h"
#include "rules_engine/promql/ast.h"
#include "rules_engine/promql/parser.h"

namespace alertd::rules_engine {

std::string_view AlertStateString(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

std::string_view RuleHealthString(RuleHealth h) {
  switch (h) {
    case RuleHealth::kUnknown:
      return "unknown";
    case RuleHealth::kGood:
      return "ok";
    case RuleHealth::kBad:
      return "err";
  }
  return "unknown";
}

std::string FormatFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // The shortest scientific form that round-trips, with a two-digit minimum exponent: the
  // same digits Go's 'e' with precision -1 prints.
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string(buf, r.ptr);
}

std::string GeneratorURL(std::string_view external_url, std::string_view expr) {
  return fmt::format("{}/graph?g0.expr={}&g0.tab=1", external_url, QueryEscape(expr));
}

namespace {

// `ls` with those labels of `extra` whose names it lacks (external labels never override).
LabelSet WithDefaults(const LabelSet& ls, const LabelSet& extra) {
  LabelSet out = ls;
  for (const auto& l : extra) {
    if (!out.Has(l.name)) out.Set(l.name, l.value);
  }
  out.ShrinkToFit();  // the set lives on in the alert store
  return out;
}

// A set built label by label grew by doubling; the copy kept holds exactly its labels.
LabelSet Compact(LabelSet ls) {
  ls.ShrinkToFit();
  return ls;
}

}  // namespace

void SetRuleWarnings(std::string_view rule, std::vector<std::string> warnings, std::mutex* mu,
                     std::vector<std::string>* dst) {
  std::lock_guard l(*mu);
  if (warnings == *dst) return;
  for (const auto& w : warnings) spdlog::warn("rule {:?}: datasource warning: {}", rule, w);
  *dst = std::move(warnings);
}

RuleAlert AlertingRule::Unpack(const LabelSet& labels, const StoredAlert& a) {
  RuleAlert r;
  static_cast<RuleAlertStatus&>(r) = a;
  r.labels = labels;
  r.annotations = a.annotations;
  return r;
}

namespace {

// Rule template texts without an action are used as they are, never compiled.
bool IsTemplate(std::string_view text) { return text.find("{{") != std::string_view::npos; }

// The templates of one evaluation: compiled when first needed, at most once per evaluation.
class EvalTemplates {
 public:
  EvalTemplates(const std::string& rule_name, const LabelSet& texts)
      : rule_name_(rule_name), texts_(texts.begin(), texts.end()), compiled_(texts_.size()) {}

  // The compiled template of the i-th text (in the LabelSet's order), or the parse error.
  const Result<templating::RuleTemplate>& Get(size_t i) {
    if (!compiled_[i]) {
      compiled_[i].emplace(templating::RuleTemplate::Parse(rule_name_, texts_[i].value));
    }
    return *compiled_[i];
  }

 private:
  const std::string& rule_name_;
  const std::vector<LabelRef> texts_;  // views into the LabelSet given, which outlives this
  std::vector<std::optional<Result<templating::RuleTemplate>>> compiled_;
};

}  // namespace

Result<std::unique_ptr<AlertingRule>> AlertingRule::Create(const config::Rule& rule, int index,
                                                          int name_index) {
  std::unique_ptr<AlertingRule> r(new AlertingRule());
  r->index_ = index;
  r->name_index_ = name_index < 0 ? index : name_index;
  std::string query;
  auto parsed = promql::ParseExpr(rule.expr);
  if (parsed.ok()) {
    query = promql::ToString(**parsed);
    if (query == rule.expr) query.clear();
  }
  r->text_.reserve(rule.alert.size() + rule.expr.size() + query.size());
  r->text_ = rule.alert;
  r->text_ += rule.expr;
  r->text_ += query;
  r->name_len_ = static_cast<uint32_t>(rule.alert.size());
  r->expr_len_ = static_cast<uint32_t>(rule.expr.size());
  r->for_ = rule.for_;
  r->keep_firing_for_ = rule.keep_firing_for;
  // Parsed here only to refuse broken templates at load.
  for (const auto& [name, text] : rule.labels) {
    if (IsTemplate(text)) {
      auto t = templating::RuleTemplate::Parse(rule.alert, text);
      if (!t.ok()) return t.status().WithPrefix(fmt::format("label {}", name));
    }
  }
  for (const auto& [name, text] : rule.annotations) {
    if (IsTemplate(text)) {
      auto t = templating::RuleTemplate::Parse(rule.alert, text);
      if (!t.ok()) return t.status().WithPrefix(fmt::format("annotation {}", name));
    }
  }
  r->labels_ = LabelSet::FromMap(rule.labels);
  r->annotations_ = LabelSet::FromMap(rule.annotations);
  r->load_warnings_ = rule.warnings;
  return r;
}

std::string AlertingRule::identity() const { return std::string(name()) + labels_.String(); }

std::string AlertingRule::rule_key() const { return fmt::format("{}#{}", identity(), index_); }

std::string AlertingRule::legacy_rule_key() const {
  return fmt::format("{}#{}", name(), name_index_);
}

void AlertingRule::SetResult(const Status& st, Time wall_start, Duration took) {
  std::lock_guard l(mu_);
  health_ = st.ok() ? RuleHealth::kGood : RuleHealth::kBad;
  last_error_ = st.ok() ? "" : st.message();
  evaluation_time_ = took;
  last_evaluation_ = wall_start;
}

Status AlertingRule::Eval(Time ts, const EvalContext& ctx, Time wall_start) {
  const auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](Status st) {
    SetResult(st, wall_start, std::chrono::steady_clock::now() - t0);
    return st;
  };

  auto res = ctx.query->Query(expr(), ts - ctx.query_offset);
  if (!res.ok()) return finish(res.status());
  SetRuleWarnings(name(), std::move(res->warnings), &mu_, &warnings_);
  if (res->type != QueryResult::Type::kVector && res->type != QueryResult::Type::kScalar) {
    return finish(Status::InvalidArgument("rule result is not a vector or scalar"));
  }

  // The template `query` function evaluates at the rule's evaluation time.
  templating::QueryFunc query_fn = [&ctx, ts](std::string_view q)
      -> Result<std::vector<templating::Sample>> {
    auto r = ctx.query->Query(q, ts);
    if (!r.ok()) return r.status();
    if (r->type != QueryResult::Type::kVector && r->type != QueryResult::Type::kScalar) {
      return Status::InvalidArgument("rule result is not a vector or scalar");
    }
    std::vector<templating::Sample> out;
    out.reserve(r->samples.size());
    for (const auto& s : r->samples) out.push_back({s.metric.ToMap(), s.value});
    return out;
  };

  // Build the alerts of this evaluation (rules/alerting.go Eval, first loop).
  const LabelSet& label_texts_set = labels_;
  const LabelSet& annotation_texts_set = annotations_;
  const std::string rule_name(name());
  EvalTemplates label_tmpls(rule_name, label_texts_set);
  EvalTemplates annotation_tmpls(rule_name, annotation_texts_set);
  std::map<LabelSet, StoredAlert> fresh;
  for (auto& smpl : res->samples) {
    templating::RuleTemplateData data;
    bool data_ready = false;
    // A template that does not compile (the loader refuses those, so only a safety net)
    // expands to Prometheus's error text, as a parse error at expansion does there.
    auto expand = [&](EvalTemplates& tmpls, size_t i) -> std::string {
      const auto& t = tmpls.Get(i);
      if (!t.ok()) return "<error expanding template: " + t.status().message() + ">";
      if (!data_ready) {
        data.labels = smpl.metric.ToMap();
        data.external_labels = ctx.external_labels;
        data.external_url = ctx.external_url;
        data.value = smpl.value;
        data_ready = true;
      }
      return t->Expand(data, query_fn).text;
    };
    LabelSet lbs = smpl.metric;
    lbs.Remove("__name__");
    size_t i = 0;
    for (auto it = label_texts_set.begin(); it != label_texts_set.end(); ++it, ++i) {
      const LabelRef l = *it;
      // A label whose template renders empty is removed (labels.Builder.Set with "").
      const std::string v = IsTemplate(l.value) ? expand(label_tmpls, i) : std::string(l.value);
      if (v.empty()) {
        lbs.Remove(l.name);
      } else {
        lbs.Set(l.name, v);
      }
    }
    lbs.Set("alertname", rule_name);
    LabelSet annotations;
    i = 0;
    for (auto it = annotation_texts_set.begin(); it != annotation_texts_set.end(); ++it, ++i) {
      const LabelRef l = *it;
      if (IsTemplate(l.value)) {
        annotations.Set(l.name, expand(annotation_tmpls, i));
      } else {
        annotations.Set(l.name, l.value);
      }
    }
    StoredAlert a;
    a.annotations = Compact(std::move(annotations));
    a.state = AlertState::kPending;
    a.value = smpl.value;
    a.active_at = ts;
    auto [it, inserted] = fresh.emplace(Compact(std::move(lbs)), std::move(a));
    if (!inserted) {
      return finish(Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying alert labels"));
    }
  }

  std::unique_lock l(mu_);
  for (auto& [lbs, a] : fresh) {
    auto it = active_.find(lbs);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
      continue;
    }
    if (it != active_.end()) {
      it->second = std::move(a);
    } else {
      active_.emplace(lbs, std::move(a));
    }
    dirty_ = true;
  }

  int num_active_pending = 0;
  for (auto it = active_.begin(); it != active_.end();) {
    StoredAlert& a = it->second;
    if (!fresh.contains(it->first)) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && keep_firing_for_.count() > 0) {
        if (IsZero(a.keep_firing_since)) {
          a.keep_firing_since = ts;
          dirty_ = true;
        }
        if (ts - a.keep_firing_since < keep_firing_for_) keep_firing = true;
      }
      // A pending alert that disappears is forgotten; a resolved one after the retention.
      if (a.state == AlertState::kPending ||
          (!IsZero(a.resolved_at) && ts - a.resolved_at > kResolvedRetention)) {
        it = active_.erase(it);
        dirty_ = true;
        continue;
      }
      if (a.state != AlertState::kInactive && !keep_firing) {
        a.state = AlertState::kInactive;
        a.resolved_at = ts;
        dirty_ = true;
      }
      if (!keep_firing) {
        ++it;
        continue;
      }
    } else if (!IsZero(a.keep_firing_since)) {
      a.keep_firing_since = kZeroTime;
      dirty_ = true;
    }
    ++num_active_pending;
    if (a.state == AlertState::kPending && ts - a.active_at >= for_) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
      dirty_ = true;
    }
    // A firing alert stays firing when a reload raises `for` beyond its age, as in Prometheus
    // 2.42 (going back to pending is Prometheus 3.11's behaviour).
    ++it;
  }

  if (ctx.limit > 0 && num_active_pending > ctx.limit) {
    active_.clear();
    dirty_ = true;
    l.unlock();
    return finish(Status::InvalidArgument(
        fmt::format("exceeded limit of {} with {} alerts", ctx.limit, num_active_pending)));
  }
  last_good_ts_ = ts;
  l.unlock();
  return finish(Status::Ok());
}

std::vector<Alert> AlertingRule::CollectAlertsToSend(Time ts, Time now, Duration resend_delay,
                                                     Duration group_interval,
                                                     const LabelSet& external_labels,
                                                     const std::string& external_url) {
  std::vector<Alert> out;
  const Duration delta = std::max(group_interval, resend_delay);
  std::lock_guard l(mu_);
  for (auto& [lbs, a] : active_) {
    // needsSending (rules/alerting.go).
    if (a.state == AlertState::kPending) continue;
    const bool resolved_since_sent = !IsZero(a.resolved_at) && a.resolved_at > a.last_sent_at;
    if (!resolved_since_sent && !(a.last_sent_at + resend_delay < ts)) continue;
    a.last_sent_at = ts;
    a.valid_until = ts + 4 * delta;
    dirty_ = true;
    Alert out_alert;
    out_alert.labels = WithDefaults(lbs, external_labels);
    out_alert.annotations = a.annotations;
    out_alert.starts_at = a.fired_at;
    out_alert.ends_at = IsZero(a.resolved_at) ? a.valid_until : a.resolved_at;
    out_alert.updated_at = now;
    out_alert.generator_url = GeneratorURL(external_url, query());
    out.push_back(std::move(out_alert));
  }
  return out;
}

void AlertingRule::AppendAlertSeries(Time ts, std::vector<Sample>* out) const {
  const std::string rule_name(name());
  std::lock_guard l(mu_);
  for (const auto& [lbs, a] : active_) {
    if (a.state == AlertState::kInactive) continue;
    LabelSet base = labels_;
    for (const auto& lb : lbs) base.Set(lb.name, lb.value);
    base.Set("alertname", rule_name);
    LabelSet alerts = base;
    alerts.Set("__name__", "ALERTS");
    alerts.Set("alertstate", AlertStateString(a.state));
    alerts.ShrinkToFit();
    out->push_back(Sample{std::move(alerts), 1, ts});
    base.Set("__name__", "ALERTS_FOR_STATE");
    base.ShrinkToFit();
    const double active_since = static_cast<double>(
        std::chrono::floor<std::chrono::seconds>(a.active_at.time_since_epoch()).count());
    out->push_back(Sample{std::move(base), active_since, ts});
  }
}

std::vector<RuleAlertRecord> AlertingRule::ExportRecords(const std::string& group_key) {
  std::vector<RuleAlertRecord> out;
  const std::string key = rule_key();
  std::lock_guard l(mu_);
  out.reserve(active_.size());
  for (const auto& [lbs, a] : active_) {
    RuleAlertRecord r;
    static_cast<RuleAlertStatus&>(r) = a;
    r.group_key = group_key;
    r.rule_key = key;
    r.labels = lbs;
    r.annotations = a.annotations;
    out.push_back(std::move(r));
  }
  dirty_ = false;
  return out;
}

void AlertingRule::Restore(const std::vector<RuleAlertRecord>& records,
                           const RestoreParams& p) {
  const bool known = !IsZero(p.down_at) && !IsZero(p.now);
  const Duration down = known ? p.now - p.down_at : Duration::zero();
  std::lock_guard l(mu_);
  for (const auto& r : records) {
    StoredAlert a;
    static_cast<RuleAlertStatus&>(a) = r;
    a.annotations = Compact(r.annotations);
    if (known && a.state != AlertState::kInactive) {
      // rules/manager.go RestoreForState. alertd keeps activeAt and the downtime to the
      // nanosecond, where 2.42 reads whole seconds back from ALERTS_FOR_STATE.
      if (down > p.for_outage_tolerance) {
        // No ALERTS_FOR_STATE sample within the tolerance: nothing is restored.
        dirty_ = true;
        continue;
      }
      if (a.state == AlertState::kPending) {
        if (for_ < p.for_grace_period) {
          // 2.42 skips the restore of such a rule: `for` starts over, which is shorter than
          // the grace period anyway.
          dirty_ = true;
          continue;
        }
        const Duration spent = p.down_at - a.active_at;
        const Duration remaining = for_ - spent;
        if (remaining <= Duration::zero()) {
          // Due to fire at the next evaluation, as in 2.42.
        } else if (remaining < p.for_grace_period) {
          a.active_at = p.now + p.for_grace_period - for_;
        } else {
          a.active_at += down;
        }
        dirty_ = true;
      }
    }
    active_[Compact(r.labels)] = std::move(a);
  }
}

void AlertingRule::ClearAlerts() {
  std::lock_guard l(mu_);
  active_.clear();
  dirty_ = false;
}

void AlertingRule::CopyStateFrom(AlertingRule& old) {
  if (&old == this) return;
  std::scoped_lock l(mu_, old.mu_);
  active_ = old.active_;
  health_ = old.health_;
  last_error_ = old.last_error_;
  evaluation_time_ = old.evaluation_time_;
  last_evaluation_ = old.last_evaluation_;
  warnings_ = old.warnings_;
  last_good_ts_ = old.last_good_ts_;
  dirty_ = true;
}

bool AlertingRule::has_alerts() const {
  std::lock_guard l(mu_);
  return !active_.empty();
}

bool AlertingRule::WithinOutageTolerance(Time ts, Duration tolerance) const {
  std::lock_guard l(mu_);
  return !IsZero(last_good_ts_) && ts - last_good_ts_ <= tolerance;
}

RuleSnapshot AlertingRule::Snapshot() const {
  RuleSnapshot s;
  s.alerting = true;
  s.name = std::string(name());
  s.query = std::string(query());
  s.for_ = for_;
  s.keep_firing_for = keep_firing_for_;
  s.labels = labels_;
  s.annotations = annotations_;
  s.warnings = load_warnings_;
  std::lock_guard l(mu_);
  for (const auto& [lbs, a] : active_) {
    if (a.state == AlertState::kInactive) continue;
    if (a.state == AlertState::kFiring) s.state = AlertState::kFiring;
    else if (s.state == AlertState::kInactive) s.state = AlertState::kPending;
    s.alerts.push_back(Unpack(lbs, a));
  }
  s.health = health_;
  s.last_error = last_error_;
  s.warnings.insert(s.warnings.end(), warnings_.begin(), warnings_.end());
  s.evaluation_time = evaluation_time_;
  s.last_evaluation = last_evaluation_;
  return s;
}

void AlertingRule::CountAlerts(AlertCounts* counts) const {
  std::lock_guard l(mu_);
  for (const auto& [lbs, a] : active_) {
    if (a.state == AlertState::kPending) ++counts->pending;
    if (a.state == AlertState::kFiring) ++counts->firing;
  }
}

RuleHealth AlertingRule::health() const {
  std::lock_guard l(mu_);
  return health_;
}

std::string AlertingRule::last_error() const {
  std::lock_guard l(mu_);
  return last_error_;
}

}  // namespace alertd::rules_engine
