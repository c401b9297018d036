#include "templating/html_context.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "core/json_string.h"
#include "core/labels.h"
#include "core/utf8.h"
#include "templating/template.h"

namespace alertd::templating::internal {
namespace {

using Context = HtmlContextEscaper::Context;
using State = HtmlContextEscaper::State;
using Delim = HtmlContextEscaper::Delim;
using UrlPart = HtmlContextEscaper::UrlPart;
using JsCtx = HtmlContextEscaper::JsCtx;
using Attr = HtmlContextEscaper::Attr;
using Element = HtmlContextEscaper::Element;
using Step = std::pair<Context, size_t>;  // the context after some text, and the bytes read

constexpr size_t npos = std::string_view::npos;
constexpr std::string_view kFailsafe = "ZgotmplZ";  // html/template's filterFailsafe

Context ErrorContext(std::string msg) {
  Context c;
  c.state = State::kError;
  c.error = std::move(msg);
  return c;
}

bool IsComment(State s) {
  return s == State::kHtmlCmt || s == State::kJsBlockCmt || s == State::kJsLineCmt ||
         s == State::kCssBlockCmt || s == State::kCssLineCmt;
}

bool AsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool AsciiAlphaNum(char c) { return AsciiAlpha(c) || (c >= '0' && c <= '9'); }
bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
uint32_t HexValue(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
  return static_cast<uint32_t>(c - 'A' + 10);
}
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t EatWhiteSpace(std::string_view s, size_t i) {
  while (i < s.size() &&
         (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\f' || s[i] == '\r')) {
    ++i;
  }
  return i;
}

// The end of the tag name at s[i:], and the element it names.
std::pair<size_t, Element> EatTagName(std::string_view s, size_t i) {
  if (i == s.size() || !AsciiAlpha(s[i])) return {i, Element::kNone};
  size_t j = i + 1;
  while (j < s.size()) {
    const char x = s[j];
    if (AsciiAlphaNum(x)) {
      ++j;
      continue;
    }
    if ((x == ':' || x == '-') && j + 1 < s.size() && AsciiAlphaNum(s[j + 1])) {
      j += 2;
      continue;
    }
    break;
  }
  const std::string name = Lower(s.substr(i, j - i));
  Element e = Element::kNone;
  if (name == "script") e = Element::kScript;
  if (name == "style") e = Element::kStyle;
  if (name == "textarea") e = Element::kTextarea;
  if (name == "title") e = Element::kTitle;
  return {j, e};
}

// The end of the attribute name at s[i:]; npos (and `err`) on a quote or '<' in it.
size_t EatAttrName(std::string_view s, size_t i, std::string* err) {
  for (size_t j = i; j < s.size(); ++j) {
    switch (s[j]) {
      case ' ':
      case '\t':
      case '\n':
      case '\f':
      case '\r':
      case '=':
      case '>':
        return j;
      case '\'':
      case '"':
      case '<':
        *err = fmt::format("{} in attribute name: {}", GoQuote(s.substr(j, 1)),
                           GoQuote(s.substr(0, 32)));
        return npos;
      default:
        break;
    }
  }
  return s.size();
}

enum class ContentType { kPlain, kCss, kJs, kUrl, kSrcset };

// html/template's attrType: what an attribute's value holds, by its (lower-case) name.
ContentType AttrType(std::string name) {
  if (name.rfind("data-", 0) == 0) {
    name = name.substr(5);
  } else if (const size_t colon = name.find(':'); colon != std::string::npos) {
    if (name.substr(0, colon) == "xmlns") return ContentType::kUrl;
    name = name.substr(colon + 1);
  }
  static constexpr std::string_view kUrlAttrs[] = {
      "action", "archive",    "background", "cite",   "classid",  "codebase",
      "data",   "formaction", "href",       "icon",   "longdesc", "manifest",
      "poster", "profile",    "src",        "usemap", "xmlns"};
  for (std::string_view a : kUrlAttrs) {
    if (name == a) return ContentType::kUrl;
  }
  if (name == "srcset") return ContentType::kSrcset;
  if (name == "style") return ContentType::kCss;
  if (name.rfind("on", 0) == 0) return ContentType::kJs;
  if (name.find("src") != std::string::npos || name.find("uri") != std::string::npos ||
      name.find("url") != std::string::npos) {
    return ContentType::kUrl;
  }
  return ContentType::kPlain;
}

bool IsJsType(std::string_view mime) {
  std::string m = Lower(mime);
  if (const size_t semi = m.find(';'); semi != std::string::npos) m.resize(semi);
  const size_t b = m.find_first_not_of(" \t\n\r\f\v");
  const size_t e = m.find_last_not_of(" \t\n\r\f\v");
  m = b == std::string::npos ? "" : m.substr(b, e - b + 1);
  static constexpr std::string_view kTypes[] = {
      "application/ecmascript",   "application/javascript",
      "application/json",         "application/x-ecmascript",
      "application/x-javascript", "text/ecmascript",
      "text/javascript",          "text/javascript1.0",
      "text/javascript1.1",       "text/javascript1.2",
      "text/javascript1.3",       "text/javascript1.4",
      "text/javascript1.5",       "text/jscript",
      "text/livescript",          "text/x-ecmascript",
      "text/x-javascript"};
  return std::find(std::begin(kTypes), std::end(kTypes), m) != std::end(kTypes);
}

State ElementContentState(Element e) {
  switch (e) {
    case Element::kScript:
      return State::kJs;
    case Element::kStyle:
      return State::kCss;
    case Element::kTextarea:
    case Element::kTitle:
      return State::kRcdata;
    case Element::kNone:
      break;
  }
  return State::kText;
}

State AttrStartState(Attr a) {
  switch (a) {
    case Attr::kScript:
      return State::kJs;
    case Attr::kStyle:
      return State::kCss;
    case Attr::kUrl:
      return State::kUrl;
    case Attr::kSrcset:
      return State::kSrcset;
    case Attr::kNone:
    case Attr::kScriptType:
      break;
  }
  return State::kAttr;
}

// ---- transitions (html/template transition.go) ----

Step TText(Context c, std::string_view s) {
  size_t k = 0;
  for (;;) {
    size_t i = s.find('<', k);
    if (i == npos || i + 1 == s.size()) return {c, s.size()};
    if (s.substr(i, 4) == "<!--") {
      Context n;
      n.state = State::kHtmlCmt;
      return {n, i + 4};
    }
    ++i;
    bool end = false;
    if (s[i] == '/') {
      if (i + 1 == s.size()) return {c, s.size()};
      end = true;
      ++i;
    }
    auto [j, e] = EatTagName(s, i);
    if (j != i) {
      Context n;
      n.state = State::kTag;
      n.element = end ? Element::kNone : e;
      return {n, j};
    }
    k = j;
  }
}

Step TTag(Context c, std::string_view s) {
  const size_t i = EatWhiteSpace(s, 0);
  if (i == s.size()) return {c, s.size()};
  if (s[i] == '>') {
    Context n;
    n.state = ElementContentState(c.element);
    n.element = c.element;
    return {n, i + 1};
  }
  std::string err;
  const size_t j = EatAttrName(s, i, &err);
  if (j == npos) return {ErrorContext(err), s.size()};
  if (i == j) {
    return {
        ErrorContext("expected space, attr name, or end of tag, but got " + GoQuote(s.substr(i))),
        s.size()};
  }
  const std::string name = Lower(s.substr(i, j - i));
  Attr attr = Attr::kNone;
  if (c.element == Element::kScript && name == "type") {
    attr = Attr::kScriptType;
  } else {
    switch (AttrType(name)) {
      case ContentType::kUrl:
        attr = Attr::kUrl;
        break;
      case ContentType::kCss:
        attr = Attr::kStyle;
        break;
      case ContentType::kJs:
        attr = Attr::kScript;
        break;
      case ContentType::kSrcset:
        attr = Attr::kSrcset;
        break;
      case ContentType::kPlain:
        break;
    }
  }
  Context n;
  n.state = j == s.size() ? State::kAttrName : State::kAfterName;
  n.element = c.element;
  n.attr = attr;
  return {n, j};
}

Step TAttrName(Context c, std::string_view s) {
  std::string err;
  const size_t i = EatAttrName(s, 0, &err);
  if (i == npos) return {ErrorContext(err), s.size()};
  if (i != s.size()) c.state = State::kAfterName;
  return {c, i};
}

Step TAfterName(Context c, std::string_view s) {
  const size_t i = EatWhiteSpace(s, 0);
  if (i == s.size()) return {c, s.size()};
  if (s[i] != '=') {  // the tag's end, or an attribute without a value
    c.state = State::kTag;
    return {c, i};
  }
  c.state = State::kBeforeValue;
  return {c, i + 1};
}

Step TBeforeValue(Context c, std::string_view s) {
  size_t i = EatWhiteSpace(s, 0);
  if (i == s.size()) return {c, s.size()};
  Delim delim = Delim::kSpaceOrTagEnd;
  if (s[i] == '\'') {
    delim = Delim::kSingleQuote;
    ++i;
  } else if (s[i] == '"') {
    delim = Delim::kDoubleQuote;
    ++i;
  }
  c.state = AttrStartState(c.attr);
  c.delim = delim;
  return {c, i};
}

Step THtmlCmt(Context c, std::string_view s) {
  if (const size_t i = s.find("-->"); i != npos) return {Context{}, i + 3};
  return {c, s.size()};
}

// Where "</tag" followed by a separator starts, case-insensitively; npos if nowhere.
size_t IndexTagEnd(std::string_view s, std::string_view tag) {
  size_t res = 0;
  while (!s.empty()) {
    const size_t i = s.find("</");
    if (i == npos) return npos;
    s = s.substr(i + 2);
    if (tag.size() <= s.size() && Lower(s.substr(0, tag.size())) == tag) {
      s = s.substr(tag.size());
      if (!s.empty() && std::string_view("> \t\n\f/").find(s[0]) != npos) return res + i;
      res += tag.size();
    }
    res += i + 2;
  }
  return npos;
}

Step TSpecialTagEnd(Context c, std::string_view s) {
  std::string_view tag;
  switch (c.element) {
    case Element::kScript:
      tag = "script";
      break;
    case Element::kStyle:
      tag = "style";
      break;
    case Element::kTextarea:
      tag = "textarea";
      break;
    case Element::kTitle:
      tag = "title";
      break;
    case Element::kNone:
      break;
  }
  if (!tag.empty()) {
    if (const size_t i = IndexTagEnd(s, tag); i != npos) return {Context{}, i};
  }
  return {c, s.size()};
}

Step TUrl(Context c, std::string_view s) {
  if (s.find_first_of("#?") != npos) {
    c.url_part = UrlPart::kQueryOrFrag;
  } else if (s.size() != EatWhiteSpace(s, 0) && c.url_part == UrlPart::kNone) {
    c.url_part = UrlPart::kPreQuery;
  }
  return {c, s.size()};
}

bool IsJsIdentPart(unsigned char c) {
  return c == '$' || c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

// Whether a '/' after `s` starts a regular expression rather than a division.
JsCtx NextJsCtx(std::string_view s, JsCtx preceding) {
  for (;;) {  // trim "\t\n\f\r \u2028\u2029" on the right
    if (!s.empty() && std::string_view("\t\n\f\r ").find(s.back()) != npos) {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && s.substr(s.size() - 3, 2) == "\xE2\x80" &&
               (s.back() == '\xA8' || s.back() == '\xA9')) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  if (s.empty()) return preceding;
  const char c = s.back();
  const size_t n = s.size();
  switch (c) {
    case '+':
    case '-': {
      size_t start = n - 1;
      while (start > 0 && s[start - 1] == c) --start;
      return ((n - start) & 1) == 1 ? JsCtx::kRegexp : JsCtx::kDivOp;
    }
    case '.':
      return n != 1 && s[n - 2] >= '0' && s[n - 2] <= '9' ? JsCtx::kDivOp : JsCtx::kRegexp;
    case ',':
    case '<':
    case '>':
    case '=':
    case '*':
    case '%':
    case '&':
    case '|':
    case '^':
    case '?':
    case '!':
    case '~':
    case '(':
    case '[':
    case ':':
    case ';':
    case '{':
    case '}':
      return JsCtx::kRegexp;
    default: {
      size_t j = n;
      while (j > 0 && IsJsIdentPart(static_cast<unsigned char>(s[j - 1]))) --j;
      static constexpr std::string_view kKeywords[] = {
          "break", "case",       "continue", "delete", "do",  "else",   "finally",
          "in",    "instanceof", "return",   "throw",  "try", "typeof", "void"};
      const std::string_view word = s.substr(j);
      for (std::string_view k : kKeywords) {
        if (word == k) return JsCtx::kRegexp;
      }
      return JsCtx::kDivOp;
    }
  }
}

Step TJs(Context c, std::string_view s) {
  size_t i = s.find_first_of("\"'`/");
  if (i == npos) {
    c.js_ctx = NextJsCtx(s, c.js_ctx);
    return {c, s.size()};
  }
  c.js_ctx = NextJsCtx(s.substr(0, i), c.js_ctx);
  switch (s[i]) {
    case '"':
      c.state = State::kJsDqStr;
      c.js_ctx = JsCtx::kRegexp;
      break;
    case '\'':
      c.state = State::kJsSqStr;
      c.js_ctx = JsCtx::kRegexp;
      break;
    case '`':
      c.state = State::kJsBqStr;
      c.js_ctx = JsCtx::kRegexp;
      break;
    case '/':
      if (i + 1 < s.size() && s[i + 1] == '/') {
        c.state = State::kJsLineCmt;
        ++i;
      } else if (i + 1 < s.size() && s[i + 1] == '*') {
        c.state = State::kJsBlockCmt;
        ++i;
      } else if (c.js_ctx == JsCtx::kRegexp) {
        c.state = State::kJsRegexp;
      } else {
        c.js_ctx = JsCtx::kRegexp;
      }
      break;
    default:
      break;
  }
  return {c, i + 1};
}

Step TJsDelimited(Context c, std::string_view s) {
  std::string_view specials = "\\\"";
  if (c.state == State::kJsSqStr) specials = "\\'";
  if (c.state == State::kJsBqStr) specials = "`\\";
  if (c.state == State::kJsRegexp) specials = "\\/[]";
  size_t k = 0;
  bool in_charset = false;
  for (;;) {
    size_t i = s.find_first_of(specials, k);
    if (i == npos) break;
    switch (s[i]) {
      case '\\':
        ++i;
        if (i == s.size()) {
          return {ErrorContext("unfinished escape sequence in JS string: " + GoQuote(s)), s.size()};
        }
        break;
      case '[':
        in_charset = true;
        break;
      case ']':
        in_charset = false;
        break;
      default:
        if (!in_charset) {
          c.state = State::kJs;
          c.js_ctx = JsCtx::kDivOp;
          return {c, i + 1};
        }
    }
    k = i + 1;
  }
  if (in_charset) return {ErrorContext("unfinished JS regexp charset: " + GoQuote(s)), s.size()};
  return {c, s.size()};
}

Step TBlockCmt(Context c, std::string_view s) {
  const size_t i = s.find("*/");
  if (i == npos) return {c, s.size()};
  c.state = c.state == State::kJsBlockCmt ? State::kJs : State::kCss;
  return {c, i + 2};
}

Step TLineCmt(Context c, std::string_view s) {
  size_t i = npos;
  if (c.state == State::kJsLineCmt) {
    i = s.find_first_of("\n\r");
    for (std::string_view ls :
         {std::string_view("\xE2\x80\xA8"), std::string_view("\xE2\x80\xA9")}) {
      i = std::min(i, s.find(ls));
    }
  } else {
    i = s.find_first_of("\n\f\r");
  }
  if (i == npos) return {c, s.size()};
  c.state = c.state == State::kJsLineCmt ? State::kJs : State::kCss;
  return {c, i};  // the line terminator is not part of the comment
}

bool IsCssNmchar(uint32_t r) {
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' ||
         r == '_' || (r >= 0x80 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) ||
         (r >= 0x10000 && r <= 0x10ffff);
}

bool EndsWithCssKeyword(std::string_view b, std::string_view kw) {
  if (b.size() < kw.size()) return false;
  const size_t i = b.size() - kw.size();
  if (i != 0) {
    // The rune before the keyword (UTF-8: find its first byte).
    size_t start = i - 1;
    while (start > 0 && (static_cast<unsigned char>(b[start]) & 0xC0) == 0x80) --start;
    uint32_t r = 0xFFFD;
    if (DecodeUtf8(b, start, &r) == 0) r = 0xFFFD;
    if (IsCssNmchar(r)) return false;
  }
  return Lower(b.substr(i)) == kw;
}

// CSS3 escapes (\XX... and \c) decoded.
std::string DecodeCss(std::string_view s) {
  std::string b;
  while (!s.empty()) {
    size_t i = s.find('\\');
    if (i == npos) i = s.size();
    b.append(s.substr(0, i));
    s = s.substr(i);
    if (s.size() < 2) break;
    if (IsHex(s[1])) {
      size_t j = 2;
      while (j < s.size() && j < 7 && IsHex(s[j])) ++j;
      uint32_t r = 0;
      for (size_t k = 1; k < j; ++k) r = r * 16 + HexValue(s[k]);
      if (r > 0x10FFFF) {
        r /= 16;
        --j;
      }
      AppendUtf8(&b, r);
      s = s.substr(j);
      if (!s.empty()) {  // one optional white space after the hex digits
        if (s[0] == '\t' || s[0] == '\n' || s[0] == '\f' || s[0] == ' ') {
          s = s.substr(1);
        } else if (s[0] == '\r') {
          s = s.substr(s.size() >= 2 && s[1] == '\n' ? 2 : 1);
        }
      }
    } else {
      uint32_t r = 0;
      const size_t n = std::max<size_t>(DecodeUtf8(s, 1, &r), 1);
      b.append(s.substr(1, n));
      s = s.substr(1 + n);
    }
  }
  return b;
}

Step TCss(Context c, std::string_view s) {
  size_t k = 0;
  for (;;) {
    const size_t i = s.find_first_of("(\"'/", k);
    if (i == npos) return {c, s.size()};
    switch (s[i]) {
      case '(': {
        std::string_view p = s.substr(0, i);
        while (!p.empty() && std::string_view("\t\n\f\r ").find(p.back()) != npos)
          p.remove_suffix(1);
        if (EndsWithCssKeyword(p, "url")) {
          size_t j = i + 1;
          while (j < s.size() && std::string_view("\t\n\f\r ").find(s[j]) != npos) ++j;
          if (j != s.size() && s[j] == '"') {
            c.state = State::kCssDqUrl;
            ++j;
          } else if (j != s.size() && s[j] == '\'') {
            c.state = State::kCssSqUrl;
            ++j;
          } else {
            c.state = State::kCssUrl;
          }
          return {c, j};
        }
        break;
      }
      case '/':
        if (i + 1 < s.size()) {
          if (s[i + 1] == '/') {
            c.state = State::kCssLineCmt;
            return {c, i + 2};
          }
          if (s[i + 1] == '*') {
            c.state = State::kCssBlockCmt;
            return {c, i + 2};
          }
        }
        break;
      case '"':
        c.state = State::kCssDqStr;
        return {c, i + 1};
      case '\'':
        c.state = State::kCssSqStr;
        return {c, i + 1};
    }
    k = i + 1;
  }
}

Step TCssStr(Context c, std::string_view s) {
  std::string_view end_and_esc = "\\\"";
  if (c.state == State::kCssSqStr || c.state == State::kCssSqUrl) end_and_esc = "\\'";
  if (c.state == State::kCssUrl) end_and_esc = "\\\t\n\f\r )";
  size_t k = 0;
  for (;;) {
    size_t i = s.find_first_of(end_and_esc, k);
    if (i == npos) {
      const std::string decoded = DecodeCss(s.substr(k));
      auto [c2, nread] = TUrl(c, decoded);
      (void)nread;  // TUrl reads everything
      return {c2, s.size()};
    }
    if (s[i] == '\\') {
      ++i;
      if (i == s.size()) {
        return {ErrorContext("unfinished escape sequence in CSS string: " + GoQuote(s)), s.size()};
      }
    } else {
      c.state = State::kCss;
      return {c, i + 1};
    }
    c = TUrl(c, DecodeCss(s.substr(0, i + 1))).first;
    k = i + 1;
  }
}

Step Transition(const Context& c, std::string_view s) {
  switch (c.state) {
    case State::kText:
      return TText(c, s);
    case State::kTag:
      return TTag(c, s);
    case State::kAttrName:
      return TAttrName(c, s);
    case State::kAfterName:
      return TAfterName(c, s);
    case State::kBeforeValue:
      return TBeforeValue(c, s);
    case State::kHtmlCmt:
      return THtmlCmt(c, s);
    case State::kRcdata:
      return TSpecialTagEnd(c, s);
    case State::kAttr:
      return {c, s.size()};
    case State::kUrl:
    case State::kSrcset:
      return TUrl(c, s);
    case State::kJs:
      return TJs(c, s);
    case State::kJsDqStr:
    case State::kJsSqStr:
    case State::kJsBqStr:
    case State::kJsRegexp:
      return TJsDelimited(c, s);
    case State::kJsBlockCmt:
    case State::kCssBlockCmt:
      return TBlockCmt(c, s);
    case State::kJsLineCmt:
    case State::kCssLineCmt:
      return TLineCmt(c, s);
    case State::kCss:
      return TCss(c, s);
    case State::kCssDqStr:
    case State::kCssSqStr:
    case State::kCssDqUrl:
    case State::kCssSqUrl:
    case State::kCssUrl:
      return TCssStr(c, s);
    case State::kError:
      return {c, s.size()};
  }
  return {c, s.size()};
}

// Go's html.UnescapeString for the character references attribute values use in practice:
// numeric ones and amp, lt, gt, quot, apos, nbsp (others are left as written).
std::string HtmlUnescape(std::string_view s) {
  if (s.find('&') == npos) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '&') {
      out.push_back(s[i++]);
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == npos || semi - i > 10) {
      out.push_back(s[i++]);
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
        {"amp", "&"},   {"lt", "<"},   {"gt", ">"},
        {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"}};
    bool done = false;
    for (const auto& [n, v] : kNamed) {
      if (name == n) {
        out.append(v);
        done = true;
      }
    }
    if (!done && name.size() >= 2 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t r = 0;
      bool ok = !digits.empty() && digits.size() <= 7;
      for (char d : digits) {
        if (hex ? !IsHex(d) : !(d >= '0' && d <= '9')) ok = false;
      }
      if (ok) {
        for (char d : digits) r = r * (hex ? 16 : 10) + HexValue(d);
        if (r == 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
        AppendUtf8(&out, r);
        done = true;
      }
    }
    if (done) {
      i = semi + 1;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// contextAfterText: the context after the first tokens of `s`, and how many bytes they are.
Step ContextAfterText(const Context& c, std::string_view s) {
  if (c.delim == Delim::kNone) {
    auto [c1, i] = TSpecialTagEnd(c, s);
    if (i == 0) return {c1, 0};  // a special end tag (</script>) starts here
    return Transition(c, s.substr(0, i));
  }
  std::string_view ends = "\"";
  if (c.delim == Delim::kSingleQuote) ends = "'";
  if (c.delim == Delim::kSpaceOrTagEnd) ends = " \t\n\f\r>";
  size_t i = s.find_first_of(ends);
  if (i == npos) i = s.size();
  if (c.delim == Delim::kSpaceOrTagEnd) {
    if (const size_t j = s.substr(0, i).find_first_of("\"'<=`"); j != npos) {
      return {
          ErrorContext(GoQuote(s.substr(j, 1)) + " in unquoted attr: " + GoQuote(s.substr(0, i))),
          s.size()};
    }
  }
  if (i == s.size()) {
    // Still inside the value: its text is seen decoded (onclick="alert(&quot;x&quot;)").
    const std::string u = HtmlUnescape(s);
    Context cur = c;
    std::string_view rest = u;
    while (!rest.empty()) {
      auto [c1, n] = Transition(cur, rest);
      if (n == 0 && c1.state == cur.state) break;
      cur = std::move(c1);
      rest = rest.substr(n);
    }
    return {cur, s.size()};
  }
  Element element = c.element;
  if (c.state == State::kAttr && c.element == Element::kScript && c.attr == Attr::kScriptType &&
      !IsJsType(s.substr(0, i))) {
    element = Element::kNone;
  }
  if (c.delim != Delim::kSpaceOrTagEnd) ++i;  // the closing quote
  Context n;
  n.state = State::kTag;
  n.element = element;
  return {n, i};
}

Context Nudge(Context c) {
  switch (c.state) {
    case State::kTag:
      c.state = State::kAttrName;
      break;
    case State::kBeforeValue:
      c.state = AttrStartState(c.attr);
      c.delim = Delim::kSpaceOrTagEnd;
      c.attr = Attr::kNone;
      break;
    case State::kAfterName:
      c.state = State::kAttrName;
      c.attr = Attr::kNone;
      break;
    default:
      break;
  }
  return c;
}

// ---- escapers (html/template html.go, url.go, js.go, css.go) ----

enum class Esc {
  kHtml,
  kRcdata,
  kAttr,
  kNospace,
  kNameFilter,
  kComment,
  kUrlFilter,
  kUrlNormalizer,
  kUrlEscaper,
  kSrcset,
  kJsVal,
  kJsStr,
  kJsRegexp,
  kCssEscaper,
  kCssValueFilter,
};

// htmlReplacementTable / htmlNospaceReplacementTable.
std::string HtmlReplace(std::string_view s, bool nospace, bool keep_amp) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char ch : s) {
    switch (ch) {
      case '\0':
        out += nospace ? "&#xfffd;" : "\xEF\xBF\xBD";
        break;
      case '"':
        out += "&#34;";
        break;
      case '&':
        out += keep_amp ? "&" : "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '+':
        out += "&#43;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        if (nospace) {
          switch (ch) {
            case '\t':
              out += "&#9;";
              continue;
            case '\n':
              out += "&#10;";
              continue;
            case '\v':
              out += "&#11;";
              continue;
            case '\f':
              out += "&#12;";
              continue;
            case '\r':
              out += "&#13;";
              continue;
            case ' ':
              out += "&#32;";
              continue;
            case '=':
              out += "&#61;";
              continue;
            case '`':
              out += "&#96;";
              continue;
            default:
              break;
          }
        }
        out.push_back(ch);
    }
  }
  return out;
}

bool IsSafeUrl(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == npos) return true;
  const std::string_view protocol = s.substr(0, colon);
  if (protocol.find('/') != npos) return true;
  const std::string p = Lower(protocol);
  return p == "http" || p == "https" || p == "mailto";
}

// processURLOnto: percent-encodes what a URL (norm) or a URL part (!norm) may not hold.
std::string UrlProcess(std::string_view s, bool norm) {
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    bool keep = false;
    switch (c) {
      case '!':
      case '#':
      case '$':
      case '&':
      case '*':
      case '+':
      case ',':
      case '/':
      case ':':
      case ';':
      case '=':
      case '?':
      case '@':
      case '[':
      case ']':
        keep = norm;
        break;
      case '-':
      case '.':
      case '_':
      case '~':
        keep = true;
        break;
      case '%':
        keep = norm && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2]);
        break;
      default:
        keep = AsciiAlphaNum(c);
    }
    if (keep) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02x}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool IsHtmlSpace(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }

std::string Srcset(std::string_view s) {
  std::string out;
  auto element = [&](size_t left, size_t right) {
    size_t start = left;
    while (start < right && IsHtmlSpace(s[start])) ++start;
    size_t end = right;
    for (size_t i = start; i < right; ++i) {
      if (IsHtmlSpace(s[i])) {
        end = i;
        break;
      }
    }
    const std::string_view url = s.substr(start, end - start);
    if (IsSafeUrl(url)) {
      bool metadata_ok = true;
      for (size_t i = end; i < right; ++i) {
        if (!IsHtmlSpace(s[i]) && !AsciiAlphaNum(s[i])) metadata_ok = false;
      }
      if (metadata_ok) {
        out.append(s.substr(left, start - left));
        out += UrlProcess(url, true);
        out.append(s.substr(end, right - end));
        return;
      }
    }
    out += "#";
    out += kFailsafe;
  };
  size_t written = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') {
      element(written, i);
      out += ",";
      written = i + 1;
    }
  }
  element(written, s.size());
  return out;
}

// replace() with one of js.go's tables (Go 1.19.8's: HTML specials as \uXXXX); U+2028 and
// U+2029 always become \u2028 and \u2029.
std::string JsReplace(std::string_view s, bool regexp) {
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\xE2' && i + 2 < s.size() && s[i + 1] == '\x80' &&
        (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      out += s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    switch (c) {
      case '\0':
        out += "\\u0000";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\v':
        out += "\\u000b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '"':
        out += "\\u0022";
        continue;
      case '&':
        out += "\\u0026";
        continue;
      case '\'':
        out += "\\u0027";
        continue;
      case '+':
        out += "\\u002b";
        continue;
      case '/':
        out += "\\/";
        continue;
      case '<':
        out += "\\u003c";
        continue;
      case '>':
        out += "\\u003e";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '`':
        out += "\\u0060";
        continue;
      default:
        break;
    }
    if (regexp && std::string_view("$()*-.?[]^{|}").find(c) != npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::string JsVal(std::string_view s, const Value* v) {
  std::string json;
  if (v == nullptr || v->kind() == Value::Kind::kString) {
    AppendJsonString(&json, s);
  } else {
    json = v->ToJson();
  }
  if (json.empty()) return " null ";
  const bool pad = IsJsIdentPart(static_cast<unsigned char>(json.front())) ||
                   IsJsIdentPart(static_cast<unsigned char>(json.back()));
  return pad ? " " + json + " " : json;
}

std::string CssEscape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string_view repl;
    switch (s[i]) {
      case '\0':
        repl = "\\0";
        break;
      case '\t':
        repl = "\\9";
        break;
      case '\n':
        repl = "\\a";
        break;
      case '\f':
        repl = "\\c";
        break;
      case '\r':
        repl = "\\d";
        break;
      case '"':
        repl = "\\22";
        break;
      case '&':
        repl = "\\26";
        break;
      case '\'':
        repl = "\\27";
        break;
      case '(':
        repl = "\\28";
        break;
      case ')':
        repl = "\\29";
        break;
      case '+':
        repl = "\\2b";
        break;
      case '/':
        repl = "\\2f";
        break;
      case ':':
        repl = "\\3a";
        break;
      case ';':
        repl = "\\3b";
        break;
      case '<':
        repl = "\\3c";
        break;
      case '>':
        repl = "\\3e";
        break;
      case '\\':
        repl = "\\\\";
        break;
      case '{':
        repl = "\\7b";
        break;
      case '}':
        repl = "\\7d";
        break;
      default:
        out.push_back(s[i]);
        continue;
    }
    out += repl;
    const size_t next = i + 1;
    if (repl != "\\\\" && (next == s.size() || IsHex(s[next]) || IsHtmlSpace(s[next]))) {
      out.push_back(' ');
    }
  }
  return out;
}

std::string CssValueFilter(std::string_view s) {
  const std::string b = DecodeCss(s);
  std::string id;
  for (size_t i = 0; i < b.size(); ++i) {
    const char c = b[i];
    switch (c) {
      case '\0':
      case '"':
      case '\'':
      case '(':
      case ')':
      case '/':
      case ';':
      case '@':
      case '[':
      case '\\':
      case ']':
      case '`':
      case '{':
      case '}':
        return std::string(kFailsafe);
      case '-':
        if (i != 0 && b[i - 1] == '-') return std::string(kFailsafe);
        id.push_back(c);
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x80 && IsCssNmchar(static_cast<unsigned char>(c))) {
          id.push_back(c);
        }
    }
  }
  id = Lower(id);
  if (id.find("expression") != npos || id.find("mozbinding") != npos) {
    return std::string(kFailsafe);
  }
  return b;
}

std::string HtmlNameFilter(std::string_view s) {
  if (s.empty()) return std::string(kFailsafe);
  const std::string l = Lower(s);
  if (AttrType(l) != ContentType::kPlain) return std::string(kFailsafe);
  for (char c : l) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return std::string(kFailsafe);
  }
  return l;
}

