// Table-driven tests of the template engine: the language, Go's builtins and printing, the
// Prometheus and Alertmanager function sets, the default notification templates and errors.
// Expected outputs are what Go's text/template (as built into Prometheus 2.42 and
// Alertmanager 0.25) prints for the same template and data.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/time.h"
#include "templating/defaults.h"
#include "templating/notification.h"
#include "templating/rule_template.h"
#include "templating/template.h"

namespace alertd::templating {
namespace {

enum class Data {
  kNone,    // nil dot
  kBasic,   // a map[string]interface{} with assorted values (Alertmanager functions)
  kRule,    // Prometheus rule data (labels, value 1234567.0), via RuleTemplate
  kNotify,  // Alertmanager notification data with the default templates loaded
};

struct Row {
  const char* name;
  Data data;
  const char* tmpl;
  const char* want;        // expected output (ignored when want_error is set)
  const char* want_error;  // substring of the expected error, or nullptr
};

Value BasicData() {
  Map m;
  m["Name"] = Value("world");
  m["N"] = Value(3);
  m["F"] = Value(1.5);
  m["Big"] = Value(1234567.0);
  m["L"] = Value::StringList({"a", "b", "c"});
  m["Empty"] = Value(List{});
  m["M"] = Value::StringMap({{"b", "2"}, {"a", "1"}});
  m["E"] = Value("");
  m["T"] = Value(true);
  m["Z"] = Value(0);
  m["Html"] = Value("<a href=\"x\">O'Neil & co</a>");
  m["Nested"] = Value(Map{{"Inner", Value(Map{{"Deep", Value("yes")}})}});
  m["Time"] =
      Value::FromTime(Time(std::chrono::seconds(1700000000)) + std::chrono::milliseconds(123));
  m["Dur"] = Value(DurationValue{int64_t{3723500000000}});
  return Value(std::move(m));
}

NotificationData SampleNotification() {
  NotificationData d;
  d.receiver = "team-x pager";
  d.external_url = "http://am.example:9093";
  d.group_labels = {{"alertname", "HighLatency"}};
  NotificationAlert a1;
  a1.status = "firing";
  a1.labels = {{"alertname", "HighLatency"},
               {"instance", "a:9100"},
               {"job", "node"},
               {"severity", "critical"}};
  a1.annotations = {{"summary", "Latency high on a"}, {"runbook", "http://rb/1"}};
  a1.starts_at = *ParseRFC3339("2024-03-01T10:00:00Z");
  a1.generator_url = "http://prom:9090/graph?g0.expr=up&g0.tab=1";
  a1.fingerprint = "0123456789abcdef";
  NotificationAlert a2 = a1;
  a2.status = "resolved";
  a2.labels["instance"] = "b:9100";
  a2.annotations = {{"summary", "Latency high on b"}};
  a2.ends_at = *ParseRFC3339("2024-03-01T10:05:00Z");
  a2.fingerprint = "fedcba9876543210";
  NotificationAlert a3 = a1;
  a3.labels["instance"] = "c:9100";
  a3.annotations = {{"summary", "Latency high on c"}};
  a3.fingerprint = "00000000000000c3";
  d.alerts = {a1, a2, a3};
  ComputeGroupFields(d);
  return d;
}

const Row kRows[] = {
    // ---- text, actions, trimming, comments ----
    {"plain text", Data::kNone, "hello", "hello", nullptr},
    {"empty", Data::kNone, "", "", nullptr},
    {"string literal", Data::kNone, R"({{ "x\ty" }})", "x\ty", nullptr},
    {"raw string", Data::kNone, "{{ `a\\nb` }}", "a\\nb", nullptr},
    {"int literal", Data::kNone, "{{ 42 }}", "42", nullptr},
    {"negative int", Data::kNone, "{{ -7 }}", "-7", nullptr},
    {"hex int", Data::kNone, "{{ 0x1F }}", "31", nullptr},
    {"octal int", Data::kNone, "{{ 0o17 }}", "15", nullptr},
    {"binary int", Data::kNone, "{{ 0b101 }}", "5", nullptr},
    {"underscore int", Data::kNone, "{{ 1_000 }}", "1000", nullptr},
    {"float literal", Data::kNone, "{{ 1.5 }}", "1.5", nullptr},
    {"float exp literal", Data::kNone, "{{ 1e3 }}", "1000", nullptr},
    {"float literal prints shortest", Data::kNone, "{{ 0.1 }}", "0.1", nullptr},
    {"char literal", Data::kNone, "{{ 'a' }}", "97", nullptr},
    {"bool literals", Data::kNone, "{{ true }} {{ false }}", "true false", nullptr},
    {"left trim", Data::kNone, "a  \n {{- 1 }}", "a1", nullptr},
    {"right trim", Data::kNone, "{{ 1 -}} \n\t b", "1b", nullptr},
    {"both trims", Data::kNone, "x \n{{- 1 -}}\n y", "x1y", nullptr},
    {"minus number not trim", Data::kNone, "a {{-3}}", "a -3", nullptr},
    {"comment", Data::kNone, "a{{/* note */}}b", "ab", nullptr},
    {"trimmed comment", Data::kNone, "a  {{- /* note */ -}}  b", "ab", nullptr},
    {"multiline comment", Data::kNone, "a{{/* x\ny */}}b", "ab", nullptr},
    {"nil dot prints no value", Data::kNone, "{{ . }}", "<no value>", nullptr},
    {"action spans lines", Data::kNone, "{{ printf \"%d\"\n  5 }}", "5", nullptr},

    // ---- fields, maps, variables ----
    {"map field", Data::kBasic, "{{ .Name }}", "world", nullptr},
    {"nested fields", Data::kBasic, "{{ .Nested.Inner.Deep }}", "yes", nullptr},
    {"missing key default", Data::kBasic, "{{ .Nope }}", "<no value>", nullptr},
    {"missing nested on nil", Data::kBasic, "{{ .Nope.Deeper }}", "<no value>", nullptr},
    {"string map missing key", Data::kBasic, "{{ .M.zzz }}", "<no value>", nullptr},
    {"dollar", Data::kBasic, "{{ $.Name }}", "world", nullptr},
    {"variable declare", Data::kBasic, "{{ $x := .N }}{{ $x }}", "3", nullptr},
    {"variable assign", Data::kBasic, "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2", nullptr},
    {"variable field", Data::kBasic, "{{ $n := .Nested }}{{ $n.Inner.Deep }}", "yes", nullptr},
    {"assign in if persists", Data::kBasic,
     "{{ $x := 1 }}{{ if true }}{{ $x = 5 }}{{ end }}{{ $x }}", "5", nullptr},
    {"declare in if scoped", Data::kBasic,
     "{{ $x := 1 }}{{ if true }}{{ $x := 5 }}{{ $x }}{{ end }}{{ $x }}", "51", nullptr},
    {"paren chain field", Data::kBasic, "{{ (.Nested).Inner.Deep }}", "yes", nullptr},
    {"print list", Data::kBasic, "{{ .L }}", "[a b c]", nullptr},
    {"print map", Data::kBasic, "{{ .M }}", "map[a:1 b:2]", nullptr},
    {"print float", Data::kBasic, "{{ .F }}", "1.5", nullptr},
    {"print big float", Data::kBasic, "{{ .Big }}", "1.234567e+06", nullptr},
    {"print bool", Data::kBasic, "{{ .T }}", "true", nullptr},
    {"print time", Data::kBasic, "{{ .Time }}", "2023-11-14 22:13:20.123 +0000 UTC", nullptr},
    {"print duration", Data::kBasic, "{{ .Dur }}", "1h2m3.5s", nullptr},

    // ---- pipelines ----
    {"pipe to func", Data::kBasic, "{{ .Name | printf \"%s!\" }}", "world!", nullptr},
    {"pipe chain", Data::kBasic, "{{ .Name | printf \"%s!\" | printf \"[%s]\" }}", "[world!]",
     nullptr},
    {"paren args", Data::kBasic, "{{ printf \"%d\" (len .L) }}", "3", nullptr},
    {"pipe into method", Data::kBasic, "{{ .L | len }}", "3", nullptr},

    // ---- if / else ----
    {"if true", Data::kBasic, "{{ if .T }}y{{ end }}", "y", nullptr},
    {"if empty string", Data::kBasic, "{{ if .E }}y{{ else }}n{{ end }}", "n", nullptr},
    {"if zero", Data::kBasic, "{{ if .Z }}y{{ else }}n{{ end }}", "n", nullptr},
    {"if empty list", Data::kBasic, "{{ if .Empty }}y{{ else }}n{{ end }}", "n", nullptr},
    {"if missing", Data::kBasic, "{{ if .Nope }}y{{ else }}n{{ end }}", "n", nullptr},
    {"else if", Data::kBasic, "{{ if .Z }}a{{ else if .N }}b{{ else }}c{{ end }}", "b", nullptr},
    {"else if chain", Data::kBasic,
     "{{ if .Z }}a{{ else if .E }}b{{ else if .Nope }}c{{ else }}d{{ end }}", "d", nullptr},
    {"if with decl", Data::kBasic, "{{ if $x := .Name }}{{ $x }}{{ end }}", "world", nullptr},

    // ---- with ----
    {"with sets dot", Data::kBasic, "{{ with .Nested.Inner }}{{ .Deep }}{{ end }}", "yes", nullptr},
    {"with else", Data::kBasic, "{{ with .E }}x{{ else }}empty{{ end }}", "empty", nullptr},
    {"else with", Data::kBasic, "{{ with .E }}x{{ else with .Name }}{{ . }}{{ end }}", "world",
     nullptr},

    // ---- range ----
    {"range list", Data::kBasic, "{{ range .L }}[{{ . }}]{{ end }}", "[a][b][c]", nullptr},
    {"range index value", Data::kBasic, "{{ range $i, $v := .L }}{{ $i }}={{ $v }} {{ end }}",
     "0=a 1=b 2=c ", nullptr},
    {"range single var", Data::kBasic, "{{ range $v := .L }}{{ $v }}{{ end }}", "abc", nullptr},
    {"range map sorted", Data::kBasic, "{{ range $k, $v := .M }}{{ $k }}:{{ $v }};{{ end }}",
     "a:1;b:2;", nullptr},
    {"range else", Data::kBasic, "{{ range .Empty }}x{{ else }}none{{ end }}", "none", nullptr},
    {"range nil", Data::kBasic, "{{ range .Nope }}x{{ else }}none{{ end }}", "none", nullptr},
    {"range break", Data::kBasic,
     "{{ range .L }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a", nullptr},
    {"range continue", Data::kBasic,
     "{{ range .L }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "ac", nullptr},
    {"range int", Data::kBasic, "{{ range 3 }}{{ . }}{{ end }}", "012", nullptr},
    {"range dollar inside", Data::kBasic, "{{ range .L }}{{ $.Name }}{{ end }}", "worldworldworld",
     nullptr},
    {"range assign", Data::kBasic, "{{ $x := \"\" }}{{ range .L }}{{ $x = . }}{{ end }}{{ $x }}",
     "c", nullptr},
    {"nested range", Data::kBasic, "{{ range .L }}{{ range $.L }}.{{ end }}|{{ end }}",
     "...|...|...|", nullptr},

    // ---- define / template / block ----
    {"define and template", Data::kBasic,
     "{{ define \"t\" }}<{{ . }}>{{ end }}{{ template \"t\" .Name }}", "<world>", nullptr},
    {"template without data", Data::kBasic,
     "{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" }}", "[<no value>]", nullptr},
    {"template dollar reset", Data::kBasic,
     "{{ define \"t\" }}{{ $ }}{{ end }}{{ template \"t\" .N }}", "3", nullptr},
    {"block", Data::kBasic, "{{ block \"b\" .Name }}hi {{ . }}{{ end }}", "hi world", nullptr},
    {"recursive template", Data::kBasic,
     "{{ define \"r\" }}{{ if . }}{{ index . 0 }}{{ template \"r\" (slice . 1) }}{{ end }}{{ end "
     "}}{{ template \"r\" .L }}",
     "abc", nullptr},
    {"template undefined", Data::kBasic, "{{ template \"nope\" }}", "",
     "template \"nope\" not defined"},

    // ---- comparison ----
    {"eq strings", Data::kBasic, "{{ eq .Name \"world\" }}", "true", nullptr},
    {"eq multi", Data::kBasic, "{{ eq .N 1 2 3 }}", "true", nullptr},
    {"eq multi none", Data::kBasic, "{{ eq .N 1 2 }}", "false", nullptr},
    {"ne", Data::kBasic, "{{ ne .N 3 }}", "false", nullptr},
    {"lt ints", Data::kBasic, "{{ lt 1 2 }}", "true", nullptr},
    {"le equal", Data::kBasic, "{{ le 2 2 }}", "true", nullptr},
    {"gt floats", Data::kBasic, "{{ gt .F 1.0 }}", "true", nullptr},
    {"ge strings", Data::kBasic, "{{ ge \"b\" \"a\" }}", "true", nullptr},
    {"lt strings", Data::kBasic, "{{ lt \"abc\" \"abd\" }}", "true", nullptr},
    {"eq int float incompatible", Data::kBasic, "{{ eq 1 1.0 }}", "",
     "incompatible types for comparison"},
    {"lt bool invalid", Data::kBasic, "{{ lt true false }}", "", "invalid type for comparison"},
    {"eq bools", Data::kBasic, "{{ eq .T true }}", "true", nullptr},
    {"eq nil missing", Data::kBasic, "{{ eq .Nope .Nope }}", "true", nullptr},

    // ---- logic ----
    {"and returns last", Data::kBasic, "{{ and 1 2 3 }}", "3", nullptr},
    {"and short circuit", Data::kBasic, "{{ and 1 0 3 }}", "0", nullptr},
    {"and lazy", Data::kBasic, "{{ and .Z (index .L 10) }}", "0", nullptr},
    {"or first truthy", Data::kBasic, "{{ or .E .Name }}", "world", nullptr},
    {"or all false", Data::kBasic, "{{ or 0 \"\" }}", "", nullptr},
    {"or lazy", Data::kBasic, "{{ or 1 (index .L 10) }}", "1", nullptr},
    {"not", Data::kBasic, "{{ not .E }} {{ not .Name }}", "true false", nullptr},
    {"and piped", Data::kBasic, "{{ 1 | and 2 }}", "1", nullptr},

    // ---- len / index / slice ----
    {"len string", Data::kBasic, "{{ len .Name }}", "5", nullptr},
    {"len map", Data::kBasic, "{{ len .M }}", "2", nullptr},
    {"len int error", Data::kBasic, "{{ len 3 }}", "", "len of type int"},
    {"index list", Data::kBasic, "{{ index .L 1 }}", "b", nullptr},
    {"index map", Data::kBasic, "{{ index .M \"a\" }}", "1", nullptr},
    {"index map missing", Data::kBasic, "[{{ index .M \"zz\" }}]", "[]", nullptr},
    {"index nested", Data::kBasic, "{{ index .Nested \"Inner\" \"Deep\" }}", "yes", nullptr},
    {"index string byte", Data::kBasic, "{{ index .Name 0 }}", "119", nullptr},
    {"index out of range", Data::kBasic, "{{ index .L 5 }}", "",
     "error calling index: index out of range: 5"},
    {"slice list", Data::kBasic, "{{ slice .L 1 }}", "[b c]", nullptr},
    {"slice list two", Data::kBasic, "{{ slice .L 0 2 }}", "[a b]", nullptr},
    {"slice string", Data::kBasic, "{{ slice .Name 1 3 }}", "or", nullptr},
    {"slice bad", Data::kBasic, "{{ slice .L 2 1 }}", "", "invalid slice index: 2 > 1"},

    // ---- print / println / printf ----
    {"print strings no space", Data::kBasic, "{{ print \"a\" \"b\" }}", "ab", nullptr},
    {"print numbers space", Data::kBasic, "{{ print 1 2 }}", "1 2", nullptr},
    {"print mixed", Data::kBasic, "{{ print \"a\" 1 2 \"b\" }}", "a1 2b", nullptr},
    {"print nil", Data::kBasic, "{{ print nil }}", "<nil>", nullptr},
    {"println", Data::kBasic, "{{ println \"a\" 1 }}", "a 1\n", nullptr},
    {"printf s d", Data::kBasic, "{{ printf \"%s=%d\" .Name .N }}", "world=3", nullptr},
    {"printf float prec", Data::kBasic, "{{ printf \"%.2f\" .F }}", "1.50", nullptr},
    {"printf width prec", Data::kBasic, "{{ printf \"%5.1f|\" 3.14159 }}", "  3.1|", nullptr},
    {"printf left align", Data::kBasic, "{{ printf \"%-6s|\" \"ab\" }}", "ab    |", nullptr},
    {"printf right align", Data::kBasic, "{{ printf \"%6s|\" \"ab\" }}", "    ab|", nullptr},
    {"printf zero pad", Data::kBasic, "{{ printf \"%05d\" 42 }}", "00042", nullptr},
    {"printf zero pad neg", Data::kBasic, "{{ printf \"%05d\" -42 }}", "-0042", nullptr},
    {"printf plus", Data::kBasic, "{{ printf \"%+d %+.1f\" 5 2.0 }}", "+5 +2.0", nullptr},
    {"printf hex", Data::kBasic, "{{ printf \"%x %X %#x\" 255 255 255 }}", "ff FF 0xff", nullptr},
    {"printf hex string", Data::kBasic, "{{ printf \"%x\" \"hi\" }}", "6869", nullptr},
    {"printf octal binary", Data::kBasic, "{{ printf \"%o %b %O\" 8 5 8 }}", "10 101 0o10",
     nullptr},
    {"printf q", Data::kBasic, "{{ printf \"%q\" \"a\\\"b\" }}", "\"a\\\"b\"", nullptr},
    {"printf q int", Data::kBasic, "{{ printf \"%q %c %U\" 65 65 65 }}", "'A' A U+0041", nullptr},
    {"printf v", Data::kBasic, "{{ printf \"%v %v %v\" .L .M .T }}", "[a b c] map[a:1 b:2] true",
     nullptr},
    {"printf e", Data::kBasic, "{{ printf \"%e\" 123456.789 }}", "1.234568e+05", nullptr},
    {"printf g", Data::kBasic, "{{ printf \"%g %g\" 100000.0 1000000.0 }}", "100000 1e+06",
     nullptr},
    {"printf percent", Data::kBasic, "{{ printf \"100%%\" }}", "100%", nullptr},
    {"printf T", Data::kBasic, "{{ printf \"%T %T %T\" 1 1.5 \"s\" }}", "int float64 string",
     nullptr},
    {"printf bad verb", Data::kBasic, "{{ printf \"%d\" \"x\" }}", "%!d(string=x)", nullptr},
    {"printf float as d", Data::kBasic, "{{ printf \"%d\" 1.5 }}", "%!d(float64=1.5)", nullptr},
    {"printf missing", Data::kBasic, "{{ printf \"%s %s\" \"a\" }}", "a %!s(MISSING)", nullptr},
    {"printf extra", Data::kBasic, "{{ printf \"%s\" \"a\" 1 }}", "a%!(EXTRA int=1)", nullptr},
    {"printf precision string", Data::kBasic, "{{ printf \"%.3s\" \"abcdef\" }}", "abc", nullptr},
    {"printf star width", Data::kBasic, "{{ printf \"%*d|\" 4 7 }}", "   7|", nullptr},
    // Go's fmt caps widths and precisions at 1e6 (fmt/print.go tooLarge, parsenum).
    {"printf width too large ends the format", Data::kBasic,
     "{{ printf \"%99999999999999999999d|\" 7 }}", "%!(NOVERB)%!(EXTRA int=7)", nullptr},
    {"printf precision too large ends the format", Data::kBasic,
     "{{ printf \"%.99999999999999999999f|\" 1.5 }}", "%!(NOVERB)%!(EXTRA float64=1.5)", nullptr},
    {"printf star width too large", Data::kBasic, "{{ printf \"%*d|\" 10000000 7 }}",
     "%!(BADWIDTH)7|", nullptr},
    {"printf star width most negative", Data::kBasic,
     "{{ printf \"%*d|\" -9223372036854775808 7 }}", "%!(BADWIDTH)7|", nullptr},
    {"printf star precision too large", Data::kBasic, "{{ printf \"%.*f|\" 10000000 1.5 }}",
     "%!(BADPREC)1.500000|", nullptr},
    {"printf width 1e6 still pads", Data::kBasic, "{{ len (printf \"%1000000d\" 7) }}", "1000000",
     nullptr},
    {"printf nil v", Data::kBasic, "{{ printf \"%v\" nil }}", "<nil>", nullptr},
    {"printf float v shortest", Data::kBasic, "{{ printf \"%v\" 0.30000000000000004 }}",
     "0.30000000000000004", nullptr},
    {"float literal out of range", Data::kBasic, "{{ 1e400 }}", "",
     "illegal number syntax: \"1e400\""},
    {"printf time", Data::kBasic, "{{ printf \"%s\" .Time }}", "2023-11-14 22:13:20.123 +0000 UTC",
     nullptr},
    {"printf list of strings %q", Data::kBasic, "{{ printf \"%q\" .L }}", "[\"a\" \"b\" \"c\"]",
     nullptr},

    // ---- html / js / urlquery ----
    {"html", Data::kBasic, "{{ html .Html }}",
     "&lt;a href=&#34;x&#34;&gt;O&#39;Neil &amp; co&lt;/a&gt;", nullptr},
    {"html piped", Data::kBasic, "{{ .Html | html }}",
     "&lt;a href=&#34;x&#34;&gt;O&#39;Neil &amp; co&lt;/a&gt;", nullptr},
    {"js", Data::kBasic, "{{ js .Html }}",
     "\\u003Ca href\\u003D\\\"x\\\"\\u003EO\\'Neil \\u0026 co\\u003C/a\\u003E", nullptr},
    {"urlquery", Data::kBasic, "{{ urlquery \"a b&c=d/é\" }}", "a+b%26c%3Dd%2F%C3%A9", nullptr},
    {"urlquery numbers", Data::kBasic, "{{ urlquery 1 2 }}", "1+2", nullptr},

    // ---- Alertmanager functions ----
    {"toUpper", Data::kBasic, "{{ toUpper .Name }}", "WORLD", nullptr},
    {"toLower", Data::kBasic, "{{ \"MiXeD\" | toLower }}", "mixed", nullptr},
    {"title", Data::kBasic, "{{ title \"hello big-world foo_bar\" }}", "Hello Big-World Foo_bar",
     nullptr},
    {"prom title keeps the rest", Data::kRule, "{{ title \"hELLO o'neil\" }}", "HELLO O'Neil",
     nullptr},
    {"trimSpace", Data::kBasic, "[{{ trimSpace \"  \\t x y \\n\" }}]", "[x y]", nullptr},
    {"join", Data::kBasic, "{{ join \", \" .L }}", "a, b, c", nullptr},
    {"join piped", Data::kBasic, "{{ .L | join \"-\" }}", "a-b-c", nullptr},
    {"stringSlice", Data::kBasic, "{{ stringSlice \"x\" \"y\" | join \"+\" }}", "x+y", nullptr},
    {"stringSlice print", Data::kBasic, "{{ stringSlice \"x\" \"y\" }}", "[x y]", nullptr},
    {"match", Data::kBasic, "{{ match \"^wo\" .Name }} {{ match \"z\" .Name }}", "true false",
     nullptr},
    {"match bad regex", Data::kBasic, "{{ match \"(\" .Name }}", "", "error calling match"},
    {"reReplaceAll", Data::kBasic, "{{ reReplaceAll \"o\" \"0\" \"foo boo\" }}", "f00 b00",
     nullptr},
    {"reReplaceAll groups", Data::kBasic,
     "{{ reReplaceAll \"(.*):(\\\\d+)\" \"$2@$1\" \"host:9100\" }}", "9100@host", nullptr},
    {"reReplaceAll named", Data::kBasic,
     "{{ reReplaceAll \"(?P<h>[a-z]+):(?P<p>\\\\d+)\" \"${p}_${h}\" \"web:80\" }}", "80_web",
     nullptr},
    {"reReplaceAll empty match", Data::kBasic, "{{ reReplaceAll \"x*\" \"-\" \"abc\" }}", "-a-b-c-",
     nullptr},
    {"reReplaceAll dollar literal", Data::kBasic, "{{ reReplaceAll \"a\" \"$$\" \"banana\" }}",
     "b$n$n$", nullptr},
    {"reReplaceAll name with suffix", Data::kBasic, "{{ reReplaceAll \"(a)\" \"$1x\" \"ab\" }}",
     "b", nullptr},
    {"safeHtml", Data::kBasic, "{{ safeHtml \"<b>\" }}", "<b>", nullptr},
    {"date", Data::kBasic, "{{ date \"2006-01-02 15:04:05.000 MST\" .Time }}",
     "2023-11-14 22:13:20.123 UTC", nullptr},
    {"date layout words", Data::kBasic, "{{ .Time | date \"Mon Jan _2 3:04PM 2006\" }}",
     "Tue Nov 14 10:13PM 2023", nullptr},
    {"date rfc3339", Data::kBasic, "{{ .Time | date \"2006-01-02T15:04:05Z07:00\" }}",
     "2023-11-14T22:13:20Z", nullptr},
    {"tz", Data::kBasic, "{{ .Time | tz \"Europe/Berlin\" | date \"15:04 MST -07:00\" }}",
     "23:13 CET +01:00", nullptr},
    {"tz print", Data::kBasic, "{{ .Time | tz \"America/New_York\" }}",
     "2023-11-14 17:13:20.123 -0500 EST", nullptr},
    {"tz unknown", Data::kBasic, "{{ .Time | tz \"Mars/Base\" }}", "",
     "unknown time zone Mars/Base"},
    {"time method Format", Data::kBasic, "{{ .Time.Format \"Jan 2\" }}", "Nov 14", nullptr},
    {"time method Unix", Data::kBasic, "{{ .Time.Unix }}", "1700000000", nullptr},
    {"duration Seconds", Data::kBasic, "{{ .Dur.Seconds }}", "3723.5", nullptr},
    {"humanizeDuration am", Data::kBasic, "{{ humanizeDuration 3723.5 }}", "1h 2m 3s", nullptr},
    {"toJson list", Data::kBasic, "{{ toJson .L }}", "[\"a\",\"b\",\"c\"]", nullptr},
    {"toJson map escapes", Data::kBasic, "{{ toJson .Html }}",
     "\"\\u003ca href=\\\"x\\\"\\u003eO'Neil \\u0026 co\\u003c/a\\u003e\"", nullptr},
    {"toJson number", Data::kBasic, "{{ toJson .Big }} {{ toJson 1e21 }} {{ toJson 1e-7 }}",
     "1234567 1e+21 1e-7", nullptr},
    {"toJson time", Data::kBasic, "{{ toJson .Time }}", "\"2023-11-14T22:13:20.123Z\"", nullptr},

    // ---- Prometheus rule templates ($labels, $value, functions) ----
    {"rule labels", Data::kRule, "{{ $labels.instance }} of {{ .Labels.job }}", "host:9100 of node",
     nullptr},
    {"rule missing label", Data::kRule, "[{{ $labels.nope }}]", "[]", nullptr},
    {"rule value", Data::kRule, "{{ $value }}", "1.234567e+06", nullptr},
    {"rule value printf", Data::kRule, "{{ printf \"%.2f\" $value }}", "1234567.00", nullptr},
    {"rule external", Data::kRule, "{{ $externalLabels.cluster }} {{ $externalURL }}",
     "eu1 http://prom.example:9090/prefix", nullptr},
    {"humanize", Data::kRule, "{{ humanize $value }}", "1.235M", nullptr},
    {"humanize small", Data::kRule, "{{ humanize 0.0042 }}", "4.2m", nullptr},
    {"humanize zero", Data::kRule, "{{ humanize 0 }}", "0", nullptr},
    {"humanize string", Data::kRule, "{{ humanize \"123456789012\" }}", "123.5G", nullptr},
    {"humanize bad string", Data::kRule, "{{ humanize \"abc\" }}", "",
     "error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax"},
    {"humanize inf", Data::kRule, "{{ humanize \"+Inf\" }}", "+Inf", nullptr},
    {"humanize1024", Data::kRule, "{{ humanize1024 2048 }} {{ humanize1024 100000 }}",
     "2ki 97.66ki", nullptr},
    {"humanize1024 small", Data::kRule, "{{ humanize1024 0.5 }}", "0.5", nullptr},
    {"humanizeDuration", Data::kRule, "{{ humanizeDuration 93784 }}", "1d 2h 3m 4s", nullptr},
    {"humanizeDuration sub second", Data::kRule, "{{ humanizeDuration 0.0015 }}", "1.5ms", nullptr},
    {"humanizeDuration seconds", Data::kRule, "{{ humanizeDuration 5.25 }}", "5.25s", nullptr},
    {"humanizeDuration zero", Data::kRule, "{{ humanizeDuration 0 }}", "0s", nullptr},
    {"humanizeDuration negative", Data::kRule, "{{ humanizeDuration -65 }}", "-1m 5s", nullptr},
    {"humanizePercentage", Data::kRule, "{{ humanizePercentage 0.1234567 }}", "12.35%", nullptr},
    {"humanizeTimestamp", Data::kRule, "{{ humanizeTimestamp 1700000000.123456 }}",
     "2023-11-14 22:13:20.123 +0000 UTC", nullptr},
    {"toTime", Data::kRule, "{{ (toTime 1700000000).Unix }}", "1700000000", nullptr},
    {"toTime print", Data::kRule, "{{ toTime 0 }}", "1970-01-01 00:00:00 +0000 UTC", nullptr},
    {"parseDuration", Data::kRule, "{{ parseDuration \"1h30m\" }}", "5400", nullptr},
    {"parseDuration ms", Data::kRule, "{{ parseDuration \"250ms\" }}", "0.25", nullptr},
    {"graphLink", Data::kRule, "{{ graphLink \"up == 0\" }}", "/graph?g0.expr=up+%3D%3D+0&g0.tab=0",
     nullptr},
    {"tableLink", Data::kRule, "{{ tableLink \"rate(x[5m])\" }}",
     "/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1", nullptr},
    {"externalURL func", Data::kRule, "{{ externalURL }} {{ pathPrefix }}",
     "http://prom.example:9090/prefix /prefix", nullptr},
    {"args", Data::kRule,
     "{{ define \"t\" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}{{ template \"t\" (args 1 \"x\") }}", "1-x",
     nullptr},
    {"args missing key", Data::kRule, "{{ with args 1 }}[{{ .arg5 }}]{{ end }}", "[<no value>]",
     nullptr},
    {"query first value", Data::kRule, "{{ query \"up\" | first | value }}", "1", nullptr},
    {"query label", Data::kRule, "{{ query \"up\" | first | label \"instance\" }}", "a:9100",
     nullptr},
    {"query range", Data::kRule,
     "{{ range query \"up\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}",
     "a:9100=1 c:9100=0 b:9100=0.5 ", nullptr},
    {"sortByLabel", Data::kRule,
     "{{ range query \"up\" | sortByLabel \"instance\" }}{{ .Labels.instance }} {{ end }}",
     "a:9100 b:9100 c:9100 ", nullptr},
    {"first empty", Data::kRule, "{{ query \"absent\" | first }}", "",
     "error calling first: first() called on vector with no elements"},
    {"strvalue", Data::kRule, "[{{ query \"up\" | first | strvalue }}]", "[]", nullptr},
    {"query error", Data::kRule, "{{ query \"bad(\" }}", "", "error calling query: parse error"},
    {"prom title", Data::kRule, "{{ title \"node down\" }}", "Node Down", nullptr},
    {"prom match", Data::kRule, "{{ if match \"^host\" $labels.instance }}yes{{ end }}", "yes",
     nullptr},
    {"prom safeHtml", Data::kRule, "{{ \"<br>\" | safeHtml }}", "<br>", nullptr},
    {"prom toUpper", Data::kRule, "{{ $labels.severity | toUpper }}", "CRITICAL", nullptr},
    {"prom reReplaceAll", Data::kRule, "{{ reReplaceAll \":.*\" \"\" $labels.instance }}", "host",
     nullptr},
    {"rule exec error position", Data::kRule, "x {{ humanize \"x\" }}", "",
     "<error expanding template: error executing template __alert_Test: template: "
     "__alert_Test:1:117: "
     "executing \"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: "
     "parsing \"x\": invalid syntax>"},

    // ---- Alertmanager notification data and default templates ----
    {"data receiver status", Data::kNotify, "{{ .Receiver }}/{{ .Status }}", "team-x pager/firing",
     nullptr},
    {"alerts firing resolved", Data::kNotify,
     "{{ len .Alerts }} {{ len .Alerts.Firing }} {{ .Alerts.Resolved | len }}", "3 2 1", nullptr},
    {"common labels", Data::kNotify, "{{ .CommonLabels.SortedPairs.Names | join \",\" }}",
     "alertname,job,severity", nullptr},
    {"sorted pairs alertname first", Data::kNotify,
     "{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}",
     "alertname=HighLatency;instance=a:9100;job=node;severity=critical;", nullptr},
    {"kv names values", Data::kNotify, "{{ .CommonLabels.Names }} {{ .CommonLabels.Values }}",
     "[alertname job severity] [HighLatency node critical]", nullptr},
    {"kv remove", Data::kNotify,
     "{{ (.CommonLabels.Remove .GroupLabels.Names).Values | join \" \" }}", "node critical",
     nullptr},
    {"kv remove stringSlice", Data::kNotify,
     "{{ (.CommonLabels.Remove (stringSlice \"job\" \"alertname\")).Names }}", "[severity]",
     nullptr},
    {"kv map access", Data::kNotify, "{{ .CommonLabels.severity }}", "critical", nullptr},
    {"kv missing key is empty (missingkey=zero)", Data::kNotify, "[{{ .CommonLabels.nope }}]", "[]",
     nullptr},
    {"am title lowers the rest", Data::kNotify,
     "{{ title \"hELLO o'neil big-world foo_bar 3rd\" }}", "Hello O'neil Big-World Foo_bar 3rd",
     nullptr},
    {"common annotations empty", Data::kNotify, "{{ len .CommonAnnotations }}", "0", nullptr},
    {"alert fields", Data::kNotify,
     "{{ with index .Alerts 1 }}{{ .Status }} {{ .Fingerprint }} {{ .EndsAt.Format \"15:04\" }}{{ "
     "end }}",
     "resolved fedcba9876543210 10:05", nullptr},
    {"alert startsAt", Data::kNotify, "{{ (index .Alerts 0).StartsAt }}",
     "2024-03-01 10:00:00 +0000 UTC", nullptr},
    {"firing endsAt zero", Data::kNotify, "{{ (index .Alerts 0).EndsAt }}",
     "0001-01-01 00:00:00 +0000 UTC", nullptr},
    {"since", Data::kNotify, "{{ since (index .Alerts 0).StartsAt }}", "1h0m0s", nullptr},
    {"subject", Data::kNotify, "{{ template \"__subject\" . }}",
     "[FIRING:2] HighLatency (node critical)", nullptr},
    {"slack title", Data::kNotify, kSlackDefaultTitle.data(),
     "[FIRING:2] HighLatency (node critical)", nullptr},
    {"slack titlelink", Data::kNotify, kSlackDefaultTitleLink.data(),
     "http://am.example:9093/#/alerts?receiver=team-x+pager", nullptr},
    {"slack fallback", Data::kNotify, kSlackDefaultFallback.data(),
     "[FIRING:2] HighLatency (node critical) | "
     "http://am.example:9093/#/alerts?receiver=team-x+pager",
     nullptr},
    {"slack color", Data::kNotify, kSlackDefaultColor.data(), "danger", nullptr},
    {"slack color template", Data::kNotify, "{{ template \"slack.default.color\" . }}", "danger",
     nullptr},
    {"slack username", Data::kNotify, kSlackDefaultUsername.data(), "Alertmanager", nullptr},
    {"slack text empty", Data::kNotify, kSlackDefaultText.data(), "", nullptr},
    {"pagerduty description", Data::kNotify, kPagerDutyDefaultDescription.data(),
     "[FIRING:2] HighLatency (node critical)", nullptr},
    {"pagerduty client url", Data::kNotify, kPagerDutyDefaultClientUrl.data(),
     "http://am.example:9093/#/alerts?receiver=team-x+pager", nullptr},
    {"text alert list", Data::kNotify, "{{ template \"__text_alert_list\" .Alerts.Resolved }}",
     "Labels:\n - alertname = HighLatency\n - instance = b:9100\n - job = node\n - severity = "
     "critical\n"
     "Annotations:\n - summary = Latency high on b\nSource: "
     "http://prom:9090/graph?g0.expr=up&g0.tab=1\n",
     nullptr},
    {"pagerduty num firing", Data::kNotify, "{{ .Alerts.Firing | len }}", "2", nullptr},
    {"email subject", Data::kNotify, kEmailDefaultSubject.data(),
     "[FIRING:2] HighLatency (node critical)", nullptr},
    {"toJson alert", Data::kNotify, "{{ (index .Alerts 1) | toJson }}",
     R"({"status":"resolved","labels":{"alertname":"HighLatency","instance":"b:9100","job":"node","severity":"critical"},"annotations":{"summary":"Latency high on b"},"startsAt":"2024-03-01T10:00:00Z","endsAt":"2024-03-01T10:05:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1","fingerprint":"fedcba9876543210"})",
     nullptr},
    {"text defines override the set", Data::kNotify,
     "{{ define \"__subject\" }}custom{{ end }}{{ template \"slack.default.title\" . }}", "custom",
     nullptr},
    {"notification error continues", Data::kNotify, "a{{ .Receiver.Foo }}b{{ .Status }}", "",
     "can't evaluate field Foo in type string"},

    // ---- execution errors ----
    {"field on string", Data::kBasic, "{{ .Name.Foo }}", "",
     "can't evaluate field Foo in type string"},
    {"wrong arg count", Data::kBasic, "{{ len 1 2 }}", "",
     "wrong number of args for len: want 1 got 2"},
    {"wrong arg type", Data::kBasic, "{{ join 1 .L }}", "",
     "error calling join: wrong type for value; expected string; got int"},
    {"nil is not a command", Data::kBasic, "{{ nil }}", "", "nil is not a command"},
    {"arg to non function", Data::kBasic, "{{ .Name 1 }}", "",
     "Name is not a method but has arguments"},
    {"range over int string", Data::kBasic, "{{ range .Name }}{{ end }}", "",
     "range can't iterate over world"},
    {"exec error location", Data::kBasic, "line1\n  {{ index .L 9 }}", "",
     "template: text:2:5: executing \"text\" at <index .L 9>: error calling index: index out of "
     "range: 9"},
    {"undefined var at exec", Data::kBasic,
     "{{ $x := 1 }}{{ template \"t\" }}{{ define \"t\" }}{{ 1 }}{{ end }}", "1", nullptr},
};

constexpr Time kNow = Time(std::chrono::seconds(1709290800));  // 2024-03-01T11:30:00Z

std::string Run(const Row& row, Status* err) {
  static const TemplateSet* am = [] {
    auto* s = new TemplateSet(Dialect::kAlertmanager);
    REQUIRE(s->AddDefaults().ok());
    return s;
  }();
  switch (row.data) {
    case Data::kNone:
    case Data::kBasic: {
      ExecResult r = am->ExecuteText(row.tmpl, row.data == Data::kBasic ? BasicData() : Value());
      *err = r.status;
      return r.output;
    }
    case Data::kRule: {
      RuleTemplateData d;
      d.labels = {{"instance", "host:9100"}, {"job", "node"}, {"severity", "critical"}};
      d.external_labels = {{"cluster", "eu1"}};
      d.external_url = "http://prom.example:9090/prefix";
      d.value = 1234567.0;
      QueryFunc q = [](std::string_view expr) -> Result<std::vector<Sample>> {
        if (expr == "up") {
          return std::vector<Sample>{{{{"instance", "a:9100"}}, 1},
                                     {{{"instance", "c:9100"}}, 0},
                                     {{{"instance", "b:9100"}}, 0.5}};
        }
        if (expr == "absent") return std::vector<Sample>{};
        return Status::InvalidArgument("parse error at char 5");
      };
      auto t = RuleTemplate::Parse("Test", row.tmpl);
      if (!t.ok()) {
        *err = t.status();
        return "";
      }
      Expansion e = t->Expand(d, q);
      *err = e.error;
      // A failed expansion's text carries the error: compare it against want_error.
      if (!e.error.ok()) *err = Status::InvalidArgument(e.text);
      return e.text;
    }
    case Data::kNotify: {
      static const Value data = ToValue(SampleNotification());
      ExecResult r = RenderNotification(*am, row.tmpl, data, [] { return kNow; });
      *err = r.status;
      return r.output;
    }
  }
  return "";
}

TEST_CASE("template table") {
  CHECK(std::size(kRows) >= 150);
  for (const Row& row : kRows) {
    INFO(std::string(row.name));
    INFO(std::string(row.tmpl));
    Status err;
    std::string out = Run(row, &err);
    if (row.want_error != nullptr) {
      CHECK_FALSE(err.ok());
      CHECK_MESSAGE(err.message().find(row.want_error) != std::string::npos, err.message());
    } else {
      CHECK_MESSAGE(err.ok(), err.message());
      CHECK(out == std::string(row.want));
    }
  }
}

}  // namespace
}  // namespace alertd::templating
