// A hand-written recursive-descent parser with precedence climbing for binary operators: no
// C++ library parses PromQL, and a generated parser would not give Prometheus's error
// positions. Prometheus itself uses a yacc grammar (generated_parser.y) and reports the first
// of the errors it collects; this parser stops at that first error, and is written so that it
// meets the errors in the order yacc's reductions and lookahead reads meet them: semantic
// checks run as soon as the construct's closing token is consumed and before the next token
// is lexed, exactly where the yacc actions run. Type checks (Prometheus's checkAST) run on the
// finished tree, in checkAST's order.
#include "rules_engine/promql/parser.h"

#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <unordered_set>

#include "core/labels.h"  // GoQuote
#include "core/utf8.h"
#include "rules_engine/promql/functions.h"
#include "rules_engine/promql/lexer.h"

namespace alertd::promql {
namespace {

// Thrown internally at the first error and caught in ParseExprDetailed; never escapes.
struct Abort {};

// Binary operator precedence, lowest first (generated_parser.y's %left/%right lines).
int Precedence(TokenType t) {
  switch (t) {
    case TokenType::kLor: return 1;
    case TokenType::kLand:
    case TokenType::kLunless: return 2;
    case TokenType::kEqlc:
    case TokenType::kGte:
    case TokenType::kGtr:
    case TokenType::kLss:
    case TokenType::kLte:
    case TokenType::kNeq: return 3;
    case TokenType::kAdd:
    case TokenType::kSub: return 4;
    case TokenType::kMul:
    case TokenType::kDiv:
    case TokenType::kMod:
    case TokenType::kAtan2: return 5;
    case TokenType::kPow: return 6;
    default: return 0;
  }
}
constexpr int kPowPrecedence = 6;

BinaryOp ToBinaryOp(TokenType t) {
  switch (t) {
    case TokenType::kAdd: return BinaryOp::kAdd;
    case TokenType::kSub: return BinaryOp::kSub;
    case TokenType::kMul: return BinaryOp::kMul;
    case TokenType::kDiv: return BinaryOp::kDiv;
    case TokenType::kMod: return BinaryOp::kMod;
    case TokenType::kPow: return BinaryOp::kPow;
    case TokenType::kAtan2: return BinaryOp::kAtan2;
    case TokenType::kEqlc: return BinaryOp::kEql;
    case TokenType::kNeq: return BinaryOp::kNeq;
    case TokenType::kLss: return BinaryOp::kLss;
    case TokenType::kLte: return BinaryOp::kLte;
    case TokenType::kGtr: return BinaryOp::kGtr;
    case TokenType::kGte: return BinaryOp::kGte;
    case TokenType::kLand: return BinaryOp::kAnd;
    case TokenType::kLor: return BinaryOp::kOr;
    default: return BinaryOp::kUnless;
  }
}

AggregateOp ToAggregateOp(TokenType t) {
  switch (t) {
    case TokenType::kSum: return AggregateOp::kSum;
    case TokenType::kAvg: return AggregateOp::kAvg;
    case TokenType::kCount: return AggregateOp::kCount;
    case TokenType::kMin: return AggregateOp::kMin;
    case TokenType::kMax: return AggregateOp::kMax;
    case TokenType::kGroup: return AggregateOp::kGroup;
    case TokenType::kStddev: return AggregateOp::kStddev;
    case TokenType::kStdvar: return AggregateOp::kStdvar;
    case TokenType::kTopk: return AggregateOp::kTopk;
    case TokenType::kBottomk: return AggregateOp::kBottomk;
    case TokenType::kCountValues: return AggregateOp::kCountValues;
    default: return AggregateOp::kQuantile;
  }
}

// Tokens that may name a metric (generated_parser.y's metric_identifier).
bool IsMetricIdentifier(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBy:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kWithout:
    case TokenType::kStart:
    case TokenType::kEnd: return true;
    default: return IsAggregatorToken(t);
  }
}

// Tokens that may name a label in by/without/on/ignoring/group_* lists (maybe_label).
bool IsMaybeLabel(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBool:
    case TokenType::kBy:
    case TokenType::kGroupLeft:
    case TokenType::kGroupRight:
    case TokenType::kIgnoring:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kOn:
    case TokenType::kWithout:
    case TokenType::kStart:
    case TokenType::kEnd:
    case TokenType::kAtan2: return true;
    default: return IsAggregatorToken(t);
  }
}

bool IsLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Go's strconv.ParseInt(s, 0, 64) for what the lexer produces (no sign, no underscores).
bool ParseGoInt(std::string_view s, int64_t* out) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / base) return false;
    v = v * base + d;
  }
  *out = static_cast<int64_t>(v);
  return true;
}

