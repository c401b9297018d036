// The outbound HTTP client of the notifiers: one per integration instance, built from
// Alertmanager's `http_config` (basic_auth, authorization / bearer_token(_file), proxy_url,
// tls_config, follow_redirects, enable_http2). Backed by libcurl; curl's types stay in the .cc.
//
// Secrets given as files (basic_auth.password_file, authorization.credentials_file) are read
// once, in Create, so a configuration reload that builds new clients reads them again. No
// method ever puts a URL, header value or secret into an error message: a Slack webhook URL is
// itself a secret.
//
// Thread-safe: Do may be called from many threads at once. Connections are kept alive and
// reused across calls (a small pool of curl handles, each with its own connection cache).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd::notifiers {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  Duration timeout = std::chrono::seconds(10);               // whole request; > 0
};

struct HttpResponse {
  // OK when an HTTP response arrived (whatever its status). Otherwise the transport failed:
  // kTimeout when `timeout` passed, kUnavailable for connection/TLS/protocol errors,
  // kInvalidArgument for a malformed URL.
  Status transport;
  long status = 0;
  std::string content_type;
  std::string body;  // at most kMaxResponseBody bytes are kept
};

inline constexpr size_t kMaxResponseBody = 64 * 1024;

class HttpClient {
 public:
  // Builds a client; reads the secret files named in `cfg`. Fails (InvalidArgument) if a file
  // cannot be read or a TLS file does not exist. `user_agent` is sent with every request.
  static Result<std::unique_ptr<HttpClient>> Create(const config::HTTPClientConfig& cfg,
                                                    std::string user_agent);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request, blocking for at most request.timeout.
  HttpResponse Do(const HttpRequest& request);

 private:
  struct Settings;
  struct Handle;
  explicit HttpClient(std::unique_ptr<Settings> settings);
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> h);

  std::unique_ptr<const Settings> settings_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;  // GUARDED_BY(mu_)
};

// Classifies an HTTP delivery attempt as Alertmanager's notify.Retrier does: 2xx is success;
// otherwise the failure message is "unexpected status code N: <body excerpt>" and the attempt
// is retryable for 5xx, 429 and any code in `extra_retry_codes` (PagerDuty v1 adds 403); every
// other 4xx (and 1xx/3xx) is final. A transport failure (no response: connection refused,
// TLS error, timeout) is always retryable. The one place alertd decides this.
struct NotifyResult;  // notifier.h
NotifyResult CheckHttpResponse(const HttpResponse& response,
                               std::span<const long> extra_retry_codes = {});

// Reads a secret file and trims surrounding whitespace, as Alertmanager does for *_file
// secrets. The error names the file but never its content.
Result<std::string> ReadSecretFile(const std::string& path);

// Makes sure curl_global_init has run (idempotent, thread-safe).
void EnsureCurlInitialized();

}  // namespace alertd::notifiers
