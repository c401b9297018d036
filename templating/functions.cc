// Go's builtin template functions and the function sets of Prometheus
// (prometheus/template/template.go) and Alertmanager (alertmanager/template/template.go).
#include "templating/functions.h"

#include <arpa/inet.h>
#include <date/tz.h>
#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <tuple>

#include "core/duration.h"
#include "core/encoding.h"
#include "core/go_regexp.h"
#include "core/labels.h"
#include "core/utf8.h"

namespace alertd::templating {

void FuncMap::Add(std::string name, int min_args, int max_args, Function fn) {
  FunctionDef def;
  def.name = name;
  def.min_args = min_args;
  def.max_args = max_args;
  def.fn = std::move(fn);
  funcs_[std::move(name)] = std::move(def);
}

void FuncMap::AddSpecial(std::string name, FunctionDef::Special special) {
  FunctionDef def;
  def.name = name;
  def.min_args = 1;
  def.max_args = -1;
  def.special = special;
  funcs_[std::move(name)] = std::move(def);
}

const FunctionDef* FuncMap::Find(std::string_view name) const {
  auto it = funcs_.find(name);
  return it == funcs_.end() ? nullptr : &it->second;
}

namespace {

// The error of a function whose result would pass ExecEnv::max_result_bytes.
Status ResultTooLarge(const ExecEnv& env) {
  return Status::InvalidArgument("result longer than the template output budget (" +
                                 std::to_string(env.max_result_bytes) + " bytes)");
}

using Args = std::span<const Value>;

// ---- argument helpers (Go's reflect conversions at call time) ----

Status WrongType(std::string_view expected, const Value& v) {
  if (v.is_nil())
    return Status::InvalidArgument("invalid value; expected " + std::string(expected));
  return Status::InvalidArgument("wrong type for value; expected " + std::string(expected) +
                                 "; got " + std::string(v.TypeName()));
}

Result<std::string> Str(const Value& v) {
  if (v.kind() != Value::Kind::kString) return WrongType("string", v);
  return v.as_string();
}

Result<TimeValue> TimeArg(const Value& v) {
  if (v.kind() == Value::Kind::kTime) return v.as_time();
  return WrongType("time.Time", v);
}

Result<std::vector<std::string>> StrList(const Value& v) {
  if (v.kind() != Value::Kind::kList) return WrongType("[]string", v);
  std::vector<std::string> out;
  for (const auto& e : v.as_list()) {
    if (e.kind() != Value::Kind::kString) return WrongType("[]string", v);
    out.push_back(e.as_string());
  }
  return out;
}

// strconv.ParseFloat(s, 64) with Go's error texts.
Result<double> ParseGoFloat(const std::string& s) {
  auto syntax = [&] {
    return Status::InvalidArgument("strconv.ParseFloat: parsing " + GoQuote(s) +
                                   ": invalid syntax");
  };
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return syntax();
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string_view body = lower;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();  // Go: no sign on NaN
  if (body == "nan") return syntax();
  if (body.starts_with("0x") && body.find('p') == std::string_view::npos) return syntax();
  if (body.find('n') != std::string_view::npos) return syntax();
  // Go accepts '_' between digits (and after a base prefix): strconv's underscoreOK.
  std::string digits = s;
  if (body.find('_') != std::string_view::npos) {
    const bool hex = body.starts_with("0x");
    char saw = hex ? '0' : '^';
    for (size_t i = hex ? 2 : 0; i < body.size(); ++i) {
      const char c = body[i];
      if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
        saw = '0';
      } else if (c == '_') {
        if (saw != '0') return syntax();
        saw = '_';
      } else {
        if (saw == '_') return syntax();
        saw = '!';
      }
    }
    if (saw == '_') return syntax();
    std::erase(digits, '_');
  }
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return syntax();
  if (errno == ERANGE && std::isinf(d)) {
    return Status::InvalidArgument("strconv.ParseFloat: parsing " + GoQuote(s) +
                                   ": value out of range");
  }
  return d;
}

// Prometheus's convertToFloat.
Result<double> ToFloat(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kFloat:
      return v.as_float();
    case Value::Kind::kInt:
      return static_cast<double>(v.as_int());
    case Value::Kind::kString:
      return ParseGoFloat(v.as_string());
    case Value::Kind::kDuration:
      return static_cast<double>(v.as_duration().ns) / 1e9;
    default:
      return Status::InvalidArgument(
          "can't convert " + std::string(v.is_nil() ? "<nil>" : v.TypeName()) + " to float");
  }
}

std::string Sprintf4g(double v) { return GoSprintf("%.4g", std::array<Value, 1>{Value(v)}); }

// ---- Go builtins ----

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString };

BasicKind KindOf(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kBool:
      return BasicKind::kBool;
    case Value::Kind::kInt:
    case Value::Kind::kDuration:
      return BasicKind::kInt;
    case Value::Kind::kFloat:
      return BasicKind::kFloat;
    case Value::Kind::kString:
      return BasicKind::kString;
    default:
      return BasicKind::kInvalid;
  }
}

