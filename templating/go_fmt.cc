// Go's fmt.Sprint/Sprintf/Sprintln and time.Time.Format, as far as templates use them. Written
// here because printf in templates must print exactly what Go prints (%v of a float64 is
// shortest round-trip, bad verbs print %!d(string=x), widths count runes), which neither
// printf(3) nor {fmt} do.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/labels.h"
#include "templating/functions.h"

namespace alertd::templating {
namespace {

struct Spec {
  bool plus = false, minus = false, sharp = false, space = false, zero = false;
  bool has_width = false, has_prec = false;
  int width = 0, prec = 0;
};

// Go's fmt caps widths and precisions at 1e6 in magnitude (tooLarge): a larger `*` argument is
// a bad width or precision.
bool TooLarge(int64_t x) { return x > 1000000 || x < -1000000; }

// Go's fmt parsenum: reads the digits at *i into *num, false when there are none. A number that
// grows too large stops the parse and, as in Go, consumes the rest of the format (which then
// prints %!(NOVERB)), so a width never overflows.
bool ParseNum(std::string_view format, size_t* i, int* num) {
  *num = 0;
  bool isnum = false;
  for (; *i < format.size() && format[*i] >= '0' && format[*i] <= '9'; ++*i) {
    if (TooLarge(*num)) {
      *num = 0;
      *i = format.size();
      return false;
    }
    *num = *num * 10 + (format[*i] - '0');
    isnum = true;
  }
  return isnum;
}

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Pads to the width with spaces (or zeros when the 0 flag applies to this verb).
void Pad(std::string& out, const std::string& s, const Spec& sp, bool zero_ok = false) {
  if (!sp.has_width) {
    out += s;
    return;
  }
  const size_t n = RuneCount(s);
  if (n >= static_cast<size_t>(sp.width)) {
    out += s;
    return;
  }
  const size_t pad = static_cast<size_t>(sp.width) - n;
  if (sp.minus) {
    out += s;
    out.append(pad, ' ');
  } else if (sp.zero && zero_ok) {
    // The sign goes before the zeros.
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    out += s.substr(0, sign);
    out.append(pad, '0');
    out += s.substr(sign);
  } else {
    out.append(pad, ' ');
    out += s;
  }
}

std::string TruncateRunes(const std::string& s, int prec) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == static_cast<size_t>(prec)) return s.substr(0, i);
      ++n;
    }
  }
  return s;
}

std::string Utf8(uint32_t r) {
  std::string out;
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
  return out;
}

std::string IntDigits(uint64_t u, int base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  if (u == 0) return "0";
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), digits[u % static_cast<uint64_t>(base)]);
    u /= static_cast<uint64_t>(base);
  }
  return s;
}

void FmtInteger(std::string& out, int64_t v, char verb, const Spec& sp) {
  const bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  int base = 10;
  bool upper = false;
  std::string prefix;
  switch (verb) {
    case 'b':
      base = 2;
      if (sp.sharp) prefix = "0b";
      break;
    case 'o':
      base = 8;
      if (sp.sharp) prefix = "0";
      break;
    case 'O':
      base = 8;
      prefix = "0o";
      break;
    case 'x':
      base = 16;
      if (sp.sharp) prefix = "0x";
      break;
    case 'X':
      base = 16;
      upper = true;
      if (sp.sharp) prefix = "0X";
      break;
    default:
      break;
  }
  std::string digits = IntDigits(u, base, upper);
  if (sp.has_prec) {
    if (sp.prec == 0 && u == 0) digits.clear();
    while (static_cast<int>(digits.size()) < sp.prec) digits.insert(digits.begin(), '0');
  }
  if (prefix == "0" && !digits.empty() && digits[0] == '0') prefix.clear();
  std::string sign = neg ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  std::string body = prefix + digits;
  if (sp.zero && sp.has_width && !sp.minus && !sp.has_prec) {
    int pad = sp.width - static_cast<int>(sign.size() + body.size());
    out += sign;
    if (pad > 0) out.append(static_cast<size_t>(pad), '0');
    out += body;
    return;
  }
  Pad(out, sign + body, sp);
}

