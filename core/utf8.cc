#include "core/utf8.h"

#include <locale.h>
#include <wctype.h>

namespace alertd {

size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2;
    v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
      (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
    return 0;
  *cp = v;
  return n;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace alertd

namespace alertd {
namespace {

// The C.UTF-8 locale, created once; towlower_l/towupper_l with it need no global setlocale.
locale_t Utf8Locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return loc;
}

template <typename Map>
std::string MapRunes(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(map(b)));
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      cp = 0xFFFD;
      n = 1;
    }
    AppendUtf8(&out, map(cp));
    i += n;
  }
  return out;
}

// unicode.IsSpace for non-ASCII runes: Go's short explicit list (Latin-1 NEL and NBSP, then
// the White_Space property). Written out because the C library's iswspace leaves out the
// no-break spaces (U+00A0, U+2007, U+202F), which Go counts.
bool IsGoSpaceNonAscii(uint32_t c) {
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

std::string GoTitle(std::string_view s) {
  const locale_t loc = Utf8Locale();
  static const wctrans_t to_title = loc ? wctrans_l("totitle", loc) : static_cast<wctrans_t>(0);
  uint32_t prev = ' ';
  return MapRunes(s, [&](uint32_t c) -> uint32_t {
    bool separator;
    if (prev < 0x80) {
      separator = !((prev >= '0' && prev <= '9') || (prev >= 'a' && prev <= 'z') ||
                    (prev >= 'A' && prev <= 'Z') || prev == '_');
    } else {
      separator = IsGoSpaceNonAscii(prev);
    }
    prev = c;
    if (!separator) return c;
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    return to_title ? static_cast<uint32_t>(towctrans_l(static_cast<wint_t>(c), to_title, loc)) : c;
  });
}

std::string GoToLower(std::string_view s) {
  const locale_t loc = Utf8Locale();
  return MapRunes(s, [loc](uint32_t c) -> uint32_t {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return loc ? static_cast<uint32_t>(towlower_l(static_cast<wint_t>(c), loc)) : c;
  });
}

std::string GoToUpper(std::string_view s) {
  const locale_t loc = Utf8Locale();
  return MapRunes(s, [loc](uint32_t c) -> uint32_t {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    return loc ? static_cast<uint32_t>(towupper_l(static_cast<wint_t>(c), loc)) : c;
  });
}

}  // namespace alertd