// `v`: the action's own value for the first escaper of the chain (its type matters there),
// null for the later ones, which see the string an earlier one made.
std::string Apply(Esc e, std::string_view s, const Value* v) {
  const bool safe_html = v != nullptr && v->type() == &kSafeHtmlType;
  switch (e) {
    case Esc::kHtml:
      return safe_html ? std::string(s) : HtmlReplace(s, false, false);
    case Esc::kRcdata:
      return HtmlReplace(s, false, safe_html);
    case Esc::kAttr:
      return HtmlReplace(s, false, false);
    case Esc::kNospace:
      return HtmlReplace(s, true, false);
    case Esc::kNameFilter:
      return HtmlNameFilter(s);
    case Esc::kComment:
      return "";
    case Esc::kUrlFilter:
      return IsSafeUrl(s) ? std::string(s) : "#" + std::string(kFailsafe);
    case Esc::kUrlNormalizer:
      return UrlProcess(s, true);
    case Esc::kUrlEscaper:
      return UrlProcess(s, false);
    case Esc::kSrcset:
      return Srcset(s);
    case Esc::kJsVal:
      return JsVal(s, v);
    case Esc::kJsStr:
      return JsReplace(s, false);
    case Esc::kJsRegexp: {
      std::string r = JsReplace(s, true);
      return r.empty() ? "(?:)" : r;
    }
    case Esc::kCssEscaper:
      return CssEscape(s);
    case Esc::kCssValueFilter:
      return CssValueFilter(s);
  }
  return std::string(s);
}

}  // namespace

