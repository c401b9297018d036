// alertd's outbound HTTP client, the one place an `http_config` (Prometheus / Alertmanager:
// basic_auth, authorization / bearer_token(_file), oauth2 (net/oauth2.h), proxy_url,
// tls_config, follow_redirects, enable_http2, headers) becomes a libcurl handle. Used by the
// notifiers, the rule engine's datasource client and remote write. Backed by libcurl; curl's
// types stay in the .cc.
//
// Secrets given as files (basic_auth.username_file / password_file,
// authorization.credentials_file) are read on every request, as Prometheus and Alertmanager do,
// so a rotated file is used from the next request on; Create reads them once to refuse a
// configuration whose files cannot be read. No method ever puts a URL, header value or secret
// into an error message: a Slack webhook URL is itself a secret.
//
// Environment proxies (http_proxy, https_proxy, all_proxy, no_proxy) are never used: only
// proxy_url. libcurl would otherwise honour them on its own.
//
// Thread-safe: Do may be called from many threads at once. Connections are kept alive and
// reused across calls (a small pool of curl handles, each with its own connection cache).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd::net {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  Duration timeout = std::chrono::seconds(10);               // whole request; <= 0: no limit
  // 0: the first kMaxResponseBody bytes of the body are kept, the rest is read and dropped.
  // > 0: the whole body is kept, and a body over this many bytes (decompressed) aborts the
  // transfer: transport fails (kUnavailable) and too_large is set.
  size_t max_response_bytes = 0;
  bool accept_compressed = false;  // ask for gzip/deflate/br and decompress the answer
  // When set, the credentials this request sent (as read from their files for it, too) are
  // appended, so a caller can keep them out of error text that quotes the server.
  std::vector<std::string>* secrets_out = nullptr;
};

struct HttpResponse {
  // OK when an HTTP response arrived (whatever its status). Otherwise the transport failed:
  // kTimeout when `timeout` passed, kUnavailable for connection/TLS/protocol errors,
  // kInvalidArgument for a malformed URL.
  Status transport;
  long status = 0;
  std::string content_type;
  std::string body;  // see HttpRequest::max_response_bytes
  bool too_large = false;
};

inline constexpr size_t kMaxResponseBody = 64 * 1024;

class HttpClient {
 public:
  // Builds a client. Fails (InvalidArgument) if a secret file named in `cfg` cannot be read now
  // or a TLS file does not exist. `user_agent` is sent with every request.
  static Result<std::unique_ptr<HttpClient>> Create(const config::HTTPClientConfig& cfg,
                                                    std::string user_agent);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request, blocking for at most request.timeout. A secret file that cannot be
  // read at this request fails it (transport kUnavailable, naming the file).
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

// Reads a secret file and trims surrounding whitespace, as Alertmanager does for *_file
// secrets. The error names the file but never its content.
Result<std::string> ReadSecretFile(const std::string& path);

// Makes sure curl_global_init has run (idempotent, thread-safe).
void EnsureCurlInitialized();

// Percent-encodes every byte but unreserved ones (RFC 3986), for query strings and forms.
std::string PercentEncode(std::string_view s);
// Decodes %XX escapes; the input unchanged where it has none.
std::string PercentDecode(std::string_view s);

}  // namespace alertd::net
