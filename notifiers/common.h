// Internal helpers shared by the integrations under notifiers/: the template data of a
// notification, rendering receiver fields, Alertmanager's truncation and the group-key hash.
// Not for use outside notifiers/.
//
// Pure functions and an immutable-after-construction Renderer; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/json_string.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"
#include "templating/notification.h"
#include "templating/value.h"

namespace alertd::notifiers::internal {

// Go's regexp.QuoteMeta: Alertmanager puts the receiver name through it before it reaches the
// templates and the webhook payload ("team.a" becomes "team\.a").
std::string QuoteMeta(std::string_view s);

// Alertmanager's template.Data for `alerts` (a prefix of n.alerts after max_alerts
// truncation): status of each alert at n.now, firing alerts with a zero endsAt, common labels
// and annotations over `alerts`, the quoted receiver name; the group's status is "firing" when
// one of `alerts` fires or n.acknowledged is not empty.
templating::NotificationData MakeTemplateData(const Notification& n,
                                              std::span<const AlertPtr> alerts);

// JSON string literals as Go's encoding/json Encoder writes them (Alertmanager's webhook
// payload): core/json_string.h.
using ::alertd::AppendJsonString;
// {"k":"v",...} in key order (Go sorts map keys).
void AppendJsonObject(std::string* out, const std::map<std::string, std::string>& m);

// notify.TruncateInRunes: at most `n` runes, the last one replaced by "…" when cut.
std::string TruncateInRunes(std::string_view s, size_t n, bool* truncated = nullptr);

// notify.TruncateInBytes: at most `n` bytes, cut at a rune boundary and ended with "…" (3
// bytes) when cut; "…" or dots alone when `n` is 3 or less.
std::string TruncateInBytes(std::string_view s, size_t n, bool* truncated = nullptr);

// An Alertmanager api_url after Go's `u.Path += suffix`: `suffix` is appended to the path of
// `url`, before any query or fragment, after a "/" when the path does not end with one (as
// Alertmanager's config loading gives the Opsgenie and VictorOps URLs one). The bytes of
// `suffix` Go escapes in a path (all but letters, digits and "-._~$&+,/:;=@") are
// percent-encoded; `url` itself is kept as written.
std::string AppendToUrlPath(std::string_view url, std::string_view suffix);

// notify.Key.Hash() (notifier.h).
using ::alertd::notifiers::GroupKeyHash;

// A receiver's field texts, parsed once when the notifier is built so that each notification
// only executes them. Keyed by the text itself, so callers keep passing the config strings.
// Built before sharing (Add), then immutable and safe to read from many threads.
class CompiledFields {
 public:
  explicit CompiledFields(std::shared_ptr<const templating::TemplateSet> templates);
  // Compiles `text` against the templates unless it is empty, has no action or was added
  // already. A text that does not parse is kept with its error and renders as
  // "<error: ...>" every time, as it would when compiled per notification.
  void Add(std::string_view text);
  // The compiled text, or nullptr when `text` was never added.
  const Result<templating::CompiledText>* Find(std::string_view text) const;

 private:
  std::shared_ptr<const templating::TemplateSet> templates_;
  std::map<std::string, Result<templating::CompiledText>, std::less<>> compiled_;
};

// Renders receiver fields against one notification's data. A field whose template fails
// renders with "<error: ...>" in place of the failing action (the notification still goes
// out); `errors()` counts them and `first_error()` describes the first. Texts found in
// `fields` (may be null) are not parsed again; others are compiled on the spot.
class Renderer {
 public:
  Renderer(const Deps& deps, const templating::NotificationData& data,
           const CompiledFields* fields = nullptr);
  // As Alertmanager's text/template rendering (every field but email HTML).
  std::string operator()(std::string_view text) { return Render(text, false); }
  // As Alertmanager's html/template rendering of the email `html` field: action output is
  // HTML-escaped, safeHtml values and literal text are not (ExecOptions::escape_html).
  std::string Html(std::string_view text) { return Render(text, true); }
  int errors() const { return errors_; }
  const Status& first_error() const { return first_error_; }

 private:
  std::string Render(std::string_view text, bool escape_html);

  const Deps& deps_;
  const CompiledFields* fields_;
  templating::Value value_;
  int errors_ = 0;
  Status first_error_;
};

// Logs (once per notification) that templates failed, naming integration and receiver.
void LogTemplateErrors(std::string_view integration, const Notification& n, const Renderer& r);

// The timeout of one request of an attempt at `n`: `limit` (the integration's own per-attempt
// bound; <= 0: none) cut to what is left until n.deadline, at least 1 ms once the deadline is
// near or past (so the request fails at once, as a timeout). Zero (no limit) only when there
// is neither a limit nor a deadline. Call it for every request, so that later requests of one
// attempt get what is left.
Duration AttemptTimeout(const Notification& n, Duration limit);

// The current time from deps.now or the system clock.
Time Now(const Deps& deps);

}  // namespace alertd::notifiers::internal
