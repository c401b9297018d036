// The PromQL parser: turns an expression into an AST (ast.h) and refuses, as Prometheus 2.42
// and `promtool check rules` do, every expression Prometheus refuses, with Prometheus's own
// error wording and position (`1:18: parse error: unclosed left parenthesis`). Used when rule
// files are loaded (start, reload, `alertd check-config`), so a broken rule never reaches
// evaluation.
//
// What it accepts is Prometheus 2.x PromQL: literals (Go string escapes, raw strings, hex,
// Inf/NaN), selectors with =, !=, =~, !~ (regexes validated with RE2, Go's syntax), range
// selectors, offset (negative too) and @ (<ts>, start(), end()) modifiers, subqueries, unary
// and binary operators with Prometheus's precedence (^ right-associative), bool, on/ignoring,
// group_left/group_right, and/or/unless, aggregations with by/without before or after the
// arguments, every function of functions.h with its argument types and counts, # comments,
// and Prometheus's type checks. (Quoted metric names `{"foo"}` came with Prometheus 3 and are
// refused, as 2.42 refuses them.)
//
// Thread-safe: the functions keep no state between calls.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules_engine/promql/ast.h"

namespace alertd::promql {

// The first error Prometheus would report for an expression.
struct ParseError {
  int offset = 0;  // byte offset into the expression
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes from the start of the line (as Prometheus counts)
  std::string message;  // e.g. `unexpected end of input`, without the position
  // Prometheus's form: "1:5: parse error: unexpected end of input".
  std::string ToString() const;
};

// Either a tree (error empty) or the first error (expr null).
struct ParseOutput {
  std::unique_ptr<Expr> expr;
  std::optional<ParseError> error;
  // With ParseOptions::allow_unknown_functions: the names of the functions the table does not
  // know, in order of appearance, each once.
  std::vector<std::string> unknown_functions;
};

struct ParseOptions {
  // False (Prometheus's verdict): a call of a function functions.h does not know is an error.
  // True (for datasources with more functions, e.g. VictoriaMetrics's MetricsQL): such a call
  // is a Call with a null `func` whose arguments may be of any type and whose result passes
  // every type check; everything else is checked as usual.
  bool allow_unknown_functions = false;
};

// Parses and type-checks `input`. Never throws.
ParseOutput ParseExprDetailed(std::string_view input, const ParseOptions& opts = {});

// Same, with the error as an InvalidArgument Status whose message is ParseError::ToString().
Result<std::unique_ptr<Expr>> ParseExpr(std::string_view input);

}  // namespace alertd::promql