int64_t IntOf(const Value& v) {
  return v.kind() == Value::Kind::kInt ? v.as_int() : v.as_duration().ns;
}

const Status& BadComparison() {
  static const Status s = Status::InvalidArgument("incompatible types for comparison");
  return s;
}
const Status& BadComparisonType() {
  static const Status s = Status::InvalidArgument("invalid type for comparison");
  return s;
}

// Deep equality for non-basic comparable values (times, nil).
bool SameValue(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNil:
      return true;
    case Value::Kind::kTime:
      return a.as_time().t == b.as_time().t &&
             a.as_time().offset_seconds == b.as_time().offset_seconds;
    default:
      return false;
  }
}

Result<Value> Eq(const ExecEnv&, Args args) {
  if (args.size() < 2) return Status::InvalidArgument("missing argument for comparison");
  const Value& a = args[0];
  const BasicKind k1 = KindOf(a);
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& b = args[i];
    const BasicKind k2 = KindOf(b);
    bool truth = false;
    if (k1 != k2) {
      if (!a.is_nil() && !b.is_nil()) return BadComparison();
    } else {
      switch (k1) {
        case BasicKind::kBool:
          truth = a.as_bool() == b.as_bool();
          break;
        case BasicKind::kInt:
          truth = IntOf(a) == IntOf(b);
          break;
        case BasicKind::kFloat:
          truth = a.as_float() == b.as_float();
          break;
        case BasicKind::kString:
          truth = a.as_string() == b.as_string();
          break;
        case BasicKind::kInvalid:
          if (a.kind() == Value::Kind::kList || a.kind() == Value::Kind::kMap ||
              b.kind() == Value::Kind::kList || b.kind() == Value::Kind::kMap) {
            if (a.is_nil() || b.is_nil()) {
              truth = false;
              break;
            }
            return Status::InvalidArgument("non-comparable type " + b.ToString() + ": " +
                                           std::string(b.TypeName()));
          }
          truth = SameValue(a, b);
          break;
      }
    }
    if (truth) return Value(true);
  }
  return Value(false);
}

Result<bool> Less(const Value& a, const Value& b) {
  const BasicKind k1 = KindOf(a);
  if (k1 == BasicKind::kInvalid) return BadComparisonType();
  const BasicKind k2 = KindOf(b);
  if (k2 == BasicKind::kInvalid) return BadComparisonType();
  if (k1 != k2) return BadComparison();
  switch (k1) {
    case BasicKind::kBool:
      return BadComparisonType();
    case BasicKind::kInt:
      return IntOf(a) < IntOf(b);
    case BasicKind::kFloat:
      return a.as_float() < b.as_float();
    case BasicKind::kString:
      return a.as_string() < b.as_string();
    default:
      return BadComparisonType();
  }
}

Result<Value> Lt(const ExecEnv&, Args a) {
  auto r = Less(a[0], a[1]);
  if (!r.ok()) return r.status();
  return Value(*r);
}
Result<Value> Le(const ExecEnv& env, Args a) {
  auto r = Less(a[0], a[1]);
  if (!r.ok()) return r.status();
  if (*r) return Value(true);
  return Eq(env, a);
}
Result<Value> Gt(const ExecEnv& env, Args a) {
  auto r = Le(env, a);
  if (!r.ok()) return r.status();
  return Value(!r->as_bool());
}
Result<Value> Ge(const ExecEnv& env, Args a) {
  auto r = Lt(env, a);
  if (!r.ok()) return r.status();
  return Value(!r->as_bool());
}

// Go's evalArgs for html/js/urlquery: a lone string as is, else fmt.Sprint with nil shown as
// "<no value>".
std::string EvalArgs(Args args) {
  if (args.size() == 1 && args[0].kind() == Value::Kind::kString) return args[0].as_string();
  std::vector<Value> printable(args.begin(), args.end());
  for (auto& v : printable) {
    if (v.is_nil()) v = Value("<no value>");
  }
  return GoSprint(printable);
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string JsEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
        out += "\\\\";
        continue;
      case '\'':
        out += "\\'";
        continue;
      case '"':
        out += "\\\"";
        continue;
      case '<':
        out += "\\u003C";
        continue;
      case '>':
        out += "\\u003E";
        continue;
      case '&':
        out += "\\u0026";
        continue;
      case '=':
        out += "\\u003D";
        continue;
      default:
        break;
    }
    if (c < ' ') {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      continue;
    }
    out.push_back(ch);
  }
  return out;
}

