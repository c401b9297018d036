#include "rules_engine/promql/lexer.h"

#include <cstdio>

#include "core/labels.h"  // GoQuote
#include "core/utf8.h"

namespace alertd::promql {
namespace {

constexpr int kEofRune = -1;
constexpr int kRuneError = 0xFFFD;

bool IsSpace(int r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsEndOfLine(int r) { return r == '\r' || r == '\n'; }
bool IsDigit(int r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsAlphaNumeric(int r) { return IsAlpha(r) || IsDigit(r); }

int DigitVal(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return 16;
}

// Go's utf8.DecodeRuneInString: returns the width, 0 for an invalid sequence.
int DecodeRune(std::string_view s, size_t i, int* rune) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  int n;
  int cp;
  int min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    unsigned char cc = b(i + k);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *rune = cp;
  return n;
}

// Approximates Go's unicode.IsPrint for the code points that matter in error messages.
bool IsPrintRune(int r) {
  if (r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0xA0) || r == 0xAD) return false;
  if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F))
    return false;
  if (r == 0x3000 || r == 0xFEFF || r == 0x1680 || (r >= 0xFFF9 && r <= 0xFFFB)) return false;
  if ((r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000 || (r & 0xFFFE) == 0xFFFE) return false;
  return true;
}

TokenType KeywordType(std::string_view word, bool* found) {
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  struct Kw {
    std::string_view name;
    TokenType type;
  };
  static constexpr Kw kKeywords[] = {
      {"and", TokenType::kLand},
      {"or", TokenType::kLor},
      {"unless", TokenType::kLunless},
      {"atan2", TokenType::kAtan2},
      {"sum", TokenType::kSum},
      {"avg", TokenType::kAvg},
      {"count", TokenType::kCount},
      {"min", TokenType::kMin},
      {"max", TokenType::kMax},
      {"group", TokenType::kGroup},
      {"stddev", TokenType::kStddev},
      {"stdvar", TokenType::kStdvar},
      {"topk", TokenType::kTopk},
      {"bottomk", TokenType::kBottomk},
      {"count_values", TokenType::kCountValues},
      {"quantile", TokenType::kQuantile},
      {"offset", TokenType::kOffset},
      {"by", TokenType::kBy},
      {"without", TokenType::kWithout},
      {"on", TokenType::kOn},
      {"ignoring", TokenType::kIgnoring},
      {"group_left", TokenType::kGroupLeft},
      {"group_right", TokenType::kGroupRight},
      {"bool", TokenType::kBool},
      {"start", TokenType::kStart},
      {"end", TokenType::kEnd},
      {"inf", TokenType::kNumber},
      {"nan", TokenType::kNumber},
  };
  for (const Kw& k : kKeywords) {
    if (k.name == lower) {
      *found = true;
      return k.type;
    }
  }
  *found = false;
  return TokenType::kIdentifier;
}

// Go's fmt "%.10q": the first 10 runes, quoted.
std::string QuoteTruncated(std::string_view s, size_t max_runes) {
  size_t i = 0;
  size_t runes = 0;
  while (i < s.size() && runes < max_runes) {
    int r;
    int w = DecodeRune(s, i, &r);
    i += w == 0 ? 1 : w;
    ++runes;
  }
  return GoQuote(s.substr(0, i));
}

}  // namespace

bool IsAggregatorToken(TokenType t) { return t >= TokenType::kAvg && t <= TokenType::kTopk; }
bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kWithout; }
bool IsOperatorToken(TokenType t) {
  return (t >= TokenType::kAdd && t <= TokenType::kAtan2) || t == TokenType::kAt;
}

std::string GoQuoteRune(int r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  char buf[16];
  switch (r) {
    case '\a': return "'\\a'";
    case '\b': return "'\\b'";
    case '\f': return "'\\f'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\v': return "'\\v'";
    case '\\': return "'\\\\'";
    case '\'': return "'\\''";
    default: break;
  }
  if (r < 0x20 || r == 0x7F) {
    std::snprintf(buf, sizeof buf, "'\\x%02x'", r);
    return buf;
  }
  if (!IsPrintRune(r)) {
    std::snprintf(buf, sizeof buf, r < 0x10000 ? "'\\u%04x'" : "'\\U%08x'", r);
    return buf;
  }
  std::string out = "'";
  AppendUtf8(&out, static_cast<uint32_t>(r));
  out += '\'';
  return out;
}

std::string GoRuneU(int r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(r));
  std::string out = buf;
  if (r >= 0 && IsPrintRune(r) && r <= 0x10FFFF) {
    out += " '";
    AppendUtf8(&out, static_cast<uint32_t>(r));
    out += '\'';
  }
  return out;
}