void FmtFloat(std::string& out, double v, char verb, const Spec& sp) {
  int prec = -1;
  char f = verb;
  switch (verb) {
    case 'v':
      f = 'g';
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
      prec = 6;
      break;
    default:
      break;
  }
  if (sp.has_prec) prec = sp.prec;
  if (f == 'F') f = 'f';
  std::string num = FormatFloat(v, f, prec);
  if (std::isinf(v) || std::isnan(v)) {
    if (std::isnan(v) && (sp.plus || sp.space)) num = (sp.plus ? "+" : " ") + num;
    if (std::isinf(v) && v > 0 && !sp.plus && sp.space) num = " Inf";
    Spec nz = sp;
    nz.zero = false;
    Pad(out, num, nz);
    return;
  }
  if (num[0] != '-') {
    if (sp.plus) {
      num = "+" + num;
    } else if (sp.space) {
      num = " " + num;
    }
  }
  Pad(out, num, sp, !sp.minus);
}

std::string HexBytes(std::string_view s, const Spec& sp, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  size_t n = s.size();
  if (sp.has_prec && static_cast<size_t>(sp.prec) < n) n = static_cast<size_t>(sp.prec);
  for (size_t i = 0; i < n; ++i) {
    if (sp.space && i > 0) out.push_back(' ');
    if (sp.sharp && (sp.space || i == 0)) out += upper ? "0X" : "0x";
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xF]);
  }
  return out;
}

void BadVerb(std::string& out, char verb, const Value& v) {
  out += "%!";
  out.push_back(verb);
  out.push_back('(');
  if (v.is_nil()) {
    out += "<nil>";
  } else {
    out += v.TypeName();
    out.push_back('=');
    v.AppendTo(out);
  }
  out.push_back(')');
}

void PrintArg(std::string& out, const Value& v, char verb, const Spec& sp);

void PrintStruct(std::string& out, const Value& v, char verb, const Spec& sp) {
  if (v.type() != nullptr && v.type()->pointer) out.push_back('&');
  out.push_back('{');
  bool first = true;
  for (const auto& [n, e] : v.as_struct().fields) {
    if (!first) out.push_back(' ');
    first = false;
    if (sp.plus && verb == 'v') out += n + ":";
    PrintArg(out, e, verb, sp);
  }
  out.push_back('}');
}