Result<int64_t> IndexArg(const Value& index, int64_t cap, bool allow_cap) {
  if (index.kind() != Value::Kind::kInt) {
    return Status::InvalidArgument("cannot index slice/array with type " +
                                   std::string(index.is_nil() ? "<nil>" : index.TypeName()));
  }
  int64_t x = index.as_int();
  if (x < 0 || (allow_cap ? x > cap : x >= cap)) {
    return Status::InvalidArgument("index out of range: " + std::to_string(x));
  }
  return x;
}

Result<Value> Index(const ExecEnv&, Args args) {
  Value item = args[0];
  if (item.is_nil()) return Status::InvalidArgument("index of untyped nil");
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& idx = args[i];
    switch (item.kind()) {
      case Value::Kind::kList: {
        auto x = IndexArg(idx, static_cast<int64_t>(item.as_list().size()), false);
        if (!x.ok()) return x.status();
        Value next = item.as_list()[static_cast<size_t>(*x)];
        item = std::move(next);
        break;
      }
      case Value::Kind::kString: {
        auto x = IndexArg(idx, static_cast<int64_t>(item.as_string().size()), false);
        if (!x.ok()) return x.status();
        item = Value(static_cast<int64_t>(static_cast<unsigned char>(item.as_string()[*x])));
        break;
      }
      case Value::Kind::kMap: {
        if (idx.kind() != Value::Kind::kString) {
          return Status::InvalidArgument("value has type " +
                                         std::string(idx.is_nil() ? "<nil>" : idx.TypeName()) +
                                         "; should be string");
        }
        const Map& m = item.as_map();
        auto it = m.find(idx.as_string());
        if (it != m.end()) {
          Value next = it->second;
          item = std::move(next);
        } else {
          item = item.type() != nullptr && item.type()->string_elems ? Value("") : Value();
        }
        break;
      }
      default:
        return Status::InvalidArgument("can't index item of type " + std::string(item.TypeName()));
    }
  }
  return item;
}

Result<Value> Slice(const ExecEnv&, Args args) {
  const Value& item = args[0];
  if (item.is_nil()) return Status::InvalidArgument("slice of untyped nil");
  const size_t nidx = args.size() - 1;
  if (nidx > 3) return Status::InvalidArgument("too many slice indexes: " + std::to_string(nidx));
  int64_t len;
  if (item.kind() == Value::Kind::kString) {
    if (nidx == 3) return Status::InvalidArgument("cannot 3-index slice a string");
    len = static_cast<int64_t>(item.as_string().size());
  } else if (item.kind() == Value::Kind::kList) {
    len = static_cast<int64_t>(item.as_list().size());
  } else {
    return Status::InvalidArgument("can't slice item of type " + std::string(item.TypeName()));
  }
  int64_t idx[3] = {0, len, len};
  for (size_t i = 0; i < nidx; ++i) {
    auto x = IndexArg(args[i + 1], len, true);
    if (!x.ok()) return x.status();
    idx[i] = *x;
  }
  if (idx[0] > idx[1]) {
    return Status::InvalidArgument("invalid slice index: " + std::to_string(idx[0]) + " > " +
                                   std::to_string(idx[1]));
  }
  if (nidx == 3 && idx[1] > idx[2]) {
    return Status::InvalidArgument("invalid slice index: " + std::to_string(idx[1]) + " > " +
                                   std::to_string(idx[2]));
  }
  if (item.kind() == Value::Kind::kString) {
    return Value::TypedString(
        item.as_string().substr(static_cast<size_t>(idx[0]), static_cast<size_t>(idx[1] - idx[0])),
        item.type());
  }
  const List& l = item.as_list();
  return Value(List(l.begin() + idx[0], l.begin() + idx[1]), item.type());
}

Result<Value> Len(const ExecEnv&, Args args) {
  const Value& v = args[0];
  switch (v.kind()) {
    case Value::Kind::kString:
      return Value(static_cast<int64_t>(v.as_string().size()));
    case Value::Kind::kList:
      return Value(static_cast<int64_t>(v.as_list().size()));
    case Value::Kind::kMap:
      return Value(static_cast<int64_t>(v.as_map().size()));
    default:
      return Status::InvalidArgument("len of type " +
                                     std::string(v.is_nil() ? "<nil>" : v.TypeName()));
  }
}

