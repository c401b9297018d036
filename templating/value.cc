#include "templating/value.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace alertd::templating {

const TypeInfo kStringMapType{"map[string]string", {}, true};
const TypeInfo kInterfaceMapType{"map[string]interface {}", {}, false};
const TypeInfo kStringListType{"[]string", {}};
const TypeInfo kInterfaceListType{"[]interface {}", {}};
const TypeInfo kSafeHtmlType{"template.HTML", {}};

Value Value::StringMap(const std::map<std::string, std::string>& m, const TypeInfo* type) {
  Map out;
  for (const auto& [k, v] : m) out.emplace_hint(out.end(), k, Value(v));
  return Value(std::move(out), type);
}

Value Value::StringList(const std::vector<std::string>& l, const TypeInfo* type) {
  List out;
  out.reserve(l.size());
  for (const auto& s : l) out.emplace_back(s);
  return Value(std::move(out), type);
}

std::string_view Value::TypeName() const {
  if (type_ != nullptr) return type_->name;
  switch (kind()) {
    case Kind::kNil:
      return "<nil>";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kTime:
      return "time.Time";
    case Kind::kDuration:
      return "time.Duration";
    case Kind::kList:
      return "[]interface {}";
    case Kind::kMap:
      return "map[string]interface {}";
    case Kind::kStruct:
      return "struct";
  }
  return "?";
}

bool Value::Truth() const {
  switch (kind()) {
    case Kind::kNil:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kDuration:
      return as_duration().ns != 0;
    case Kind::kList:
      return !as_list().empty();
    case Kind::kMap:
      return !as_map().empty();
    case Kind::kTime:
    case Kind::kStruct:
      return true;
  }
  return false;
}

const Value* Value::FindField(std::string_view name) const {
  if (kind() != Kind::kStruct) return nullptr;
  for (const auto& [n, v] : as_struct().fields) {
    if (n == name) return &v;
  }
  return nullptr;
}

// ---- Go number formatting --------------------------------------------------------------

namespace {

// Decimal digits of a finite, non-negative double: value = 0.d1d2d3... * 10^dp.
struct Digits {
  std::string d;  // no leading/trailing zeros ("" for zero)
  int dp = 0;
};

Digits ShortestDigits(double v) {
  // std::to_chars gives the shortest round-trip representation, exactly what Go's
  // strconv uses for precision -1.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, res.ptr - buf);
  Digits out;
  size_t e = s.find('e');
  for (char c : s.substr(0, e)) {
    if (c >= '0' && c <= '9') out.d.push_back(c);
  }
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (!out.d.empty() && out.d.back() == '0') out.d.pop_back();
  if (out.d.empty()) return Digits{};
  out.dp = exp + 1;
  return out;
}

void AppendExp(std::string& out, int exp, char e) {
  out.push_back(e);
  out.push_back(exp < 0 ? '-' : '+');
  if (exp < 0) exp = -exp;
  if (exp < 10) out.push_back('0');
  out += std::to_string(exp);
}

std::string FmtE(const Digits& d, int prec, char e) {
  std::string out;
  out.push_back(d.d.empty() ? '0' : d.d[0]);
  if (prec > 0) {
    out.push_back('.');
    for (int i = 1; i <= prec; ++i) out.push_back(i < static_cast<int>(d.d.size()) ? d.d[i] : '0');
  }
  AppendExp(out, d.d.empty() ? 0 : d.dp - 1, e);
  return out;
}

std::string FmtF(const Digits& d, int prec) {
  std::string out;
  const int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    for (int i = 0; i < d.dp; ++i) out.push_back(i < nd ? d.d[i] : '0');
  } else {
    out.push_back('0');
  }
  if (prec > 0) {
    out.push_back('.');
    for (int i = 0; i < prec; ++i) {
      int j = d.dp + i;
      out.push_back(j >= 0 && j < nd ? d.d[j] : '0');
    }
  }
  return out;
}

}  // namespace

