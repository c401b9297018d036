// The functions templates can call: Go's builtins (and, or, not, len, index, slice, print,
// printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, call is not supported), plus
// Prometheus's function set (template/template.go) or Alertmanager's (template/template.go).
//
// A FuncMap is immutable after construction and shared by every template parsed with it;
// functions are pure or read only the ExecEnv they are given, so calls are thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "templating/value.h"

namespace alertd::templating {

// One sample of an instant query result, as Prometheus's template `query` function sees it.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Runs an instant PromQL query (the rule engine provides it, evaluating at the rule's
// evaluation time). An error fails the template execution ("error calling query: <msg>").
using QueryFunc = std::function<Result<std::vector<Sample>>(std::string_view expr)>;

// What functions may read while a template executes. Owned by the caller of Execute.
struct ExecEnv {
  QueryFunc query;           // Prometheus `query`; unset means "query is not available"
  std::string external_url;  // Prometheus `externalURL`/`pathPrefix`
  // Current time for Alertmanager's `since`; unset means the system clock.
  std::function<Time()> now;
  // Largest string a function may build, in bytes (the executor sets it from
  // ExecOptions::max_output_bytes); 0: no limit. Functions whose result can be many times their
  // input (printf widths, join, reReplaceAll) fail instead of building a larger one.
  size_t max_result_bytes = 0;
};

using Function = std::function<Result<Value>(const ExecEnv& env, std::span<const Value> args)>;

struct FunctionDef {
  enum class Special { kNone, kAnd, kOr };  // and/or evaluate their arguments lazily
  std::string name;
  int min_args = 0;
  int max_args = 0;  // -1: variadic
  Function fn;
  Special special = Special::kNone;
};

class FuncMap {
 public:
  void Add(std::string name, int min_args, int max_args, Function fn);
  void AddSpecial(std::string name, FunctionDef::Special special);
  // nullptr if unknown.
  const FunctionDef* Find(std::string_view name) const;

 private:
  std::map<std::string, FunctionDef, std::less<>> funcs_;
};

// Go's builtins only.
const FuncMap& GoBuiltinFuncs();
// Builtins + Prometheus's template functions (rule annotations and labels).
const FuncMap& PrometheusFuncs();
// Builtins + Alertmanager's template functions (notification templates).
const FuncMap& AlertmanagerFuncs();

// Go's fmt.Sprintf for the verbs and flags templates use: %v %+v %s %q %d %b %o %O %x %X %c %U
// %e %E %f %F %g %G %t %T %%, flags "+- #0", width and precision (also `*`), with Go's
// error texts for bad verbs (%!d(string=x)), missing (%!d(MISSING)) and extra arguments.
// `limit` > 0: stops once the output is longer than `limit` bytes (the caller checks the size).
std::string GoSprintf(std::string_view format, std::span<const Value> args, size_t limit = 0);
// fmt.Sprint: operands separated by a space when neither side is a string.
std::string GoSprint(std::span<const Value> args);
// fmt.Sprintln: operands always separated by a space, newline appended.
std::string GoSprintln(std::span<const Value> args);

// Method tables of Go's time.Time (Format, Unix, UnixMilli, UTC, String, Year, ...) and
// time.Duration (Seconds, Minutes, Hours, Milliseconds, String).
const TypeInfo& TimeType();
const TypeInfo& DurationType();

// Go's time.Time.Format with a reference-time layout ("2006-01-02T15:04:05Z07:00").
std::string GoTimeFormat(const TimeValue& t, std::string_view layout);

}  // namespace alertd::templating
