#include "rules_engine/alerting_rule.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <set>

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

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string GeneratorURL(std::string_view external_url, std::string_view expr) {
  return fmt::format("{}/graph?g0.expr={}&g0.tab=1", external_url, QueryEscape(expr));
}

namespace {

void PutVarint(size_t n, std::string* out) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

size_t VarintSize(size_t n) {
  size_t k = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++k;
  }
  return k;
}

// Reads one length-prefixed string at `*pos` (which moves past it). The data was written by
// PackedLabels, so it is well formed.
std::string_view GetField(std::string_view data, size_t* pos) {
  size_t n = 0;
  int shift = 0;
  while (true) {
    const auto b = static_cast<unsigned char>(data[(*pos)++]);
    n |= static_cast<size_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  std::string_view out = data.substr(*pos, n);
  *pos += n;
  return out;
}

}  // namespace

PackedLabels::PackedLabels(const LabelSet& ls) {
  size_t size = 0;
  for (const auto& l : ls) {
    size += VarintSize(l.name.size()) + l.name.size() + VarintSize(l.value.size()) + l.value.size();
  }
  data_.reserve(size);
  for (const auto& l : ls) {
    PutVarint(l.name.size(), &data_);
    data_ += l.name;
    PutVarint(l.value.size(), &data_);
    data_ += l.value;
  }
}

LabelSet PackedLabels::Unpack(const LabelSet* extra) const {
  LabelSet out;
  size_t pos = 0;
  while (pos < data_.size()) {
    const std::string_view name = GetField(data_, &pos);
    const std::string_view value = GetField(data_, &pos);
    out.Set(name, value);  // in name order already: appends
  }
  if (extra) {
    for (const auto& l : *extra) {
      if (!out.Has(l.name)) out.Set(l.name, l.value);
    }
  }
  // A copy holds exactly its labels; `out` grew by doubling (up to twice the room). The
  // unpacked sets of sent alerts live on in the alert store.
  return LabelSet(out);
}

bool PackedLabels::operator<(const PackedLabels& o) const {
  // LabelSet's order: label by label, by name, then by value; a prefix sorts first.
  size_t i = 0, j = 0;
  while (i < data_.size() && j < o.data_.size()) {
    const std::string_view an = GetField(data_, &i), bn = GetField(o.data_, &j);
    const std::string_view av = GetField(data_, &i), bv = GetField(o.data_, &j);
    if (an != bn) return an < bn;
    if (av != bv) return av < bv;
  }
  return i == data_.size() && j < o.data_.size();
}

RuleAlert AlertingRule::Unpack(const PackedLabels& labels, const StoredAlert& a) {
  RuleAlert r;
  r.labels = labels.Unpack();
  r.annotations = a.annotations.Unpack();
  r.state = a.state;
  r.value = a.value;
  r.active_at = a.active_at;
  r.fired_at = a.fired_at;
  r.resolved_at = a.resolved_at;
  r.last_sent_at = a.last_sent_at;
  r.valid_until = a.valid_until;
  r.keep_firing_since = a.keep_firing_since;
  return r;
}

namespace {

// Rule template texts without an action are used as they are, never compiled.
bool IsTemplate(std::string_view text) { return text.find("{{") != std::string_view::npos; }

// The templates of one evaluation: compiled when first needed, at most once per evaluation.
class EvalTemplates {
 public:
  EvalTemplates(const std::string& rule_name, const LabelSet& texts)
      : rule_name_(rule_name), texts_(texts), compiled_(texts.size()) {}

  // The compiled template of the i-th text (in the LabelSet's order), or the parse error.
  const Result<templating::RuleTemplate>& Get(size_t i) {
    if (!compiled_[i]) {
      compiled_[i].emplace(templating::RuleTemplate::Parse(rule_name_, texts_.labels()[i].value));
    }
    return *compiled_[i];
  }

 private:
  const std::string& rule_name_;
  const LabelSet& texts_;
  std::vector<std::optional<Result<templating::RuleTemplate>>> compiled_;
};

}  // namespace

Result<std::unique_ptr<AlertingRule>> AlertingRule::Create(const config::Rule& rule, int index) {
  std::unique_ptr<AlertingRule> r(new AlertingRule());
  r->name_ = rule.alert;
  r->index_ = index;
  r->expr_ = rule.expr;
  auto parsed = promql::ParseExpr(rule.expr);
  if (parsed.ok()) {
    std::string q = promql::ToString(**parsed);
    if (q != r->expr_) r->query_ = std::move(q);
  }
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
  r->labels_ = PackedLabels(LabelSet::FromMap(rule.labels));
  r->annotations_ = PackedLabels(LabelSet::FromMap(rule.annotations));
  return r;
}

