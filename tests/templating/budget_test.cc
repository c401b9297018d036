// The execution budget of templates (ExecOptions::max_steps, max_output_bytes): a template
// that loops without end or prints without end stops with an error naming the budget, with
// or without continue_on_error, and ordinary templates are not affected.
#include <doctest/doctest.h>

#include <string>

#include "templating/template.h"

namespace alertd::templating {
namespace {

ExecResult Run(const char* text, const ExecOptions& opts = {}) {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  Map m;
  m["L"] = Value::StringList({"a", "b"});
  return set.ExecuteText(text, Value(std::move(m)), opts);
}

TEST_CASE("a template that loops past the step budget stops with an error") {
  struct Row {
    const char* name;
    const char* text;
  } rows[] = {
      {"range over a huge integer", "{{ range 1000000000000 }}{{ end }}"},
      {"nested ranges", "{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}"},
      {"ranges nested through templates",
       "{{ define \"a\" }}{{ range 100 }}{{ template \"b\" }}{{ end }}{{ end }}"
       "{{ define \"b\" }}{{ range 100 }}{{ template \"c\" }}{{ end }}{{ end }}"
       "{{ define \"c\" }}{{ range 100 }}{{ end }}{{ end }}{{ template \"a\" }}"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    ExecOptions opts;
    opts.max_steps = 100000;
    ExecResult res = Run(r.text, opts);
    CHECK_FALSE(res.ok());
    CHECK_MESSAGE(res.status.message().find("budget of 100000 steps") != std::string::npos,
                  res.status.message());
  }
}

TEST_CASE("the default step budget stops a huge range") {
  ExecResult res = Run("{{ range 1000000000000 }}{{ end }}");
  CHECK_FALSE(res.ok());
  CHECK(res.status.message().find("budget of 10000000 steps") != std::string::npos);
}

TEST_CASE("a template that prints past the output budget stops with an error") {
  struct Row {
    const char* name;
    const char* text;
  } rows[] = {
      {"printing in a loop", "{{ range 1000000 }}0123456789{{ end }}"},
      {"wide printf widths", "{{ range 100 }}{{ printf \"%1000000d\" 1 }}{{ end }}"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    ExecOptions opts;
    opts.max_output_bytes = 1 << 20;
    ExecResult res = Run(r.text, opts);
    CHECK_FALSE(res.ok());
    CHECK_MESSAGE(res.status.message().find("output is longer than its budget of 1048576 bytes") !=
                      std::string::npos,
                  res.status.message());
    CHECK(res.output.size() <= 2u << 20);
  }
}

TEST_CASE("values built without printing are bounded by the output budget") {
  struct Row {
    const char* name;
    const char* text;
  } rows[] = {
      {"doubling a variable with printf",
       "{{ $x := \"ab\" }}{{ range 100 }}{{ $x = printf \"%s%s\" $x $x }}{{ end }}"},
      {"one printf with many wide verbs",
       "{{ $x := printf \"%1000000d%1000000d%1000000d%1000000d%1000000d\" 1 2 3 4 5 }}"},
      {"doubling with join",
       "{{ $x := \"ab\" }}{{ range 100 }}{{ $x = join $x (stringSlice $x $x $x) }}{{ end }}"},
      {"growing with reReplaceAll",
       "{{ $x := \"abcdefgh\" }}{{ range 100 }}{{ $x = reReplaceAll \"(.)\" \"$1$1\" $x }}{{ end }}"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    ExecOptions opts;
    opts.max_output_bytes = 1 << 20;
    ExecResult res = Run(r.text, opts);
    CHECK_FALSE(res.ok());
    CHECK_MESSAGE(res.status.message().find("output budget") != std::string::npos,
                  res.status.message());
  }
}

TEST_CASE("continue_on_error does not continue past a spent budget") {
  ExecOptions opts;
  opts.continue_on_error = true;
  opts.max_steps = 1000;
  // Every iteration fails (index out of range) and is continued from, until the budget.
  ExecResult res = Run("{{ range 1000000 }}{{ index .L 5 }}{{ end }}", opts);
  CHECK_FALSE(res.ok());
  CHECK(res.output.size() < 1000 * 200);
  const bool named = res.output.find("budget of 1000 steps") != std::string::npos ||
                     res.status.message().find("budget of 1000 steps") != std::string::npos;
  CHECK(named);
}

TEST_CASE("the default budget leaves ordinary templates alone") {
  ExecResult res = Run("{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}{{ printf \"%5d\" 7 }}");
  CHECK_MESSAGE(res.ok(), res.status.message());
  CHECK(res.output == "0=a 1=b     7");
  ExecOptions unlimited;
  unlimited.max_steps = 0;
  unlimited.max_output_bytes = 0;
  res = Run("{{ range 200000 }}x{{ end }}", unlimited);
  CHECK(res.ok());
  CHECK(res.output.size() == 200000);
}

}  // namespace
}  // namespace alertd::templating
