// The parser against the real reference programs, run live: `promtool check rules` (verdict
// and line:column of every error) and a real Prometheus serving the rules, whose
// /api/v1/rules `query` is Prometheus's normalised String() of each expression.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules_engine/promql/parser.h"
#include "tests/promql/expression_table.h"
#include "tests/support/process.h"

namespace alertd::promql {
namespace {

namespace t = alertd::testing;

std::string RuleFile(const std::vector<std::string>& exprs) {
  std::string out = "groups:\n- name: g\n  rules:\n";
  for (size_t i = 0; i < exprs.size(); ++i) {
    out += "  - alert: A" + std::to_string(i) + "\n";
    // A JSON string is a valid YAML double-quoted scalar.
    out += "    expr: " + nlohmann::json(exprs[i]).dump() + "\n";
  }
  return out;
}

struct PromtoolError {
  int line = 0;
  int column = 0;
  std::string message;
};

// Runs promtool on one rule file holding all `exprs`; returns the errors by rule index.
std::map<size_t, PromtoolError> RunPromtool(const std::vector<std::string>& exprs,
                                            const std::string& dir) {
  std::string path = dir + "/rules.yml";
  t::WriteFile(path, RuleFile(exprs));
  std::string output;
  int rc = t::RunCommand({"/usr/bin/promtool", "check", "rules", path}, &output);
  std::map<size_t, PromtoolError> errors;
  static const std::regex kLine(
      R"re(rule (\d+), "A\d+": could not parse expression: (\d+):(\d+): parse error: (.*))re");
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    std::smatch m;
    if (std::regex_search(line, m, kLine)) {
      errors[std::stoul(m[1]) - 1] = {std::stoi(m[2]), std::stoi(m[3]), m[4]};
    }
    start = end + 1;
  }
  CHECK_MESSAGE((rc == 0) == errors.empty(), output);
  return errors;
}

// Prefixes of valid expressions: unfinished input errs at many different places.
std::vector<std::string> Truncations(const std::vector<testing::ExpressionRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    if (!r.valid || r.expr.size() < 6) continue;
    for (size_t cut : {r.expr.size() / 3, r.expr.size() / 2, r.expr.size() * 3 / 4}) {
      // Cut only between ASCII bytes so the rule file stays valid UTF-8.
      if (static_cast<unsigned char>(r.expr[cut]) >= 0x80 ||
          static_cast<unsigned char>(r.expr[cut - 1]) >= 0x80) {
        continue;
      }
      out.push_back(r.expr.substr(0, cut));
    }
  }
  return out;
}

TEST_CASE("promtool agrees on every expression of the table and on truncated ones") {
  auto rows = testing::LoadExpressionTable();
  std::vector<std::string> exprs;
  for (const auto& r : rows) exprs.push_back(r.expr);
  for (auto& s : Truncations(rows)) exprs.push_back(std::move(s));
  REQUIRE(exprs.size() > 800);

  std::string dir = t::MakeTempDir("promql-promtool");
  auto errors = RunPromtool(exprs, dir);
  t::RemoveTree(dir);

  int invalid = 0;
  for (size_t i = 0; i < exprs.size(); ++i) {
    INFO((i < rows.size() ? rows[i].name : std::string("truncated")));
    INFO(exprs[i]);
    ParseOutput out = ParseExprDetailed(exprs[i]);
    auto it = errors.find(i);
    REQUIRE(out.error.has_value() == (it != errors.end()));
    if (it == errors.end()) continue;
    ++invalid;
    CHECK(out.error->line == it->second.line);
    CHECK(out.error->column == it->second.column);
    CHECK(out.error->message == it->second.message);
  }
  CHECK(invalid > 300);
}

TEST_CASE("ToString equals the query a real Prometheus shows in /api/v1/rules") {
  auto rows = testing::LoadExpressionTable();
  std::vector<std::string> exprs;
  for (const auto& r : rows) {
    if (r.valid) exprs.push_back(r.expr);
  }
  std::string dir = t::MakeTempDir("promql-prometheus");
  t::WriteFile(dir + "/rules.yml", RuleFile(exprs));
  t::WriteFile(dir + "/prometheus.yml",
               "global:\n  evaluation_interval: 1h\nrule_files: [rules.yml]\n");
  int port = t::FreePort();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto prom = t::Process::Start(
      {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
       "--web.listen-address=127.0.0.1:" + std::to_string(port),
       "--storage.tsdb.path=" + dir + "/data"},
      dir + "/prometheus.log");
  REQUIRE(prom.started());

  nlohmann::json rules;
  bool loaded = t::WaitFor(
      [&] {
        auto resp = t::HttpGet(base + "/api/v1/rules");
        if (resp.status != 200) return false;
        auto j = nlohmann::json::parse(resp.body, nullptr, false);
        if (j.is_discarded() || j["data"]["groups"].empty()) return false;
        rules = j["data"]["groups"][0]["rules"];
        return true;
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(loaded, prom.Log());
  REQUIRE(rules.size() == exprs.size());
  for (size_t i = 0; i < exprs.size(); ++i) {
    INFO(exprs[i]);
    auto parsed = ParseExpr(exprs[i]);
    REQUIRE(parsed.ok());
    CHECK(ToString(**parsed) == rules[i]["query"].get<std::string>());
  }
  prom.Stop();
  t::RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::promql
