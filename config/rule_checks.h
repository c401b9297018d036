// Checks of rule expressions and templates that need the PromQL parser and the template
// engine; used by the rule file loader and by reload. Internal to config/.
#pragma once

#include <string>

#include "core/result.h"

namespace alertd::config::internal {

// OK if `expr` parses as PromQL; otherwise the parser's message, which starts with the
// line:col inside the expression ("1:5: parse error: unexpected ...").
Status CheckRuleExpr(const std::string& expr);

// OK if `text` parses as a Go template; `name` is how the error names the template.
Status CheckTemplateText(const std::string& name, const std::string& text);

}  // namespace alertd::config::internal
