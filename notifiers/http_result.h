// The notifiers' view of the shared HTTP client (net/http_client.h) plus the one rule that
// turns an HTTP answer into a notification result (Alertmanager's notify.Retrier).
//
// Thread-safe: CheckHttpResponse is a pure function.
#pragma once

#include <span>

#include "net/http_client.h"

namespace alertd::notifiers {

using net::EnsureCurlInitialized;
using net::HttpClient;
using net::HttpRequest;
using net::HttpResponse;
using net::kMaxResponseBody;
using net::ReadSecretFile;

// Classifies an HTTP delivery attempt as Alertmanager's notify.Retrier does: 2xx is success;
// otherwise the failure message is "unexpected status code N: <body excerpt>" and the attempt
// is retryable for 5xx and any code in `extra_retry_codes` (PagerDuty v2 adds 429, v1 403); every
// other 4xx (and 1xx/3xx) is final. A transport failure (no response: connection refused,
// TLS error, timeout) is always retryable. The one place alertd decides this.
struct NotifyResult;  // notifier.h
NotifyResult CheckHttpResponse(const HttpResponse& response,
                               std::span<const long> extra_retry_codes = {});

}  // namespace alertd::notifiers
