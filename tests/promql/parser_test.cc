// The PromQL parser against the reference table (verdict, position, message and normalised
// form as promtool and Prometheus 2.42 give them), plus the public API's contracts.
#include "rules_engine/promql/parser.h"

#include <doctest/doctest.h>

#include <set>

#include "rules_engine/promql/functions.h"
#include "rules_engine/promql/lexer.h"
#include "tests/promql/expression_table.h"

namespace alertd::promql {
namespace {

using testing::ExpressionRow;
using testing::LoadExpressionTable;

TEST_CASE("the reference table is big and covers valid and invalid expressions") {
  auto rows = LoadExpressionTable();
  CHECK(rows.size() >= 300);
  int valid = 0;
  std::set<std::string> names;
  for (const auto& r : rows) {
    valid += r.valid;
    names.insert(r.name);
  }
  CHECK(valid >= 100);
  CHECK(rows.size() - valid >= 100);
  CHECK(names.size() == rows.size());
  // Every function appears in a valid call.
  for (const Function& f : AllFunctions()) {
    INFO(f.name);
    CHECK(names.count("fn_" + std::string(f.name)) == 1);
  }
}

TEST_CASE("verdict, error position and message match promtool") {
  for (const ExpressionRow& row : LoadExpressionTable()) {
    INFO(row.name);
    INFO(row.expr);
    ParseOutput out = ParseExprDetailed(row.expr);
    REQUIRE(out.error.has_value() != row.valid);
    if (row.valid) {
      REQUIRE(out.expr != nullptr);
      CHECK(ToString(*out.expr) == row.normalized);
    } else {
      CHECK(out.expr == nullptr);
      CHECK(out.error->line == row.line);
      CHECK(out.error->column == row.column);
      CHECK(out.error->message == row.message);
    }
  }
}

TEST_CASE("the normalised form parses back to itself") {
  for (const ExpressionRow& row : LoadExpressionTable()) {
    if (!row.valid) continue;
    INFO(row.name);
    auto again = ParseExpr(row.normalized);
    REQUIRE(again.ok());
    CHECK(ToString(**again) == row.normalized);
  }
}

TEST_CASE("ParseExpr formats the error like Prometheus") {
  auto r = ParseExpr("sum(rate(x[5m]) >");
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == "1:18: parse error: unclosed left parenthesis");