std::string FormatFloat(double v, char fmt, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::string sign = std::signbit(v) ? "-" : "";
  const double a = std::fabs(v);
  if (prec >= 0) {
    // With an explicit precision Go's strconv and C's printf agree digit for digit (both
    // round the exact binary value), so printf does the rounding.
    char spec[8];
    std::snprintf(spec, sizeof(spec), "%%.*%c", fmt);
    char buf[512];
    int n = std::snprintf(buf, sizeof(buf), spec, prec, a);
    if (n < 0) return "";
    if (n >= static_cast<int>(sizeof(buf))) {
      std::string big(static_cast<size_t>(n) + 1, '\0');
      std::snprintf(big.data(), big.size(), spec, prec, a);
      big.resize(static_cast<size_t>(n));
      return sign + big;
    }
    return sign + std::string(buf, static_cast<size_t>(n));
  }
  Digits d = ShortestDigits(a);
  const int nd = static_cast<int>(d.d.size());
  switch (fmt) {
    case 'e':
    case 'E':
      return sign + FmtE(d, nd > 0 ? nd - 1 : 0, fmt);
    case 'f':
    case 'F':
      return sign + FmtF(d, nd - d.dp > 0 ? nd - d.dp : 0);
    default: {
      // 'g': exponent form when the exponent is < -4 or >= 6 (Go uses precision 6 for
      // this decision in shortest mode).
      const int exp = nd == 0 ? 0 : d.dp - 1;
      const char e = fmt == 'G' ? 'E' : 'e';
      if (nd > 0 && (exp < -4 || exp >= 6)) return sign + FmtE(d, nd - 1, e);
      return sign + FmtF(d, nd - d.dp > 0 ? nd - d.dp : 0);
    }
  }
}

// ---- Go time printing ------------------------------------------------------------------

std::string GoTimeString(const TimeValue& tv) {
  using namespace std::chrono;
  if (IsZero(tv.t)) return "0001-01-01 00:00:00 +0000 UTC";
  const Time local = tv.t + seconds(tv.offset_seconds);
  // Split in seconds first: floor<days> of a time near year 1677 overflows in nanoseconds.
  const int64_t ns = local.time_since_epoch().count();
  int64_t sub = ns % 1000000000;
  const sys_seconds secs{seconds(ns / 1000000000 - (sub < 0 ? 1 : 0))};
  if (sub < 0) sub += 1000000000;
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss<nanoseconds> hms(
      nanoseconds(duration_cast<nanoseconds>(secs - day).count() + sub));
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  std::string out = buf;
  int64_t frac = hms.subseconds().count();
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof(f), ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  int off = tv.offset_seconds;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  std::snprintf(buf, sizeof(buf), " %c%02d%02d ", sign, off / 3600, (off / 60) % 60);
  out += buf;
  out += tv.zone;
  return out;
}

namespace {
// Writes the fraction of v/10^prec with trailing zeros removed (Go's fmtFrac).
std::string FmtFrac(uint64_t& v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(v % 10);
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) digits.insert(digits.begin(), '.');
  return digits;
}
}  // namespace

