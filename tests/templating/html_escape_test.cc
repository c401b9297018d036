// ExecOptions::escape_html: what Alertmanager's html/template prints for the email `html`
// field. Every action's output is escaped for its context as html/template escapes it
// (htmlEscaper in text nodes, URL, JS and CSS escapers elsewhere); safeHtml values and a
// final `html` command are not escaped again. Expected outputs are what Go's html/template
// prints for the same template and data (tests/notifiers/email_test.cc compares a template
// with every context against a real Alertmanager byte for byte).
#include <doctest/doctest.h>

#include <string>

#include "core/time.h"
#include "templating/defaults.h"
#include "templating/notification.h"
#include "templating/template.h"

namespace alertd::templating {
namespace {

struct Row {
  const char* name;
  std::string tmpl;
  std::string want;
};

Value Data() {
  Map m;
  m["S"] = Value(std::string("<b>x</b> & \"y\" 'z' a+b"));
  m["Nul"] = Value(std::string("a\0b", 3));
  m["Bad"] = Value(std::string("\xC3<\xFF"));  // invalid UTF-8 around '<'
  m["L"] = Value::StringList({"<a>", "b&c"});
  m["N"] = Value(7);
  m["Plain"] = Value("hello world");
  m["Labels"] = Value::StringMap({{"alertname", "A<1>"}, {"team", "R&D"}}, &kKVType);
  return Value(std::move(m));
}

const Row kRows[] = {
    // ---- each special character (html/template's htmlReplacementTable) ----
    {"less than", R"({{ "<" }})", "&lt;"},
    {"greater than", R"({{ ">" }})", "&gt;"},
    {"ampersand", R"({{ "&" }})", "&amp;"},
    {"single quote", R"({{ "'" }})", "&#39;"},
    {"double quote", R"({{ "\"" }})", "&#34;"},
    {"plus", R"({{ "+" }})", "&#43;"},
    {"NUL becomes U+FFFD", "{{ .Nul }}",
     "a\xEF\xBF\xBD"
     "b"},
    {"invalid UTF-8 passes through", "{{ .Bad }}", "\xC3&lt;\xFF"},
    {"all in one value", "{{ .S }}", "&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; &#39;z&#39; a&#43;b"},
    {"ordinary text unchanged", "{{ .Plain }}", "hello world"},
    {"entity-like text escaped again", R"({{ "&amp;" }})", "&amp;amp;"},

    // ---- literal template text is never escaped ----
    {"literal text", R"(<p class="x">{{ "<" }}</p> & more)", "<p class=\"x\">&lt;</p> & more"},
    {"attribute value escaped as text", R"(<a title="{{ .S }}">)",
     "<a title=\"&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; &#39;z&#39; a&#43;b\">"},
    {"a URL attribute is percent-encoded, then escaped as an attribute", R"(<a href="{{ .S }}">)",
     "<a href=\"%3cb%3ex%3c/b%3e%20&amp;%20%22y%22%20%27z%27%20a&#43;b\">"},
    {"an unsafe scheme is defanged", R"x(<a href="{{ "javascript:alert(1)" }}">)x",
     "<a href=\"#ZgotmplZ\">"},
    {"a string in a script", R"(<script>var s = "{{ .S }}";</script>)",
     "<script>var s = \"\\u003cb\\u003ex\\u003c\\/b\\u003e \\u0026 \\u0022y\\u0022 \\u0027z\\u0027 "
     "a\\u002bb\";</script>"},
    {"a value in a script is JSON", R"(<script>var s = {{ .S }};</script>)",
     "<script>var s = \"\\u003cb\\u003ex\\u003c/b\\u003e \\u0026 \\\"y\\\" 'z' a+b\";</script>"},
    {"an unsafe CSS value", R"(<style>p { color: {{ .S }} }</style>)",
     "<style>p { color: ZgotmplZ }</style>"},
    {"a safe CSS value", R"(<style>p { color: {{ "red" }} }</style>)",
     "<style>p { color: red }</style>"},
    {"comments are dropped, a stray < escaped", R"(a <!-- {{ .S }} --> < b)", "a  &lt; b"},

