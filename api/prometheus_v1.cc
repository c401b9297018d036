// Prometheus-compatible rule and alert listing: GET /api/v1/rules and GET /api/v1/alerts,
// with Prometheus 2.x's JSON shape (web/api/v1/api.go), so Grafana and other Prometheus
// clients can show alertd's rules and alerts. /api/v1/rules takes Prometheus's filters:
// `type` (2.42), `rule_name[]`, `rule_group[]`, `file[]` (2.44), `exclude_alerts` (2.49),
// `match[]` (2.54).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <set>

#include "api/api.h"
#include "api/json_writer.h"
#include "core/matcher.h"
#include "rules_engine/manager.h"
#include "rules_engine/promql/ast.h"
#include "rules_engine/promql/parser.h"

namespace alertd::api {
namespace {

namespace re = rules_engine;

// A float64 as Go's encoding/json writes it: shortest round-trip digits, plain decimal for
// magnitudes in [1e-6, 1e21), exponent form (e-7, e+21) otherwise.
void AppendGoJsonFloat(std::string* out, double v) {
  if (!std::isfinite(v)) v = 0;  // encoding/json refuses these; never produced here
  char buf[64];
  const double a = std::fabs(v);
  std::to_chars_result r;
  if (a == 0 || (a >= 1e-6 && a < 1e21)) {
    r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    out->append(buf, r.ptr);
    return;
  }
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  // Go writes e-07 as e-7.
  auto e = s.find('e');
  if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
  out->append(s);
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

void AppendTime(std::string* out, Time t) {
  out->push_back('"');
  out->append(FormatRFC3339(t));
  out->push_back('"');
}

// `ack`: alertd's "ack" field, after Prometheus's (left out when null: /api/v1/rules).
void AppendAlert(std::string* out, const re::RuleAlert& a,
                 const std::optional<Ack>* ack = nullptr) {
  out->append("{\"labels\":");
  AppendLabelSetJson(out, a.labels);
  out->append(",\"annotations\":");
  AppendLabelSetJson(out, a.annotations);
  out->append(",\"state\":");
  AppendJsonString(out, re::AlertStateString(a.state));
  out->append(",\"activeAt\":");
  AppendTime(out, a.active_at);
  if (!IsZero(a.keep_firing_since)) {
    out->append(",\"keepFiringSince\":");
    AppendTime(out, a.keep_firing_since);
  }
  out->append(",\"value\":");
  AppendJsonString(out, re::FormatFloatE(a.value));
  if (ack) {
    out->append(",\"ack\":");
    AppendAlertAckJson(out, *ack);
  }
  out->push_back('}');
}

// `exclude_alerts`: "alerts" is null, as Prometheus 2.49+ writes it.
void AppendRule(std::string* out, const re::RuleSnapshot& r, bool exclude_alerts) {
  out->push_back('{');
  if (r.alerting) {
    out->append("\"state\":");
    AppendJsonString(out, re::AlertStateString(r.state));
    out->push_back(',');
  }
  out->append("\"name\":");
  AppendJsonString(out, r.name);
  out->append(",\"query\":");
  AppendJsonString(out, r.query);
  if (r.alerting) {
    out->append(",\"duration\":");
    AppendGoJsonFloat(out, Seconds(r.for_));
    out->append(",\"keepFiringFor\":");
    AppendGoJsonFloat(out, Seconds(r.keep_firing_for));
  }
  out->append(",\"labels\":");
  AppendLabelSetJson(out, r.labels);
  if (r.alerting) {
    out->append(",\"annotations\":");
    AppendLabelSetJson(out, r.annotations);
    if (exclude_alerts) {
      out->append(",\"alerts\":null");
    } else {
      out->append(",\"alerts\":[");
      for (size_t i = 0; i < r.alerts.size(); ++i) {
        if (i) out->push_back(',');
        AppendAlert(out, r.alerts[i]);
      }
      out->push_back(']');
    }
  }
  out->append(",\"health\":");
  AppendJsonString(out, re::RuleHealthString(r.health));
  if (!r.last_error.empty()) {
    out->append(",\"lastError\":");
    AppendJsonString(out, r.last_error);
  }
  // alertd's addition: the rule's load-time warnings and the datasource's at the last
  // evaluation (Prometheus has no such field), in the shape of a query response's `warnings`.
  if (!r.warnings.empty()) {
    out->append(",\"warnings\":[");
    for (size_t i = 0; i < r.warnings.size(); ++i) {
      if (i) out->push_back(',');
      AppendJsonString(out, r.warnings[i]);
    }
    out->push_back(']');
  }
  out->append(",\"evaluationTime\":");
  AppendGoJsonFloat(out, Seconds(r.evaluation_time));
  out->append(",\"lastEvaluation\":");
  AppendTime(out, r.last_evaluation);
  out->append(",\"type\":");
  AppendJsonString(out, r.alerting ? "alerting" : "recording");
  out->push_back('}');
}

Response BadData(std::string_view msg) {
  std::string body = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":";
  AppendJsonString(&body, msg);
  body.push_back('}');
  return Response::Json(400, std::move(body));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Go's strconv.ParseBool.
std::optional<bool> ParseGoBool(std::string_view s) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return true;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

// `match[]` values as Prometheus's parseMatchersParam reads them: PromQL series selectors
// (`{severity="critical"}`, `name{a=~"b"}`), each a set of matchers ANDed, the sets ORed; a
// set whose matchers all match the empty string is refused.
Result<std::vector<Matchers>> ParseMatchSets(const std::vector<std::string_view>& values) {
  std::vector<Matchers> sets;
  for (std::string_view v : values) {
    auto expr = promql::ParseExpr(v);
    if (!expr.ok()) return expr.status();
    const auto* sel = dynamic_cast<const promql::VectorSelector*>(expr->get());
    if (!sel || sel->offset.count() != 0 || sel->at != promql::AtModifier::kNone) {
      return Status::InvalidArgument(
          fmt::format("invalid parameter \"match[]\": {:?} is not a series selector", v));
    }
    Matchers ms;
    if (!sel->name.empty()) {
      auto m = Matcher::Create(MatchType::kEqual, "__name__", sel->name);
      if (!m.ok()) return m.status();
      ms.push_back(std::move(*m));
    }
    bool non_empty = false;
    for (const auto& lm : sel->matchers) {
      if (lm.name == "__name__" && !sel->name.empty()) continue;  // the name, once
      MatchType type = MatchType::kEqual;
      switch (lm.type) {
        case promql::MatchType::kEqual:
          type = MatchType::kEqual;
          break;
        case promql::MatchType::kNotEqual:
          type = MatchType::kNotEqual;
          break;
        case promql::MatchType::kRegexMatch:
          type = MatchType::kRegexMatch;
          break;
        case promql::MatchType::kRegexNoMatch:
          type = MatchType::kRegexNoMatch;
          break;
      }
      auto m = Matcher::Create(type, lm.name, lm.value);
      if (!m.ok()) return m.status();
      ms.push_back(std::move(*m));
    }
    for (const auto& m : ms) non_empty = non_empty || !m.Matches(std::string_view());
    if (!non_empty) {
      return Status::InvalidArgument("match[] must contain at least one non-empty matcher");
    }
    sets.push_back(std::move(ms));
  }
  return sets;
}

Response Rules(const ApiContext& ctx, const Request& req) {
  bool want_alerting = true, want_recording = true;
  if (auto t = req.QueryValue("type"); t && !t->empty()) {
    // Case-insensitive, as Prometheus (strings.ToLower).
    const std::string typ = Lower(*t);
    if (typ == "alert") {
      want_recording = false;
    } else if (typ == "record") {
      want_alerting = false;
    } else {
      return BadData(fmt::format("invalid parameter \"type\": not supported value {:?}", typ));
    }
  }
  bool exclude_alerts = false;
  if (auto e = req.QueryValue("exclude_alerts"); e && !e->empty()) {
    auto b = ParseGoBool(Lower(*e));
    if (!b) {
      return BadData(fmt::format(
          "invalid parameter \"exclude_alerts\": error converting exclude_alerts: "
          "strconv.ParseBool: parsing {:?}: invalid syntax",
          Lower(*e)));
    }
    exclude_alerts = *b;
  }
  auto to_set = [&](const char* name) {
    std::set<std::string, std::less<>> out;
    for (auto v : req.QueryValues(name)) out.emplace(v);
    return out;
  };
  const auto rule_names = to_set("rule_name[]");
  const auto rule_groups = to_set("rule_group[]");
  const auto files = to_set("file[]");
  auto match_sets = ParseMatchSets(req.QueryValues("match[]"));
  if (!match_sets.ok()) return BadData(match_sets.status().message());
  auto label_match = [&](const LabelSet& labels) {
    if (match_sets->empty()) return true;
    for (const auto& ms : *match_sets) {
      if (MatchesAll(ms, labels)) return true;
    }
    return false;
  };
  std::vector<re::GroupSnapshot> groups;
  if (ctx.rules) groups = ctx.rules->Snapshot();
  std::string out = "{\"status\":\"success\",\"data\":{\"groups\":[";
  bool first_group = true;
  for (const auto& g : groups) {
    // rule_group[] and file[] leave a group out; the rule filters (type, rule_name[],
    // match[]) keep it, with `rules: []` when none of its rules is left, as Prometheus 2.42
    // keeps groups for `type`. (2.44 and later drop such groups.)
    if (!rule_groups.empty() && !rule_groups.contains(g.name)) continue;
    if (!files.empty() && !files.contains(g.file)) continue;
    std::string rules;
    bool first_rule = true;
    for (const auto& r : g.rules) {
      if ((r.alerting && !want_alerting) || (!r.alerting && !want_recording)) continue;
      if (!rule_names.empty() && !rule_names.contains(r.name)) continue;
      if (!label_match(r.labels)) continue;
      if (!first_rule) rules.push_back(',');
      first_rule = false;
      AppendRule(&rules, r, exclude_alerts);
    }
    if (!first_group) out.push_back(',');
    first_group = false;
    out.append("{\"name\":");
    AppendJsonString(&out, g.name);
    out.append(",\"file\":");
    AppendJsonString(&out, g.file);
    out.append(",\"rules\":[");
    out.append(rules);
    out.append("],\"interval\":");
    AppendGoJsonFloat(&out, Seconds(g.interval));
    out.append(",\"limit\":");
    out.append(std::to_string(g.limit));
    out.append(",\"evaluationTime\":");
    AppendGoJsonFloat(&out, Seconds(g.evaluation_time));
    out.append(",\"lastEvaluation\":");
    AppendTime(&out, g.last_evaluation);
    out.push_back('}');
  }
  out.append("]}}");
  return Response::Json(200, std::move(out));
}

// The ack of a rule's alert: its labels with the external labels (as sent to the store).
std::optional<Ack> RuleAlertAck(const ApiContext& ctx, const LabelSet& external,
                                const re::RuleAlert& a) {
  if (!ctx.acks || !ctx.alerts) return std::nullopt;
  LabelSet labels = a.labels;
  for (const auto& el : external) {
    if (!labels.Has(el.name)) labels.Set(el.name, el.value);
  }
  auto stored = ctx.alerts->Get(labels.Fingerprint());
  if (!stored) return std::nullopt;
  return ctx.acks->AckOf(*stored);
}

Response Alerts(const ApiContext& ctx) {
  std::vector<re::GroupSnapshot> groups;
  if (ctx.rules) groups = ctx.rules->Snapshot();
  LabelSet external;
  if (ctx.config) {
    if (auto cfg = ctx.config()) external = cfg->evaluation.external_labels;
  }
  std::string out = "{\"status\":\"success\",\"data\":{\"alerts\":[";
  bool first = true;
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      for (const auto& a : r.alerts) {
        if (!first) out.push_back(',');
        first = false;
        const auto ack = RuleAlertAck(ctx, external, a);
        AppendAlert(&out, a, &ack);
      }
    }
  }
  out.append("]}}");
  return Response::Json(200, std::move(out));
}

}  // namespace

void RegisterPrometheusV1(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/api/v1/rules", [ctx](const Request& req) { return Rules(ctx, req); });
  router.HandleSync("GET", "/api/v1/alerts", [ctx](const Request&) { return Alerts(ctx); });
}

}  // namespace alertd::api
