#include "templating/rule_template.h"

namespace alertd::templating {
namespace {

constexpr std::string_view kPrelude =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const TypeInfo kRuleDataType{"template.tmplData", {}};

const TemplateSet& PrometheusSet() {
  static const TemplateSet* set = new TemplateSet(Dialect::kPrometheus);
  return *set;
}

Value DataValue(const RuleTemplateData& d) {
  Struct s;
  s.fields.emplace_back("Labels", Value::StringMap(d.labels));
  s.fields.emplace_back("ExternalLabels", Value::StringMap(d.external_labels));
  s.fields.emplace_back("ExternalURL", Value(d.external_url));
  s.fields.emplace_back("Value", Value(d.value));
  return Value(std::move(s), &kRuleDataType);
}

}  // namespace

Result<RuleTemplate> RuleTemplate::Parse(std::string_view rule_name, std::string_view text) {
  RuleTemplate t;
  t.name_ = "__alert_" + std::string(rule_name);
  t.text_ = std::string(text);
  if (text.find("{{") == std::string_view::npos) {
    t.constant_ = true;
    return t;
  }
  std::string full(kPrelude);
  full += text;
  auto c = PrometheusSet().Compile(t.name_, full);
  if (!c.ok()) {
    return Status::InvalidArgument("error parsing template " + t.name_ + ": " +
                                   c.status().message());
  }
  t.compiled_ = std::make_shared<const CompiledText>(std::move(c).value());
  return t;
}

Expansion RuleTemplate::Expand(const RuleTemplateData& data, const QueryFunc& query) const {
  Expansion e;
  if (constant_) {
    e.text = text_;
    return e;
  }
  ExecOptions opts;
  opts.missing_key = MissingKey::kZero;
  opts.env.query = query;
  opts.env.external_url = data.external_url;
  ExecResult r = compiled_->Execute(DataValue(data), opts);
  if (!r.ok()) {
    e.error =
        Status::InvalidArgument("error executing template " + name_ + ": " + r.status.message());
    e.text = "<error expanding template: " + e.error.message() + ">";
    return e;
  }
  e.text = std::move(r.output);
  return e;
}

Expansion ExpandRuleTemplate(std::string_view rule_name, std::string_view text,
                             const RuleTemplateData& data, const QueryFunc& query) {
  auto t = RuleTemplate::Parse(rule_name, text);
  if (!t.ok()) {
    Expansion e;
    e.error = t.status();
    e.text = "<error expanding template: " + t.status().message() + ">";
    return e;
  }
  return t->Expand(data, query);
}

}  // namespace alertd::templating
