// The functions PromQL knows (Prometheus 2.42's promql/parser/functions.go): name, argument
// types, how many optional trailing arguments, and return type. The parser checks every call
// against this table.
//
// The table is immutable; thread-safe.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "rules_engine/promql/ast.h"

namespace alertd::promql {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments. n > 0: the last argument type may be omitted or
  // repeated, up to arg_types.size() - 1 + n arguments. -1: repeated without limit.
  int variadic = 0;
  ValueType return_type = ValueType::kInstantVector;
};

// Null when no function has that name (names are case-sensitive).
const Function* FindFunction(std::string_view name);

// All functions, sorted by name.
std::span<const Function> AllFunctions();

}  // namespace alertd::promql