void AddBuiltins(FuncMap& m) {
  m.AddSpecial("and", FunctionDef::Special::kAnd);
  m.AddSpecial("or", FunctionDef::Special::kOr);
  m.Add("not", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> { return Value(!a[0].Truth()); });
  m.Add("len", 1, 1, Len);
  m.Add("index", 1, -1, Index);
  m.Add("slice", 1, -1, Slice);
  m.Add("print", 0, -1, [](const ExecEnv&, Args a) -> Result<Value> { return Value(GoSprint(a)); });
  m.Add("println", 0, -1,
        [](const ExecEnv&, Args a) -> Result<Value> { return Value(GoSprintln(a)); });
  m.Add("printf", 1, -1, [](const ExecEnv& env, Args a) -> Result<Value> {
    auto f = Str(a[0]);
    if (!f.ok()) return f.status();
    std::string out = GoSprintf(*f, a.subspan(1), env.max_result_bytes);
    if (env.max_result_bytes > 0 && out.size() > env.max_result_bytes) return ResultTooLarge(env);
    return Value(std::move(out));
  });
  m.Add("eq", 1, -1, Eq);
  m.Add("ne", 2, 2, [](const ExecEnv& env, Args a) -> Result<Value> {
    auto r = Eq(env, a);
    if (!r.ok()) return r.status();
    return Value(!r->as_bool());
  });
  m.Add("lt", 2, 2, Lt);
  m.Add("le", 2, 2, Le);
  m.Add("gt", 2, 2, Gt);
  m.Add("ge", 2, 2, Ge);
  m.Add("html", 0, -1,
        [](const ExecEnv&, Args a) -> Result<Value> { return Value(HtmlEscape(EvalArgs(a))); });
  m.Add("js", 0, -1,
        [](const ExecEnv&, Args a) -> Result<Value> { return Value(JsEscape(EvalArgs(a))); });
  m.Add("urlquery", 0, -1,
        [](const ExecEnv&, Args a) -> Result<Value> { return Value(QueryEscape(EvalArgs(a))); });
}

// ---- shared Prometheus / Alertmanager helpers ----

// strings.ToUpper / ToLower / Title, with Go's Unicode case mapping (core/utf8.h).
std::string ToUpper(std::string s) { return GoToUpper(s); }
std::string ToLower(std::string s) { return GoToLower(s); }
std::string Title(std::string s) { return GoTitle(s); }