std::string DescribeToken(const Token& t) {
  switch (t.type) {
    case TokenType::kEof: return "end of input";
    case TokenType::kError: return "error";
    case TokenType::kIdentifier: return "identifier " + GoQuote(t.text);
    case TokenType::kMetricIdentifier: return "metric identifier " + GoQuote(t.text);
    case TokenType::kComment:
    case TokenType::kNumber:
    case TokenType::kString:
    case TokenType::kDuration: {
      const char* kind = t.type == TokenType::kComment  ? "comment"
                         : t.type == TokenType::kNumber ? "number"
                         : t.type == TokenType::kString ? "string"
                                                        : "duration";
      std::string val = t.text.size() > 10 ? QuoteTruncated(t.text, 10) + "..." : GoQuote(t.text);
      return std::string(kind) + " " + val;
    }
    case TokenType::kAt:
      // `@` has no entry in Prometheus's ItemTypeStr, so its description is this odd one.
      return "\"<Item 57385>\" <op:@>";
    default: break;
  }
  std::string text(t.text);
  if (IsKeywordToken(t.type)) return "<" + text + ">";
  if (IsOperatorToken(t.type)) return "<op:" + text + ">";
  if (IsAggregatorToken(t.type)) return "<aggr:" + text + ">";
  return t.text.size() > 10 ? QuoteTruncated(t.text, 10) + "..." : GoQuote(t.text);
}

int Lexer::NextRune() {
  if (pos_ >= static_cast<int>(input_.size())) {
    width_ = 0;
    return kEofRune;
  }
  int r;
  int w = DecodeRune(input_, pos_, &r);
  if (w == 0) {
    r = kRuneError;
    w = 1;
  }
  width_ = w;
  pos_ += w;
  return r;
}

int Lexer::Peek() {
  int r = NextRune();
  Backup();
  return r;
}

bool Lexer::Accept(std::string_view valid) {
  int r = NextRune();
  if (r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) return true;
  Backup();
  return false;
}

void Lexer::AcceptRun(std::string_view valid) {
  while (Accept(valid)) {
  }
}

Token Lexer::Emit(TokenType t) {
  Token tok{t, start_, input_.substr(start_, pos_ - start_)};
  start_ = pos_;
  return tok;
}

Token Lexer::Errorf(std::string msg) {
  error_ = std::move(msg);
  state_ = State::kDone;
  return Token{TokenType::kError, start_, {}};
}

void Lexer::SkipSpaces() {
  while (IsSpace(Peek())) NextRune();
  start_ = pos_;
}

Token Lexer::Next() {
  for (;;) {
    if (state_ == State::kDone) return Token{TokenType::kEof, start_, {}};
    if (pending_duration_) {
      pending_duration_ = false;
      return LexDuration();
    }
    if (input_.substr(pos_).starts_with('#')) return LexLineComment();
    if (state_ == State::kInsideBraces) {
      int r = Peek();
      if (r == kEofRune) return Errorf("unexpected end of input inside braces");
      if (IsSpace(r)) {
        SkipSpaces();
        continue;
      }
      return LexInsideBraces();
    }
    int r = Peek();
    if (IsSpace(r)) {
      SkipSpaces();
      continue;
    }
    return LexStatements();
  }
}

Token Lexer::LexLineComment() {
  pos_ += 1;
  int r = NextRune();
  while (!IsEndOfLine(r) && r != kEofRune) r = NextRune();
  Backup();
  return Emit(TokenType::kComment);
}

Token Lexer::LexStatements() {
  int r = NextRune();
  switch (r) {
    case kEofRune:
      if (paren_depth_ != 0) return Errorf("unclosed left parenthesis");
      if (bracket_open_) return Errorf("unclosed left bracket");
      {
        Token t = Emit(TokenType::kEof);
        state_ = State::kDone;
        return t;
      }
    case ',': return Emit(TokenType::kComma);
    case '*': return Emit(TokenType::kMul);
    case '/': return Emit(TokenType::kDiv);
    case '%': return Emit(TokenType::kMod);
    case '+': return Emit(TokenType::kAdd);
    case '-': return Emit(TokenType::kSub);
    case '^': return Emit(TokenType::kPow);
    case '=': {
      int t = Peek();
      if (t == '=') {
        NextRune();
        return Emit(TokenType::kEqlc);
      }
      if (t == '~') return Errorf("unexpected character after '=': " + GoQuoteRune(t));
      return Emit(TokenType::kEql);
    }
    case '!': {
      int t = NextRune();
      if (t == '=') return Emit(TokenType::kNeq);
      return Errorf("unexpected character after '!': " + GoQuoteRune(t));
    }
    case '<':
      if (Peek() == '=') {
        NextRune();
        return Emit(TokenType::kLte);
      }
      return Emit(TokenType::kLss);
    case '>':
      if (Peek() == '=') {
        NextRune();
        return Emit(TokenType::kGte);
      }
      return Emit(TokenType::kGtr);
    case '"':
    case '\'':
      string_open_ = r;
      return LexString();
    case '`':
      string_open_ = r;
      return LexRawString();
    case '(':
      ++paren_depth_;
      return Emit(TokenType::kLeftParen);
    case ')': {
      Token t = Emit(TokenType::kRightParen);
      if (--paren_depth_ < 0) return Errorf("unexpected right parenthesis ')'");
      return t;
    }
    case '{':
      state_ = State::kInsideBraces;
      return Emit(TokenType::kLeftBrace);
    case '[': {
      if (bracket_open_) return Errorf("unexpected left bracket '['");
      got_colon_ = false;
      Token t = Emit(TokenType::kLeftBracket);
      if (IsSpace(Peek())) SkipSpaces();
      bracket_open_ = true;
      pending_duration_ = true;
      return t;
    }
    case ']':
      if (!bracket_open_) return Errorf("unexpected right bracket ']'");
      bracket_open_ = false;
      return Emit(TokenType::kRightBracket);
    case '@': return Emit(TokenType::kAt);
    default: break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    Backup();
    return LexNumberOrDuration();
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      return LexKeywordOrIdentifier();
    }
    if (got_colon_) return Errorf("unexpected colon " + GoQuoteRune(r));
    got_colon_ = true;
    return Emit(TokenType::kColon);
  }
  return Errorf("unexpected character: " + GoQuoteRune(r));
}

