#include "core/time.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace alertd {
namespace {

using std::chrono::days;
using std::chrono::nanoseconds;

// Howard Hinnant's civil-date algorithms (days_from_civil / civil_from_days), here because
// std::chrono's calendar types cover them only partly in GCC 12 (no formatting).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::string FormatRFC3339(Time t) {
  if (IsZero(t)) return "0001-01-01T00:00:00Z";
  const int64_t ns = t.time_since_epoch().count();
  int64_t secs = ns / 1000000000;
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    secs -= 1;
  }
  int64_t day = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    day -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y),
                        m, d, static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                        static_cast<int>(sod % 60));
  std::string out(buf, n);
  if (frac != 0) {
    char fb[16];
    std::snprintf(fb, sizeof fb, ".%09lld", static_cast<long long>(frac));
    std::string f(fb);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

Result<Time> ParseRFC3339(std::string_view s) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid RFC 3339 timestamp \"" + std::string(s) + "\"");
  };
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, se))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int nd = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (nd < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++nd;
      }
      ++pos;
    }
    if (nd == 0) return bad();
    for (; nd < 9; ++nd) frac *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om))
      return bad();
    if (oh > 23 || om > 59) return bad();
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  if (y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && se == 0 && frac == 0 && offset == 0)
    return kZeroTime;
  const int64_t days_since = DaysFromCivil(y, mo, d);
  // Seconds fit easily (|days| < 3.7e6 for four-digit years); nanoseconds are checked, since
  // the edges of int64 nanoseconds (1677 and 2262) fall inside the parseable years.
  const int64_t secs = days_since * 86400 + h * 3600 + mi * 60 + se - offset;
  // In 128 bits: near 1677 the seconds alone are below the range and the fraction brings the
  // sum back into it.
  const __int128 ns = static_cast<__int128>(secs) * 1000000000 + frac;
  if (ns > std::numeric_limits<int64_t>::max() || ns <= std::numeric_limits<int64_t>::min()) {
    return Status::InvalidArgument("RFC 3339 timestamp \"" + std::string(s) +
                                   "\" is out of range (1677-09-21 to 2262-04-11)");
  }
  return Time(nanoseconds(static_cast<int64_t>(ns)));
}

std::optional<Time> CheckedAdd(Time t, Duration d) {
  int64_t ns;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &ns) ||
      ns == Time::min().time_since_epoch().count()) {
    return std::nullopt;
  }
  return Time(nanoseconds(ns));
}

Time SaturatingAdd(Time t, Duration d) {
  if (auto sum = CheckedAdd(t, d)) return *sum;
  return d.count() > 0 ? Time::max() : Time::min() + nanoseconds(1);
}

double ToUnixSeconds(Time t) { return static_cast<double>(t.time_since_epoch().count()) / 1e9; }
Time FromUnixSeconds(double s) {
  const double ns = std::round(s * 1e9);
  if (std::isnan(ns)) return Time(nanoseconds(0));
  // 2^63 is exactly representable; every double below it converts without overflow.
  if (ns >= 9223372036854775808.0) return Time::max();
  if (ns <= -9223372036854775808.0) return Time::min() + nanoseconds(1);
  return Time(nanoseconds(static_cast<int64_t>(ns)));
}
int64_t ToUnixMillis(Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
Time FromUnixMillis(int64_t ms) { return Time(std::chrono::milliseconds(ms)); }

}  // namespace alertd