  ParseOutput out = ParseExprDetailed("up\n  + rate(1)");
  REQUIRE(out.error);
  CHECK(out.error->offset == 12);
  CHECK(out.error->line == 2);
  CHECK(out.error->column == 10);
  CHECK(out.error->message ==
        "expected type range vector in call to function \"rate\", got scalar");
  CHECK(out.error->ToString() ==
        "2:10: parse error: expected type range vector in call to function \"rate\", got scalar");
}

TEST_CASE("value types") {
  struct Row {
    const char* name;
    const char* expr;
    ValueType want;
  };
  const Row rows[] = {
      {"number", "1", ValueType::kScalar},
      {"string", "\"a\"", ValueType::kString},
      {"selector", "up", ValueType::kInstantVector},
      {"range", "up[5m]", ValueType::kRangeVector},
      {"subquery", "up[5m:]", ValueType::kRangeVector},
      {"scalar_fn", "time()", ValueType::kScalar},
      {"scalar_arith", "1 + time()", ValueType::kScalar},
      {"vector_arith", "1 + up", ValueType::kInstantVector},
      {"paren_unary", "-(time())", ValueType::kScalar},
      {"aggregate", "sum(up)", ValueType::kInstantVector},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto r = ParseExpr(row.expr);
    REQUIRE(r.ok());
    CHECK((*r)->type() == row.want);
  }
  CHECK(ValueTypeName(ValueType::kRangeVector) == "range vector");
}

TEST_CASE("precedence and associativity shape the tree") {
  auto shape = [](std::string_view src) {
    auto r = ParseExpr(src);
    REQUIRE(r.ok());
    // Print with explicit grouping to see the tree.
    std::function<std::string(const Expr&)> show = [&](const Expr& e) -> std::string {
      if (const auto* b = As<BinaryExpr>(e)) {
        return "(" + show(*b->lhs) + " " + std::string(BinaryOpName(b->op)) + " " + show(*b->rhs) +
               ")";
      }
      if (const auto* u = As<UnaryExpr>(e)) return std::string(u->negate ? "-" : "+") + show(*u->expr);
      return ToString(e);
    };
    return show(**r);
  };
  CHECK(shape("a + b * c") == "(a + (b * c))");
  CHECK(shape("a - b - c") == "((a - b) - c)");
  CHECK(shape("a ^ b ^ c") == "(a ^ (b ^ c))");
  CHECK(shape("-1 ^ 2") == "-(1 ^ 2)");
  CHECK(shape("-a * b") == "(-a * b)");
  CHECK(shape("a or b and c") == "(a or (b and c))");
  CHECK(shape("a and b or c") == "((a and b) or c)");
  CHECK(shape("a > b + 1 and c") == "((a > (b + 1)) and c)");
  CHECK(shape("a atan2 b + c") == "((a atan2 b) + c)");
  CHECK(shape("2 ^ -1 ^ 2") == "(2 ^ -(1 ^ 2))");
}

TEST_CASE("accessors expose what the rule engine needs") {
  auto r = ParseExpr(
      "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m] offset 1m)) / on(job) "
      "group_left(team) max(x) > bool 0.1");
  REQUIRE(r.ok());
  const auto* cmp = As<BinaryExpr>(**r);
  REQUIRE(cmp);
  CHECK(cmp->op == BinaryOp::kGtr);
  CHECK(cmp->return_bool);
  CHECK(!cmp->matching.has_value());  // one side is a scalar
  const auto* div = As<BinaryExpr>(*cmp->lhs);
  REQUIRE(div);
  REQUIRE(div->matching.has_value());
  CHECK(div->matching->on);
  CHECK(div->matching->card == MatchCardinality::kManyToOne);
  CHECK(div->matching->matching_labels == std::vector<std::string>{"job"});
  CHECK(div->matching->include == std::vector<std::string>{"team"});
  const auto* agg = As<AggregateExpr>(*div->lhs);
  REQUIRE(agg);
  CHECK(agg->op == AggregateOp::kSum);
  CHECK(agg->grouping == std::vector<std::string>{"job"});
  const auto* call = As<Call>(*agg->expr);
  REQUIRE(call);
  CHECK(call->func->name == "rate");
  const auto* ms = As<MatrixSelector>(*call->args[0]);
  REQUIRE(ms);
  CHECK(ms->range == std::chrono::minutes(5));
  const VectorSelector& vs = ms->vector_selector();
  CHECK(vs.name == "http_requests_total");
  CHECK(vs.offset == std::chrono::minutes(1));
  REQUIRE(vs.matchers.size() == 2);
  CHECK(vs.matchers[0].type == MatchType::kRegexMatch);
  CHECK(vs.matchers[0].value == "5..");
  CHECK(vs.matchers[1].name == "__name__");

  auto sels = Selectors(**r);
  REQUIRE(sels.size() == 2);
  CHECK(sels[0]->name == "http_requests_total");
  CHECK(sels[1]->name == "x");

  int nodes = 0;
  Inspect(**r, [&](const Expr&) {
    ++nodes;
    return true;
  });
  CHECK(nodes == 9);  // >, /, 0.1, sum, rate, matrix, selector, max, x
  int pruned = 0;
  Inspect(**r, [&](const Expr& e) {
    ++pruned;
    return e.kind() != ExprKind::kBinary;
  });
  CHECK(pruned == 1);

  CHECK(cmp->position().start == 0);
  CHECK(vs.position().start == 19);
}

TEST_CASE("string literals are unquoted with Go escapes") {
  struct Row {
    const char* name;
    const char* expr;
    std::string want;
  };
  const Row rows[] = {
      {"escapes", R"("a\nb\t\\\"")", "a\nb\t\\\""},
      {"hex_byte", R"("\xff")", std::string("\xff")},
      {"octal", R"("\101")", "A"},
      {"unicode", R"("\u00e9\U0001F600")", "\xc3\xa9\xf0\x9f\x98\x80"},
      {"single_quoted", R"('it\'s "x"')", "it's \"x\""},
      {"raw", R"(`a\nb`)", "a\\nb"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto r = ParseExpr(row.expr);
    REQUIRE(r.ok());
    const auto* s = As<StringLiteral>(**r);
    REQUIRE(s);
    CHECK(s->value == row.want);
  }
  // Invalid UTF-8 made by escapes prints back with Go's escapes.
  CHECK(ToString(**ParseExpr(R"("\xff")")) == R"("\xff")");
}

TEST_CASE("number and duration formatting follows Go") {
  CHECK(FormatFloat(1) == "1");
  CHECK(FormatFloat(0.5) == "0.5");
  CHECK(FormatFloat(1e6) == "1e+06");
  CHECK(FormatFloat(123456) == "123456");
  CHECK(FormatFloat(1234567) == "1.234567e+06");
  CHECK(FormatFloat(0.0001) == "0.0001");
  CHECK(FormatFloat(0.00001234) == "1.234e-05");
  CHECK(FormatFloat(-2.5e100) == "-2.5e+100");
  CHECK(FormatDuration(std::chrono::minutes(90)) == "1h30m");
  CHECK(FormatDuration(std::chrono::hours(24 * 8)) == "8d");
  CHECK(FormatDuration(std::chrono::hours(24 * 14)) == "2w");
  CHECK(FormatDuration(std::chrono::milliseconds(1500)) == "1s500ms");
  CHECK(FormatDuration(std::chrono::milliseconds(0)) == "0s");
}

TEST_CASE("lexer describes tokens as Prometheus does") {
  Lexer lex("sum by ( a:b , \"a long string literal\" 1.5 5m <= and )");
  std::vector<std::string> got;
  for (Token t = lex.Next(); t.type != TokenType::kEof; t = lex.Next()) {
    got.push_back(t.type == TokenType::kError ? lex.error() : DescribeToken(t));
  }
  std::vector<std::string> want = {
      "<aggr:sum>", "<by>", "\"(\"", "metric identifier \"a:b\"", "\",\"",
      "string \"\\\"a long st\"...", "number \"1.5\"", "duration \"5m\"", "<op:<=>", "<op:and>", "\")\""};
  CHECK(got == want);
}

TEST_CASE("deep nesting and long inputs do not crash") {
  auto nested = [](int n) {
    return std::string(n, '(') + "1" + std::string(n, ')');
  };
  CHECK(ParseExpr(nested(100)).ok());
  ParseOutput deep = ParseExprDetailed(nested(100000));
  REQUIRE(deep.error);
  CHECK(deep.error->message == "expression nests too deeply");
  CHECK(!ParseExpr(std::string(100000, '-') + "1").ok());
  CHECK(!ParseExpr("sum(" + std::string(5000, '[') ).ok());
  auto chain = [](int n) {
    std::string s = "a";
    for (int i = 0; i < n; ++i) s += " or a";
    return s;
  };
  CHECK(ParseExpr(chain(1000)).ok());
  CHECK(!ParseExpr(chain(100000)).ok());
  CHECK(!ParseExpr(std::string("\0", 1)).ok());
  CHECK(ParseExprDetailed("").error->message == "no expression found in input");
}

}  // namespace
}  // namespace alertd::promql