// Alertmanager's title: golang.org/x/text/cases.Title(language.AmericanEnglish), which
// upper-cases the first letter of each word and lower-cases the rest. Words follow Unicode
// word breaking: letters, digits and '_' join, and an apostrophe, '.' or ':' between two
// letters stays inside the word ("o'neil" -> "O'neil"). ASCII case mapping only.
std::string CasesTitle(std::string s) {
  auto is_letter = [](unsigned char c) { return std::isalpha(c) || c >= 0x80; };
  auto is_word = [&](unsigned char c) { return is_letter(c) || std::isdigit(c) || c == '_'; };
  bool in_word = false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const bool mid = (c == '\'' || c == '.' || c == ':') && in_word && i > 0 &&
                     is_letter(static_cast<unsigned char>(s[i - 1])) && i + 1 < s.size() &&
                     is_letter(static_cast<unsigned char>(s[i + 1]));
    if (mid) continue;
    if (!is_word(c)) {
      in_word = false;
      continue;
    }
    if (!in_word) {
      if (c >= 'a' && c <= 'z') s[i] = static_cast<char>(c - 'a' + 'A');
      in_word = true;
    } else if (c >= 'A' && c <= 'Z') {
      s[i] = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

std::string TrimSpace(std::string_view s) {
  auto sp = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return std::string(s);
}

Result<std::unique_ptr<RE2>> Compile(const std::string& pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, opts);
  if (!re->ok()) {
    return Status::InvalidArgument("error parsing regexp: " + re->error() + ": `" + pattern + "`");
  }
  return re;
}

// regexp.MustCompile(pattern).ReplaceAllString(text, repl), with Go's rules for empty matches.
Result<std::string> ReReplaceAll(const std::string& pattern, const std::string& repl,
                                 const std::string& text) {
  auto re = Compile(pattern);
  if (!re.ok()) return re.status();
  const int ngroups = (*re)->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  std::string out;
  size_t last_end = 0;
  size_t search = 0;
  const re2::StringPiece src(text);
  while (search <= text.size()) {
    if (!(*re)->Match(src, search, text.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    const size_t a0 = static_cast<size_t>(groups[0].data() - text.data());
    const size_t a1 = a0 + groups[0].size();
    out.append(text, last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) {
      AppendGoExpand(&out, **re, repl, groups.data(), static_cast<int>(groups.size()));
    }
    last_end = a1;
    size_t width = 0;
    if (search < text.size()) {
      unsigned char c = static_cast<unsigned char>(text[search]);
      width = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
      width = std::min(width, text.size() - search);
    }
    if (search + width > a1) {
      search += width;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  out.append(text, last_end, std::string::npos);
  return out;
}

Result<Value> Match(const ExecEnv&, Args a) {
  auto p = Str(a[0]);
  if (!p.ok()) return p.status();
  auto s = Str(a[1]);
  if (!s.ok()) return s.status();
  auto re = Compile(*p);
  if (!re.ok()) return re.status();
  return Value(RE2::PartialMatch(*s, **re));
}

Result<Value> ReReplaceAllFn(const ExecEnv& env, Args a) {
  auto p = Str(a[0]);
  if (!p.ok()) return p.status();
  auto r = Str(a[1]);
  if (!r.ok()) return r.status();
  auto t = Str(a[2]);
  if (!t.ok()) return t.status();
  if (env.max_result_bytes > 0) {
    // Every match (at most one per byte, plus one) is replaced by the replacement, each of
    // whose `$` expansions is at most the whole text.
    const size_t dollars = static_cast<size_t>(std::count(r->begin(), r->end(), '$'));
    const double bound = (static_cast<double>(t->size()) + 1) *
                             (static_cast<double>(r->size()) +
                              static_cast<double>(dollars) * static_cast<double>(t->size())) +
                         static_cast<double>(t->size());
    if (bound > static_cast<double>(env.max_result_bytes)) return ResultTooLarge(env);
  }
  auto out = ReReplaceAll(*p, *r, *t);
  if (!out.ok()) return out.status();
  return Value(std::move(out).value());
}

Function StringFn(std::string (*f)(std::string)) {
  return [f](const ExecEnv&, Args a) -> Result<Value> {
    auto s = Str(a[0]);
    if (!s.ok()) return s.status();
    return Value(f(std::move(s).value()));
  };
}

Result<Value> HumanizeDuration(const ExecEnv&, Args a) {
  auto r = ToFloat(a[0]);
  if (!r.ok()) return r.status();
  double v = *r;
  if (std::isnan(v) || std::isinf(v)) return Value(Sprintf4g(v));
  if (v == 0) return Value(Sprintf4g(v) + "s");
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const int64_t d = static_cast<int64_t>(v);
    const int64_t seconds = d % 60;
    const int64_t minutes = (d / 60) % 60;
    const int64_t hours = (d / 60 / 60) % 24;
    const int64_t days = d / 60 / 60 / 24;
    auto s = [](int64_t x) { return std::to_string(x); };
    if (days != 0)
      return Value(sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s");
    if (hours != 0) return Value(sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s");
    if (minutes != 0) return Value(sign + s(minutes) + "m " + s(seconds) + "s");
    return Value(sign + Sprintf4g(v) + "s");
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Value(Sprintf4g(v) + prefix + "s");
}

Result<Value> Safe(const ExecEnv&, Args a) {
  auto s = Str(a[0]);
  if (!s.ok()) return s.status();
  return Value::TypedString(std::move(s).value(), &kSafeHtmlType);
}

// ---- Prometheus ----

extern const TypeInfo kSampleType;
const TypeInfo kSampleType{"*template.sample", {}, false, true};
const TypeInfo kQueryResultType{"template.queryResult", {}};

Value SampleValue(const Sample& s) {
  Struct st;
  st.fields.emplace_back("Labels", Value::StringMap(s.labels));
  st.fields.emplace_back("Value", Value(s.value));
  return Value(std::move(st), &kSampleType);
}

// A *template.sample argument. Prometheus's label/value/strvalue dereference it, so a nil
// one panics there, which text/template reports as the call's error.
Result<const Value*> SampleArg(const Value& v) {
  if (v.is_nil()) {
    return Status::InvalidArgument(
        "runtime error: invalid memory address or nil pointer dereference");
  }
  if (v.kind() != Value::Kind::kStruct || v.type() != &kSampleType) {
    return WrongType("*template.sample", v);
  }
  return &v;
}

Result<Value> Humanize(const ExecEnv&, Args a) {
  auto r = ToFloat(a[0]);
  if (!r.ok()) return r.status();
  double v = *r;
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Value(Sprintf4g(v));
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return Value(Sprintf4g(v) + prefix);
  }
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Value(Sprintf4g(v) + prefix);
}

Result<Value> Humanize1024(const ExecEnv&, Args a) {
  auto r = ToFloat(a[0]);
  if (!r.ok()) return r.status();
  double v = *r;
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Value(Sprintf4g(v));
  std::string prefix;
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return Value(Sprintf4g(v) + prefix);
}

// Prometheus's floatToTime: seconds to a UTC time with millisecond resolution (it goes through
// model.Time).
Result<Value> FloatToTime(double v) {
  const double ns = v * 1e9;
  if (ns > 9.223372036854775807e18 || ns < -9.223372036854775808e18) {
    return Status::InvalidArgument(FormatFloat(v, 'g', -1) +
                                   " cannot be represented as a nanoseconds timestamp since it "
                                   "overflows int64");
  }
  // 2^63 itself passes Go's check; amd64's conversion then yields MinInt64.
  const int64_t n = ns >= 9.223372036854775807e18 ? std::numeric_limits<int64_t>::min()
                                                  : static_cast<int64_t>(ns);
  int64_t ms = n / 1000000;
  return Value::FromTime(Time(std::chrono::milliseconds(ms)));
}

// Go's net.SplitHostPort: host and port split at the last ':', the host in brackets when it
// holds colons; nullopt where Go returns an error.
std::optional<std::pair<std::string_view, std::string_view>> SplitHostPort(std::string_view hp) {
  const size_t i = hp.rfind(':');
  if (i == std::string_view::npos) return std::nullopt;  // missing port
  std::string_view host;
  size_t j = 0, k = 0;
  if (hp[0] == '[') {
    const size_t end = hp.find(']');
    if (end == std::string_view::npos || end + 1 != i) return std::nullopt;
    host = hp.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    host = hp.substr(0, i);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // too many colons
  }
  if (hp.find('[', j) != std::string_view::npos) return std::nullopt;
  if (hp.find(']', k) != std::string_view::npos) return std::nullopt;
  return std::make_pair(host, hp.substr(i + 1));
}

// Go's net.ParseIP(s) != nil: dotted-quad IPv4 (no leading zeros) or IPv6 (with "::" and a
// trailing IPv4), no zone. glibc's inet_pton has the same grammar.
bool IsIP(std::string_view s) {
  const std::string z(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, z.c_str(), buf) == 1 || inet_pton(AF_INET6, z.c_str(), buf) == 1;
}

// Go's net.JoinHostPort.
std::string JoinHostPort(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::string(port);
  }
  return std::string(host) + ":" + std::string(port);
}

// Prometheus's stripPort: the host of host:port, or the text as is when it has no port.
std::string StripPort(std::string hp) {
  auto split = SplitHostPort(hp);
  return split ? std::string(split->first) : hp;
}

// Prometheus's stripDomain: the first DNS label of the host, port kept; IP addresses as is.
std::string StripDomain(std::string hp) {
  std::string_view host = hp, port;
  if (auto split = SplitHostPort(hp)) std::tie(host, port) = *split;
  if (IsIP(host)) return hp;
  host = host.substr(0, host.find('.'));
  if (!port.empty()) return JoinHostPort(host, port);
  return std::string(host);
}

std::string UrlPath(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : url.find('/', scheme + 3);
  if (start == std::string::npos) return "";
  size_t end = url.find_first_of("?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void AddPrometheus(FuncMap& m) {
  m.Add("query", 1, 1, [](const ExecEnv& env, Args a) -> Result<Value> {
    auto q = Str(a[0]);
    if (!q.ok()) return q.status();
    if (!env.query) return Status::Unavailable("query is not available in this context");
    auto r = env.query(*q);
    if (!r.ok()) return r.status();
    List l;
    for (const auto& s : *r) l.push_back(SampleValue(s));
    return Value(std::move(l), &kQueryResultType);
  });
  m.Add("first", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    if (a[0].kind() != Value::Kind::kList) return WrongType("template.queryResult", a[0]);
    if (a[0].as_list().empty()) {
      return Status::InvalidArgument("first() called on vector with no elements");
    }
    return a[0].as_list()[0];
  });
  m.Add("label", 2, 2, [](const ExecEnv&, Args a) -> Result<Value> {
    auto l = Str(a[0]);
    if (!l.ok()) return l.status();
    auto s = SampleArg(a[1]);
    if (!s.ok()) return s.status();
    const Map& labels = (*s)->FindField("Labels")->as_map();
    auto it = labels.find(*l);
    return it == labels.end() ? Value("") : it->second;
  });
  m.Add("value", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto s = SampleArg(a[0]);
    if (!s.ok()) return s.status();
    return *(*s)->FindField("Value");
  });
  m.Add("strvalue", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto s = SampleArg(a[0]);
    if (!s.ok()) return s.status();
    const Map& labels = (*s)->FindField("Labels")->as_map();
    auto it = labels.find("__value__");
    return it == labels.end() ? Value("") : it->second;
  });
  m.Add("args", 0, -1, [](const ExecEnv&, Args a) -> Result<Value> {
    Map out;
    for (size_t i = 0; i < a.size(); ++i) out["arg" + std::to_string(i)] = a[i];
    return Value(std::move(out), &kInterfaceMapType);
  });
  m.Add("reReplaceAll", 3, 3, ReReplaceAllFn);
  m.Add("safeHtml", 1, 1, Safe);
  m.Add("match", 2, 2, Match);
  m.Add("title", 1, 1, StringFn(Title));
  m.Add("toUpper", 1, 1, StringFn(ToUpper));
  m.Add("toLower", 1, 1, StringFn(ToLower));
  m.Add("graphLink", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto e = Str(a[0]);
    if (!e.ok()) return e.status();
    return Value("/graph?g0.expr=" + QueryEscape(*e) + "&g0.tab=0");
  });
  m.Add("tableLink", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto e = Str(a[0]);
    if (!e.ok()) return e.status();
    return Value("/graph?g0.expr=" + QueryEscape(*e) + "&g0.tab=1");
  });
  m.Add("stripPort", 1, 1, StringFn(StripPort));
  m.Add("stripDomain", 1, 1, StringFn(StripDomain));
  m.Add("sortByLabel", 2, 2, [](const ExecEnv&, Args a) -> Result<Value> {
    auto l = Str(a[0]);
    if (!l.ok()) return l.status();
    if (a[1].kind() != Value::Kind::kList) return WrongType("template.queryResult", a[1]);
    List out = a[1].as_list();
    auto key = [&](const Value& s) -> std::string {
      const Value* labels = s.FindField("Labels");
      if (labels == nullptr) return "";
      auto it = labels->as_map().find(*l);
      return it == labels->as_map().end() ? "" : it->second.as_string();
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const Value& x, const Value& y) { return key(x) < key(y); });
    return Value(std::move(out), a[1].type());
  });
  m.Add("humanize", 1, 1, Humanize);
  m.Add("humanize1024", 1, 1, Humanize1024);
  m.Add("humanizeDuration", 1, 1, HumanizeDuration);
  m.Add("humanizePercentage", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto r = ToFloat(a[0]);
    if (!r.ok()) return r.status();
    return Value(Sprintf4g(*r * 100) + "%");
  });
  m.Add("humanizeTimestamp", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto r = ToFloat(a[0]);
    if (!r.ok()) return r.status();
    if (std::isnan(*r) || std::isinf(*r)) return Value(Sprintf4g(*r));
    auto t = FloatToTime(*r);
    if (!t.ok()) return t.status();
    return Value(GoTimeString(t->as_time()));
  });
  m.Add("toTime", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto r = ToFloat(a[0]);
    if (!r.ok()) return r.status();
    if (std::isnan(*r) || std::isinf(*r)) {
      return Status::InvalidArgument("value is NaN or Inf");
    }
    return FloatToTime(*r);
  });
  m.Add("pathPrefix", 0, 0,
        [](const ExecEnv& env, Args) -> Result<Value> { return Value(UrlPath(env.external_url)); });
  m.Add("externalURL", 0, 0,
        [](const ExecEnv& env, Args) -> Result<Value> { return Value(env.external_url); });
  m.Add("parseDuration", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto s = Str(a[0]);
    if (!s.ok()) return s.status();
    auto d = ParseDuration(*s);
    if (!d.ok()) return d.status();
    return Value(static_cast<double>(d->count()) / 1e9);
  });
}