std::string AlertingRule::rule_key() const { return fmt::format("{}#{}", name_, index_); }

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

  auto res = ctx.query->Query(expr_, ts - ctx.query_offset);
  if (!res.ok()) return finish(res.status());
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
  const LabelSet label_texts_set = labels_.Unpack();
  const LabelSet annotation_texts_set = annotations_.Unpack();
  EvalTemplates label_tmpls(name_, label_texts_set);
  EvalTemplates annotation_tmpls(name_, annotation_texts_set);
  std::map<PackedLabels, StoredAlert> fresh;
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
    const auto& label_texts = label_texts_set.labels();
    for (size_t i = 0; i < label_texts.size(); ++i) {
      const Label& l = label_texts[i];
      // A label whose template renders empty is removed (labels.Builder.Set with "").
      const std::string v = IsTemplate(l.value) ? expand(label_tmpls, i) : l.value;
      if (v.empty()) {
        lbs.Remove(l.name);
      } else {
        lbs.Set(l.name, v);
      }
    }
    lbs.Set("alertname", name_);
    LabelSet annotations;
    const auto& annotation_texts = annotation_texts_set.labels();
    for (size_t i = 0; i < annotation_texts.size(); ++i) {
      const Label& l = annotation_texts[i];
      annotations.Set(l.name, IsTemplate(l.value) ? expand(annotation_tmpls, i) : l.value);
    }
    StoredAlert a;
    a.annotations = PackedLabels(annotations);
    a.state = AlertState::kPending;
    a.value = smpl.value;
    a.active_at = ts;
    auto [it, inserted] = fresh.emplace(PackedLabels(lbs), std::move(a));
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
    } else if (a.state == AlertState::kFiring && ts - a.active_at < for_ &&
               IsZero(a.keep_firing_since)) {
      // `for` was raised by a reload beyond the alert's age: back to pending.
      a.state = AlertState::kPending;
      a.fired_at = kZeroTime;
      dirty_ = true;
    }
    ++it;
  }

  if (ctx.limit > 0 && num_active_pending > ctx.limit) {
    active_.clear();
    dirty_ = true;
    l.unlock();
    return finish(Status::InvalidArgument(
        fmt::format("exceeded limit of {} with {} alerts", ctx.limit, num_active_pending)));
  }
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
    out_alert.labels = lbs.Unpack(&external_labels);
    out_alert.annotations = a.annotations.Unpack();
    out_alert.starts_at = a.fired_at;
    out_alert.ends_at = IsZero(a.resolved_at) ? a.valid_until : a.resolved_at;
    out_alert.updated_at = now;
    out_alert.generator_url = GeneratorURL(external_url, query());
    out.push_back(std::move(out_alert));
  }
  return out;
}

std::vector<RuleAlertRecord> AlertingRule::ExportRecords(const std::string& group_key) {
  std::vector<RuleAlertRecord> out;
  const std::string key = rule_key();
  std::lock_guard l(mu_);
  out.reserve(active_.size());
  for (const auto& [lbs, a] : active_) {
    RuleAlertRecord r;
    r.group_key = group_key;
    r.rule_key = key;
    r.labels = lbs.Unpack();
    r.annotations = a.annotations.Unpack();
    r.state = a.state == AlertState::kFiring    ? RuleAlertRecord::State::kFiring
              : a.state == AlertState::kPending ? RuleAlertRecord::State::kPending
                                                : RuleAlertRecord::State::kInactive;
    r.value = a.value;
    r.active_at = a.active_at;
    r.fired_at = a.fired_at;
    r.resolved_at = a.resolved_at;
    r.last_sent_at = a.last_sent_at;
    r.valid_until = a.valid_until;
    r.keep_firing_since = a.keep_firing_since;
    out.push_back(std::move(r));
  }
  dirty_ = false;
  return out;
}

void AlertingRule::Restore(const std::vector<RuleAlertRecord>& records) {
  std::lock_guard l(mu_);
  for (const auto& r : records) {
    StoredAlert a;
    a.annotations = PackedLabels(r.annotations);
    a.state = r.state == RuleAlertRecord::State::kFiring    ? AlertState::kFiring
              : r.state == RuleAlertRecord::State::kPending ? AlertState::kPending
                                                            : AlertState::kInactive;
    a.value = r.value;
    a.active_at = r.active_at;
    a.fired_at = r.fired_at;
    a.resolved_at = r.resolved_at;
    a.last_sent_at = r.last_sent_at;
    a.valid_until = r.valid_until;
    a.keep_firing_since = r.keep_firing_since;
    active_[PackedLabels(r.labels)] = std::move(a);
  }
}

void AlertingRule::CopyStateFrom(AlertingRule& old) {
  if (&old == this) return;
  std::scoped_lock l(mu_, old.mu_);
  active_ = old.active_;
  health_ = old.health_;
  last_error_ = old.last_error_;
  evaluation_time_ = old.evaluation_time_;
  last_evaluation_ = old.last_evaluation_;
  dirty_ = true;
}

RuleSnapshot AlertingRule::Snapshot() const {
  RuleSnapshot s;
  s.alerting = true;
  s.name = name_;
  s.query = query();
  s.for_ = for_;
  s.keep_firing_for = keep_firing_for_;
  s.labels = labels_.Unpack();
  s.annotations = annotations_.Unpack();
  std::lock_guard l(mu_);
  for (const auto& [lbs, a] : active_) {
    if (a.state == AlertState::kInactive) continue;
    if (a.state == AlertState::kFiring) s.state = AlertState::kFiring;
    else if (s.state == AlertState::kInactive) s.state = AlertState::kPending;
    s.alerts.push_back(Unpack(lbs, a));
  }
  s.health = health_;
  s.last_error = last_error_;
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
