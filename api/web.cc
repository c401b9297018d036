// The web page (web/, embedded by cmake/embed_web.cmake): GET / and GET /assets/{name}, open
// to everyone (the page asks for a token itself and sends it with its API calls), and
// GET /api/v1/auth, which tells the page whether auth is on and what the presented token may
// do, so it can hide the actions the token's roles do not allow.
//
// The page is served with the headers a reviewer expects of a page that shows untrusted text
// (alert labels and annotations, comments): a Content-Security-Policy that allows only the
// page's own files (no inline script or style, no eval, no other origin, no framing, no form
// posts), nosniff, no referrer, no framing for older browsers.
#include <cstring>
#include <string_view>

#include "api/api.h"
#include "api/json_writer.h"
#include "api/web_assets.h"

namespace alertd::api {
namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

Response AssetResponse(const WebAsset& a, bool immutable) {
  Response r;
  r.content_type = a.content_type;
  r.body.assign(reinterpret_cast<const char*>(a.data), a.size);
  r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  // Hashed names change with their content; the page itself is asked for every time.
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

const WebAsset* FindAsset(std::string_view name) {
  for (const WebAsset* a = kWebAssets; a->name; ++a) {
    if (name == a->name) return a;
  }
  return nullptr;
}

Response GetAuth(const ApiContext& ctx, const Request& req) {
  std::shared_ptr<const Authenticator> a = ctx.auth ? ctx.auth->Get() : nullptr;
  const bool enabled = a && a->enabled();
  std::optional<Authenticator::Identity> id;
  if (enabled) id = a->IdentifyHeader(req.Header("authorization"));
  const config::RoleSet roles = !enabled ? config::kAllRoles : id ? id->roles : 0;
  std::string b = "{\"enabled\":";
  b += enabled ? "true" : "false";
  b += ",\"protectReads\":";
  b += enabled && a->protect_reads() ? "true" : "false";
  b += ",\"authenticated\":";
  b += id ? "true" : "false";
  b += ",\"token\":";
  if (id) {
    AppendJsonString(&b, id->name);
  } else {
    b += "null";
  }
  b += ",\"roles\":[";
  bool first = true;
  for (config::Role r : {config::Role::kRead, config::Role::kAlerts, config::Role::kAck,
                         config::Role::kSilence, config::Role::kAdmin, config::Role::kSchedule}) {
    if (!config::HasRole(roles, r)) continue;
    if (!first) b += ',';
    first = false;
    AppendJsonString(&b, config::RoleName(r));
  }
  b += "]}\n";
  return Response::Json(200, std::move(b));
}

}  // namespace

void RegisterWeb(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/", [](const Request&) { return AssetResponse(kWebIndex, false); });
  router.HandleSync("GET", "/assets/{name}", [](const Request& req) {
    const WebAsset* a = FindAsset(req.path_params.at("name"));
    if (!a) return Response::Error(404, "no such asset: " + req.path);
    return AssetResponse(*a, true);
  });
  router.HandleSync("GET", "/api/v1/auth", [ctx](const Request& req) { return GetAuth(ctx, req); });
}

}  // namespace alertd::api
