// JSON string literals written as Go's encoding/json writes them by default, for the bytes
// alertd sends where Alertmanager's are the reference: the API's responses and the webhook
// payload. Written by hand (rather than through nlohmann::json) because those bodies are built
// straight into a std::string, which costs several times less CPU and memory than a JSON tree.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace alertd {

// Appends `s` as a JSON string literal (quotes included). Control characters, '"' and '\\'
// are escaped; '<', '>' and '&' become \u003c, \u003e, \u0026 and U+2028/U+2029 are
// escaped, as Go's encoding/json does; invalid UTF-8 bytes become U+FFFD.
void AppendJsonString(std::string* out, std::string_view s);
std::string JsonString(std::string_view s);

}  // namespace alertd
