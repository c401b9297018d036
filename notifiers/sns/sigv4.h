// AWS Signature Version 4 for one HTTP request
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). Written here
// because Debian has no maintained AWS SDK for C++; the signature is the four HMAC-SHA256
// steps of the specification over OpenSSL, and the tests check it against a verifier and
// against the signatures of Alertmanager's AWS SDK.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/time.h"

namespace alertd::notifiers::sigv4 {

struct Credentials {
  std::string access_key;
  std::string secret_key;     // secret
  std::string session_token;  // secret; may be empty
};

// The headers to add to a request (X-Amz-Date, X-Amz-Security-Token when there is a session
// token, and Authorization) so that it is signed for `region`/`service` at `now`. `host` is the
// Host header as sent ("host" or "host:port" for a port that is not the scheme's); `path` is
// the URL's path as sent (percent-encoded); `query` its query string (may be empty);
// `content_type` is signed too.
std::vector<std::pair<std::string, std::string>> Sign(
    const Credentials& creds, const std::string& region, const std::string& service,
    const std::string& method, const std::string& host, const std::string& path,
    const std::string& query, const std::string& content_type, const std::string& body,
    Time now);

}  // namespace alertd::notifiers::sigv4