void PrintArg(std::string& out, const Value& v, char verb, const Spec& sp) {
  if (verb == 'T') {
    Pad(out, v.is_nil() ? "<nil>" : std::string(v.TypeName()), sp);
    return;
  }
  switch (v.kind()) {
    case Value::Kind::kNil:
      if (verb == 'v') {
        Pad(out, "<nil>", sp);
      } else {
        BadVerb(out, verb, v);
      }
      return;
    case Value::Kind::kBool:
      if (verb == 'v' || verb == 't') {
        Pad(out, v.as_bool() ? "true" : "false", sp);
      } else {
        BadVerb(out, verb, v);
      }
      return;
    case Value::Kind::kInt:
    case Value::Kind::kDuration: {
      const int64_t i = v.kind() == Value::Kind::kInt ? v.as_int() : v.as_duration().ns;
      switch (verb) {
        case 'v':
          if (v.kind() == Value::Kind::kDuration) {
            Pad(out, GoDurationString(i), sp);
          } else {
            FmtInteger(out, i, 'd', sp);
          }
          return;
        case 's':
          if (v.kind() == Value::Kind::kDuration) {
            Pad(out, GoDurationString(i), sp);
            return;
          }
          BadVerb(out, verb, v);
          return;
        case 'd':
        case 'b':
        case 'o':
        case 'O':
        case 'x':
        case 'X':
          FmtInteger(out, i, verb, sp);
          return;
        case 'c':
          Pad(out, Utf8(static_cast<uint32_t>(i)), sp);
          return;
        case 'q': {
          std::string q = GoQuote(Utf8(static_cast<uint32_t>(i)));
          Pad(out, "'" + q.substr(1, q.size() - 2) + "'", sp);
          return;
        }
        case 'U': {
          std::string h = IntDigits(static_cast<uint64_t>(i), 16, true);
          while (h.size() < 4) h.insert(h.begin(), '0');
          Pad(out, "U+" + h, sp);
          return;
        }
        default:
          BadVerb(out, verb, v);
          return;
      }
    }
    case Value::Kind::kFloat:
      switch (verb) {
        case 'v':
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
          FmtFloat(out, v.as_float(), verb, sp);
          return;
        default:
          BadVerb(out, verb, v);
          return;
      }
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      switch (verb) {
        case 'v':
        case 's':
          Pad(out, sp.has_prec ? TruncateRunes(s, sp.prec) : s, sp);
          return;
        case 'q':
          Pad(out, GoQuote(sp.has_prec ? TruncateRunes(s, sp.prec) : s), sp);
          return;
        case 'x':
        case 'X':
          Pad(out, HexBytes(s, sp, verb == 'X'), sp);
          return;
        default:
          BadVerb(out, verb, v);
          return;
      }
    }
    case Value::Kind::kTime:
      if (verb == 'v' || verb == 's') {
        Pad(out, GoTimeString(v.as_time()), sp);
      } else {
        BadVerb(out, verb, v);
      }
      return;
    case Value::Kind::kList: {
      if (sp.has_width && (verb == 'v' || verb == 's')) {
        // Width applies per element in Go.
      }
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out.push_back(' ');
        first = false;
        PrintArg(out, e, verb, sp);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kMap: {
      out += "map[";
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out.push_back(' ');
        first = false;
        PrintArg(out, Value(k), verb, sp);
        out.push_back(':');
        PrintArg(out, e, verb, sp);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kStruct:
      PrintStruct(out, v, verb, sp);
      return;
  }
}

}  // namespace

std::string GoSprintf(std::string_view format, std::span<const Value> args, size_t limit) {
  std::string out;
  size_t argi = 0;
  const size_t n = format.size();
  for (size_t i = 0; i < n;) {
    if (limit > 0 && out.size() > limit) return out;
    if (format[i] != '%') {
      size_t j = format.find('%', i);
      if (j == std::string_view::npos) j = n;
      out.append(format.substr(i, j - i));
      i = j;
      continue;
    }
    ++i;
    Spec sp;
    // Flags.
    for (; i < n; ++i) {
      char c = format[i];
      if (c == '+') {
        sp.plus = true;
      } else if (c == '-') {
        sp.minus = true;
        sp.zero = false;
      } else if (c == '#') {
        sp.sharp = true;
      } else if (c == ' ') {
        sp.space = true;
      } else if (c == '0') {
        sp.zero = !sp.minus;
      } else {
        break;
      }
    }
    // Width.
    if (i < n && format[i] == '*') {
      ++i;
      if (argi < args.size() && args[argi].kind() == Value::Kind::kInt &&
          !TooLarge(args[argi].as_int())) {
        int64_t w = args[argi++].as_int();
        sp.has_width = true;
        if (w < 0) {
          sp.minus = true;
          sp.zero = false;
          w = -w;
        }
        sp.width = static_cast<int>(w);
      } else {
        if (argi < args.size()) ++argi;
        out += "%!(BADWIDTH)";
      }
    } else {
      sp.has_width = ParseNum(format, &i, &sp.width);
    }
    // Precision.
    if (i < n && format[i] == '.') {
      ++i;
      sp.has_prec = true;
      if (i < n && format[i] == '*') {
        ++i;
        if (argi < args.size() && args[argi].kind() == Value::Kind::kInt &&
            args[argi].as_int() >= 0 && !TooLarge(args[argi].as_int())) {
          sp.prec = static_cast<int>(args[argi++].as_int());
        } else {
          if (argi < args.size()) ++argi;
          sp.has_prec = false;
          out += "%!(BADPREC)";
        }
      } else if (!ParseNum(format, &i, &sp.prec)) {
        sp.prec = 0;  // "%.d": precision 0, as in Go
      }
    }
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    // The verb is one rune; templates only use ASCII verbs.
    const char verb = format[i++];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (argi >= args.size()) {
      out += "%!";
      out.push_back(verb);
      out += "(MISSING)";
      continue;
    }
    const Value& a = args[argi++];
    if (verb == 'v' && sp.sharp && a.kind() == Value::Kind::kString) {
      Pad(out, GoQuote(a.as_string()), sp);
      continue;
    }
    PrintArg(out, a, verb, sp);
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      if (args[k].is_nil()) {
        out += "<nil>";
      } else {
        out += args[k].TypeName();
        out.push_back('=');
        args[k].AppendTo(out);
      }
    }
    out.push_back(')');
  }
  return out;
}

