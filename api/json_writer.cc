#include "api/json_writer.h"

#include <chrono>
#include <cstdio>

namespace alertd::api {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (Go's rules: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t Utf8SeqLen(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = Utf8SeqLen(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t start = 0;  // first byte not yet copied
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
        out->append(s.substr(start, i - start));
        out->append((static_cast<unsigned char>(s[i + 2]) == 0xA8) ? "\\u2028" : "\\u2029");
        i += 3;
        start = i;
      } else if (n == 0) {
        out->append(s.substr(start, i - start));
        out->append("\xEF\xBF\xBD");  // U+FFFD
        i += 1;
        start = i;
      } else {
        i += n;
      }
      continue;
    }
    out->append(s.substr(start, i - start));
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
    ++i;
    start = i;
  }
  out->append(s.substr(start));
  out->push_back('"');
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

void AppendLabelSetJson(std::string* out, const LabelSet& ls) {
  out->push_back('{');
  bool first = true;
  for (const auto& l : ls) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

void AppendDateTimeJson(std::string* out, Time t) {
  if (IsZero(t)) {
    out->append("\"0001-01-01T00:00:00.000Z\"");
    return;
  }
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd(day);
  const hh_mm_ss hms(ms - day);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "\"%04d-%02u-%02uT", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  out->append(buf, n);
  Append2(out, static_cast<int>(hms.hours().count()));
  out->push_back(':');
  Append2(out, static_cast<int>(hms.minutes().count()));
  out->push_back(':');
  Append2(out, static_cast<int>(hms.seconds().count()));
  out->push_back('.');
  const int frac = static_cast<int>(hms.subseconds().count());
  out->push_back(static_cast<char>('0' + frac / 100));
  Append2(out, frac % 100);
  out->append("Z\"");
}

}  // namespace alertd::api
