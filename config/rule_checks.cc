#include "config/rule_checks.h"

#include "rules_engine/promql/parser.h"
#include "templating/rule_template.h"
#include "templating/template.h"

namespace alertd::config::internal {

Status CheckRuleExpr(const std::string& expr, std::vector<std::string>* unknown_functions) {
  promql::ParseOptions opts;
  opts.allow_unknown_functions = unknown_functions != nullptr;
  promql::ParseOutput out = promql::ParseExprDetailed(expr, opts);
  if (out.error) return Status::InvalidArgument(out.error->ToString());
  if (unknown_functions) *unknown_functions = std::move(out.unknown_functions);
  return Status::Ok();
}

Status CheckTemplateText(const std::string& rule_name, const std::string& text) {
  // Parsed exactly as evaluation parses it (with the $labels/$value prelude).
  auto parsed = templating::RuleTemplate::Parse(rule_name, text);
  return parsed.ok() ? Status::Ok() : parsed.status();
}

Status CheckTemplateFile(const std::string& path) {
  templating::TemplateSet set(templating::Dialect::kAlertmanager);
  return set.ParseFile(path);
}

}  // namespace alertd::config::internal
