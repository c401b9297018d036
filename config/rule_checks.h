// Checks of rule expressions and templates that need the PromQL parser and the template
// engine; used by the rule file loader and by reload. Internal to config/.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace alertd::config::internal {

// OK if `expr` parses as PromQL; otherwise the parser's message, which starts with the
// line:col inside the expression ("1:5: parse error: unexpected ..."). With
// `unknown_functions` non-null, calls of functions the parser does not know are allowed and
// their names stored there (promql::ParseOptions::allow_unknown_functions).
Status CheckRuleExpr(const std::string& expr,
                     std::vector<std::string>* unknown_functions = nullptr);

// OK if `text` parses as the label or annotation template of alerting rule `rule_name`.
Status CheckTemplateText(const std::string& rule_name, const std::string& text);

// OK if the notification template file at `path` parses (Alertmanager's `templates:`).
Status CheckTemplateFile(const std::string& path);

}  // namespace alertd::config::internal
