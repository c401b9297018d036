// One table per Prometheus 2.42 rule-template function (template/template.go's function map),
// with Go's results: the rows of Prometheus's own template_test.go where it has them, and the
// edge cases (Unicode case mapping, host:port forms, NaN spellings, duration overflow) checked
// against the real Prometheus in prometheus_compat_test.cc.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "templating/rule_template.h"

namespace alertd::templating {
namespace {

struct Row {
  const char* name;
  const char* tmpl;
  const char* want;        // the expansion, when want_error is null
  const char* want_error;  // substring of the error, or null
};

void RunRows(const std::vector<Row>& rows) {
  RuleTemplateData data;
  data.labels = {{"instance", "node-1.example.com:9100"}, {"job", "node"}};
  data.external_url = "http://testhost:9090/path/prefix";
  data.value = 11;
  QueryFunc query = [](std::string_view expr) -> Result<std::vector<Sample>> {
    if (expr == "empty") return std::vector<Sample>{};
    return std::vector<Sample>{{{{"__value__", "a"}, {"job", "b"}}, 2}, {{{"job", "a"}}, 1}};
  };
  for (const Row& row : rows) {
    INFO(row.name << ": " << row.tmpl);
    Expansion e = ExpandRuleTemplate("T", row.tmpl, data, query);
    if (row.want_error) {
      CHECK_FALSE(e.error.ok());
      CHECK(e.text.find(row.want_error) != std::string::npos);
    } else {
      CHECK(e.error.ok());
      CHECK(e.text == row.want);
    }
  }
}

TEST_CASE("stripPort: the host of host:port, net.SplitHostPort's forms") {
  RunRows({
      {"name", R"({{ "foo.example.com" | stripPort }})", "foo.example.com", nullptr},
      {"name:port", R"({{ "foo.example.com:12345" | stripPort }})", "foo.example.com", nullptr},
      {"ipv4", R"({{ "192.0.2.1" | stripPort }})", "192.0.2.1", nullptr},
      {"ipv4:port", R"({{ "192.0.2.1:12345" | stripPort }})", "192.0.2.1", nullptr},
      {"ipv6 without port", R"({{ "2001:0DB8::1" | stripPort }})", "2001:0DB8::1", nullptr},
      {"[ipv6]:port", R"({{ "[2001:0DB8::1]:12345" | stripPort }})", "2001:0DB8::1", nullptr},
      {"[ipv6]::port", R"({{ "[2001:0DB8::1]::12345" | stripPort }})", "[2001:0DB8::1]::12345",
       nullptr},
      {"empty port", R"({{ "host:" | stripPort }})", "host", nullptr},
      {"empty host", R"({{ ":80" | stripPort }})", "", nullptr},
      {"[ipv6] without port", R"({{ "[::1]" | stripPort }})", "[::1]", nullptr},
      {"bracket inside", R"({{ "a[b]:80" | stripPort }})", "a[b]:80", nullptr},
      {"empty", R"({{ "" | stripPort }})", "", nullptr},
      {"a label", "{{ $labels.instance | stripPort }}", "node-1.example.com", nullptr},
      {"not a string", "{{ 1 | stripPort }}", nullptr, "wrong type for value; expected string"},
  });
}

TEST_CASE("stripDomain: the first DNS label, port kept, IP addresses as they are") {
  RunRows({
      {"name", R"({{ "foo.example.com" | stripDomain }})", "foo", nullptr},
      {"name:port", R"({{ "foo.example.com:12345" | stripDomain }})", "foo:12345", nullptr},
      {"ipv4", R"({{ "192.0.2.1" | stripDomain }})", "192.0.2.1", nullptr},
      {"ipv4:port", R"({{ "192.0.2.1:12345" | stripDomain }})", "192.0.2.1:12345", nullptr},
      {"ipv6", R"({{ "2001:0DB8::1" | stripDomain }})", "2001:0DB8::1", nullptr},
      {"[ipv6]:port", R"({{ "[2001:0DB8::1]:12345" | stripDomain }})", "[2001:0DB8::1]:12345",
       nullptr},
      {"[ipv6]::port", R"({{ "[2001:0DB8::1]::12345" | stripDomain }})", "[2001:0DB8::1]::12345",
       nullptr},
      {"ipv4 with a leading zero is a name", R"({{ "01.2.3.4:80" | stripDomain }})", "01:80",
       nullptr},
      {"ipv6 with a zone is a name", R"({{ "[fe80::1%eth0]:80" | stripDomain }})",
       "[fe80::1%eth0]:80", nullptr},
      {"[name]:port loses the brackets", R"({{ "[a.b]:80" | stripDomain }})", "a:80", nullptr},
      {"empty port dropped", R"({{ "a.b:" | stripDomain }})", "a", nullptr},
      {"empty host", R"({{ ":80" | stripDomain }})", ":80", nullptr},
      {"too many colons", R"({{ "a.b:c:d" | stripDomain }})", "a", nullptr},
      {"a label", "{{ $labels.instance | stripDomain }}", "node-1:9100", nullptr},
  });
}

TEST_CASE("toUpper, toLower and title map Unicode as Go's strings package does") {
  RunRows({
      {"ascii title", R"({{ "aa bb CC" | title }})", "Aa Bb CC", nullptr},
      {"ascii upper", R"({{ "aa bb CC" | toUpper }})", "AA BB CC", nullptr},
      {"ascii lower", R"({{ "aA bB CC" | toLower }})", "aa bb cc", nullptr},
      {"sharp s has no simple upper case", "{{ \"stra\u00dfe\" | toUpper }}", "STRA\u00dfE",
       nullptr},
      {"capital sharp s lowers", "{{ \"\u1e9e\" | toLower }}", "\u00df", nullptr},
      {"digraph dz: upper, lower and title case differ",
       "{{ \"\u01c6 \u01c5 \u01c4\" | toUpper }}|{{ \"\u01c6 \u01c5 \u01c4\" | toLower }}|"
       "{{ \"\u01c6emal\" | title }}",
       "\u01c4 \u01c4 \u01c4|\u01c6 \u01c6 \u01c6|\u01c5emal", nullptr},
      {"greek", R"({{ "αβγ σς" | toUpper }}|{{ "ΑΒΓ Σ" | toLower }}|{{ "ωμέγα" | title }})",
       "ΑΒΓ ΣΣ|αβγ σ|Ωμέγα", nullptr},
      {"cyrillic",
       R"({{ "жёлтый" | toUpper }}|{{ "ЖЁЛТЫЙ" | toLower }}|{{ "жёлтый дом" | title }})",
       "ЖЁЛТЫЙ|жёлтый|Жёлтый Дом", nullptr},
      {"dotted and dotless i", R"({{ "İı" | toLower }}|{{ "iı" | toUpper }})", "iı|II", nullptr},
      {"georgian: upper is mtavruli, title is itself",
       "{{ \"\u10d0\" | toUpper }}|{{ \"\u10d0\" | title }}", "\u1c90|\u10d0", nullptr},
      {"title: punctuation starts words", R"({{ "o'neil big-world x.y foo_bar 3rd" | title }})",
       "O'Neil Big-World X.Y Foo_bar 3rd", nullptr},
      {"title: non-ASCII letters and marks join words", R"({{ "émile ñu naïve" | title }})",
       "Émile Ñu Naïve", nullptr},
      {"title: a no-break space separates, an em dash does not",
       "{{ \"a\u00a0b c\u2014d\" | title }}", "A\u00a0B C\u2014d", nullptr},
      {"title: the rest keeps its case", R"({{ "hELLO wORLD" | title }})", "HELLO WORLD", nullptr},
  });
}

TEST_CASE("humanize family, toTime and parseDuration: Go's results and errors") {
  RunRows({
      {"humanize string", R"({{ humanize "2500" }})", "2.5k", nullptr},
      {"humanize int", "{{ humanize 1500 }}", "1.5k", nullptr},
      {"humanize small", "{{ humanize 0.0042 }}", "4.2m", nullptr},
      {"humanize1024", R"({{ humanize1024 "2048" }}|{{ humanize1024 1 }})", "2ki|1", nullptr},
      {"humanizeDuration", R"({{ humanizeDuration "90061.5" }}|{{ humanizeDuration 0.0015 }})",
       "1d 1h 1m 1s|1.5ms", nullptr},
      {"humanizePercentage", R"({{ humanizePercentage "0.256" }})", "25.6%", nullptr},
      {"humanizeTimestamp", "{{ 1435065584.128 | humanizeTimestamp }}",
       "2015-06-23 13:19:44.128 +0000 UTC", nullptr},
      {"Inf and NaN spellings",
       R"({{ humanize "+Inf" }}|{{ humanize "-infinity" }}|{{ humanize "NaN" }})", "+Inf|-Inf|NaN",
       nullptr},
      {"a signed NaN is not a number", R"({{ humanize "-nan" }})", nullptr,
       "strconv.ParseFloat: parsing \"-nan\": invalid syntax"},
      {"underscores between digits", R"({{ humanize "1_000" }}|{{ humanize "0x_1p4" }})", "1k|16",
       nullptr},
      {"a doubled underscore", R"({{ humanize "1__0" }})", nullptr,
       "strconv.ParseFloat: parsing \"1__0\": invalid syntax"},
      {"not a number", R"({{ humanize "abc" }})", nullptr,
       "strconv.ParseFloat: parsing \"abc\": invalid syntax"},
      {"not convertible", "{{ humanize true }}", nullptr, "can't convert bool to float"},
      {"toTime", R"({{ (toTime "1435065584.128").Format "2006-01-02T15:04:05.000Z07:00" }})",
       "2015-06-23T13:19:44.128Z", nullptr},
      {"toTime NaN", R"({{ toTime "NaN" }})", nullptr, "value is NaN or Inf"},
      {"toTime overflow", "{{ toTime 1e10 }}", nullptr,
       "1e+10 cannot be represented as a nanoseconds timestamp since it overflows int64"},
      {"parseDuration", R"({{ printf "%0.2f" (parseDuration "1h2m10ms") }})", "3720.01", nullptr},
      {"parseDuration all units",
       R"({{ parseDuration "1y2w3d4h5m6s7ms" }}|{{ parseDuration "0" }})", "3.3019506007e+07|0",
       nullptr},
      {"parseDuration bad", R"({{ parseDuration "1h1h" }})", nullptr,
       "not a valid duration string: \"1h1h\""},
      {"parseDuration empty", R"({{ parseDuration "" }})", nullptr, "empty duration string"},
      {"parseDuration overflow", R"({{ parseDuration "99999999999999999999s" }})", nullptr,
       "duration out of range"},
      {"parseDuration syntax before overflow", R"({{ parseDuration "99999999999999999999y1x" }})",
       nullptr, "not a valid duration string"},
  });
}

TEST_CASE("query, first, label, value, strvalue, sortByLabel, args and the URL functions") {
  RunRows({
      {"first/label/value",
       R"({{ with query "q" }}{{ . | first | label "job" }}={{ . | first | value }}{{ end }})",
       "b=2", nullptr},
      {"strvalue",
       R"({{ query "q" | first | strvalue }}|{{ range query "q" }}[{{ strvalue . }}]{{ end }})",
       "a|[a][]", nullptr},
      {"sortByLabel", R"({{ range query "q" | sortByLabel "job" }}{{ label "job" . }},{{ end }})",
       "a,b,", nullptr},
      {"first of nothing", R"({{ query "empty" | first }})", nullptr,
       "first() called on vector with no elements"},
      {"args", R"({{ define "t" }}{{ .arg0 }}/{{ .arg1 }}{{ end }}{{ template "t" args 1 "x" }})",
       "1/x", nullptr},
      {"reReplaceAll", R"T({{ reReplaceAll "(.*):(\\d+)" "$2 on $1" $labels.instance }})T",
       "9100 on node-1.example.com", nullptr},
      {"match", R"({{ match "^node" $labels.instance }}|{{ match "^x" "y" }})", "true|false",
       nullptr},
      {"safeHtml", R"({{ "<b>" | safeHtml }})", "<b>", nullptr},
      {"graphLink/tableLink", R"({{ graphLink "up{a=\"ä b\"}" }}|{{ tableLink "x > 1" }})",
       "/graph?g0.expr=up%7Ba%3D%22%C3%A4+b%22%7D&g0.tab=0|/graph?g0.expr=x+%3E+1&g0.tab=1",
       nullptr},
      {"pathPrefix/externalURL", "{{ pathPrefix }}|{{ externalURL }}",
       "/path/prefix|http://testhost:9090/path/prefix", nullptr},
  });
}

}  // namespace
}  // namespace alertd::templating