Token Lexer::LexInsideBraces() {
  int r = NextRune();
  if (IsAlpha(r)) {
    Backup();
    return LexIdentifier();
  }
  switch (r) {
    case ',': return Emit(TokenType::kComma);
    case '"':
    case '\'':
      string_open_ = r;
      return LexString();
    case '`':
      string_open_ = r;
      return LexRawString();
    case '=':
      if (NextRune() == '~') return Emit(TokenType::kEqlRegex);
      Backup();
      return Emit(TokenType::kEql);
    case '!': {
      int nr = NextRune();
      if (nr == '~') return Emit(TokenType::kNeqRegex);
      if (nr == '=') return Emit(TokenType::kNeq);
      return Errorf("unexpected character after '!' inside braces: " + GoQuoteRune(nr));
    }
    case '{': return Errorf("unexpected left brace '{'");
    case '}':
      state_ = State::kStatements;
      return Emit(TokenType::kRightBrace);
    default: return Errorf("unexpected character inside braces: " + GoQuoteRune(r));
  }
}

Token Lexer::LexEscape() {
  const Token ok{TokenType::kEof, -1, {}};
  int ch = NextRune();
  int n;
  uint32_t base;
  uint32_t max;
  switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
      return ok;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
      n = 3, base = 8, max = 255;
      break;
    case 'x':
      ch = NextRune();
      n = 2, base = 16, max = 255;
      break;
    case 'u':
      ch = NextRune();
      n = 4, base = 16, max = 0x10FFFF;
      break;
    case 'U':
      ch = NextRune();
      n = 8, base = 16, max = 0x10FFFF;
      break;
    case kEofRune: return Errorf("escape sequence not terminated");
    default:
      if (ch == string_open_) return ok;
      return Errorf("unknown escape sequence " + GoRuneU(ch));
  }
  uint32_t x = 0;
  while (n > 0) {
    uint32_t d = static_cast<uint32_t>(DigitVal(ch));
    if (d >= base) {
      if (ch == kEofRune) return Errorf("escape sequence not terminated");
      return Errorf("illegal character " + GoRuneU(ch) + " in escape sequence");
    }
    x = x * base + d;
    --n;
    if (n > 0) ch = NextRune();
  }
  if (x > max || (x >= 0xD800 && x < 0xE000)) {
    return Errorf("escape sequence is an invalid Unicode code point");
  }
  return ok;
}

Token Lexer::LexString() {
  for (;;) {
    int r = NextRune();
    if (r == '\\') {
      Token t = LexEscape();
      if (t.type == TokenType::kError) return t;
      continue;
    }
    // Like Prometheus, this also refuses a literal U+FFFD.
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune || r == '\n') return Errorf("unterminated quoted string");
    if (r == string_open_) break;
  }
  return Emit(TokenType::kString);
}

Token Lexer::LexRawString() {
  for (;;) {
    int r = NextRune();
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune) return Errorf("unterminated raw string");
    if (r == string_open_) break;
  }
  return Emit(TokenType::kString);
}

bool Lexer::ScanNumber() {
  std::string_view digits = "0123456789";
  if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun("0123456789");
  }
  return !IsAlphaNumeric(Peek());
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");  // ms; bad units like "hs" are caught when the duration is parsed
  while (Accept("0123456789")) {
    while (Accept("0123456789")) {
    }
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

Token Lexer::LexDuration() {
  if (ScanNumber()) return Errorf("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    return Errorf("bad duration syntax: " + GoQuote(input_.substr(start_, pos_ - start_)));
  }
  Backup();
  return Emit(TokenType::kDuration);
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(TokenType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(TokenType::kDuration);
  }
  return Errorf("bad number or duration syntax: " +
                GoQuote(input_.substr(start_, pos_ - start_)));
}

Token Lexer::LexIdentifier() {
  while (IsAlphaNumeric(NextRune())) {
  }
  Backup();
  return Emit(TokenType::kIdentifier);
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    int r = NextRune();
    if (IsAlphaNumeric(r) || r == ':') continue;
    Backup();
    break;
  }
  std::string_view word = input_.substr(start_, pos_ - start_);
  bool found;
  TokenType kw = KeywordType(word, &found);
  if (found) return Emit(kw);
  if (word.find(':') == std::string_view::npos) return Emit(TokenType::kIdentifier);
  return Emit(TokenType::kMetricIdentifier);
}

}  // namespace alertd::promql