    // ---- safeHtml (html/template.HTML) passes through ----
    {"safeHtml", R"({{ safeHtml "<b>&</b>" }})", "<b>&</b>"},
    {"safeHtml piped", R"({{ .S | safeHtml }})", "<b>x</b> & \"y\" 'z' a+b"},
    {"safeHtml in variable", R"({{ $h := safeHtml "<i>" }}{{ $h }})", "<i>"},
    {"safeHtml through printf is a plain string again", R"({{ safeHtml "<i>" | printf "%s" }})",
     "&lt;i&gt;"},

    // ---- nested templates escape too ----
    {"template call", R"({{ define "t" }}<i>{{ . }}</i>{{ end }}{{ template "t" .S }})",
     "<i>&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; &#39;z&#39; a&#43;b</i>"},
    {"template calling template",
     R"({{ define "a" }}[{{ template "b" . }}]{{ end }}{{ define "b" }}{{ . }}{{ end }})"
     R"({{ template "a" "x<y" }})",
     "[x&lt;y]"},
    {"block", R"({{ block "blk" .Plain }}<u>{{ . }}&</u>{{ end }})", "<u>hello world&</u>"},

    // ---- pipelines, control structures, variables ----
    {"printf pipeline", R"({{ "a<b" | printf "%s!" }})", "a&lt;b!"},
    {"function result", R"({{ toUpper .S }})",
     "&lt;B&gt;X&lt;/B&gt; &amp; &#34;Y&#34; &#39;Z&#39; A&#43;B"},
    {"join", R"({{ join "<>" .L }})", "&lt;a&gt;&lt;&gt;b&amp;c"},
    {"list printed", "{{ .L }}", "[&lt;a&gt; b&amp;c]"},
    {"number", "{{ .N }}", "7"},
    {"range", "{{ range .L }}<li>{{ . }}</li>{{ end }}", "<li>&lt;a&gt;</li><li>b&amp;c</li>"},
    {"if and with", R"({{ if .S }}{{ with .L }}{{ index . 0 }}{{ end }}{{ end }})", "&lt;a&gt;"},
    {"declaration prints nothing", R"({{ $x := "<" }}{{ $x }}{{ $x = ">" }}{{ $x }})", "&lt;&gt;"},
    {"label pairs", R"({{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }})",
     "alertname=A&lt;1&gt;;team=R&amp;D;"},
    {"urlquery then escaped", R"({{ "a b&c+d" | urlquery }})", "a&#43;b%26c%2Bd"},
    {"missing value prints nothing", "{{ .Nope }}", ""},
    {"missing label prints nothing", "{{ .Labels.nope }}", ""},

    // ---- a final `html` stands in for the escaper (no double escaping) ----
    {"html piped", R"({{ .S | html }})", "&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; &#39;z&#39; a+b"},
    {"html call", R"({{ html "<" "&" }})", "&lt;&amp;"},
    {"html of safeHtml escapes", R"({{ safeHtml "<i>" | html }})", "&lt;i&gt;"},
};

TEST_CASE("escape_html escapes action output as html/template does") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  const Value data = Data();
  ExecOptions opts;
  opts.escape_html = true;
  opts.missing_key = MissingKey::kZero;
  for (const Row& row : kRows) {
    INFO(std::string(row.name));
    INFO(row.tmpl);
    ExecResult r = set.ExecuteText(row.tmpl, data, opts);
    CHECK_MESSAGE(r.ok(), r.status.message());
    CHECK(r.output == row.want);
  }
}

TEST_CASE("without escape_html nothing is escaped") {
  TemplateSet set(Dialect::kAlertmanager);
  ExecOptions opts;
  ExecResult r = set.ExecuteText(R"(<i>{{ .S }}</i>{{ .Nope }})", Data(), opts);
  REQUIRE(r.ok());
  CHECK(r.output == "<i><b>x</b> & \"y\" 'z' a+b</i><no value>");
}