std::string GoDurationString(int64_t ns) {
  if (ns == 0) return "0s";
  const bool neg = ns < 0;
  uint64_t u = neg ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    int prec;
    std::string unit;
    if (u < 1000ULL) {
      prec = 0;
      unit = "ns";
    } else if (u < 1000000ULL) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string frac = FmtFrac(u, prec);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = FmtFrac(u, 9);
    out = std::to_string(u % 60) + frac + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

// ---- %v printing -----------------------------------------------------------------------

void Value::AppendTo(std::string& out) const {
  switch (kind()) {
    case Kind::kNil:
      out += "<nil>";
      return;
    case Kind::kBool:
      out += as_bool() ? "true" : "false";
      return;
    case Kind::kInt:
      out += std::to_string(as_int());
      return;
    case Kind::kFloat:
      out += FormatFloat(as_float(), 'g', -1);
      return;
    case Kind::kString:
      out += as_string();
      return;
    case Kind::kTime:
      out += GoTimeString(as_time());
      return;
    case Kind::kDuration:
      out += GoDurationString(as_duration().ns);
      return;
    case Kind::kList: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : as_list()) {
        if (!first) out.push_back(' ');
        first = false;
        e.AppendTo(out);
      }
      out.push_back(']');
      return;
    }
    case Kind::kMap: {
      out += "map[";
      bool first = true;
      for (const auto& [k, v] : as_map()) {
        if (!first) out.push_back(' ');
        first = false;
        out += k;
        out.push_back(':');
        v.AppendTo(out);
      }
      out.push_back(']');
      return;
    }
    case Kind::kStruct: {
      if (type_ != nullptr && type_->pointer) out.push_back('&');
      out.push_back('{');
      bool first = true;
      for (const auto& [n, v] : as_struct().fields) {
        if (!first) out.push_back(' ');
        first = false;
        v.AppendTo(out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string Value::ToString() const {
  std::string out;
  AppendTo(out);
  return out;
}

// ---- JSON (encoding/json) --------------------------------------------------------------

namespace {

// Go's encoding/json string escaping: HTML-sensitive characters and U+2028/U+2029 are escaped
// as \u00XX, which nlohmann::json does not do; hence this small encoder.
void JsonString(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      continue;
    }
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

std::string GoRFC3339Nano(const TimeValue& tv) {
  std::string s = GoTimeString(tv);  // "2006-01-02 15:04:05.999999999 -0700 MST"
  // Rebuild as 2006-01-02T15:04:05.999999999Z07:00.
  size_t sp1 = s.find(' ');
  size_t sp2 = s.find(' ', sp1 + 1);
  std::string out = s.substr(0, sp1) + "T" + s.substr(sp1 + 1, sp2 - sp1 - 1);
  if (tv.offset_seconds == 0) return out + "Z";
  std::string off = s.substr(sp2 + 1, 5);
  return out + off.substr(0, 3) + ":" + off.substr(3, 2);
}

std::string JsonFieldName(std::string_view go_name) {
  std::string n(go_name);
  if (!n.empty() && n[0] >= 'A' && n[0] <= 'Z') n[0] = static_cast<char>(n[0] - 'A' + 'a');
  return n;
}

void JsonValue(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::kDuration:
      out += std::to_string(v.as_duration().ns);
      return;
    case Value::Kind::kFloat: {
      double f = v.as_float();
      if (!std::isfinite(f)) {
        out += "null";
        return;
      }
      double a = std::fabs(f);
      if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        std::string s = FormatFloat(f, 'e', -1);
        size_t n = s.size();
        if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
          s.erase(n - 2, 1);
        }
        out += s;
      } else {
        out += FormatFloat(f, 'f', -1);
      }
      return;
    }
    case Value::Kind::kString:
      JsonString(out, v.as_string());
      return;
    case Value::Kind::kTime:
      JsonString(out, GoRFC3339Nano(v.as_time()));
      return;
    case Value::Kind::kList: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out.push_back(',');
        first = false;
        JsonValue(out, e);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kMap: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out.push_back(',');
        first = false;
        JsonString(out, k);
        out.push_back(':');
        JsonValue(out, e);
      }
      out.push_back('}');
      return;
    }
    case Value::Kind::kStruct: {
      out.push_back('{');
      bool first = true;
      for (const auto& [n, e] : v.as_struct().fields) {
        if (!first) out.push_back(',');
        first = false;
        JsonString(out, JsonFieldName(n));
        out.push_back(':');
        JsonValue(out, e);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Value::ToJson() const {
  std::string out;
  JsonValue(out, *this);
  return out;
}

}  // namespace alertd::templating
