// Keeping credentials out of text that leaves the process: API answers (the configuration in
// GET /api/v2/status), logs and error messages (a datasource query that failed). The one
// place that knows how a URL carries a password and how a secret is shown when hidden.
// Pure functions; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace alertd {

// What a hidden secret reads as: Alertmanager's Secret type marshals to this.
inline constexpr std::string_view kSecretPlaceholder = "<secret>";

// `text` with the userinfo (`user:password@`) removed from every URL in it:
// "http://u:p@host:9090/x" becomes "http://host:9090/x". A URL is a scheme (a letter, then
// letters, digits, '+', '-' or '.') followed by "://"; its userinfo is what precedes the last
// '@' of the authority (up to the first '/', '?', '#' or whitespace). Text without URLs is
// returned unchanged.
std::string StripUrlUserinfo(std::string_view text);

// The userinfo of the first URL in `url` ("user:password", percent-encoded as written), or ""
// when it has none.
std::string_view UrlUserinfo(std::string_view url);

// `text` with every occurrence of each non-empty string of `secrets` replaced by
// kSecretPlaceholder, longest secrets first (so a secret that contains another is hidden
// whole). For messages that may quote what a peer sent back (a proxy's error page echoing a
// header).
std::string ScrubSecrets(std::string text, std::span<const std::string> secrets);

}  // namespace alertd
