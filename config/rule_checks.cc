#include "config/rule_checks.h"

#include "rules_engine/promql/parser.h"
#include "templating/rule_template.h"
#include "templating/template.h"

namespace alertd::config::internal {

Status CheckRuleExpr(const std::string& expr) {
  auto parsed = promql::ParseExpr(expr);
  return parsed.ok() ? Status::Ok() : parsed.status();
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
