// Bearer-token authentication and roles of the HTTP API, decided in one place: the Router's
// guard (api/access.h MakeAccessGuard) asks the current Authenticator before any handler
// runs, with the route's rule from the route table (api/access.cc).
//
// Policy (config `server.auth`):
//   - No tokens configured: no auth at all; every request passes with an empty principal.
//   - Mutating requests (every method but GET and HEAD: acknowledgements, silences, reload,
//     and any endpoint added later) need `Authorization: Bearer <token>` matching one of
//     `server.auth.tokens`.
//   - Alert intake (POST /api/v2/alerts, the webhook receiver) needs a token only with
//     `protect_alert_posts: true`, so Prometheus and Alertmanager senders keep working
//     unchanged by default.
//   - The integration callbacks (POST /api/v1/integrations/pagerduty and .../slack) never
//     need a token: PagerDuty and Slack sign each request instead (api/integrations.h).
//   - Reads (GET, HEAD) need a token only with `protect_reads: true`. /-/healthy and
//     /-/ready stay open always: probes carry no credentials and learn nothing from them.
//   - Where a token is needed, it must also hold the route's role (`roles:`; a token without
//     `roles` holds every role). An open endpoint is open to every caller, whatever roles a
//     token it presents has.
// A request that needs a token and has none, or a wrong one, gets 401 with a JSON error and
// `WWW-Authenticate: Bearer realm="alertd"`; a valid token without the role gets 403 with a
// JSON error. Either way its handler does not run, so nothing changes. A valid token's name
// lands in Request::principal (whether or not the endpoint needed it).
//
// Tokens are compared in constant time (SHA-256 digests compared with CRYPTO_memcmp, so
// neither the content nor the length of a secret leaks through timing). Secrets are never
// logged; refusals are logged with method, path, peer, the token's name and the reason only.
//
// Thread-safety: an Authenticator is immutable after FromConfig and safe to share; AuthHolder
// swaps the current one atomically (a reload re-reads token files and installs a new one).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/server.h"
#include "config/config.h"
#include "core/result.h"

namespace alertd::api {

struct RouteAccess;  // api/access.h

class Authenticator {
 public:
  // Builds the token set from `server`: inline tokens as given, token_file contents read now
  // (surrounding whitespace and the trailing newline trimmed). Fails, naming the token and
  // file but never the secret, when a file cannot be read or is empty.
  static Result<std::shared_ptr<const Authenticator>> FromConfig(
      const config::ServerConfig& server);

  // False when no tokens are configured (then Authorize never refuses).
  bool enabled() const { return !tokens_.empty(); }
  size_t token_count() const { return tokens_.size(); }

  // Whether a request for `method` on a route with rule `access` must carry a token.
  bool Requires(std::string_view method, const RouteAccess& access) const;

  // Checks `req` (Request::route set) against `access`, its route's rule; returns the 401 or
  // 403 answer when it must be refused, otherwise sets req.principal to the presented
  // token's name (if valid) and returns nullopt.
  std::optional<Response> Authorize(Request& req, const RouteAccess& access) const;

  // Whether GET and HEAD need a token (`protect_reads`).
  bool protect_reads() const { return protect_reads_; }

  // Who a token is: its name and roles.
  struct Identity {
    std::string name;
    config::RoleSet roles = config::kAllRoles;
  };
  // The token `secret` matches, or nullopt. Constant time in `secret` and in which token
  // matches.
  std::optional<Identity> Identify(std::string_view secret) const;
  // The token an `Authorization` header value presents ("Bearer <secret>", scheme in any
  // case), or nullopt when it presents none that matches.
  std::optional<Identity> IdentifyHeader(std::string_view authorization) const;

 private:
  struct Token {
    std::string name;
    std::array<unsigned char, 32> digest;  // SHA-256 of the secret
    config::RoleSet roles = config::kAllRoles;
  };
  // The token `secret` matches, or null. Constant time as Match.
  const Token* MatchToken(std::string_view secret) const;
  std::vector<Token> tokens_;
  bool protect_reads_ = false;
  bool protect_alert_posts_ = false;
};

// The Authenticator in force. Thread-safe.
class AuthHolder {
 public:
  std::shared_ptr<const Authenticator> Get() const {
    std::lock_guard l(mu_);
    return current_;
  }
  void Set(std::shared_ptr<const Authenticator> a) {
    std::lock_guard l(mu_);
    current_ = std::move(a);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Authenticator> current_;  // GUARDED_BY(mu_)
};

}  // namespace alertd::api
