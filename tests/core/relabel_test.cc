// Prometheus relabelling: rows after Prometheus 2.42's model/relabel/relabel_test.go.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/relabel.h"
#include "core/utf8.h"

using namespace alertd;

namespace {

RelabelSpec Spec(RelabelAction a) {
  RelabelSpec s;
  s.action = a;
  return s;
}

struct Row {
  const char* name;
  LabelSet in;
  std::vector<RelabelSpec> steps;
  std::optional<LabelSet> out;  // nullopt: dropped
};

}  // namespace

TEST_CASE("relabel steps do what Prometheus's do") {
  auto replace = [](std::vector<std::string> src, std::string regex, std::string target,
                    std::string repl) {
    RelabelSpec s;
    s.source_labels = std::move(src);
    s.regex = std::move(regex);
    s.target_label = std::move(target);
    s.replacement = std::move(repl);
    return s;
  };
  auto with = [](RelabelAction a, std::vector<std::string> src, std::string regex,
                 std::string target = "") {
    RelabelSpec s = Spec(a);
    s.source_labels = std::move(src);
    if (!regex.empty()) s.regex = std::move(regex);
    s.target_label = std::move(target);
    return s;
  };
  RelabelSpec hash = Spec(RelabelAction::kHashMod);
  hash.source_labels = {"a"};
  hash.target_label = "d";
  hash.modulus = 1000;
  RelabelSpec hash2 = hash;
  hash2.source_labels = {"a", "b"};
  RelabelSpec lmap = Spec(RelabelAction::kLabelMap);
  lmap.regex = "foo_(.*)";
  lmap.replacement = "bar_$1";
  RelabelSpec ldrop = Spec(RelabelAction::kLabelDrop);
  ldrop.regex = "b|c";
  RelabelSpec lkeep = Spec(RelabelAction::kLabelKeep);
  lkeep.regex = "a|alertname";
  RelabelSpec lower = Spec(RelabelAction::kLowercase);
  lower.source_labels = {"a"};
  lower.target_label = "a";
  RelabelSpec upper = Spec(RelabelAction::kUppercase);
  upper.source_labels = {"a", "b"};
  upper.target_label = "u";
  RelabelSpec empty_lower = lower;
  empty_lower.source_labels = {"missing"};

  const std::vector<Row> rows = {
      {"replace with a capture group",
       {{"a", "foo"}, {"b", "bar"}},
       {replace({"a"}, "f(.*)", "d", "ch${1}-ch${1}")},
       LabelSet{{"a", "foo"}, {"b", "bar"}, {"d", "choo-choo"}}},
      {"replace joins source labels with the separator",
       {{"a", "foo"}, {"b", "bar"}},
       {replace({"a", "b"}, "f(.*);(.*)r", "a", "b${1}${2}m")},
       LabelSet{{"a", "boobam"}, {"b", "bar"}}},
      {"replace without a match changes nothing",
       {{"a", "foo"}},
       {replace({"a"}, "x(.*)", "d", "$1")},
       LabelSet{{"a", "foo"}}},
      {"regex is anchored",
       {{"a", "foo"}},
       {replace({"a"}, "o", "d", "hit")},
       LabelSet{{"a", "foo"}}},
      {"replace to an empty value deletes the target",
       {{"a", "foo"}, {"d", "old"}},
       {replace({"a"}, "foo", "d", "")},
       LabelSet{{"a", "foo"}}},
      {"target label from a group",
       {{"a", "some-name-value"}},
       {replace({"a"}, "some-([^-]+)-([^,]+)", "${1}", "${2}")},
       LabelSet{{"a", "some-name-value"}, {"name", "value"}}},
      {"invalid expanded target deletes the unexpanded one",
       {{"a", "some-1-value"}, {"${1}", "x"}},
       {replace({"a"}, "some-([^-]+)-([^,]+)", "${1}", "${2}")},
       LabelSet{{"a", "some-1-value"}}},
      {"$1x names a group that does not exist",
       {{"a", "foo"}},
       {replace({"a"}, "(f)oo", "d", "$1x$$")},
       LabelSet{{"a", "foo"}, {"d", "$"}}},
      {"named groups", {{"a", "foo"}}, {replace({"a"}, "(?P<n>f)oo", "d", "<$n>")},
       LabelSet{{"a", "foo"}, {"d", "<f>"}}},
      {"malformed $ stays text", {{"a", "foo"}}, {replace({"a"}, "(.*)", "d", "${1")},
       LabelSet{{"a", "foo"}, {"d", "${1"}}},
      {"default replace copies nothing without source labels... into target", {{"a", "foo"}},
       {replace({}, "(.*)", "d", "$1")}, LabelSet{{"a", "foo"}}},
      {"keep matching", {{"a", "foo"}}, {with(RelabelAction::kKeep, {"a"}, "f.*")},
       LabelSet{{"a", "foo"}}},
      {"keep not matching", {{"a", "foo"}}, {with(RelabelAction::kKeep, {"a"}, "o")}, std::nullopt},
      {"drop matching", {{"a", "foo"}}, {with(RelabelAction::kDrop, {"a"}, "f.*")}, std::nullopt},
      {"drop on a missing label matching empty", {{"a", "foo"}},
       {with(RelabelAction::kDrop, {"zz"}, "")}, std::nullopt},
      {"keepequal equal", {{"a", "x"}, {"b", "x"}},
       {with(RelabelAction::kKeepEqual, {"a"}, "", "b")}, LabelSet{{"a", "x"}, {"b", "x"}}},
      {"keepequal differing", {{"a", "x"}, {"b", "y"}},
       {with(RelabelAction::kKeepEqual, {"a"}, "", "b")}, std::nullopt},
      {"dropequal equal", {{"a", "x"}, {"b", "x"}},
       {with(RelabelAction::kDropEqual, {"a"}, "", "b")}, std::nullopt},
      {"hashmod", {{"a", "foo"}}, {hash}, LabelSet{{"a", "foo"}, {"d", "696"}}},
      {"hashmod of joined labels", {{"a", "foo"}, {"b", "bar"}}, {hash2},
       LabelSet{{"a", "foo"}, {"b", "bar"}, {"d", "750"}}},
      {"labelmap", {{"foo_x", "1"}, {"foo_y", "2"}, {"z", "3"}}, {lmap},
       LabelSet{{"bar_x", "1"}, {"bar_y", "2"}, {"foo_x", "1"}, {"foo_y", "2"}, {"z", "3"}}},
      {"labeldrop", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, {ldrop}, LabelSet{{"a", "1"}}},
      {"labelkeep", {{"a", "1"}, {"alertname", "X"}, {"c", "3"}}, {lkeep},
       LabelSet{{"a", "1"}, {"alertname", "X"}}},
      {"lowercase, Unicode", {{"a", "ÄÖÜ Foo"}}, {lower}, LabelSet{{"a", "äöü foo"}}},
      {"uppercase of joined labels", {{"a", "straße"}, {"b", "ß"}}, {upper},
       LabelSet{{"a", "straße"}, {"b", "ß"}, {"u", "STRAßE;ß"}}},
      {"lowercase of nothing deletes the target", {{"a", "x"}}, {empty_lower}, LabelSet{}},
      {"steps see the previous step's labels",
       {{"a", "foo"}},
       {replace({"a"}, "(.*)", "b", "$1-b"), with(RelabelAction::kKeep, {"b"}, "foo-b")},
       LabelSet{{"a", "foo"}, {"b", "foo-b"}}},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    RelabelConfigs cfgs;
    for (const auto& s : row.steps) {
      auto c = RelabelConfig::Create(s);
      REQUIRE_MESSAGE(c.ok(), c.status().message());
      cfgs.push_back(std::move(c).value());
    }
    LabelSet ls = row.in;
    const bool kept = Relabel(cfgs, &ls);
    CHECK(kept == row.out.has_value());
    if (kept && row.out) CHECK(ls.String() == row.out->String());
  }
}