// Go's strconv.ParseFloat(s, 64) for what the lexer produces; on failure `err` is Go's text.
bool ParseGoFloat(std::string_view s, double* out, std::string* err) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  auto syntax = [&] {
    *err = "strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax";
    return false;
  };
  // Decimal only: a hexadecimal mantissa needs a p exponent, which the lexer never produces.
  size_t i = 0;
  size_t mant_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++mant_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++mant_digits;
  }
  if (mant_digits == 0) return syntax();
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return syntax();
  }
  if (i != s.size()) return syntax();
  std::string buf(s);
  errno = 0;
  double v = std::strtod(buf.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v)) {
    *err = "strconv.ParseFloat: parsing " + GoQuote(s) + ": value out of range";
    return false;
  }
  *out = v;
  return true;
}

// prometheus/common model.ParseDuration, then PromQL's "greater than 0" rule.
bool ParsePromDuration(std::string_view s, Duration* out, std::string* err) {
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {
      {"y", 1000LL * 60 * 60 * 24 * 365}, {"w", 1000LL * 60 * 60 * 24 * 7},
      {"d", 1000LL * 60 * 60 * 24},       {"h", 1000LL * 60 * 60},
      {"m", 1000LL * 60},                 {"s", 1000},
      {"ms", 1},
  };
  if (s == "0") {
    *err = "duration must be greater than 0";
    return false;
  }
  size_t i = 0;
  size_t next = 0;
  int64_t total = 0;
  bool overflow = false;
  while (i < s.size()) {
    size_t ds = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    std::string_view digits = s.substr(ds, i - ds);
    std::string_view unit;
    if (s.substr(i).starts_with("ms")) {
      unit = "ms";
    } else if (i < s.size()) {
      unit = s.substr(i, 1);
    }
    size_t u = next;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (digits.empty() || u == std::size(kUnits)) {
      *err = "not a valid duration string: " + GoQuote(s);
      return false;
    }
    i += unit.size();
    next = u + 1;
    // Go's strconv.Atoi saturates; model.ParseDuration then reports the overflow.
    int64_t n = 0;
    for (char c : digits) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        n = std::numeric_limits<int64_t>::max();
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (n > std::numeric_limits<int64_t>::max() / kUnits[u].ms / 1000000) {
      overflow = true;
      continue;
    }
    total += n * kUnits[u].ms;
    if (total > std::numeric_limits<int64_t>::max() / 1000000) overflow = true;
  }
  if (overflow) {
    *err = "duration out of range";
    return false;
  }
  if (total == 0) {
    *err = "duration must be greater than 0";
    return false;
  }
  *out = Duration(total);
  return true;
}

// Go's regexp/syntax error code text for an RE2 error code.
const char* GoRegexpErrorCode(RE2::ErrorCode c) {
  switch (c) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    case RE2::ErrorPatternTooLarge: return "expression too large";
    default: return "regexp/syntax: internal error";
  }
}

RE2::Options RegexOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  return o;
}

// Compiles a label-matcher regex as Prometheus does (anchored `^(?:re)$`, and the bare
// pattern must parse too). Returns the compiled anchored regex, or null with `err` set to
// Go's message.
std::unique_ptr<RE2> CompileMatcherRegex(const std::string& re, std::string* err) {
  static const RE2::Options kOptions = RegexOptions();
  std::string anchored = "^(?:" + re + ")$";
  auto compiled = std::make_unique<RE2>(anchored, kOptions);
  const RE2* failed = compiled.get();
  std::unique_ptr<RE2> bare;
  if (compiled->ok()) {
    // `a)(b` is fine once wrapped but Prometheus also parses the bare pattern.
    if (re.find(')') == std::string::npos) return compiled;
    bare = std::make_unique<RE2>(re, kOptions);
    if (bare->ok()) return compiled;
    failed = bare.get();
  }
  std::string arg = failed->error_arg();
  if (failed->error_code() == RE2::ErrorMissingParen) arg = failed->pattern();
  *err = std::string("error parsing regexp: ") + GoRegexpErrorCode(failed->error_code()) + ": `" +
         arg + "`";
  return nullptr;
}

// Go's "%f".
std::string GoFormatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