std::string GoSprint(std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].kind() == Value::Kind::kString;
    if (i > 0 && !is_string && args[i - 1].kind() != Value::Kind::kString) out.push_back(' ');
    args[i].AppendTo(out);
  }
  return out;
}

std::string GoSprintln(std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out.push_back(' ');
    args[i].AppendTo(out);
  }
  out.push_back('\n');
  return out;
}

// ---- time.Time.Format ----

namespace {

constexpr const char* kLongMonths[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};

std::string Zero(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
  return v < 0 ? "-" + s : s;
}

}  // namespace

std::string GoTimeFormat(const TimeValue& tv, std::string_view layout) {
  using namespace std::chrono;
  const Time local = (IsZero(tv.t) ? Time{} : tv.t) + seconds(tv.offset_seconds);
  // Split in seconds first: floor<days> of a time near year 1677 overflows in nanoseconds.
  const int64_t ns = local.time_since_epoch().count();
  int64_t sub = ns % 1000000000;
  const sys_seconds secs{seconds(ns / 1000000000 - (sub < 0 ? 1 : 0))};
  if (sub < 0) sub += 1000000000;
  const auto day = floor<days>(secs);
  const year_month_day ymd(IsZero(tv.t) ? year_month_day(year(1), month(1), std::chrono::day(1))
                                        : year_month_day(day));
  const hh_mm_ss<nanoseconds> hms(
      IsZero(tv.t) ? nanoseconds(0)
                   : nanoseconds(duration_cast<nanoseconds>(secs - day).count() + sub));
  const int64_t year_v = static_cast<int>(ymd.year());
  const unsigned month_v = static_cast<unsigned>(ymd.month());
  const unsigned day_v = static_cast<unsigned>(ymd.day());
  const int hour = static_cast<int>(hms.hours().count());
  const int minute = static_cast<int>(hms.minutes().count());
  const int second = static_cast<int>(hms.seconds().count());
  const int64_t nanos = hms.subseconds().count();
  const unsigned weekday_v = weekday(sys_days(ymd)).c_encoding();
  const int yday = static_cast<int>(
      (sys_days(ymd) - sys_days(year_month_day(ymd.year(), month(1), std::chrono::day(1))))
          .count() +
      1);

  auto zone = [&](bool z, bool colon, bool secs, bool hours_only) {
    int off = tv.offset_seconds;
    if (z && off == 0) return std::string("Z");
    std::string s = off < 0 ? "-" : "+";
    if (off < 0) off = -off;
    s += Zero(off / 3600, 2);
    if (!hours_only) {
      if (colon) s += ":";
      s += Zero((off / 60) % 60, 2);
    }
    if (secs) {
      if (colon) s += ":";
      s += Zero(off % 60, 2);
    }
    return s;
  };

  std::string out;
  size_t i = 0;
  auto starts = [&](std::string_view p) { return layout.substr(i).starts_with(p); };
  while (i < layout.size()) {
    const char c = layout[i];
    switch (c) {
      case 'J':
        if (starts("January")) {
          out += kLongMonths[month_v - 1];
          i += 7;
          continue;
        }
        if (starts("Jan")) {
          out += std::string(kLongMonths[month_v - 1]).substr(0, 3);
          i += 3;
          continue;
        }
        break;
      case 'M':
        if (starts("Monday")) {
          out += kLongDays[weekday_v];
          i += 6;
          continue;
        }
        if (starts("Mon")) {
          out += std::string(kLongDays[weekday_v]).substr(0, 3);
          i += 3;
          continue;
        }
        if (starts("MST")) {
          out += tv.zone.empty() ? zone(false, false, false, false) : tv.zone;
          i += 3;
          continue;
        }
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          switch (layout[i + 1]) {
            case '1':
              out += Zero(month_v, 2);
              break;
            case '2':
              out += Zero(day_v, 2);
              break;
            case '3':
              out += Zero(hour % 12 == 0 ? 12 : hour % 12, 2);
              break;
            case '4':
              out += Zero(minute, 2);
              break;
            case '5':
              out += Zero(second, 2);
              break;
            case '6':
              out += Zero(year_v % 100, 2);
              break;
          }
          i += 2;
          continue;
        }
        if (starts("002")) {
          out += Zero(yday, 3);
          i += 3;
          continue;
        }
        break;
      case '1':
        if (starts("15")) {
          out += Zero(hour, 2);
          i += 2;
          continue;
        }
        out += std::to_string(month_v);
        i += 1;
        continue;
      case '2':
        if (starts("2006")) {
          out += Zero(year_v, 4);
          i += 4;
          continue;
        }
        out += std::to_string(day_v);
        i += 1;
        continue;
      case '_':
        if (starts("_2") && !starts("_2006")) {
          out += day_v < 10 ? " " + std::to_string(day_v) : std::to_string(day_v);
          i += 2;
          continue;
        }
        if (starts("__2")) {
          std::string s = std::to_string(yday);
          while (s.size() < 3) s.insert(s.begin(), ' ');
          out += s;
          i += 3;
          continue;
        }
        break;
      case '3':
        out += std::to_string(hour % 12 == 0 ? 12 : hour % 12);
        ++i;
        continue;
      case '4':
        out += std::to_string(minute);
        ++i;
        continue;
      case '5':
        out += std::to_string(second);
        ++i;
        continue;
      case 'P':
        if (starts("PM")) {
          out += hour >= 12 ? "PM" : "AM";
          i += 2;
          continue;
        }
        break;
      case 'p':
        if (starts("pm")) {
          out += hour >= 12 ? "pm" : "am";
          i += 2;
          continue;
        }
        break;
      case '-':
      case 'Z': {
        const bool z = c == 'Z';
        const std::string_view rest = layout.substr(i + 1);
        if (rest.starts_with("070000")) {
          out += zone(z, false, true, false);
          i += 7;
          continue;
        }
        if (rest.starts_with("07:00:00")) {
          out += zone(z, true, true, false);
          i += 9;
          continue;
        }
        if (rest.starts_with("0700")) {
          out += zone(z, false, false, false);
          i += 5;
          continue;
        }
        if (rest.starts_with("07:00")) {
          out += zone(z, true, false, false);
          i += 6;
          continue;
        }
        if (rest.starts_with("07")) {
          out += zone(z, false, false, true);
          i += 3;
          continue;
        }
        break;
      }
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          const char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (!(j < layout.size() && layout[j] >= '0' && layout[j] <= '9')) {
            const int digits = static_cast<int>(j - i - 1);
            std::string frac = Zero(nanos, 9).substr(0, static_cast<size_t>(std::min(digits, 9)));
            while (static_cast<int>(frac.size()) < digits) frac.push_back('0');
            if (ch == '9') {
              while (!frac.empty() && frac.back() == '0') frac.pop_back();
              if (!frac.empty()) out += c + frac;
            } else {
              out += c + frac;
            }
            i = j;
            continue;
          }
        }
        break;
      default:
        break;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace alertd::templating