// ---- Alertmanager ----

bool HasNonFinite(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kFloat:
      return !std::isfinite(v.as_float());
    case Value::Kind::kList:
      return std::any_of(v.as_list().begin(), v.as_list().end(), HasNonFinite);
    case Value::Kind::kMap:
      return std::any_of(v.as_map().begin(), v.as_map().end(),
                         [](const auto& kv) { return HasNonFinite(kv.second); });
    case Value::Kind::kStruct:
      return std::any_of(v.as_struct().fields.begin(), v.as_struct().fields.end(),
                         [](const auto& kv) { return HasNonFinite(kv.second); });
    default:
      return false;
  }
}

void AddAlertmanager(FuncMap& m) {
  m.Add("toUpper", 1, 1, StringFn(ToUpper));
  m.Add("toLower", 1, 1, StringFn(ToLower));
  m.Add("title", 1, 1, StringFn(CasesTitle));
  m.Add("trimSpace", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    auto s = Str(a[0]);
    if (!s.ok()) return s.status();
    return Value(TrimSpace(*s));
  });
  m.Add("join", 2, 2, [](const ExecEnv& env, Args a) -> Result<Value> {
    auto sep = Str(a[0]);
    if (!sep.ok()) return sep.status();
    auto l = StrList(a[1]);
    if (!l.ok()) return l.status();
    if (env.max_result_bytes > 0) {
      double total = static_cast<double>(sep->size()) * static_cast<double>(l->size());
      for (const auto& e : *l) total += static_cast<double>(e.size());
      if (total > static_cast<double>(env.max_result_bytes)) return ResultTooLarge(env);
    }
    std::string out;
    for (size_t i = 0; i < l->size(); ++i) {
      if (i) out += *sep;
      out += (*l)[i];
    }
    return Value(std::move(out));
  });
  m.Add("match", 2, 2, Match);
  m.Add("safeHtml", 1, 1, Safe);
  m.Add("reReplaceAll", 3, 3, ReReplaceAllFn);
  m.Add("stringSlice", 0, -1, [](const ExecEnv&, Args a) -> Result<Value> {
    List out;
    for (const auto& v : a) {
      if (v.kind() != Value::Kind::kString) return WrongType("string", v);
      out.push_back(v);
    }
    return Value(std::move(out), &kStringListType);
  });
  m.Add("date", 2, 2, [](const ExecEnv&, Args a) -> Result<Value> {
    auto f = Str(a[0]);
    if (!f.ok()) return f.status();
    auto t = TimeArg(a[1]);
    if (!t.ok()) return t.status();
    return Value(GoTimeFormat(*t, *f));
  });
  m.Add("tz", 2, 2, [](const ExecEnv&, Args a) -> Result<Value> {
    auto name = Str(a[0]);
    if (!name.ok()) return name.status();
    auto t = TimeArg(a[1]);
    if (!t.ok()) return t.status();
    TimeValue out = *t;
    if (*name == "" || *name == "UTC") {
      out.offset_seconds = 0;
      out.zone = "UTC";
      return Value(std::move(out));
    }
    try {
      const date::time_zone* zone = date::locate_zone(*name);
      auto info =
          zone->get_info(std::chrono::floor<std::chrono::seconds>(IsZero(t->t) ? Time{} : t->t));
      out.offset_seconds = static_cast<int32_t>(info.offset.count());
      out.zone = info.abbrev;
    } catch (const std::exception&) {
      return Status::InvalidArgument("unknown time zone " + *name);
    }
    return Value(std::move(out));
  });
  m.Add("since", 1, 1, [](const ExecEnv& env, Args a) -> Result<Value> {
    auto t = TimeArg(a[0]);
    if (!t.ok()) return t.status();
    Time now = env.now ? env.now()
                       : std::chrono::time_point_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now());
    return Value(DurationValue{(now - t->t).count()});
  });
  m.Add("humanizeDuration", 1, 1, HumanizeDuration);
  m.Add("toJson", 1, 1, [](const ExecEnv&, Args a) -> Result<Value> {
    if (HasNonFinite(a[0])) {
      return Status::InvalidArgument("json: unsupported value: " + a[0].ToString());
    }
    return Value(a[0].ToJson());
  });
}