// Go's strutil.Unquote for a token the lexer accepted (escapes are already validated).
std::string Unquote(std::string_view tok) {
  char q = tok.front();
  std::string_view s = tok.substr(1, tok.size() - 2);
  if (q == '`' || s.find('\\') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out += s[i++];
      continue;
    }
    char c = s[i + 1];
    i += 2;
    switch (c) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        int n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t v = static_cast<uint32_t>(std::strtoul(std::string(s.substr(i, n)).c_str(), nullptr, 16));
        i += n;
        if (c == 'x') {
          out += static_cast<char>(v);  // a byte, not a rune, as in Go
        } else {
          AppendUtf8(&out, v);
        }
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          uint32_t v = static_cast<uint32_t>(std::strtoul(std::string(s.substr(i - 1, 3)).c_str(), nullptr, 8));
          i += 2;
          out += static_cast<char>(v);
        } else {
          out += c;  // \\, \" or \'
        }
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& opts)
      : input_(input), lex_(input), opts_(opts) {}

  const std::vector<std::string>& unknown_functions() const { return unknown_functions_; }

  ExprPtr Parse() {
    const Token& t = Peek();
    if (t.type == TokenType::kEof) Fail(0, "no expression found in input");
    int depth = 0;
    ExprPtr e = ParseExpr(0, &depth);
    if (Peek().type != TokenType::kEof) Unexpected("", "");
    Check(e.get());
    return e;
  }

  const std::optional<ParseError>& error() const { return error_; }

 private:
  [[noreturn]] void Fail(int pos, std::string msg) {
    ParseError err;
    err.offset = pos;
    err.message = std::move(msg);
    int line = 1;
    int last_break = -1;
    for (int i = 0; i < pos && i < static_cast<int>(input_.size()); ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    err.line = line;
    err.column = pos - last_break;
    error_ = std::move(err);
    throw Abort{};
  }

  // Prometheus's parser.unexpected(): complain about the lookahead token.
  [[noreturn]] void Unexpected(std::string_view context, std::string_view expected) {
    const Token& t = Peek();
    std::string msg = "unexpected " + DescribeToken(t);
    if (context.empty() && agg_depth_ > 0) context = "aggregation";
    if (!context.empty()) msg += " in " + std::string(context);
    if (!expected.empty()) msg += ", expected " + std::string(expected);
    Fail(t.pos, std::move(msg));
  }

  const Token& Peek() {
    if (!has_tok_) {
      do {
        tok_ = lex_.Next();
      } while (tok_.type == TokenType::kComment);
      if (tok_.type == TokenType::kError) Fail(tok_.pos, lex_.error());
      has_tok_ = true;
    }
    return tok_;
  }

  Token Consume() {
    Peek();
    has_tok_ = false;
    return tok_;
  }

  // Bounds recursion so a hostile expression cannot overflow the stack (Prometheus, in Go,
  // has growable stacks and no limit; real rules nest a few levels).
  struct NestingGuard {
    explicit NestingGuard(Parser* p) : p_(p) {
      if (++p_->nesting_ > kMaxNesting) {
        p_->Fail(p_->Peek().pos, "expression nests too deeply");
      }
    }
    ~NestingGuard() { --p_->nesting_; }
    Parser* p_;
  };
  static constexpr int kMaxNesting = 256;
  // The tree is walked recursively (type checks, printing, destruction), so its depth is
  // bounded too; a long flat chain `a or b or ...` is a deep tree.
  static constexpr int kMaxTreeDepth = 2000;

  void CheckDepth(int depth, int pos) {
    if (depth > kMaxTreeDepth) Fail(pos, "expression nests too deeply");
  }

  ExprPtr ParseExpr(int min_prec, int* depth) {
    NestingGuard guard(this);
    ExprPtr lhs = ParseUnary(depth);
    for (;;) {
      const Token& t = Peek();
      int prec = Precedence(t.type);
      if (prec == 0 || prec < min_prec) return lhs;
      Token op = Consume();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = ToBinaryOp(op.type);
      VectorMatching vm;
      ParseBinModifiers(bin.get(), &vm);
      bin->matching = std::move(vm);
      bin->lhs = std::move(lhs);
      int rhs_depth = 0;
      bin->rhs = ParseExpr(op.type == TokenType::kPow ? prec : prec + 1, &rhs_depth);
      *depth = std::max(*depth, rhs_depth) + 1;
      CheckDepth(*depth, op.pos);
      lhs = std::move(bin);
    }
  }

  void ParseBinModifiers(BinaryExpr* bin, VectorMatching* vm) {
    if (Peek().type == TokenType::kBool) {
      Consume();
      bin->return_bool = true;
    }
    TokenType t = Peek().type;
    if (t != TokenType::kOn && t != TokenType::kIgnoring) return;
    Consume();
    vm->on = t == TokenType::kOn;
    vm->matching_labels = ParseGroupingLabels();
    t = Peek().type;
    if (t != TokenType::kGroupLeft && t != TokenType::kGroupRight) return;
    Consume();
    vm->card = t == TokenType::kGroupLeft ? MatchCardinality::kManyToOne
                                          : MatchCardinality::kOneToMany;
    if (Peek().type == TokenType::kLeftParen) vm->include = ParseGroupingLabels();
  }

  // `(a, b,)`; the lookahead must be the `(`.
  std::vector<std::string> ParseGroupingLabels() {
    if (Peek().type != TokenType::kLeftParen) Unexpected("grouping opts", "\"(\"");
    Consume();
    std::vector<std::string> labels;
    if (Peek().type == TokenType::kRightParen) {
      last_close_end_ = Consume().end();
      return labels;
    }
    for (;;) {
      const Token& t = Peek();
      if (!IsMaybeLabel(t.type)) Unexpected("grouping opts", "label");
      if (!IsLabelName(t.text)) Unexpected("grouping opts", "label");
      labels.emplace_back(Consume().text);
      TokenType n = Peek().type;
      if (n == TokenType::kRightParen) {
        last_close_end_ = Consume().end();
        return labels;
      }
      if (n != TokenType::kComma) Unexpected("grouping opts", "\",\" or \")\"");
      Consume();
      if (Peek().type == TokenType::kRightParen) {
        last_close_end_ = Consume().end();
        return labels;
      }
    }
  }

  ExprPtr ParseUnary(int* depth) {
    const Token& t = Peek();
    if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
      Token op = Consume();
      // `unary_op expr %prec MUL`: only ^ and the postfix modifiers bind tighter.
      ExprPtr operand = ParseExpr(kPowPrecedence, depth);
      if (operand->kind() == ExprKind::kNumberLiteral) {
        auto* nl = static_cast<NumberLiteral*>(operand.get());
        if (op.type == TokenType::kSub) nl->value = -nl->value;
        nl->pos.start = op.pos;
        return operand;
      }
      auto u = std::make_unique<UnaryExpr>();
      u->negate = op.type == TokenType::kSub;
      u->start_pos = op.pos;
      u->expr = std::move(operand);
      ++*depth;
      return u;
    }
    ExprPtr primary = ParsePrimary(depth);
    return ParsePostfix(std::move(primary), depth);
  }

  double ParseNumberToken(const Token& t) {
    int64_t i;
    if (ParseGoInt(t.text, &i)) return static_cast<double>(i);
    double f;
    std::string err;
    if (!ParseGoFloat(t.text, &f, &err)) Fail(t.pos, "error parsing number: " + err);
    return f;
  }

  Duration ParseDurationToken(const Token& t) {
    Duration d;
    std::string err;
    if (!ParsePromDuration(t.text, &d, &err)) Fail(t.pos, err);
    return d;
  }

  ExprPtr ParsePrimary(int* depth) {
    *depth = 1;
    const Token& t = Peek();
    switch (t.type) {
      case TokenType::kNumber: {
        Token n = Consume();
        auto nl = std::make_unique<NumberLiteral>();
        nl->value = ParseNumberToken(n);
        nl->pos = {n.pos, n.end()};
        return nl;
      }
      case TokenType::kString: {
        Token s = Consume();
        auto sl = std::make_unique<StringLiteral>();
        sl->value = Unquote(s.text);
        sl->pos = {s.pos, s.end()};
        return sl;
      }
      case TokenType::kLeftParen: {
        Token open = Consume();
        auto p = std::make_unique<ParenExpr>();
        p->expr = ParseExpr(0, depth);
        ++*depth;
        if (Peek().type != TokenType::kRightParen) Unexpected("", "");
        Token close = Consume();
        p->pos = {open.pos, close.end()};
        return p;
      }
      case TokenType::kLeftBrace: return ParseVectorSelector(nullptr);
      default: break;
    }
    if (!IsMetricIdentifier(t.type)) Unexpected("", "");
    Token name = Consume();
    if (IsAggregatorToken(name.type)) {
      TokenType n = Peek().type;
      if (n == TokenType::kLeftParen || n == TokenType::kBy || n == TokenType::kWithout) {
        return ParseAggregate(name, depth);
      }
    } else if (name.type == TokenType::kIdentifier && Peek().type == TokenType::kLeftParen) {
      return ParseCall(name, depth);
    }
    return ParseVectorSelector(&name);
  }

  // `(args)`; the lookahead is the `(`. Sets `close` to the `)`.
  std::vector<ExprPtr> ParseCallArgs(Token* close, int* depth) {
    Consume();
    std::vector<ExprPtr> args;
    if (Peek().type == TokenType::kRightParen) {
      *close = Consume();
      return args;
    }
    for (;;) {
      int d = 0;
      args.push_back(ParseExpr(0, &d));
      *depth = std::max(*depth, d + 1);
      const Token& t = Peek();
      if (t.type == TokenType::kRightParen) {
        *close = Consume();
        return args;
      }
      if (t.type != TokenType::kComma) Unexpected("", "");
      Token comma = Consume();
      if (Peek().type == TokenType::kRightParen) {
        Fail(comma.pos, "trailing commas not allowed in function call args");
      }
    }
  }

  ExprPtr ParseCall(const Token& name, int* depth) {
    Token close;
    auto call = std::make_unique<Call>();
    call->args = ParseCallArgs(&close, depth);
    call->func = FindFunction(name.text);
    if (call->func == nullptr) {
      if (!opts_.allow_unknown_functions) {
        Fail(name.pos, "unknown function with name " + GoQuote(name.text));
      }
      call->unknown_name = std::string(name.text);
      if (std::find(unknown_functions_.begin(), unknown_functions_.end(), call->unknown_name) ==
          unknown_functions_.end()) {
        unknown_functions_.push_back(call->unknown_name);
      }
    }
    call->pos = {name.pos, close.end()};
    return call;
  }

  ExprPtr ParseAggregate(const Token& op, int* depth) {
    auto agg = std::make_unique<AggregateExpr>();
    agg->op = ToAggregateOp(op.type);
    auto modifier = [&] {
      agg->without = Consume().type == TokenType::kWithout;
      agg->grouping = ParseGroupingLabels();
    };
    bool modifier_first = Peek().type != TokenType::kLeftParen;
    if (modifier_first) {
      modifier();
      if (Peek().type != TokenType::kLeftParen) {
        ++agg_depth_;
        Unexpected("", "");
      }
    }
    ++agg_depth_;
    Token close;
    std::vector<ExprPtr> args = ParseCallArgs(&close, depth);
    --agg_depth_;
    int end = close.end();
    if (!modifier_first) {
      // yacc reads the next token here to look for a trailing by/without.
      TokenType n = Peek().type;
      if (n == TokenType::kBy || n == TokenType::kWithout) {
        modifier();
        end = last_close_end_;
      }
    }
    agg->pos = {op.pos, end};
    if (args.empty()) Fail(op.pos, "no arguments for aggregate expression provided");
    size_t want = TakesParameter(agg->op) ? 2 : 1;
    if (args.size() != want) {
      Fail(op.pos, "wrong number of arguments for aggregate expression provided, expected " +
                       std::to_string(want) + ", got " + std::to_string(args.size()));
    }
    if (want == 2) agg->param = std::move(args[0]);
    agg->expr = std::move(args[want - 1]);
    return agg;
  }

  // `name{matchers}`, `name` or `{matchers}`.
  ExprPtr ParseVectorSelector(const Token* name) {
    auto vs = std::make_unique<VectorSelector>();
    int start = name ? name->pos : Peek().pos;
    int end = name ? name->end() : 0;
    bool non_empty = false;
    if (Peek().type == TokenType::kLeftBrace) {
      Consume();
      for (;;) {
        const Token& t = Peek();
        if (t.type == TokenType::kRightBrace) break;
        if (t.type != TokenType::kIdentifier) {
          Unexpected("label matching", "identifier or \"}\"");
        }
        Token label = Consume();
        TokenType op = Peek().type;
        if (op != TokenType::kEql && op != TokenType::kNeq && op != TokenType::kEqlRegex &&
            op != TokenType::kNeqRegex) {
          Unexpected("label matching", "label matching operator");
        }
        Consume();
        if (Peek().type != TokenType::kString) Unexpected("label matching", "string");
        Token value = Consume();
        LabelMatcher m;
        m.name = std::string(label.text);
        m.value = Unquote(value.text);
        m.type = op == TokenType::kEql        ? MatchType::kEqual
                 : op == TokenType::kNeq      ? MatchType::kNotEqual
                 : op == TokenType::kEqlRegex ? MatchType::kRegexMatch
                                              : MatchType::kRegexNoMatch;
        bool matches_empty;
        if (m.type == MatchType::kEqual || m.type == MatchType::kNotEqual) {
          matches_empty = (m.value.empty()) == (m.type == MatchType::kEqual);
        } else {
          std::string err;
          std::unique_ptr<RE2> re = CompileMatcherRegex(m.value, &err);
          if (!re) Fail(label.pos, err);
          matches_empty = RE2::FullMatch("", *re) == (m.type == MatchType::kRegexMatch);
        }
        if (!matches_empty) non_empty = true;
        vs->matchers.push_back(std::move(m));
        TokenType n = Peek().type;
        if (n == TokenType::kRightBrace) break;
        if (n != TokenType::kComma) Unexpected("label matching", "\",\" or \"}\"");
        Consume();
      }
      end = Consume().end();
    }
    if (name) {
      vs->name = std::string(name->text);
      vs->matchers.push_back(LabelMatcher{MatchType::kEqual, "__name__", vs->name});
      non_empty = true;
    }
    vs->pos = {start, end};
    if (!non_empty) empty_selectors_.insert(vs.get());
    return vs;
  }

  ExprPtr ParsePostfix(ExprPtr e, int* depth) {
    for (;;) {
      switch (Peek().type) {
        case TokenType::kLeftBracket:
          e = ParseRangeOrSubquery(std::move(e));
          CheckDepth(++*depth, e->position().start);
          break;
        case TokenType::kOffset: ParseOffset(e.get()); break;
        case TokenType::kAt: ParseAt(e.get()); break;
        default: return e;
      }
    }
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr e) {
    Token open = Consume();
    if (Peek().type != TokenType::kDuration) Unexpected("subquery selector", "duration");
    Duration range = ParseDurationToken(Consume());
    const Token& t = Peek();
    if (t.type == TokenType::kRightBracket) {
      Token close = Consume();
      const char* err = nullptr;
      if (e->kind() != ExprKind::kVectorSelector) {
        err = "ranges only allowed for vector selectors";
      } else if (static_cast<VectorSelector*>(e.get())->offset.count() != 0) {
        err = "no offset modifiers allowed before range";
      } else if (static_cast<VectorSelector*>(e.get())->at != AtModifier::kNone) {
        err = "no @ modifiers allowed before range";
      }
      if (err) Fail(open.pos, err);
      auto m = std::make_unique<MatrixSelector>();
      m->selector = std::move(e);
      m->range = range;
      m->end_pos = close.end();
      return m;
    }
    if (t.type != TokenType::kColon) Unexpected("subquery or range", "\":\" or \"]\"");
    Consume();
    Duration step{0};
    if (Peek().type == TokenType::kDuration) {
      step = ParseDurationToken(Consume());
      if (Peek().type != TokenType::kRightBracket) Unexpected("subquery selector", "\"]\"");
    } else if (Peek().type != TokenType::kRightBracket) {
      Unexpected("subquery selector", "duration or \"]\"");
    }
    Token close = Consume();
    auto s = std::make_unique<SubqueryExpr>();
    s->expr = std::move(e);
    s->range = range;
    s->step = step;
    s->end_pos = close.end();
    return s;
  }

  void ParseOffset(Expr* e) {
    Consume();
    bool negative = false;
    if (Peek().type == TokenType::kSub) {
      Consume();
      negative = true;
    }
    if (Peek().type != TokenType::kDuration) Unexpected("offset", "duration");
    Token dt = Consume();
    Duration d = ParseDurationToken(dt);
    if (negative) d = -d;
    Duration* target;
    int* end;
    switch (e->kind()) {
      case ExprKind::kVectorSelector: {
        auto* vs = static_cast<VectorSelector*>(e);
        target = &vs->offset;
        end = &vs->pos.end;
        break;
      }
      case ExprKind::kMatrixSelector: {
        auto* m = static_cast<MatrixSelector*>(e);
        target = &static_cast<VectorSelector*>(m->selector.get())->offset;
        end = &m->end_pos;
        break;
      }
      case ExprKind::kSubquery: {
        auto* s = static_cast<SubqueryExpr*>(e);
        target = &s->offset;
        end = &s->end_pos;
        break;
      }
      default:
        Fail(e->position().start,
             "offset modifier must be preceded by an instant vector selector or range vector "
             "selector or a subquery");
    }
    if (target->count() != 0) Fail(e->position().start, "offset may not be set multiple times");
    *target = d;
    *end = dt.end();
  }

  void ParseAt(Expr* e) {
    Consume();
    const Token& t = Peek();
    AtModifier kind = AtModifier::kTimestamp;
    int64_t ms = 0;
    int end;
    if (t.type == TokenType::kStart || t.type == TokenType::kEnd) {
      kind = t.type == TokenType::kStart ? AtModifier::kStart : AtModifier::kEnd;
      Consume();
      if (Peek().type != TokenType::kLeftParen) Unexpected("@", "timestamp");
      Consume();
      if (Peek().type != TokenType::kRightParen) Unexpected("@", "timestamp");
      end = Consume().end();
    } else {
      double sign = 1;
      if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
        sign = Consume().type == TokenType::kSub ? -1 : 1;
      }
      if (Peek().type != TokenType::kNumber) Unexpected("@", "timestamp");
      Token n = Consume();
      double ts = sign * ParseNumberToken(n);
      end = n.end();
      if (std::isinf(ts) || std::isnan(ts) ||
          ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
          ts <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
        Fail(e->position().start, "timestamp out of bounds for @ modifier: " + GoFormatF(ts));
      }
      double scaled = std::round(ts * 1000);
      // Go's float->int64 conversion yields MinInt64 when out of range (amd64).
      ms = std::fabs(scaled) < 9.2e18 ? static_cast<int64_t>(scaled)
                                      : std::numeric_limits<int64_t>::min();
    }
    AtModifier* target_kind;
    int64_t* target_ms;
    int* target_end;
    switch (e->kind()) {
      case ExprKind::kVectorSelector: {
        auto* vs = static_cast<VectorSelector*>(e);
        target_kind = &vs->at, target_ms = &vs->at_ms, target_end = &vs->pos.end;
        break;
      }
      case ExprKind::kMatrixSelector: {
        auto* m = static_cast<MatrixSelector*>(e);
        auto* vs = static_cast<VectorSelector*>(m->selector.get());
        target_kind = &vs->at, target_ms = &vs->at_ms, target_end = &m->end_pos;
        break;
      }
      case ExprKind::kSubquery: {
        auto* s = static_cast<SubqueryExpr*>(e);
        target_kind = &s->at, target_ms = &s->at_ms, target_end = &s->end_pos;
        break;
      }
      default:
        Fail(e->position().start,
             "@ modifier must be preceded by an instant vector selector or range vector "
             "selector or a subquery");
    }
    if (*target_kind != AtModifier::kNone) {
      Fail(e->position().start, "@ <timestamp> may not be set multiple times");
    }
    *target_kind = kind;
    *target_ms = ms;
    *target_end = end;
  }

  // --- Type checks: Prometheus's checkAST, same order. ---

  // A call of an unknown function (allowed by ParseOptions), maybe in parentheses: its type is
  // whatever the datasource makes of it, so it passes every type check.
  static bool IsUnknownCall(const Expr* e) {
    while (e->kind() == ExprKind::kParen) e = static_cast<const ParenExpr*>(e)->expr.get();
    return e->kind() == ExprKind::kCall && static_cast<const Call*>(e)->func == nullptr;
  }

  void ExpectType(Expr* e, ValueType want, const std::string& context) {
    ValueType t = Check(e);
    if (t != want && !IsUnknownCall(e)) {
      Fail(e->position().start, "expected type " + std::string(ValueTypeName(want)) + " in " +
                                    context + ", got " + std::string(ValueTypeName(t)));
    }
  }

  // Where a binary operator starts: the first non-space byte after the left operand.
  int OperatorPos(const BinaryExpr& b) {
    int p = b.lhs->position().end;
    while (p < static_cast<int>(input_.size()) &&
           (input_[p] == ' ' || input_[p] == '\t' || input_[p] == '\n' || input_[p] == '\r')) {
      ++p;
    }
    return p;
  }

  ValueType Check(Expr* e) {
    switch (e->kind()) {
      case ExprKind::kAggregate: {
        auto* a = static_cast<AggregateExpr*>(e);
        ExpectType(a->expr.get(), ValueType::kInstantVector, "aggregation expression");
        if (a->op == AggregateOp::kTopk || a->op == AggregateOp::kBottomk ||
            a->op == AggregateOp::kQuantile) {
          ExpectType(a->param.get(), ValueType::kScalar, "aggregation parameter");
        }
        if (a->op == AggregateOp::kCountValues) {
          ExpectType(a->param.get(), ValueType::kString, "aggregation parameter");
        }
        break;
      }
      case ExprKind::kBinary: {
        auto* b = static_cast<BinaryExpr*>(e);
        ValueType lt = Check(b->lhs.get());
        ValueType rt = Check(b->rhs.get());
        if (b->return_bool && !IsComparison(b->op)) {
          Fail(OperatorPos(*b), "bool modifier can only be used on comparison operators");
        }
        if (IsComparison(b->op) && !b->return_bool && lt == ValueType::kScalar &&
            rt == ValueType::kScalar) {
          Fail(OperatorPos(*b), "comparisons between scalars must use BOOL modifier");
        }
        VectorMatching& vm = *b->matching;
        if (IsSetOperator(b->op) && vm.card == MatchCardinality::kOneToOne) {
          vm.card = MatchCardinality::kManyToMany;
        }
        if (vm.on) {
          for (const auto& l1 : vm.matching_labels) {
            for (const auto& l2 : vm.include) {
              if (l1 == l2) {
                Fail(OperatorPos(*b), "label " + GoQuote(l1) +
                                          " must not occur in ON and GROUP clause at once");
              }
            }
          }
        }
        auto operand_ok = [](ValueType t) {
          return t == ValueType::kScalar || t == ValueType::kInstantVector;
        };
        if (!operand_ok(lt)) {
          Fail(b->lhs->position().start,
               "binary expression must contain only scalar and instant vector types");
        }
        if (!operand_ok(rt)) {
          Fail(b->rhs->position().start,
               "binary expression must contain only scalar and instant vector types");
        }
        std::string op_name(BinaryOpName(b->op));
        if (lt != ValueType::kInstantVector || rt != ValueType::kInstantVector) {
          if (!vm.matching_labels.empty()) {
            Fail(b->position().start, "vector matching only allowed between instant vectors");
          }
          b->matching.reset();
        } else if (IsSetOperator(b->op)) {
          if (vm.card == MatchCardinality::kOneToMany || vm.card == MatchCardinality::kManyToOne) {
            Fail(b->position().start, "no grouping allowed for \"" + op_name + "\" operation");
          }
          if (vm.card != MatchCardinality::kManyToMany) {
            Fail(b->position().start, "set operations must always be many-to-many");
          }
        }
        if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b->op)) {
          Fail(b->position().start,
               "set operator \"" + op_name + "\" not allowed in binary scalar expression");
        }
        break;
      }
      case ExprKind::kCall: {
        auto* c = static_cast<Call*>(e);
        if (c->func == nullptr) {
          for (auto& arg : c->args) Check(arg.get());
          return ValueType::kInstantVector;  // for the operand checks of its parent
        }
        const Function& f = *c->func;
        int nargs = static_cast<int>(f.arg_types.size());
        int got = static_cast<int>(c->args.size());
        std::string quoted = GoQuote(f.name);
        if (f.variadic == 0) {
          if (nargs != got) {
            Fail(c->pos.start, "expected " + std::to_string(nargs) + " argument(s) in call to " +
                                   quoted + ", got " + std::to_string(got));
          }
        } else {
          int na = nargs - 1;
          if (na > got) {
            Fail(c->pos.start, "expected at least " + std::to_string(na) +
                                   " argument(s) in call to " + quoted + ", got " +
                                   std::to_string(got));
          } else if (f.variadic > 0 && na + f.variadic < got) {
            Fail(c->pos.start, "expected at most " + std::to_string(na + f.variadic) +
                                   " argument(s) in call to " + quoted + ", got " +
                                   std::to_string(got));
          }
        }
        for (int i = 0; i < got; ++i) {
          int k = i;
          if (k >= nargs) {
            if (f.variadic == 0) break;
            k = nargs - 1;
          }
          ExpectType(c->args[i].get(), f.arg_types[k], "call to function " + quoted);
        }
        break;
      }
      case ExprKind::kParen: Check(static_cast<ParenExpr*>(e)->expr.get()); break;
      case ExprKind::kUnary: {
        auto* u = static_cast<UnaryExpr*>(e);
        ValueType t = Check(u->expr.get());
        if (t != ValueType::kScalar && t != ValueType::kInstantVector) {
          Fail(u->start_pos,
               "unary expression only allowed on expressions of type scalar or instant vector, "
               "got " +
                   GoQuote(ValueTypeName(t)));
        }
        break;
      }
      case ExprKind::kSubquery: {
        auto* s = static_cast<SubqueryExpr*>(e);
        ValueType t = Check(s->expr.get());
        if (t != ValueType::kInstantVector) {
          // Prometheus prints the internal type name here ("matrix", not "range vector").
          const char* internal = t == ValueType::kRangeVector ? "matrix"
                                 : t == ValueType::kScalar    ? "scalar"
                                 : t == ValueType::kString    ? "string"
                                                              : "none";
          Fail(s->position().start, std::string("subquery is only allowed on instant vector, got ") +
                                        internal + " instead");
        }
        break;
      }
      case ExprKind::kMatrixSelector:
        Check(static_cast<MatrixSelector*>(e)->selector.get());
        break;
      case ExprKind::kVectorSelector: {
        auto* vs = static_cast<VectorSelector*>(e);
        if (!vs->name.empty()) {
          for (size_t i = 0; i + 1 < vs->matchers.size(); ++i) {
            if (vs->matchers[i].name == "__name__") {
              Fail(vs->pos.start, "metric name must not be set twice: " + GoQuote(vs->name) +
                                      " or " + GoQuote(vs->matchers[i].value));
            }
          }
        } else if (empty_selectors_.count(vs)) {
          Fail(vs->pos.start, "vector selector must contain at least one non-empty matcher");
        }
        break;
      }
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral: break;
    }
    return e->type();
  }

  std::string_view input_;
  Lexer lex_;
  ParseOptions opts_;
  std::vector<std::string> unknown_functions_;
  Token tok_;
  bool has_tok_ = false;
  int agg_depth_ = 0;
  int nesting_ = 0;
  int last_close_end_ = 0;
  std::unordered_set<const VectorSelector*> empty_selectors_;
  std::optional<ParseError> error_;
};

}  // namespace

std::string ParseError::ToString() const {
  return std::to_string(line) + ":" + std::to_string(column) + ": parse error: " + message;
}

ParseOutput ParseExprDetailed(std::string_view input, const ParseOptions& opts) {
  ParseOutput out;
  Parser p(input, opts);
  try {
    out.expr = p.Parse();
    out.unknown_functions = p.unknown_functions();
  } catch (const Abort&) {
    out.expr.reset();
    out.error = p.error();
  }
  return out;
}

Result<std::unique_ptr<Expr>> ParseExpr(std::string_view input) {
  ParseOutput out = ParseExprDetailed(input);
  if (out.error) return Status::InvalidArgument(out.error->ToString());
  return std::move(out.expr);
}

}  // namespace alertd::promql
