// Runs a real Prometheus (Debian package, /usr/bin/prometheus) with alerting rules whose
// annotations and labels exercise Prometheus's template functions and $value printing, then
// checks that alertd's RuleTemplate renders exactly what Prometheus rendered for the same
// template, labels and value.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "templating/rule_template.h"
#include "tests/support/process.h"

namespace alertd::templating {
namespace {

namespace t = alertd::testing;
using nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

struct RuleCase {
  std::string name;
  std::string value_expr;  // PromQL for the value
  double value;            // what that expression evaluates to
};

// One annotation per line of concern; the same set goes on every rule.
const std::vector<std::pair<std::string, std::string>>& Annotations() {
  static const std::vector<std::pair<std::string, std::string>> kAnnotations = {
      {"value", "{{ $value }}|{{ .Value }}"},
      {"printf",
       R"T({{ printf "%.2f|%5.1f|%e|%g|%v|%.3g|%10.4f|%-8.1f|" $value $value $value $value $value $value $value $value }})T"},
      {"humanize",
       "{{ humanize $value }}|{{ humanize1024 $value }}|{{ humanizePercentage $value }}"},
      {"duration", "{{ humanizeDuration $value }}"},
      {"timestamp", "{{ humanizeTimestamp $value }}"},
      {"labels",
       "{{ $labels.instance }}|{{ .Labels.instance }}|{{ $labels.nope }}|{{ "
       "$externalLabels.cluster }}|"
       "{{ $externalURL }}|{{ externalURL }}|{{ pathPrefix }}|{{ len $labels }}|{{ index $labels "
       "\"instance\" }}"},
      {"strings",
       R"T({{ title "hello big-world o'neil hELLO foo_bar 3rd" }}|{{ toUpper "abc" }}|{{ toLower "ABC" }}|)T"
       R"T({{ reReplaceAll "(.*):(\\d+)" "$2 on $1" $labels.instance }}|{{ match "^host" $labels.instance }}|)T"
       R"T({{ "<b>" | safeHtml }}|{{ reReplaceAll "x*" "-" "abc" }})T"},
      {"links", R"T({{ graphLink "rate(x[5m]) > 0" }}|{{ tableLink "up == 0" }})T"},
      {"query",
       R"T({{ with query "label_replace(vector(42), \"job\", \"j\", \"\", \"\")" }}{{ . | first | value }}|{{ . | first | label "job" }}{{ end }}|)T"
       R"T({{ range query "label_replace(vector(1), \"a\", \"z\", \"\", \"\") or label_replace(vector(2.5), \"a\", \"y\", \"\", \"\")" | sortByLabel "a" }}{{ .Labels.a }}={{ .Value }},{{ end }})T"},
      {"args",
       R"T({{ define "t" }}{{ .arg0 }}/{{ .arg1 }}{{ end }}{{ template "t" args 1 "x" }})T"},
      {"builtins",
       R"T({{ eq $labels.instance "host:9100" }}|{{ if gt $value 100.0 }}big{{ else }}small{{ end }}|)T"
       R"T({{ html "<x>" }}|{{ js "a'b" }}|{{ urlquery "a b" }}|{{ print 1 2 "x" }}|{{ slice "abcdef" 1 3 }}|)T"
       R"T({{ printf "%q %x %05d %+d" "s" 255 42 7 }}|{{ range $i, $e := (args "p" "q") }}{{ $i }}:{{ $e }};{{ end }})T"},
      {"time",
       R"T({{ (toTime 1700000000.5).Unix }}|{{ toTime 1700000000.5 }}|{{ parseDuration "1h30m" }})T"},
      {"error", R"T(before {{ humanize "abc" }} after)T"},
      {"trim", "a  {{- 1 -}}  b {{/* c */}}"},
      // Every other function of 2.42's map, with the edge cases of each.
      {"stripPort",
       R"T({{ range $i, $h := (args "foo.example.com" "foo.example.com:12345" "192.0.2.1:1" "2001:0DB8::1" "[2001:0DB8::1]:12345" "[2001:0DB8::1]::12345" "host:" ":80" "[::1]" "a[b]:80" "" "[a.b]:80" "a.b:c:d") }}{{ $h | stripPort }};{{ end }}|{{ $labels.instance | stripPort }})T"},
      {"stripDomain",
       R"T({{ range $i, $h := (args "foo.example.com" "foo.example.com:12345" "192.0.2.1" "192.0.2.1:12345" "2001:0DB8::1" "[2001:0DB8::1]:12345" "[2001:0DB8::1]::12345" "01.2.3.4:80" "[fe80::1%eth0]:80" "[a.b]:80" "a.b:" ":80" "a.b:c:d" "::ffff:1.2.3.4" "1.2.3.4.5" "[::1.2.3.4]:9" "1:2:3:4:5:6:7::" "1:2:3:4::5:6:7:8" "::00001") }}{{ $h | stripDomain }};{{ end }}|{{ $labels.instance | stripDomain }})T"},
      {"upper",
       "{{ toUpper \"stra\u00dfe \u1e9e \u01c6\u01c5\u01c4 \u03b1\u03c3\u03c2 \u0436\u0451 "
       "i\u0131\u0130 \u10d0 \u1f80 \u0250 \u2c65 \ufb01 \u00ff \u01f0 \u13a0\uab70\"}}"},
      {"lower",
       "{{ toLower \"STRA\u1e9eE \u01c4\u01c5\u01c6 \u0391\u03a3 \u0416\u0401 I\u0130\u0131 \u1c90 "
       "\u1f88 \u2126 \u212a \u13a0\uab70 \u0178\"}}"},
      // (U+0085 as a template escape: raw in the YAML it would be a line break.)
      {"title",
       "{{ title \"\u01c6emal stra\u00dfe \u03c9\u03bc\u03ad\u03b3\u03b1 \u0436-\u0437 "
       "\u10d0\u10d1 \u1f80x "
       "\u00e9mile na\u00efve a\u00a0b c\u2014d e\u3000f g\\u0085h i\u2007j k\u200bl m\u00b7n "
       "\u0131x "
       "o'neil x.y foo_bar 3rd hELLO _a \u00bdx \u0660y\"}}"},
      {"floats",
       R"T({{ humanize "2500" }}|{{ humanize 1500 }}|{{ humanize1024 "2048" }}|{{ humanizeDuration "90061.5" }}|{{ humanizePercentage "0.256" }}|{{ humanizeTimestamp "1435065584.128" }}|{{ humanize "+Inf" }}|{{ humanize "-infinity" }}|{{ humanize "nan" }}|{{ humanize "0x1p4" }}|{{ humanize "1e-400" }}|{{ humanize ".5" }}|{{ humanize "5." }})T"},
      {"signedNaN", R"T({{ humanize "-nan" }})T"},
      {"underscores",
       R"T({{ humanize "1_000" }}|{{ humanize "0x_1p4" }}|{{ humanize "1_0e1_0" }})T"},
      {"badUnderscore", R"T({{ humanize "1__0" }})T"},
      {"trailingUnderscore", R"T({{ humanize "1_" }})T"},
      {"rangeFloat", R"T({{ humanize "1e400" }})T"},
      {"convert", R"T({{ humanize true }})T"},
      {"toTime",
       R"T({{ (toTime "1435065584.128").Format "2006-01-02T15:04:05.000Z07:00" }}|{{ toTime -1.5 }}|{{ toTime 9223372036.854775 }}|{{ toTime -9223372036.854775 }})T"},
      {"toTimeNaN", R"T({{ toTime "NaN" }})T"},
      {"toTimeOverflow", R"T({{ toTime 1e10 }})T"},
      {"parseDuration",
       R"T({{ parseDuration "1y2w3d4h5m6s7ms" }}|{{ parseDuration "0" }}|{{ printf "%0.2f" (parseDuration "1h2m10ms") }}|{{ parseDuration "292y" }})T"},
      {"durationBad", R"T({{ parseDuration "1h1h" }})T"},
      {"durationEmpty", R"T({{ parseDuration "" }})T"},
      {"durationOverflow", R"T({{ parseDuration "99999999999999999999s" }})T"},
      {"durationOverflowUnit", R"T({{ parseDuration "293y" }})T"},
      {"durationSyntaxFirst", R"T({{ parseDuration "99999999999999999999y1x" }})T"},
      {"strvalue",
       R"T({{ with query "label_replace(vector(1), \"__value__\", \"sv\", \"\", \"\")" }}{{ . | first | strvalue }}{{ end }}|{{ query "vector(1)" | first | strvalue }})T"},
      {"firstEmpty", R"T({{ query "vector(1) == 2" | first }})T"},
      {"nilLabel", R"T({{ label "x" nil }})T"},
      {"nilValue", R"T({{ value nil }})T"},
      {"nilStrvalue", R"T({{ strvalue nil }})T"},
      {"unicodeLink", R"T({{ graphLink "up{a=\"\u00e4 b\"}" }}|{{ tableLink "x > 1" }})T"},
  };
  return kAnnotations;
}

