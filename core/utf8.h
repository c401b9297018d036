// UTF-8 encoding and decoding with Go's rules (unicode/utf8), shared by everything that
// quotes, unquotes or escapes text: label values, matchers, PromQL and template literals,
// JSON output. Hand-written because the handful of lines needed is smaller than a dependency
// and must follow Go exactly (no overlong forms, no surrogates, nothing above U+10FFFF).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace alertd {

// Length of the valid UTF-8 sequence at s[i] (REQUIRES: i < s.size()), storing its code
// point in *cp; 0 when the bytes there are not valid UTF-8.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);

// True when all of `s` is valid UTF-8 (Go's utf8.ValidString).
bool IsValidUtf8(std::string_view s);

// Appends `cp` encoded as UTF-8. Surrogates and values above U+10FFFF become U+FFFD, as Go's
// utf8.AppendRune does.
void AppendUtf8(std::string* out, uint32_t cp);

// Go's strings.ToLower / strings.ToUpper: Unicode simple case mapping of every code point (the
// C library's C.UTF-8 tables, which follow UnicodeData as Go's unicode package does), invalid
// UTF-8 bytes replaced by U+FFFD as strings.Map does.
std::string GoToLower(std::string_view s);
std::string GoToUpper(std::string_view s);

// Go's strings.Title (deprecated in Go, still Prometheus's `title`): the first rune of every
// word mapped to title case (unicode.ToTitle: "ǆ" becomes "ǅ", Georgian letters stay), the
// rest unchanged. A word starts after an ASCII character other than a letter, digit or '_',
// or after a non-ASCII space (unicode.IsSpace); other non-ASCII runes join words. Invalid
// UTF-8 bytes become U+FFFD.
std::string GoTitle(std::string_view s);

}  // namespace alertd