void HtmlContextEscaper::AppendText(std::string& out, std::string_view s) {
  // escapeText: walks the text token by token; in HTML text and RCDATA a '<' that starts
  // no tag is written as "&lt;"; comments outside attributes are dropped (a JS block comment
  // becomes a space or a newline, a CSS one a space).
  Context c = c_;
  std::string b;
  size_t written = 0;
  size_t i = 0;
  while (i != s.size()) {
    auto [c1, nread] = ContextAfterText(c, s.substr(i));
    const size_t i1 = i + nread;
    if (c.state == State::kText || c.state == State::kRcdata) {
      size_t end = i1;
      if (c1.state != c.state) {
        for (size_t j = end; j-- > i;) {
          if (s[j] == '<') {
            end = j;
            break;
          }
        }
      }
      for (size_t j = i; j < end; ++j) {
        if (s[j] == '<' && Lower(s.substr(j, 9)) != "<!doctype") {
          b.append(s.substr(written, j - written));
          b += "&lt;";
          written = j + 1;
        }
      }
    } else if (IsComment(c.state) && c.delim == Delim::kNone) {
      if (c.state == State::kJsBlockCmt) {
        const std::string_view cmt = s.substr(written, i1 - written);
        const bool newline = cmt.find_first_of("\n\r") != npos ||
                             cmt.find("\xE2\x80\xA8") != npos || cmt.find("\xE2\x80\xA9") != npos;
        b.push_back(newline ? '\n' : ' ');
      } else if (c.state == State::kCssBlockCmt) {
        b.push_back(' ');
      }
      written = i1;
    }
    if (c.state != c1.state && IsComment(c1.state) && c1.delim == Delim::kNone) {
      size_t cs = i1 - 2;  // keep what precedes the comment start
      if (c1.state == State::kHtmlCmt) cs -= 2;
      b.append(s.substr(written, cs - written));
      written = i1;
    }
    if (i == i1 && c.state == c1.state) {  // no progress: cannot happen, but never loop
      c1 = ErrorContext("cannot parse the template text " + GoQuote(s.substr(i, 32)));
      c = std::move(c1);
      break;
    }
    c = std::move(c1);
    i = i1;
  }
  if (written != 0 && c.state != State::kError) {
    if (!IsComment(c.state) || c.delim != Delim::kNone) b.append(s.substr(written));
    out += b;
  } else {
    out.append(s);
  }
  c_ = std::move(c);
}