const std::string kSeverityTemplate = "{{ if gt $value 1000.0 }}high{{ else }}low{{ end }}";

std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out.push_back(c);
  }
  return out + "'";
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

double ParsePromValue(const std::string& s) {
  if (s == "NaN") return std::nan("");
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  return std::strtod(s.c_str(), nullptr);
}

TEST_CASE("rule templates render like a real Prometheus") {
  REQUIRE_MESSAGE(access(kPrometheus, X_OK) == 0,
                  kPrometheus << " is missing (Debian package prometheus, scripts/setup.sh)");
  const std::vector<RuleCase> cases = {
      {"Ninety5", "95", 95},
      {"HundredK", "100000", 100000},
      {"Million", "1234567", 1234567},
      {"Giga", "123456789012", 123456789012.0},
      {"Small", "0.0042", 0.0042},
      {"Tiny", "0.00001234", 0.00001234},
      {"Seventh", "1e-07", 1e-07},
      {"Huge", "1.5e21", 1.5e21},
      {"Sum", "0.1 + 0.2", 0.1 + 0.2},
      {"Zero", "0", 0},
      {"Negative", "-3723.25", -3723.25},
      {"Stamp", "1700000000.123", 1700000000.123},
      {"NotANumber", "NaN", std::nan("")},
      {"PlusInf", "+Inf", INFINITY},
      {"MinusInf", "-Inf", -INFINITY},
  };

  const std::string dir = t::MakeTempDir("prom-templates");
  const int port = t::FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string external_url = "http://alertd.example:9090/prom";

  std::string rules = "groups:\n- name: templates\n  interval: 1s\n  rules:\n";
  for (const auto& c : cases) {
    rules += "  - alert: " + c.name + "\n";
    rules += "    expr: " +
             YamlQuote("label_replace(vector(" + c.value_expr +
                       "), \"instance\", \"host:9100\", \"\", \"\")") +
             "\n";
    rules += "    labels:\n      severity: " + YamlQuote(kSeverityTemplate) + "\n";
    rules += "    annotations:\n";
    for (const auto& [k, v] : Annotations()) rules += "      " + k + ": " + YamlQuote(v) + "\n";
  }
  t::WriteFile(dir + "/rules.yml", rules);
  t::WriteFile(dir + "/prometheus.yml",
               "global:\n  evaluation_interval: 1s\n  external_labels:\n    cluster: eu1\n"
               "rule_files: [" +
                   dir + "/rules.yml]\n");

  t::Process prom =
      t::Process::Start({kPrometheus, "--config.file=" + dir + "/prometheus.yml",
                         "--storage.tsdb.path=" + dir + "/data",
                         "--web.listen-address=127.0.0.1:" + std::to_string(port),
                         "--web.external-url=" + external_url, "--web.route-prefix=/"},
                        dir + "/prometheus.log");
  REQUIRE(prom.started());
  REQUIRE_MESSAGE(t::WaitHttpReady(base + "/-/ready", std::chrono::seconds(60)), prom.Log());

  json alerts;
  const bool all_there = t::WaitFor(
      [&] {
        t::HttpResponse r = t::HttpGet(base + "/api/v1/alerts");
        if (r.status != 200) return false;
        alerts = json::parse(r.body, nullptr, false)["data"]["alerts"];
        return alerts.is_array() && alerts.size() == cases.size();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(200));
  REQUIRE_MESSAGE(all_there, prom.Log());

  QueryFunc query = [&](std::string_view expr) -> Result<std::vector<Sample>> {
    t::HttpResponse r = t::HttpGet(base + "/api/v1/query?query=" + UrlEncode(std::string(expr)));
    json j = json::parse(r.body, nullptr, false);
    if (r.status != 200 || j.is_discarded() || j["status"] != "success") {
      return Status::Unavailable("query failed: " + r.body);
    }
    std::vector<Sample> out;
    for (const auto& s : j["data"]["result"]) {
      Sample smpl;
      for (const auto& [k, v] : s["metric"].items()) smpl.labels[k] = v.get<std::string>();
      smpl.value = ParsePromValue(s["value"][1].get<std::string>());
      out.push_back(std::move(smpl));
    }
    return out;
  };

  int compared = 0;
  for (const auto& c : cases) {
    INFO("rule " << c.name);
    const json* alert = nullptr;
    for (const auto& a : alerts) {
      if (a["labels"]["alertname"] == c.name) alert = &a;
    }
    REQUIRE(alert != nullptr);
    RuleTemplateData data;
    data.labels = {{"instance", "host:9100"}};  // the series labels ($labels), not rule labels
    data.external_labels = {{"cluster", "eu1"}};
    data.external_url = external_url;
    data.value = c.value;
    // Prometheus's own view of the value, to make sure the test feeds the same number.
    const double prom_value = ParsePromValue((*alert)["value"].get<std::string>());
    if (std::isfinite(c.value)) {
      CHECK(prom_value == doctest::Approx(c.value).epsilon(1e-12));
    } else {
      CHECK(std::isnan(prom_value) == std::isnan(c.value));
    }

    Expansion sev = ExpandRuleTemplate(c.name, kSeverityTemplate, data, query);
    CHECK((*alert)["labels"]["severity"].get<std::string>() == sev.text);
    for (const auto& [key, text] : Annotations()) {
      INFO("annotation " << key << ": " << text);
      Expansion e = ExpandRuleTemplate(c.name, text, data, query);
      const std::string want = (*alert)["annotations"][key].get<std::string>();
      CHECK(e.text == want);
      ++compared;
    }
  }
  CHECK(compared == static_cast<int>(cases.size() * Annotations().size()));
  prom.Stop();
  t::RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::templating
