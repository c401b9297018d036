#include "core/json_string.h"

#include "core/utf8.h"

namespace alertd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

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

}  // namespace alertd
