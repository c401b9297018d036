#include "core/duration.h"

#include <cstdint>
#include <limits>

namespace alertd {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
// Largest first: the order the text must follow, and the order FormatDuration prints.
constexpr Unit kUnits[] = {
    {"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000}, {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},            {"m", 60LL * 1000},            {"s", 1000},
    {"ms", 1},
};

}  // namespace

Result<Duration> ParseDuration(std::string_view s) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid duration string: \"" + std::string(s) + "\"");
  };
  if (s.empty()) return Status::InvalidArgument("empty duration string");
  if (s == "0") return Duration(0);
  // As model.ParseDuration: the syntax is checked first (a later bad unit wins over an
  // overflow), then any overflow is "duration out of range".
  size_t pos = 0;
  size_t next_unit = 0;  // index into kUnits of the smallest unit still allowed
  int64_t total_ms = 0;
  bool overflow = false;
  while (pos < s.size()) {
    size_t start = pos;
    int64_t n = 0;
    bool digits_overflow = false;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) digits_overflow = true;
      if (!digits_overflow) n = n * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad();
    size_t ustart = pos;
    while (pos < s.size() && (s[pos] < '0' || s[pos] > '9')) ++pos;
    std::string_view unit = s.substr(ustart, pos - ustart);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return bad();
    next_unit = u + 1;
    if (overflow || digits_overflow || n > std::numeric_limits<int64_t>::max() / kUnits[u].ms) {
      overflow = true;
      continue;
    }
    int64_t add = n * kUnits[u].ms;
    if (total_ms > std::numeric_limits<int64_t>::max() - add) {
      overflow = true;
      continue;
    }
    total_ms += add;
  }
  // Time is int64 nanoseconds.
  if (overflow || total_ms > std::numeric_limits<int64_t>::max() / 1000000) {
    return Status::InvalidArgument("duration out of range");
  }
  return Duration(std::chrono::milliseconds(total_ms));
}

std::string FormatDuration(Duration d) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace alertd