// ---- time.Time / time.Duration methods ----

TimeValue InUtc(TimeValue t) {
  t.offset_seconds = 0;
  t.zone = "UTC";
  return t;
}

const MethodInfo kTimeMethods[] = {
    {"Format",
     [](const Value& self, Args a) -> Result<Value> {
       auto f = Str(a[0]);
       if (!f.ok()) return f.status();
       return Value(GoTimeFormat(self.as_time(), *f));
     },
     1},
    {"String",
     [](const Value& self, Args) -> Result<Value> { return Value(GoTimeString(self.as_time())); },
     0},
    {"UTC", [](const Value& self, Args) -> Result<Value> { return Value(InUtc(self.as_time())); },
     0},
    {"Unix",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(
           std::chrono::floor<std::chrono::seconds>(self.as_time().t).time_since_epoch().count()));
     },
     0},
    {"UnixMilli",
     [](const Value& self, Args) -> Result<Value> { return Value(ToUnixMillis(self.as_time().t)); },
     0},
    {"UnixNano",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(self.as_time().t.time_since_epoch().count()));
     },
     0},
    {"IsZero",
     [](const Value& self, Args) -> Result<Value> { return Value(IsZero(self.as_time().t)); }, 0},
    {"Year",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(std::stoll(GoTimeFormat(self.as_time(), "2006"))));
     },
     0},
    {"Day",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(std::stoll(GoTimeFormat(self.as_time(), "2"))));
     },
     0},
    {"Hour",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(std::stoll(GoTimeFormat(self.as_time(), "15"))));
     },
     0},
    {"Minute",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(std::stoll(GoTimeFormat(self.as_time(), "4"))));
     },
     0},
    {"Second",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<int64_t>(std::stoll(GoTimeFormat(self.as_time(), "5"))));
     },
     0},
};

