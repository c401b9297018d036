// The PromQL reference table (fixtures/expressions.jsonl, recorded from promtool and a real
// Prometheus by fixtures/gen_expressions.py), loaded for the promql tests.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

namespace alertd::promql::testing {

struct ExpressionRow {
  std::string name;
  std::string expr;
  bool valid = false;
  int line = 0;
  int column = 0;
  std::string message;     // promtool's message, when invalid
  std::string normalized;  // Prometheus's String(), when valid
};

inline std::vector<ExpressionRow> LoadExpressionTable() {
  std::ifstream in(std::string(alertd::testing::kSourceDir) +
                   "/tests/promql/fixtures/expressions.jsonl");
  std::vector<ExpressionRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    ExpressionRow r;
    r.name = j.at("name");
    r.expr = j.at("expr");
    r.valid = j.at("valid");
    if (r.valid) {
      r.normalized = j.at("normalized");
    } else {
      r.line = j.at("line");
      r.column = j.at("column");
      r.message = j.at("message");
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace alertd::promql::testing
