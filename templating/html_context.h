// Go html/template's contextual escaping for the email `html` field (ExecOptions::escape_html):
// the context (HTML text, tag, attribute value, URL, <script> JavaScript and its strings and
// regular expressions, <style> CSS and its strings and url(...), comments, RCDATA such as
// <title>) is tracked over the literal text a template writes, and each action's value is
// escaped for the context it lands in, with the escapers html/template inserts there (Go 1.19,
// the version Debian's Alertmanager 0.25 is built with): HTML entities in text and quoted
// attributes, more of them in unquoted ones, percent-encoding in URLs and "#ZgotmplZ" for
// schemes other than http, https and mailto, JSON values and JS string escapes in scripts,
// CSS escapes in CSS strings and "ZgotmplZ" for unsafe CSS values. Literal text is rewritten
// as html/template rewrites it: a '<' that starts no tag becomes "&lt;" and comments (HTML,
// and JS/CSS comments in <script>/<style>) are dropped.
//
// Written by hand: no Debian C++ library implements Go's contextual escaping (what the
// escapers produce is html/template's, byte for byte, so that emails match Alertmanager's).
// Go computes the contexts statically when a template is parsed; alertd tracks them while the
// template runs, which gives the same contexts for every template html/template accepts
// (html/template refuses templates whose branches end in different contexts; alertd escapes
// each run in the context it actually reaches).
//
// Not thread-safe: one HtmlContextEscaper per execution.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "templating/value.h"

namespace alertd::templating::internal {

class HtmlContextEscaper {
 public:
  // Appends literal template text as html/template rewrites it in the current context and
  // moves the context past it.
  void AppendText(std::string& out, std::string_view text);

  // How a pipeline ends, for html/template's predefined escapers: a pipeline ending in
  // `html` is not escaped again as HTML, one ending in `urlquery` not again as a URL part.
  enum class PipelineEnd { kOther, kHtml, kUrlquery };

  // Appends an action's value escaped for the current context (and moves the context as an
  // interpolation does: after a JS value a '/' is a division). nil prints nothing; a
  // safeHtml value is written unescaped in HTML text. Fails, writing nothing, where
  // html/template refuses an action (inside a JS template literal, or after markup it cannot
  // parse, such as a quote in an attribute name).
  Status AppendValue(std::string& out, const Value& v, PipelineEnd end);

  // Appends a plain string (an error marker) escaped for the current context.
  void AppendString(std::string& out, std::string_view s);

  enum class State {
    kText,
    kTag,
    kAttrName,
    kAfterName,
    kBeforeValue,
    kHtmlCmt,
    kRcdata,
    kAttr,
    kUrl,
    kSrcset,
    kJs,
    kJsDqStr,
    kJsSqStr,
    kJsBqStr,
    kJsRegexp,
    kJsBlockCmt,
    kJsLineCmt,
    kCss,
    kCssDqStr,
    kCssSqStr,
    kCssDqUrl,
    kCssSqUrl,
    kCssUrl,
    kCssBlockCmt,
    kCssLineCmt,
    kError,
  };
  enum class Delim { kNone, kDoubleQuote, kSingleQuote, kSpaceOrTagEnd };
  enum class UrlPart { kNone, kPreQuery, kQueryOrFrag };
  enum class JsCtx { kRegexp, kDivOp };
  enum class Attr { kNone, kScript, kScriptType, kStyle, kUrl, kSrcset };
  enum class Element { kNone, kScript, kStyle, kTextarea, kTitle };

  // html/template's context type.
  struct Context {
    State state = State::kText;
    Delim delim = Delim::kNone;
    UrlPart url_part = UrlPart::kNone;
    JsCtx js_ctx = JsCtx::kRegexp;
    Attr attr = Attr::kNone;
    Element element = Element::kNone;
    std::string error;  // with State::kError: what html/template would say
  };
  const Context& context() const { return c_; }

 private:
  // Escapes `s` (the printed value; `v` when it is one) for the current context.
  Status Escape(std::string& out, std::string_view s, const Value* v, PipelineEnd end);

  Context c_;
};

}  // namespace alertd::templating::internal
