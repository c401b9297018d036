// Go text/template for alertd: a set of named templates parsed once and executed many times.
//
//   TemplateSet set(Dialect::kAlertmanager);
//   set.AddDefaults();                        // alertd's default notification templates
//   set.ParseFile("/etc/alertd/slack.tmpl");  // users' `templates:` (may override names)
//   ExecResult r = set.ExecuteText("{{ template \"slack.default.title\" . }}", data);
//
// The language is Go's (text, actions, `{{-`/`-}}` trimming, comments, pipelines, variables,
// if/else if/range/with/break/continue, define/template/block, all literal forms) and so are
// the error texts: a parse error reads `template: <name>:<line>:<col>: <message>` (line and
// column 1-based), an execution error reads like Go's
// `template: <name>:<line>:<col>: executing "<name>" at <node>: <message>` (column 0-based,
// as Go prints it).
//
// Thread-safety: building a set (AddDefaults/Parse/ParseFile) is not thread-safe and must
// happen before the set is shared. Afterwards every const method may be called from many
// threads at once; a CompiledText keeps what it needs alive and is thread-safe too.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "templating/functions.h"
#include "templating/value.h"

namespace alertd::templating {

namespace internal {
struct Tree;
struct SetImpl;
}  // namespace internal

// Which function set templates may call.
enum class Dialect {
  kPrometheus,    // rule annotations and labels (humanize, query, ...)
  kAlertmanager,  // notification templates (join, toJson, date, ...)
};

// What a map lookup of a missing key yields (Go's Option("missingkey=...")).
enum class MissingKey {
  kDefault,  // "<no value>" when printed (Alertmanager)
  kZero,     // the map's zero value, "" for label maps (Prometheus)
  kError,    // an execution error
};

struct ExecOptions {
  MissingKey missing_key = MissingKey::kDefault;
  // false: the first error stops execution (Go's behaviour).
  // true: an action that fails is replaced by "<error: message>" and execution continues with
  // the next node, so a notification still carries everything that did render.
  bool continue_on_error = false;
  ExecEnv env;
  // true: the output is HTML and every action is escaped for the context it lands in, as
  // Alertmanager's html/template escapes the email `html` field (templating/html_context.h):
  // HTML text, attribute values, URLs, <script> and <style>. Values of type
  // html/template.HTML (safeHtml's result) pass unescaped in HTML text, and a pipeline ending
  // in the `html` (or `urlquery`) function is not escaped again by the equivalent escaper.
  // Literal text is rewritten as html/template rewrites it (a '<' that starts no tag becomes
  // "&lt;", comments are dropped); nil prints as "" rather than "<no value>" (html/template
  // drops untyped nil arguments of its escapers); templates called with {{template}} are
  // escaped in the context of the call.
  bool escape_html = false;
  // Nesting limit for {{template}} calls. Go allows 100000; each level costs a few C++ stack
  // frames here, and 250 keeps a runaway recursion well inside a 2 MiB thread stack even in
  // sanitizer builds, while real notification templates nest a handful of levels.
  int max_depth = 250;
  // The execution budget, so that a template cannot run forever (`range` over a huge integer,
  // nested ranges) or print without end. A step is one node walked or one command evaluated
  // (a `range` iteration is at least one); the output budget bounds the bytes written and
  // every value a function returns or is given. Going over either stops the execution with an
  // error naming the budget (even with continue_on_error); 0 disables it. The defaults are far
  // above what a notification needs (the default templates take about 60 steps and 1 KiB per
  // alert, so 10,000 alerts fit) and cost a few seconds of CPU at most.
  int64_t max_steps = 10'000'000;
  size_t max_output_bytes = 16 << 20;  // 16 MiB
};

struct ExecResult {
  std::string output;
  Status status;        // the first error, or OK
  int error_count = 0;  // > 1 only with continue_on_error
  bool ok() const { return status.ok(); }
};

class CompiledText;

class TemplateSet {
 public:
  explicit TemplateSet(Dialect dialect);
  ~TemplateSet();
  TemplateSet(TemplateSet&&) noexcept;
  TemplateSet& operator=(TemplateSet&&) noexcept;
  TemplateSet(const TemplateSet&) = delete;
  TemplateSet& operator=(const TemplateSet&) = delete;

  Dialect dialect() const;
  const FuncMap& funcs() const;

  // ---- building (before sharing) ----

  // Adds alertd's default notification templates (see defaults.h). Call first, so users'
  // files can override them.
  Status AddDefaults();
  // Parses `text` (its own name is `source_name`) and adds every template it defines. A
  // {{define}} of an existing name replaces it unless the new body is empty (Go's rule). On a
  // parse error nothing is added and the Status names source and position.
  Status Parse(std::string_view source_name, std::string_view text);
  // Parses one file; its templates are named by {{define}} and the file itself by its base
  // name (as Go's ParseFiles does).
  Status ParseFile(const std::string& path);
  // Parses every file matching a glob pattern (Alertmanager's `templates:` entries); a pattern
  // matching nothing is not an error.
  Status ParseGlob(const std::string& pattern);

  // ---- using (thread-safe) ----

  bool Has(std::string_view name) const;
  std::vector<std::string> Names() const;

  // Executes the named template with `data` as dot.
  ExecResult Execute(std::string_view name, const Value& data,
                     const ExecOptions& options = {}) const;

  // Parses a text that may call this set's templates (e.g. `{{ template "x" . }}`) without
  // changing the set. The text may {{define}} templates of its own; for this text's executions
  // they take precedence over the set's (as in Alertmanager, which parses the text into a
  // clone of its templates). `name` appears in error messages.
  Result<CompiledText> Compile(std::string_view name, std::string_view text) const;

  // Compile + Execute in one go (no caching).
  ExecResult ExecuteText(std::string_view text, const Value& data,
                         const ExecOptions& options = {}) const;

 private:
  friend class CompiledText;
  std::shared_ptr<internal::SetImpl> impl_;
};

// A parsed text bound to the TemplateSet it was compiled against (which it keeps alive).
// Cheap to copy; Execute is thread-safe.
class CompiledText {
 public:
  ExecResult Execute(const Value& data, const ExecOptions& options = {}) const;
  const std::string& name() const;

 private:
  friend class TemplateSet;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Go html/template's htmlEscaper for a plain string (an HTML text node or a quoted attribute
// value): NUL becomes U+FFFD, `"` &#34;, `&` &amp;, `'` &#39;, `+` &#43;, `<` &lt;, `>` &gt;;
// every other byte is copied (invalid UTF-8 included, as Go's badRunes mode does).
std::string HtmlEscapeText(std::string_view s);
void AppendHtmlEscaped(std::string& out, std::string_view s);

// Checks that `text` parses in `dialect` (config validation). Returns OK or an
// InvalidArgument Status whose message names `name` and the line:col of the error.
Status ValidateTemplate(Dialect dialect, std::string_view name, std::string_view text);

}  // namespace alertd::templating
