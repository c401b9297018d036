// Label matchers in Alertmanager syntax: `{a="b", c=~"d.*"}`, `a!=b`, `x!~"y|z"`, as used by
// routes (`matchers:`), inhibit rules, silences, amtool and the API's `filter` parameter.
// Regexes are fully anchored (`^(?:re)$`) and use RE2, whose syntax and semantics are Go's.
// Matchers are immutable once built; thread-safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/result.h"

namespace re2 {
class RE2;
}

namespace alertd {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };
std::string_view MatchTypeString(MatchType t);  // "=", "!=", "=~", "!~"

class Matcher {
 public:
  // Fails on an invalid regex (message names it) for the regex types.
  static Result<Matcher> Create(MatchType type, std::string name, std::string value);

  // A missing label matches as the empty value.
  bool Matches(std::string_view value) const;
  bool Matches(const LabelSet& labels) const { return Matches(labels.Get(name_)); }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  bool is_regex() const { return type_ == MatchType::kRegexMatch || type_ == MatchType::kRegexNoMatch; }
  bool is_equal() const { return type_ == MatchType::kEqual || type_ == MatchType::kRegexMatch; }

  // Alertmanager's Matcher.String(): name, operator, Go-quoted value: `severity="critical"`.
  std::string String() const;
  bool operator==(const Matcher& o) const {
    return type_ == o.type_ && name_ == o.name_ && value_ == o.value_;
  }

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // set for regex types
};

using Matchers = std::vector<Matcher>;

// True when every matcher matches.
bool MatchesAll(const Matchers& ms, const LabelSet& labels);

// Parses one matcher or a list: `{a="b",c=~"d"}`, `a=b, c!=d`, with optional (paired) braces
// and one trailing comma. Names are unquoted identifiers or double-quoted strings; values
// unquoted literals (no whitespace or `{}!=~,\"'``) or double-quoted Go strings with escapes.
// The error message says what is wrong and at which byte position.
Result<Matchers> ParseMatchers(std::string_view input);
// Exactly one matcher.
Result<Matcher> ParseMatcher(std::string_view input);

// `{a="x",b=~"y"}` sorted by (name, value, type) as Alertmanager sorts them: the form used
// in route keys.
std::string MatchersString(Matchers ms);

}  // namespace alertd
