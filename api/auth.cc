#include "api/auth.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "api/access.h"

namespace alertd::api {
namespace {

std::array<unsigned char, 32> Digest(std::string_view s) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool IEqualsPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

Response Unauthorized(std::string_view message, bool invalid_token) {
  Response r = Response::Error(401, message);
  r.headers.emplace_back("WWW-Authenticate",
                         invalid_token ? "Bearer realm=\"alertd\", error=\"invalid_token\""
                                       : "Bearer realm=\"alertd\"");
  return r;
}

}  // namespace

Result<std::shared_ptr<const Authenticator>> Authenticator::FromConfig(
    const config::ServerConfig& server) {
  auto a = std::make_shared<Authenticator>();
  a->protect_reads_ = server.auth_reads;
  a->protect_alert_posts_ = server.auth_alert_posts;
  for (const auto& t : server.auth_tokens) {
    std::string secret = t.token;
    if (!t.token_file.empty()) {
      std::ifstream in(t.token_file, std::ios::binary);
      if (!in) {
        return Status::InvalidArgument(fmt::format(
            "server auth token \"{}\": cannot read token_file {}", t.name, t.token_file));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      secret = std::string(Trim(ss.str()));
      if (secret.empty()) {
        return Status::InvalidArgument(
            fmt::format("server auth token \"{}\": token_file {} is empty", t.name, t.token_file));
      }
    }
    a->tokens_.push_back(Token{t.name, Digest(secret), t.roles});
  }
  return std::shared_ptr<const Authenticator>(std::move(a));
}

bool Authenticator::Requires(std::string_view method, const RouteAccess& access) const {
  if (tokens_.empty() || access.always_open || access.signature_verified) return false;
  if (method == "GET" || method == "HEAD") return protect_reads_;
  if (access.alert_intake) return protect_alert_posts_;
  return true;
}

std::optional<Authenticator::Identity> Authenticator::Identify(std::string_view secret) const {
  const Token* t = MatchToken(secret);
  if (!t) return std::nullopt;
  return Identity{t->name, t->roles};
}

std::optional<Authenticator::Identity> Authenticator::IdentifyHeader(
    std::string_view authorization) const {
  const std::string_view header = Trim(authorization);
  if (!IEqualsPrefix(header, "bearer ")) return std::nullopt;
  return Identify(Trim(header.substr(7)));
}

const Authenticator::Token* Authenticator::MatchToken(std::string_view secret) const {
  // Every configured token is compared, whichever matches, so the time taken says nothing
  // about which one (or whether one) did; digests make the comparison length-independent.
  const auto d = Digest(secret);
  const Token* found = nullptr;
  for (const auto& t : tokens_) {
    const bool eq = CRYPTO_memcmp(d.data(), t.digest.data(), d.size()) == 0;
    if (eq && !found) found = &t;
  }
  return found;
}

std::optional<Response> Authenticator::Authorize(Request& req, const RouteAccess& access) const {
  req.principal.clear();
  if (tokens_.empty()) return std::nullopt;
  const bool required = Requires(req.method, access);
  const std::string_view header = Trim(req.Header("authorization"));
  if (header.empty()) {
    if (!required) return std::nullopt;
    spdlog::info("auth: refused {} {} from {}: no bearer token", req.method, req.path,
                 req.remote_address);
    return Unauthorized("authentication required: send Authorization: Bearer <token>", false);
  }
  const Token* token = nullptr;
  if (IEqualsPrefix(header, "bearer ")) token = MatchToken(Trim(header.substr(7)));
  if (!token) {
    if (!required) return std::nullopt;  // an open endpoint ignores credentials it cannot use
    spdlog::info("auth: refused {} {} from {}: {}", req.method, req.path, req.remote_address,
                 IEqualsPrefix(header, "bearer ") ? "unknown token" : "not a bearer token");
    return Unauthorized("invalid bearer token", true);
  }
  if (required && !config::HasRole(token->roles, access.role) &&
      !(access.admin_too && config::HasRole(token->roles, config::Role::kAdmin))) {
    const std::string role =
        access.admin_too ? fmt::format("\"{}\" or \"admin\"", config::RoleName(access.role))
                         : fmt::format("\"{}\"", config::RoleName(access.role));
    spdlog::info("auth: refused {} {} from {}: token \"{}\" lacks the {} role", req.method,
                 req.path, req.remote_address, token->name, role);
    return Response::Error(403, fmt::format("token \"{}\" lacks the {} role that {} {} needs",
                                            token->name, role, req.method, req.route));
  }
  req.principal = token->name;
  return std::nullopt;
}

}  // namespace alertd::api
