// `*_relabel_configs` lists in YAML: Prometheus's defaults, validation, errors with positions.
#include <doctest/doctest.h>

#include <string>

#include "config/config.h"

using namespace alertd;
using namespace alertd::config;

namespace {
LoadResult LoadEval(const std::string& evaluation) {
  return LoadConfigString("route: {receiver: a}\nreceivers: [{name: a}]\nevaluation:\n" + evaluation,
                          "/tmp/alertd-test/alertd.yml");
}
}  // namespace

TEST_CASE("alert_relabel_configs load with Prometheus's defaults") {
  auto res = LoadEval(
      "  alert_relabel_configs:\n"
      "    - source_labels: [severity]\n"
      "      target_label: sev\n"
      "    - action: LabelDrop\n"
      "      regex: tmp_.*\n"
      "    - source_labels: [a]\n"
      "      regex:\n"
      "      action: drop\n");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const auto& r = res.config->evaluation.alert_relabel_configs;
  REQUIRE(r.size() == 3);
  CHECK(r[0].spec().action == RelabelAction::kReplace);
  CHECK(r[0].spec().separator == ";");
  CHECK(r[0].spec().regex == "(.*)");
  CHECK(r[0].spec().replacement == "$1");
  CHECK(r[1].spec().action == RelabelAction::kLabelDrop);
  CHECK(r[2].spec().regex.empty());  // `regex:` with no value is the empty regex
  LabelSet ls{{"severity", "page"}, {"tmp_x", "1"}, {"a", "v"}};
  CHECK(Relabel(r, &ls));
  CHECK(ls.String() == R"({a="v", sev="page", severity="page"})");
  LabelSet gone{{"severity", "page"}};
  CHECK_FALSE(Relabel(r, &gone));  // a missing `a` is "" and matches the empty regex
}

TEST_CASE("invalid relabel configs are refused at file:line:col with Prometheus's reason") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* where;
    const char* error;
  };
  const Row rows[] = {
      {"unknown action", "  alert_relabel_configs:\n    - action: rename\n", "alertd.yml:5:15",
       "unknown relabel action \"rename\""},
      {"hashmod without modulus",
       "  alert_relabel_configs:\n    - action: hashmod\n      target_label: x\n",
       "alertd.yml:5:7", "requires non-zero modulus"},
      {"bad regex", "  alert_relabel_configs:\n    - target_label: x\n      regex: '('\n",
       "alertd.yml:5:7", "invalid regular expression"},
      {"unknown field", "  alert_relabel_configs:\n    - target_label: x\n      regexp: a\n",
       "alertd.yml:6:7", "regexp"},
      {"negative modulus",
       "  alert_relabel_configs:\n    - action: hashmod\n      target_label: x\n      modulus: -1\n",
       "alertd.yml:7:16", "modulus"},
      {"not a list", "  alert_relabel_configs: {a: b}\n", "alertd.yml:4:26", "expected a list"},
      {"invalid source label",
       "  alert_relabel_configs:\n    - source_labels: [a-b]\n      target_label: x\n",
       "alertd.yml:5:7", "\"a-b\" is not a valid label name"},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    auto res = LoadEval(row.yaml);
    REQUIRE_FALSE(res.ok());
    const std::string text = res.ErrorText();
    INFO(text);
    CHECK(text.find(row.where) != std::string::npos);
    CHECK(text.find(row.error) != std::string::npos);
  }
}