Status HtmlContextEscaper::Escape(std::string& out, std::string_view s, const Value* v,
                                  PipelineEnd end) {
  Context c = Nudge(c_);
  if (c.state == State::kError) return Status::InvalidArgument("html/template: " + c.error);
  if (end == PipelineEnd::kHtml && c.state == State::kAttr && c.delim == Delim::kSpaceOrTagEnd) {
    return Status::InvalidArgument(
        "html/template: predefined escaper \"html\" disallowed in template");
  }
  std::vector<Esc> chain;
  switch (c.state) {
    case State::kUrl:
    case State::kCssDqStr:
    case State::kCssSqStr:
    case State::kCssDqUrl:
    case State::kCssSqUrl:
    case State::kCssUrl:
      if (c.url_part == UrlPart::kQueryOrFrag) {
        chain.push_back(Esc::kUrlEscaper);
      } else {
        if (c.url_part == UrlPart::kNone) chain.push_back(Esc::kUrlFilter);
        chain.push_back(c.state == State::kCssDqStr || c.state == State::kCssSqStr
                            ? Esc::kCssEscaper
                            : Esc::kUrlNormalizer);
      }
      break;
    case State::kJs:
      chain.push_back(Esc::kJsVal);
      c.js_ctx = JsCtx::kDivOp;  // a '/' after a value is a division
      break;
    case State::kJsDqStr:
    case State::kJsSqStr:
      chain.push_back(Esc::kJsStr);
      break;
    case State::kJsBqStr:
      return Status::InvalidArgument("html/template: an action appears in a JS template literal");
    case State::kJsRegexp:
      chain.push_back(Esc::kJsRegexp);
      break;
    case State::kCss:
      chain.push_back(Esc::kCssValueFilter);
      break;
    case State::kText:
      chain.push_back(Esc::kHtml);
      break;
    case State::kRcdata:
      chain.push_back(Esc::kRcdata);
      break;
    case State::kAttr:
      break;
    case State::kAttrName:
    case State::kTag:
      c.state = State::kAttrName;
      chain.push_back(Esc::kNameFilter);
      break;
    case State::kSrcset:
      chain.push_back(Esc::kSrcset);
      break;
    default:
      if (IsComment(c.state)) chain.push_back(Esc::kComment);
      break;
  }
  if (c.delim == Delim::kSpaceOrTagEnd) {
    chain.push_back(Esc::kNospace);
  } else if (c.delim != Delim::kNone) {
    // appendCmd: the attribute escaper adds nothing after these.
    const bool redundant =
        !chain.empty() && (chain.back() == Esc::kComment || chain.back() == Esc::kCssEscaper ||
                           chain.back() == Esc::kJsRegexp || chain.back() == Esc::kJsStr);
    if (!redundant) chain.push_back(Esc::kAttr);
  }
  // A pipeline ending in a predefined escaper already did the equivalent one's work.
  if (end != PipelineEnd::kOther) {
    std::erase_if(chain, [end](Esc e) {
      return end == PipelineEnd::kHtml ? e == Esc::kHtml || e == Esc::kAttr || e == Esc::kRcdata
                                       : e == Esc::kUrlEscaper || e == Esc::kUrlNormalizer;
    });
  }
  std::string cur(s);
  bool first = true;
  for (Esc e : chain) {
    cur = Apply(e, cur, first ? v : nullptr);
    first = false;
  }
  out += cur;
  c_ = std::move(c);
  return Status::Ok();
}

Status HtmlContextEscaper::AppendValue(std::string& out, const Value& v, PipelineEnd end) {
  if (v.is_nil()) return Status::Ok();
  if (v.kind() == Value::Kind::kString) return Escape(out, v.as_string(), &v, end);
  return Escape(out, v.ToString(), &v, end);
}

void HtmlContextEscaper::AppendString(std::string& out, std::string_view s) {
  if (!Escape(out, s, nullptr, PipelineEnd::kOther).ok()) AppendHtmlEscaped(out, s);
}

}  // namespace alertd::templating::internal
