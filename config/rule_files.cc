// Prometheus rule files (rulefmt), validated as `promtool check rules` does: groups with
// unique non-empty names, rules with exactly one of alert/record, a parsing expression, no
// `for`/`keep_firing_for`/annotations on recording rules, valid label and annotation names,
// templates that parse. Unknown keys are errors, as in Prometheus's strict decoding. Keys of
// later Prometheus versions load too: group `query_offset` (2.53) and `labels` (3.0).
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/rule_checks.h"
#include "config/yaml_reader.h"
#include "core/utf8.h"

namespace alertd::config {

using internal::Ctx;
using internal::MapReader;

namespace {

bool IsValidMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
              (i > 0 && ch >= '0' && ch <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view DatasourceTypeName(DatasourceType t) {
  switch (t) {
    case DatasourceType::kPrometheus:
      return "prometheus";
    case DatasourceType::kVictoriaMetrics:
      return "victoriametrics";
    case DatasourceType::kOther:
      return "other";
  }
  return "other";
}

void ReadRule(const Ctx& c, const YAML::Node& n, const std::string& group, int index,
              const RuleFileOptions& opts, Rule* r) {
  r->pos = c.Pos(n);
  MapReader m(c, n, "rule");
  m.String("alert", &r->alert);
  m.String("record", &r->record);
  m.Field("expr", [&](const YAML::Node& v) {
    r->expr_pos = c.Pos(v);
    if (auto s = internal::AsString(c, v, "expr")) r->expr = *s;
  });
  bool has_for = false, has_keep = false;
  m.Field("for", [&](const YAML::Node& v) {
    has_for = true;
    if (auto d = internal::AsDuration(c, v, "for")) r->for_ = *d;
  });
  m.Field("keep_firing_for", [&](const YAML::Node& v) {
    has_keep = true;
    if (auto d = internal::AsDuration(c, v, "keep_firing_for")) r->keep_firing_for = *d;
  });
  m.StringMap("labels", &r->labels);
  m.StringMap("annotations", &r->annotations);
  m.Finish();
  if (!m.ok()) return;

  const std::string name = !r->alert.empty() ? r->alert : r->record;
  const std::string prefix =
      "group \"" + group + "\", rule " + std::to_string(index) + ", \"" + name + "\": ";
  if (!r->alert.empty() && !r->record.empty()) c.Error(n, prefix + "only one of 'record' and 'alert' must be set");
  if (r->alert.empty() && r->record.empty()) c.Error(n, prefix + "one of 'record' or 'alert' must be set");
  if (r->expr.empty()) {
    c.Error(n, prefix + "field 'expr' must be set in rule");
  } else {
    // Only Prometheus is known to refuse functions alertd's parser (2.42's) does not know.
    std::vector<std::string> unknown;
    const bool lenient = opts.datasource_type != DatasourceType::kPrometheus;
    Status st = internal::CheckRuleExpr(r->expr, lenient ? &unknown : nullptr);
    if (!st.ok()) c.Error(r->expr_pos, prefix + "could not parse expression: " + st.message());
    for (const auto& f : unknown) {
      r->warnings.push_back("function \"" + f +
                            "\" is not PromQL of Prometheus 2.42; the expression is sent to the " +
                            std::string(DatasourceTypeName(opts.datasource_type)) +
                            " datasource as written");
    }
  }
  if (!r->record.empty()) {
    if (!r->annotations.empty()) c.Error(n["annotations"], prefix + "invalid field 'annotations' in recording rule");
    if (has_for && r->for_ != Duration(0)) c.Error(n["for"], prefix + "invalid field 'for' in recording rule");
    if (has_keep && r->keep_firing_for != Duration(0))
      c.Error(n["keep_firing_for"], prefix + "invalid field 'keep_firing_for' in recording rule");
    if (!IsValidMetricName(r->record)) c.Error(n["record"], prefix + "invalid recording rule name: " + r->record);
  }
  for (const auto& [k, v] : r->labels) {
    if (!IsValidLabelName(k) || k == "__name__") c.Error(n["labels"], prefix + "invalid label name: " + k);
    if (!IsValidUtf8(v)) c.Error(n["labels"], prefix + "invalid label value: " + v);
  }
  for (const auto& [k, v] : r->annotations) {
    if (!IsValidLabelName(k)) c.Error(n["annotations"], prefix + "invalid annotation name: " + k);
  }
  if (!r->alert.empty()) {
    for (const auto& [k, v] : r->labels) {
      Status st = internal::CheckTemplateText(r->alert, v);
      if (!st.ok()) c.Error(n["labels"], prefix + "label \"" + k + "\": " + st.message());
    }
    for (const auto& [k, v] : r->annotations) {
      Status st = internal::CheckTemplateText(r->alert, v);
      if (!st.ok()) c.Error(n["annotations"], prefix + "annotation \"" + k + "\": " + st.message());
    }
  }
}

// Adds the group's labels to a rule that lacks them (Prometheus 3.0's FromMaps(group, rule)),
// checking each as a template, once, on the first alerting rule it lands on.
void MergeGroupLabels(const Ctx& c, const YAML::Node& labels_node, const RuleGroup& g,
                      std::set<std::string>* checked, Rule* r) {
  for (const auto& [k, v] : g.labels) {
    if (!r->labels.emplace(k, v).second || r->alert.empty()) continue;
    if (!checked->insert(k).second) continue;
    Status st = internal::CheckTemplateText(r->alert, v);
    if (!st.ok()) {
      c.Error(labels_node, "group \"" + g.name + "\", rule \"" + r->alert + "\": label \"" + k +
                               "\": " + st.message());
    }
  }
}

}  // namespace

std::vector<ConfigError> LoadRuleFile(const std::string& path, std::vector<RuleGroup>* out,
                                      const RuleFileOptions& opts) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {{Position{path, 0, 0}, "cannot read the rule file"}};
  std::stringstream ss;
  ss << f.rdbuf();
  return LoadRuleFileString(ss.str(), path, out, opts);
}

std::vector<ConfigError> LoadRuleFileString(const std::string& text, const std::string& path,
                                            std::vector<RuleGroup>* out,
                                            const RuleFileOptions& opts) {
  std::vector<ConfigError> errors;
  Ctx c(path, &errors);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    errors.push_back({Position{path, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg});
    return errors;
  } catch (const YAML::Exception& e) {
    errors.push_back({Position{path, 1, 1}, std::string("YAML error: ") + e.what()});
    return errors;
  }
  if (root.IsNull()) return errors;  // an empty rule file is valid, as in Prometheus
  MapReader m(c, root, "rule file");
  std::set<std::string> names;
  std::vector<RuleGroup> groups;
  m.Field("groups", [&](const YAML::Node& gl) {
    if (!gl.IsSequence()) {
      c.Error(gl, "groups: expected a list");
      return;
    }
    for (const auto& gn : gl) {
      RuleGroup g;
      g.file = path;
      g.pos = c.Pos(gn);
      MapReader gm(c, gn, "rule group");
      gm.String("name", &g.name);
      gm.OptDuration("interval", &g.interval);
      std::optional<Duration> query_offset;
      gm.OptDuration("query_offset", &query_offset);
      g.query_offset = query_offset.value_or(opts.default_query_offset);
      gm.StringMap("labels", &g.labels);
      gm.Field("limit", [&](const YAML::Node& v) {
        auto i = internal::AsInt(c, v, "limit");
        if (i && *i < 0) c.Error(v, "limit must not be negative");
        else if (i) g.limit = static_cast<int>(*i);
      });
      gm.Field("rules", [&](const YAML::Node& rl) {
        if (!rl.IsSequence()) {
          c.Error(rl, "rules: expected a list");
          return;
        }
        int idx = 0;
        for (const auto& rn : rl) {
          Rule r;
          ReadRule(c, rn, g.name, ++idx, opts, &r);
          g.rules.push_back(std::move(r));
        }
      });
      gm.Finish();
      if (!gm.ok()) continue;
      if (g.name.empty()) c.Error(gn, "Groupname must not be empty");
      else if (!names.insert(g.name).second) c.Error(gn, "groupname: \"" + g.name + "\" is repeated in the same file");
      // 0s is the global interval, as in Prometheus (rules.Manager.LoadGroups).
      if (g.interval && *g.interval == Duration(0)) g.interval.reset();
      for (const auto& [k, v] : g.labels) {
        if (!IsValidLabelName(k) || k == "__name__")
          c.Error(gn["labels"], "group \"" + g.name + "\": invalid label name: " + k);
        if (!IsValidUtf8(v))
          c.Error(gn["labels"], "group \"" + g.name + "\": invalid label value: " + v);
      }
      std::set<std::string> checked;
      for (auto& r : g.rules) MergeGroupLabels(c, gn["labels"], g, &checked, &r);
      groups.push_back(std::move(g));
    }
  });
  m.Finish();
  if (errors.empty()) {
    for (auto& g : groups) out->push_back(std::move(g));
  }
  return errors;
}

}  // namespace alertd::config
