// The PromQL abstract syntax tree that ParseExpr (parser.h) produces, as Prometheus 2.x's
// promql/parser/ast.go defines it, and its printer: ToString() gives the normalised expression
// Prometheus's Node.String() gives (`sum by (job) (rate(x[5m]))`), which alertd shows in
// /api/v1/rules `query` and in logs.
//
// Nodes are immutable after parsing. Thread-compatible: a tree may be read from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertd::promql {

// The type an expression evaluates to.
enum class ValueType { kNone, kScalar, kInstantVector, kRangeVector, kString };

// The user-facing name Prometheus's DocumentedType() gives: "scalar", "instant vector",
// "range vector", "string", "none".
std::string_view ValueTypeName(ValueType t);

// Byte offsets into the parsed input: [start, end).
struct PositionRange {
  int start = 0;
  int end = 0;
};

// Millisecond resolution, as Prometheus's model.Duration.
using Duration = std::chrono::milliseconds;

enum class ExprKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kCall,
  kAggregate,
  kBinary,
  kUnary,
  kParen,
};

// Binary operators, arithmetic, comparison and set.
enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,
  kEql, kNeq, kLss, kLte, kGtr, kGte,
  kAnd, kOr, kUnless,
};
std::string_view BinaryOpName(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopk, kBottomk, kCountValues, kQuantile,
};
std::string_view AggregateOpName(AggregateOp op);  // "sum", "count_values", ...
// topk, bottomk, count_values and quantile take a parameter before the vector.
bool TakesParameter(AggregateOp op);

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };
std::string_view MatchTypeName(MatchType t);  // "=", "!=", "=~", "!~"

// One label matcher of a selector; regexes were validated (with RE2, fully anchored) at parse.
struct LabelMatcher {
  MatchType type = MatchType::kEqual;
  std::string name;
  std::string value;
  // Prometheus's Matcher.String(): name, operator, Go-quoted value.
  std::string ToString() const;
};

// `@ <timestamp>`, `@ start()`, `@ end()`.
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

struct Function;  // functions.h

class Expr {
 public:
  virtual ~Expr() = default;
  ExprKind kind() const { return kind_; }
  // The value type, as Prometheus's Expr.Type().
  virtual ValueType type() const = 0;
  // Where the expression is in the input it was parsed from.
  virtual PositionRange position() const = 0;

 protected:
  explicit Expr(ExprKind k) : kind_(k) {}

 private:
  ExprKind kind_;
};

using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kNumberLiteral;
  NumberLiteral() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kScalar; }
  PositionRange position() const override { return pos; }
  double value = 0;
  PositionRange pos;
};

struct StringLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStringLiteral;
  StringLiteral() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kString; }
  PositionRange position() const override { return pos; }
  std::string value;  // unquoted
  PositionRange pos;
};

// `name{matchers} @ ts offset d`. When `name` is set, the last matcher is `__name__="name"`
// (as Prometheus appends it).
struct VectorSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kVectorSelector;
  VectorSelector() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kInstantVector; }
  PositionRange position() const override { return pos; }
  std::string name;
  std::vector<LabelMatcher> matchers;
  Duration offset{0};  // negative for `offset -5m`
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;  // when at == kTimestamp: milliseconds since the epoch
  PositionRange pos;
};

// `selector[range]`. The offset and @ of the whole live on the inner VectorSelector.
struct MatrixSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kMatrixSelector;
  MatrixSelector() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kRangeVector; }
  PositionRange position() const override { return {selector->position().start, end_pos}; }
  // A VectorSelector in any tree ParseExpr returns.
  const VectorSelector& vector_selector() const { return static_cast<const VectorSelector&>(*selector); }
  ExprPtr selector;
  Duration range{0};
  int end_pos = 0;
};

// `expr[range:step] @ ts offset d`; step 0 means the default evaluation interval.
struct SubqueryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;
  SubqueryExpr() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kRangeVector; }
  PositionRange position() const override { return {expr->position().start, end_pos}; }
  ExprPtr expr;
  Duration range{0};
  Duration step{0};
  Duration offset{0};
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;
  int end_pos = 0;
};

struct Call final : Expr {
  static constexpr ExprKind kKind = ExprKind::kCall;
  Call() : Expr(kKind) {}
  ValueType type() const override;
  PositionRange position() const override { return pos; }
  // Never null in a tree ParseExpr returns; null for an unknown function when the parser
  // allows them (ParseOptions::allow_unknown_functions), which `unknown_name` then names.
  const Function* func = nullptr;
  std::string unknown_name;
  std::vector<ExprPtr> args;
  PositionRange pos;
};

struct AggregateExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kAggregate;
  AggregateExpr() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kInstantVector; }
  PositionRange position() const override { return pos; }
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // set iff TakesParameter(op)
  std::vector<std::string> grouping;
  bool without = false;
  PositionRange pos;
};

enum class MatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// How the two sides of a binary operation between instant vectors are matched.
struct VectorMatching {
  MatchCardinality card = MatchCardinality::kOneToOne;
  std::vector<std::string> matching_labels;  // on(...) / ignoring(...)
  bool on = false;
  std::vector<std::string> include;  // group_left(...) / group_right(...)
};

struct BinaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  BinaryExpr() : Expr(kKind) {}
  ValueType type() const override;
  PositionRange position() const override { return {lhs->position().start, rhs->position().end}; }
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  // Set only when both sides are instant vectors (as Prometheus after type checking).
  std::optional<VectorMatching> matching;
  bool return_bool = false;
};

// `-expr` or `+expr`. A sign directly before a number literal is folded into the literal.
struct UnaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  UnaryExpr() : Expr(kKind) {}
  ValueType type() const override { return expr->type(); }
  PositionRange position() const override { return {start_pos, expr->position().end}; }
  bool negate = true;  // false for unary plus
  ExprPtr expr;
  int start_pos = 0;
};

struct ParenExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kParen;
  ParenExpr() : Expr(kKind) {}
  ValueType type() const override { return expr->type(); }
  PositionRange position() const override { return pos; }
  ExprPtr expr;
  PositionRange pos;
};

// The normalised expression, byte for byte what Prometheus 2.42's String() prints.
std::string ToString(const Expr& e);

// Go's %v of a float64 (`1`, `0.5`, `1e+06`, `+Inf`, `NaN`), as number literals print.
std::string FormatFloat(double v);
// model.Duration.String(): `5m`, `1h30m`, `2w`, `8d`.
std::string FormatDuration(Duration d);

// Direct children in source order (an aggregation's parameter before its vector).
std::vector<const Expr*> Children(const Expr& e);

// Calls `fn` on `e` and every descendant, parents first; a false return skips that node's
// children.
void Inspect(const Expr& e, const std::function<bool(const Expr&)>& fn);

// Every vector selector in the tree (including those inside range selectors and subqueries),
// in source order: what the rule engine needs to know which series a rule reads.
std::vector<const VectorSelector*> Selectors(const Expr& e);

// Downcast helper: `As<Call>(e)` is null unless e is a Call.
template <typename T>
const T* As(const Expr& e) {
  return e.kind() == T::kKind ? static_cast<const T*>(&e) : nullptr;
}

}  // namespace alertd::promql
