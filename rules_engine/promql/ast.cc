#include "rules_engine/promql/ast.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/labels.h"  // GoQuote
#include "rules_engine/promql/functions.h"

namespace alertd::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kInstantVector: return "instant vector";
    case ValueType::kRangeVector: return "range vector";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
  }
  return "?";
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kGte; }
bool IsSetOperator(BinaryOp op) { return op >= BinaryOp::kAnd; }

std::string_view AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopk: return "topk";
    case AggregateOp::kBottomk: return "bottomk";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kQuantile: return "quantile";
  }
  return "?";
}

bool TakesParameter(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kCountValues || op == AggregateOp::kQuantile;
}

std::string_view MatchTypeName(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

std::string LabelMatcher::ToString() const {
  std::string out = name;
  out += MatchTypeName(type);
  out += GoQuote(value);
  return out;
}

ValueType Call::type() const { return func ? func->return_type : ValueType::kNone; }

ValueType BinaryExpr::type() const {
  if (lhs->type() == ValueType::kScalar && rhs->type() == ValueType::kScalar) {
    return ValueType::kScalar;
  }
  return ValueType::kInstantVector;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest round-trip digits, laid out as Go's strconv 'g' with precision -1 (what %v
  // uses): exponent form when the decimal exponent is < -4 or >= 6 (1e+06, 1.234e-05).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  bool neg = sci.front() == '-';
  if (neg) sci.remove_prefix(1);
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    int ae = std::abs(exp);
    if (ae < 10) out += '0';
    out += std::to_string(ae);
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  if (static_cast<int>(digits.size()) <= exp + 1) {
    out += digits;
    out.append(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0');
    return out;
  }
  out += digits.substr(0, exp + 1);
  out += '.';
  out += digits.substr(exp + 1);
  return out;
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string r;
  // Years and weeks only when exact, as model.Duration.String() does (90d, not 12w6d).
  auto f = [&](const char* unit, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (int64_t v = ms / mult; v > 0) {
      r += std::to_string(v);
      r += unit;
      ms -= v * mult;
    }
  };
  f("y", 1000LL * 60 * 60 * 24 * 365, true);
  f("w", 1000LL * 60 * 60 * 24 * 7, true);
  f("d", 1000LL * 60 * 60 * 24, false);
  f("h", 1000LL * 60 * 60, false);
  f("m", 1000LL * 60, false);
  f("s", 1000, false);
  f("ms", 1, false);
  return r;
}

namespace {

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += labels[i];
  }
  return out;
}

// ` @ 123.000` / ` @ start()` then ` offset 5m` / ` offset -5m`.
std::string ModifierSuffix(AtModifier at, int64_t at_ms, Duration offset) {
  std::string out;
  switch (at) {
    case AtModifier::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof buf, " @ %.3f", static_cast<double>(at_ms) / 1000.0);
      out += buf;
      break;
    }
    case AtModifier::kStart: out += " @ start()"; break;
    case AtModifier::kEnd: out += " @ end()"; break;
    case AtModifier::kNone: break;
  }
  if (offset.count() > 0) {
    out += " offset " + FormatDuration(offset);
  } else if (offset.count() < 0) {
    out += " offset -" + FormatDuration(-offset);
  }
  return out;
}

void Print(const Expr& e, std::string* out);

void PrintSelector(const VectorSelector& vs, bool with_modifiers, std::string* out) {
  std::vector<std::string> parts;
  for (const LabelMatcher& m : vs.matchers) {
    if (m.name == "__name__" && m.type == MatchType::kEqual && m.value == vs.name) continue;
    parts.push_back(m.ToString());
  }
  *out += vs.name;
  if (!parts.empty()) {
    std::sort(parts.begin(), parts.end());
    *out += '{';
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) *out += ',';
      *out += parts[i];
    }
    *out += '}';
  }
  if (with_modifiers) *out += ModifierSuffix(vs.at, vs.at_ms, vs.offset);
}

