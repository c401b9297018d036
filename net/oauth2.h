// The OAuth 2.0 client credentials grant of an http_config `oauth2` section, as Prometheus
// and Alertmanager run it (prometheus/common's oauth2 round tripper over golang.org/x/oauth2's
// clientcredentials package):
//
// - the token request is a POST of `grant_type=client_credentials`, `scope` (the scopes joined
//   by spaces, when there are any) and `endpoint_params` (which may replace grant_type but no
//   other parameter) to token_url, form-encoded, through the section's own proxy_url and
//   tls_config, with the User-Agent of the request it is for;
// - the client id and secret go as HTTP basic auth (each QueryEscaped first); when that request
//   fails, the same request is tried once more with them as `client_id` / `client_secret` form
//   parameters, and whichever worked is used from then on;
// - the answer is JSON (or a form, for text/plain and application/x-www-form-urlencoded) with
//   access_token, token_type and expires_in; the token is kept until 10 seconds before it
//   expires (forever without expires_in), then fetched again;
// - client_secret_file is read at every request; when its content changed, the kept token is
//   dropped and a new one fetched with the new secret.
//
// Errors name the token URL's failure (HTTP status, the `error` code of an RFC 6749 answer)
// but never the secret, the token or the answer's body.
//
// Thread-safe: one token fetch at a time; other requests wait for it and use its token.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "core/time.h"

namespace alertd::net {

class HttpClient;

class OAuth2TokenSource {
 public:
  // Fails (InvalidArgument) when client_secret_file cannot be read now or a tls_config file
  // does not exist. `user_agent` is sent with the token requests (the client's own).
  static Result<std::unique_ptr<OAuth2TokenSource>> Create(const config::OAuth2Config& cfg,
                                                           const std::string& user_agent);
  ~OAuth2TokenSource();
  OAuth2TokenSource(const OAuth2TokenSource&) = delete;
  OAuth2TokenSource& operator=(const OAuth2TokenSource&) = delete;

  // The Authorization header value for a request ("Bearer <token>"), fetching a token if none
  // is kept or it expires within 10 s. `timeout` bounds each token request. The secret and
  // the token are appended to `secrets_out` when it is set. Fails with kUnavailable (or
  // kTimeout) when no token could be had.
  Result<std::string> Authorization(Duration timeout, std::vector<std::string>* secrets_out)
      EXCLUDES(mu_);

 private:
  enum class AuthStyle { kUnknown, kHeader, kParams };
  struct Token {
    std::string access_token;
    std::string type;  // as sent in the header: "Bearer", "MAC", "Basic" or the server's
    std::optional<std::chrono::steady_clock::time_point> expiry;
  };

  OAuth2TokenSource(config::OAuth2Config cfg, std::unique_ptr<HttpClient> client);
  // One token request with the client credentials sent as `style`.
  Result<Token> Fetch(const std::string& secret, AuthStyle style, Duration timeout);

  const config::OAuth2Config cfg_;
  const std::unique_ptr<HttpClient> client_;  // for token_url: the section's proxy and TLS
  Mutex mu_;
  std::optional<Token> token_ GUARDED_BY(mu_);
  std::string secret_ GUARDED_BY(mu_);  // the client secret token_ was fetched with
  AuthStyle style_ GUARDED_BY(mu_) = AuthStyle::kUnknown;
};

}  // namespace alertd::net