const MethodInfo kDurationMethods[] = {
    {"String",
     [](const Value& self, Args) -> Result<Value> {
       return Value(GoDurationString(self.as_duration().ns));
     },
     0},
    {"Seconds",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<double>(self.as_duration().ns) / 1e9);
     },
     0},
    {"Minutes",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<double>(self.as_duration().ns) / 60e9);
     },
     0},
    {"Hours",
     [](const Value& self, Args) -> Result<Value> {
       return Value(static_cast<double>(self.as_duration().ns) / 3600e9);
     },
     0},
    {"Milliseconds",
     [](const Value& self, Args) -> Result<Value> {
       return Value(self.as_duration().ns / 1000000);
     },
     0},
};

}  // namespace

const TypeInfo& TimeType() {
  static const TypeInfo t{"time.Time", kTimeMethods};
  return t;
}

const TypeInfo& DurationType() {
  static const TypeInfo t{"time.Duration", kDurationMethods};
  return t;
}

const FuncMap& GoBuiltinFuncs() {
  static const FuncMap* m = [] {
    auto* f = new FuncMap();
    AddBuiltins(*f);
    return f;
  }();
  return *m;
}

const FuncMap& PrometheusFuncs() {
  static const FuncMap* m = [] {
    auto* f = new FuncMap();
    AddBuiltins(*f);
    AddPrometheus(*f);
    return f;
  }();
  return *m;
}

const FuncMap& AlertmanagerFuncs() {
  static const FuncMap* m = [] {
    auto* f = new FuncMap();
    AddBuiltins(*f);
    AddAlertmanager(*f);
    return f;
  }();
  return *m;
}

}  // namespace alertd::templating