TEST_CASE("an error replaced in place is escaped too") {
  TemplateSet set(Dialect::kAlertmanager);
  ExecOptions opts = NotificationExecOptions();
  opts.escape_html = true;
  ExecResult r = set.ExecuteText(R"(<p>{{ index .S 99 }}</p>)", Data(), opts);
  CHECK_FALSE(r.ok());
  CHECK(r.error_count == 1);
  INFO(r.output);
  CHECK(r.output.rfind("<p>&lt;error: template: text:1:", 0) == 0);
  CHECK(r.output.find("&gt;</p>") != std::string::npos);
  CHECK(r.output.find("<error") == std::string::npos);
}

TEST_CASE("HtmlEscapeText") {
  CHECK(HtmlEscapeText("") == "");
  CHECK(HtmlEscapeText("plain") == "plain");
  CHECK(HtmlEscapeText("<>&'\"+") == "&lt;&gt;&amp;&#39;&#34;&#43;");
  CHECK(HtmlEscapeText("caf\xC3\xA9 <") == "caf\xC3\xA9 &lt;");
}

NotificationData OrdinaryNotification() {
  NotificationData d;
  d.receiver = "team-x";
  d.external_url = "http://am.example:9093";
  d.group_labels = {{"alertname", "HighLatency"}};
  for (const char* instance : {"a:9100", "b:9100"}) {
    NotificationAlert a;
    a.status = instance[0] == 'a' ? "firing" : "resolved";
    a.labels = {{"alertname", "HighLatency"}, {"instance", instance}, {"severity", "critical"}};
    a.annotations = {{"summary", std::string("Latency high on ") + instance}};
    a.starts_at = *ParseRFC3339("2024-03-01T10:00:00Z");
    if (a.status == "resolved") a.ends_at = *ParseRFC3339("2024-03-01T10:05:00Z");
    a.generator_url = "http://prom:9090/graph?g0.expr=up";
    a.fingerprint = "0123456789abcdef";
    d.alerts.push_back(std::move(a));
  }
  ComputeGroupFields(d);
  return d;
}

TEST_CASE("the default email HTML is unchanged by escaping for ordinary alerts") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  auto compiled = set.Compile("html", kEmailDefaultHtml);
  REQUIRE(compiled.ok());
  const Value data = ToValue(OrdinaryNotification());
  ExecOptions plain = NotificationExecOptions();
  ExecOptions escaped = NotificationExecOptions();
  escaped.escape_html = true;
  ExecResult p = compiled->Execute(data, plain);
  ExecResult e = compiled->Execute(data, escaped);
  REQUIRE(p.ok());
  REQUIRE(e.ok());
  CHECK(e.output == p.output);
  CHECK(e.output.find("instance = a:9100<br style=") != std::string::npos);
  CHECK(e.output.find("<a href=\"http://am.example:9093/#/alerts?receiver=team-x\"") !=
        std::string::npos);

  SUBCASE("special characters in labels, annotations and URLs are escaped") {
    NotificationData d = OrdinaryNotification();
    d.alerts[0].labels["note"] = "<b>x</b> & \"y\"";
    d.alerts[0].annotations["summary"] = "p99 > 1s";
    d.alerts[0].generator_url = "http://prom:9090/graph?g0.expr=a+%3E+1&g0.tab=1";
    ComputeGroupFields(d);
    ExecResult r = compiled->Execute(ToValue(d), escaped);
    REQUIRE(r.ok());
    CHECK(r.output.find("note = &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;<br style=") !=
          std::string::npos);
    CHECK(r.output.find("summary = p99 &gt; 1s<br style=") != std::string::npos);
    // html/template's attribute escaper turns & and + into entities in href too.
    CHECK(r.output.find("href=\"http://prom:9090/graph?g0.expr=a&#43;%3E&#43;1&amp;g0.tab=1\"") !=
          std::string::npos);
    CHECK(r.output.find("<b>x</b>") == std::string::npos);
  }
}

}  // namespace
}  // namespace alertd::templating