namespace alertd::promql {
namespace {

TEST_CASE("unknown functions: an error by default, a typeless call when allowed") {
  ParseOptions lenient;
  lenient.allow_unknown_functions = true;
  struct Row {
    const char* name;
    const char* expr;
    std::vector<std::string> unknown;  // with `lenient`; empty: a parse error there too
    const char* printed;               // ToString of the tree
    const char* error;                 // with `lenient`, when `unknown` is empty
  } rows[] = {
      {"MetricsQL rollup in a comparison", "range_median(x[5m]) > 1", {"range_median"},
       "range_median(x[5m]) > 1", nullptr},
      {"any argument types, each name once", "label_set(y, \"a\", \"b\") + range_median(z[1m]) / range_median(w)",
       {"label_set", "range_median"},
       "label_set(y, \"a\", \"b\") + range_median(z[1m]) / range_median(w)", nullptr},
      {"passes the type checks of a known function and an aggregation",
       "sum by (job) (rate((unknown_fn(x)))) and topk(newer(), x)", {"unknown_fn", "newer"},
       "sum by (job) (rate((unknown_fn(x)))) and topk(newer(), x)", nullptr},
      {"known functions are still checked", "rate(x) + range_median(y[5m])", {}, nullptr,
       "1:6: parse error: expected type range vector in call to function \"rate\", got instant "
       "vector"},
      {"syntax is still PromQL", "median(x) by (job)", {}, nullptr, "parse error"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    ParseOutput strict = ParseExprDetailed(row.expr);
    REQUIRE(strict.error.has_value());
    CHECK(strict.unknown_functions.empty());
    ParseOutput out = ParseExprDetailed(row.expr, lenient);
    if (row.unknown.empty()) {
      REQUIRE(out.error.has_value());
      CHECK(out.error->ToString().find(row.error) != std::string::npos);
      continue;
    }
    REQUIRE_MESSAGE(!out.error.has_value(), out.error->ToString());
    CHECK(out.unknown_functions == row.unknown);
    CHECK(ToString(*out.expr) == row.printed);
  }
  CHECK(ParseExprDetailed("range_median(x[5m])").error->ToString() ==
        "1:1: parse error: unknown function with name \"range_median\"");
}

}  // namespace
}  // namespace alertd::promql
