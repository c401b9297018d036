#include "api/json_writer.h"

#include "core/utf8.h"

#include <chrono>
#include <cstdio>

namespace alertd::api {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

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
      uint32_t cp;
      size_t n = DecodeUtf8(s, i, &cp);
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
