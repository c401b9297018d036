#include "rules_engine/recording_rule.h"

#include <fmt/format.h>

#include "rules_engine/promql/ast.h"
#include "rules_engine/promql/parser.h"

namespace alertd::rules_engine {

void StaleSeries::Update(Time ts, std::vector<Sample>* out, size_t from) {
  std::set<LabelSet> current;
  for (size_t i = from; i < out->size(); ++i) current.insert((*out)[i].labels);
  for (const auto& prev : previous_) {
    if (!current.contains(prev)) out->push_back(Sample{prev, StaleNaN(), ts});
  }
  previous_ = std::move(current);
}

std::unique_ptr<RecordingRule> RecordingRule::Create(const config::Rule& rule) {
  std::unique_ptr<RecordingRule> r(new RecordingRule());
  r->name_ = rule.record;
  r->expr_ = rule.expr;
  auto parsed = promql::ParseExpr(rule.expr);
  r->query_ = parsed.ok() ? promql::ToString(**parsed) : rule.expr;
  r->labels_ = LabelSet::FromMap(rule.labels);
  r->load_warnings_ = rule.warnings;
  return r;
}

void RecordingRule::SetResult(const Status& st, Time wall_start, Duration took) {
  std::lock_guard l(mu_);
  health_ = st.ok() ? RuleHealth::kGood : RuleHealth::kBad;
  last_error_ = st.ok() ? "" : st.message();
  evaluation_time_ = took;
  last_evaluation_ = wall_start;
}

void RecordingRule::SetNotEvaluated(const std::string& error) {
  std::lock_guard l(mu_);
  health_ = RuleHealth::kBad;
  last_error_ = error;
}

Status RecordingRule::Eval(Time ts, const EvalContext& ctx, Time wall_start,
                           std::vector<Sample>* out) {
  const auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](Status st) {
    SetResult(st, wall_start, std::chrono::steady_clock::now() - t0);
    return st;
  };
  auto res = ctx.query->Query(expr_, ts - ctx.query_offset);
  if (!res.ok()) return finish(res.status());
  SetRuleWarnings(name_, std::move(res->warnings), &mu_, &warnings_);
  if (res->type != QueryResult::Type::kVector && res->type != QueryResult::Type::kScalar) {
    return finish(Status::InvalidArgument("rule result is not a vector or scalar"));
  }
  std::set<LabelSet> current;
  std::vector<Sample> samples;
  samples.reserve(res->samples.size());
  for (auto& s : res->samples) {
    LabelSet lbs = std::move(s.metric);
    lbs.Set("__name__", name_);
    for (const auto& l : labels_) {
      if (l.value.empty()) {
        lbs.Remove(l.name);
      } else {
        lbs.Set(l.name, l.value);
      }
    }
    lbs.ShrinkToFit();
    if (!current.insert(lbs).second) {
      return finish(Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying rule labels"));
    }
    samples.push_back(Sample{std::move(lbs), s.value, ts});
  }
  if (ctx.limit > 0 && static_cast<int>(samples.size()) > ctx.limit) {
    return finish(Status::InvalidArgument(
        fmt::format("exceeded limit of {} with {} series", ctx.limit, samples.size())));
  }
  const size_t from = out->size();
  for (auto& s : samples) out->push_back(std::move(s));
  stale_.Update(ts, out, from);
  return finish(Status::Ok());
}

void RecordingRule::CopyStateFrom(RecordingRule& old) {
  if (&old == this) return;
  stale_ = old.stale_;
  std::scoped_lock l(mu_, old.mu_);
  health_ = old.health_;
  last_error_ = old.last_error_;
  evaluation_time_ = old.evaluation_time_;
  last_evaluation_ = old.last_evaluation_;
  warnings_ = old.warnings_;
}

RuleSnapshot RecordingRule::Snapshot() const {
  RuleSnapshot r;
  r.alerting = false;
  r.name = name_;
  r.query = query_;
  r.labels = labels_;
  r.warnings = load_warnings_;
  std::lock_guard l(mu_);
  r.health = health_;
  r.last_error = last_error_;
  r.warnings.insert(r.warnings.end(), warnings_.begin(), warnings_.end());
  r.evaluation_time = evaluation_time_;
  r.last_evaluation = last_evaluation_;
  return r;
}

}  // namespace alertd::rules_engine