TEST_CASE("relabel configs are validated as Prometheus validates them") {
  struct Bad {
    const char* name;
    RelabelSpec spec;
    const char* error;
  };
  auto spec = [](RelabelAction a, std::string target = "", std::string repl = "$1") {
    RelabelSpec s = Spec(a);
    s.target_label = std::move(target);
    s.replacement = std::move(repl);
    return s;
  };
  RelabelSpec badre = spec(RelabelAction::kReplace, "x");
  badre.regex = "(";
  RelabelSpec dropsrc = spec(RelabelAction::kLabelDrop);
  dropsrc.source_labels_set = true;
  RelabelSpec eqsep = spec(RelabelAction::kKeepEqual, "x");
  eqsep.separator = ",";
  RelabelSpec badsrc = spec(RelabelAction::kKeep);
  badsrc.source_labels = {"not-valid"};
  const std::vector<Bad> rows = {
      {"hashmod without modulus", spec(RelabelAction::kHashMod, "x"),
       "relabel configuration for hashmod requires non-zero modulus"},
      {"replace without target", spec(RelabelAction::kReplace),
       "relabel configuration for replace action requires 'target_label' value"},
      {"invalid target", spec(RelabelAction::kReplace, "1x"),
       "\"1x\" is invalid 'target_label' for replace action"},
      {"lowercase with replacement", spec(RelabelAction::kLowercase, "x", "y"),
       "'replacement' can not be set for lowercase action"},
      {"labelmap with invalid replacement", spec(RelabelAction::kLabelMap, "", "-"),
       "\"-\" is invalid 'replacement' for labelmap action"},
      {"labeldrop with source labels", dropsrc,
       "labeldrop action requires only 'regex', and no other fields"},
      {"keepequal with separator", eqsep,
       "keepequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {"invalid regex", badre, "invalid regular expression \"(\""},
      {"invalid source label", badsrc, "\"not-valid\" is not a valid label name"},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    auto c = RelabelConfig::Create(row.spec);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find(row.error) != std::string::npos);
  }
  CHECK(ParseRelabelAction("LabelMap") == RelabelAction::kLabelMap);
  CHECK_FALSE(ParseRelabelAction("nope").has_value());
}

TEST_CASE("Go's ToLower and ToUpper map Unicode and replace invalid bytes") {
  CHECK(GoToLower("ÀÉÎ Σ İ") == "àéî σ i");
  CHECK(GoToUpper("àéî ǆ") == "ÀÉÎ Ǆ");
  CHECK(GoToUpper(std::string("a\xff", 2)) == "A\xEF\xBF\xBD");
}
