#include "core/matcher.h"

#include <re2/re2.h>

#include "core/utf8.h"

#include <algorithm>

namespace alertd {

std::string_view MatchTypeString(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

Result<Matcher> Matcher::Create(MatchType type, std::string name, std::string value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (m.is_regex()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    auto re = std::make_shared<const RE2>("^(?:" + m.value_ + ")$", opts);
    if (!re->ok()) {
      return Status::InvalidArgument("invalid regular expression " + GoQuote(m.value_) + ": " +
                                     re->error());
    }
    m.re_ = std::move(re);
  }
  return m;
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual: return v == value_;
    case MatchType::kNotEqual: return v != value_;
    case MatchType::kRegexMatch: return RE2::FullMatch(v, *re_);
    case MatchType::kRegexNoMatch: return !RE2::FullMatch(v, *re_);
  }
  return false;
}

std::string Matcher::String() const {
  std::string out;
  if (IsValidLabelName(name_)) {
    out = name_;
  } else {
    out = GoQuote(name_);
  }
  out += MatchTypeString(type_);
  out += GoQuote(value_);
  return out;
}

bool MatchesAll(const Matchers& ms, const LabelSet& labels) {
  for (const Matcher& m : ms) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

namespace {

// A small hand-written scanner: the grammar is a handful of tokens, and the errors must
// name positions the way Alertmanager's matcher parser does.
class MatcherParser {
 public:
  explicit MatcherParser(std::string_view in) : in_(in) {}

  Result<Matchers> ParseList() {
    Matchers out;
    SkipSpace();
    bool braced = false;
    if (Peek() == '{') {
      braced = true;
      ++pos_;
    }
    while (true) {
      SkipSpace();
      if (AtEnd()) break;
      if (braced && Peek() == '}') break;
      auto m = ParseOne();
      if (!m.ok()) return m.status();
      out.push_back(std::move(*m));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      break;
    }
    SkipSpace();
    if (braced) {
      if (Peek() != '}') return Error("expected } to close the matcher list");
      ++pos_;
      SkipSpace();
    } else if (Peek() == '}') {
      return Error("unexpected }: no opening {");
    }
    if (!AtEnd()) return Error(std::string("unexpected ") + Peek());
    return out;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(std::to_string(pos_) + ":" + std::to_string(pos_ + 1) + ": " + what +
                                   " in matchers " + GoQuote(in_));
  }
  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return AtEnd() ? '\0' : in_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }
  static bool Reserved(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' || c == '!' ||
           c == '=' || c == '~' || c == ',' || c == '\\' || c == '"' || c == '\'' || c == '`';
  }

  Result<std::string> Unquoted() {
    size_t start = pos_;
    while (!AtEnd() && !Reserved(in_[pos_])) ++pos_;
    return std::string(in_.substr(start, pos_ - start));
  }

  // A Go interpreted string literal.
  Result<std::string> Quoted() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated quoted string");
      char c = in_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (AtEnd()) return Error("unterminated escape");
      char e = in_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        case 'x': case 'u': case 'U': {
          int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > in_.size()) return Error("invalid escape");
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            char h = in_[pos_++];
            int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) return Error("invalid escape");
            cp = cp * 16 + d;
          }
          if (e == 'x') {
            out += static_cast<char>(cp);
          } else {
            AppendUtf8(&out, cp);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {  // octal \ooo
            if (pos_ + 2 > in_.size()) return Error("invalid escape");
            int v = e - '0';
            for (int i = 0; i < 2; ++i) {
              char o = in_[pos_++];
              if (o < '0' || o > '7') return Error("invalid escape");
              v = v * 8 + (o - '0');
            }
            if (v > 255) return Error("invalid escape");
            out += static_cast<char>(v);
            break;
          }
          return Error(std::string("invalid escape \\") + e);
      }
    }
    return out;
  }

  Result<Matcher> ParseOne() {
    SkipSpace();
    Result<std::string> name = Peek() == '"' ? Quoted() : Unquoted();
    if (!name.ok()) return name.status();
    if (name->empty()) return Error("expected a label name");
    SkipSpace();
    MatchType type;
    if (in_.substr(pos_, 2) == "=~") {
      type = MatchType::kRegexMatch;
      pos_ += 2;
    } else if (in_.substr(pos_, 2) == "!=") {
      type = MatchType::kNotEqual;
      pos_ += 2;
    } else if (in_.substr(pos_, 2) == "!~") {
      type = MatchType::kRegexNoMatch;
      pos_ += 2;
    } else if (Peek() == '=') {
      type = MatchType::kEqual;
      pos_ += 1;
    } else {
      return Error("expected one of '=', '!=', '=~' or '!~' after label name " + GoQuote(*name));
    }
    SkipSpace();
    Result<std::string> value = Peek() == '"' ? Quoted() : Unquoted();
    if (!value.ok()) return value.status();
    auto m = Matcher::Create(type, std::move(*name), std::move(*value));
    if (!m.ok()) return m.status();
    return m;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Result<Matchers> ParseMatchers(std::string_view input) { return MatcherParser(input).ParseList(); }

Result<Matcher> ParseMatcher(std::string_view input) {
  auto ms = ParseMatchers(input);
  if (!ms.ok()) return ms.status();
  if (ms->size() != 1) {
    return Status::InvalidArgument("expected exactly one matcher in " + GoQuote(input) + ", got " +
                                   std::to_string(ms->size()));
  }
  return std::move((*ms)[0]);
}

std::string MatchersString(Matchers ms) {
  // Alertmanager's Matchers.Less (pkg/labels/matcher.go): name, then value, then type.
  std::sort(ms.begin(), ms.end(), [](const Matcher& a, const Matcher& b) {
    if (a.name() != b.name()) return a.name() < b.name();
    if (a.value() != b.value()) return a.value() < b.value();
    return a.type() < b.type();
  });
  std::string out = "{";
  for (size_t i = 0; i < ms.size(); ++i) {
    if (i) out += ',';
    out += ms[i].String();
  }
  out += '}';
  return out;
}

}  // namespace alertd