void Print(const Expr& e, std::string* out) {
  switch (e.kind()) {
    case ExprKind::kNumberLiteral:
      *out += FormatFloat(static_cast<const NumberLiteral&>(e).value);
      return;
    case ExprKind::kStringLiteral:
      *out += GoQuote(static_cast<const StringLiteral&>(e).value);
      return;
    case ExprKind::kVectorSelector:
      PrintSelector(static_cast<const VectorSelector&>(e), true, out);
      return;
    case ExprKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(e);
      const VectorSelector& vs = m.vector_selector();
      PrintSelector(vs, false, out);
      *out += '[' + FormatDuration(m.range) + ']';
      *out += ModifierSuffix(vs.at, vs.at_ms, vs.offset);
      return;
    }
    case ExprKind::kSubquery: {
      const auto& s = static_cast<const SubqueryExpr&>(e);
      Print(*s.expr, out);
      *out += '[' + FormatDuration(s.range) + ':';
      if (s.step.count() != 0) *out += FormatDuration(s.step);
      *out += ']';
      *out += ModifierSuffix(s.at, s.at_ms, s.offset);
      return;
    }
    case ExprKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      *out += c.func ? c.func->name : std::string_view(c.unknown_name);
      *out += '(';
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i) *out += ", ";
        Print(*c.args[i], out);
      }
      *out += ')';
      return;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      *out += AggregateOpName(a.op);
      if (a.without) {
        *out += " without (" + JoinLabels(a.grouping) + ") ";
      } else if (!a.grouping.empty()) {
        *out += " by (" + JoinLabels(a.grouping) + ") ";
      }
      *out += '(';
      if (a.param) {
        Print(*a.param, out);
        *out += ", ";
      }
      Print(*a.expr, out);
      *out += ')';
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Print(*b.lhs, out);
      *out += ' ';
      *out += BinaryOpName(b.op);
      if (b.return_bool) *out += " bool";
      if (b.matching && (!b.matching->matching_labels.empty() || b.matching->on)) {
        *out += b.matching->on ? " on (" : " ignoring (";
        *out += JoinLabels(b.matching->matching_labels) + ')';
        if (b.matching->card == MatchCardinality::kManyToOne ||
            b.matching->card == MatchCardinality::kOneToMany) {
          *out += b.matching->card == MatchCardinality::kManyToOne ? " group_left (" : " group_right (";
          *out += JoinLabels(b.matching->include) + ')';
        }
      }
      *out += ' ';
      Print(*b.rhs, out);
      return;
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      *out += u.negate ? '-' : '+';
      Print(*u.expr, out);
      return;
    }
    case ExprKind::kParen:
      *out += '(';
      Print(*static_cast<const ParenExpr&>(e).expr, out);
      *out += ')';
      return;
  }
}

}  // namespace

std::string ToString(const Expr& e) {
  std::string out;
  Print(e, &out);
  return out;
}

std::vector<const Expr*> Children(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::kMatrixSelector: return {static_cast<const MatrixSelector&>(e).selector.get()};
    case ExprKind::kSubquery: return {static_cast<const SubqueryExpr&>(e).expr.get()};
    case ExprKind::kCall: {
      std::vector<const Expr*> out;
      for (const auto& a : static_cast<const Call&>(e).args) out.push_back(a.get());
      return out;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param) return {a.param.get(), a.expr.get()};
      return {a.expr.get()};
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return {b.lhs.get(), b.rhs.get()};
    }
    case ExprKind::kUnary: return {static_cast<const UnaryExpr&>(e).expr.get()};
    case ExprKind::kParen: return {static_cast<const ParenExpr&>(e).expr.get()};
    default: return {};
  }
}

void Inspect(const Expr& e, const std::function<bool(const Expr&)>& fn) {
  if (!fn(e)) return;
  for (const Expr* c : Children(e)) Inspect(*c, fn);
}

std::vector<const VectorSelector*> Selectors(const Expr& e) {
  std::vector<const VectorSelector*> out;
  Inspect(e, [&](const Expr& n) {
    if (const auto* vs = As<VectorSelector>(n)) out.push_back(vs);
    return true;
  });
  return out;
}

}  // namespace alertd::promql
