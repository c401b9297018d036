// Encodings alertd must write byte for byte as Go does, to send what Prometheus and
// Alertmanager send: net/url's query escaping (generatorURL, templates' urlquery, vendor query
// strings and forms, OAuth 2.0 token requests) and standard base64 (HTTP basic auth).
//
// Thread-safe (pure functions).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace alertd {

// Go's url.QueryEscape: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex), spaces
// as "+".
std::string QueryEscape(std::string_view s);

// Go's url.Values.Encode for one value per key: "k=v&..." sorted by key, both sides
// QueryEscaped.
std::string EncodeQuery(const std::map<std::string, std::string>& params);

// Go's base64.StdEncoding: RFC 4648 with padding.
std::string Base64Encode(std::string_view s);

}  // namespace alertd
