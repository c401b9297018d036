// The web page's endpoints (api/web.cc): the page and its hashed assets are served, open to
// everyone even when reads need a token, with the security headers; index.html names only
// assets that exist; /api/v1/auth tells the roles of the presented token.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "api/api.h"
#include "api/web_assets.h"

using namespace alertd;
using namespace alertd::api;
using json = nlohmann::json;

namespace {

struct WebApi {
  AuthHolder auth;
  std::shared_ptr<Router> http = std::make_shared<Router>();

  // `tokens`: configure a read-only and an all-roles token, reads protected.
  explicit WebApi(bool tokens) {
    config::ServerConfig s;
    if (tokens) {
      s.auth_tokens.push_back({"viewer", "viewer-secret", "", config::RoleSet(config::Role::kRead)});
      s.auth_tokens.push_back({"oncall", "oncall-secret", "", config::kAllRoles});
      s.auth_reads = true;
    }
    auto a = Authenticator::FromConfig(s);
    REQUIRE(a.ok());
    auth.Set(*a);
    ApiContext ctx;
    ctx.auth = &auth;
    RegisterApi(*http, ctx);
  }

  Response Get(const std::string& path, const std::string& bearer = "") {
    Request req;
    req.method = "GET";
    req.target = req.path = path;
    if (!bearer.empty()) req.headers["authorization"] = "Bearer " + bearer;
    Response out;
    http->Dispatch(req, [&](Response r) {
      r.DrainStream();
      out = std::move(r);
    });
    return out;
  }
};

std::string HeaderOf(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

TEST_CASE("web: the page and every asset it names are served, open, with security headers") {
  WebApi api(/*tokens=*/true);
  // Reads need a token, but not the page: it holds no data and asks for a token itself.
  CHECK(api.Get("/api/v2/silences").status == 401);
  Response page = api.Get("/");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  const std::string csp = HeaderOf(page, "Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("unsafe-eval") == std::string::npos);
  CHECK(HeaderOf(page, "X-Content-Type-Options") == "nosniff");
  CHECK(HeaderOf(page, "X-Frame-Options") == "DENY");
  CHECK(HeaderOf(page, "Cache-Control") == "no-cache");
  // No inline script: every <script> has a src.
  CHECK(std::regex_search(page.body, std::regex("<script(?![^>]*\\bsrc=)[^>]*>")) == false);
  // Every asset index.html names is served, under its hashed name, cacheable for ever.
  std::regex ref("\"assets/([^\"]+)\"");
  size_t named = 0;
  for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), ref);
       it != std::sregex_iterator(); ++it) {
    ++named;
    const std::string name = (*it)[1];
    CHECK(std::regex_match(name, std::regex("[A-Za-z0-9_-]+\\.[0-9a-f]{12}\\.[a-z]+")));
    Response a = api.Get("/assets/" + name);
    CHECK_MESSAGE(a.status == 200, name);
    CHECK_FALSE(a.body.empty());
    CHECK(HeaderOf(a, "Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(HeaderOf(a, "X-Content-Type-Options") == "nosniff");
  }
  CHECK(named >= 2);  // the script and the style sheet at least
  size_t total = kWebIndex.size;
  for (const WebAsset* a = kWebAssets; a->name; ++a) total += a->size;
  CHECK_MESSAGE(total < 400 * 1024, "the page weighs " << total << " bytes");
  Response missing = api.Get("/assets/app.000000000000.js");
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body).contains("error"));
}

TEST_CASE("web: /api/v1/auth names the presented token's roles") {
  WebApi api(/*tokens=*/true);
  json none = json::parse(api.Get("/api/v1/auth").body);
  CHECK(none["enabled"] == true);
  CHECK(none["protectReads"] == true);
  CHECK(none["authenticated"] == false);
  CHECK(none["token"].is_null());
  CHECK(none["roles"].empty());
  json viewer = json::parse(api.Get("/api/v1/auth", "viewer-secret").body);
  CHECK(viewer["authenticated"] == true);
  CHECK(viewer["token"] == "viewer");
  CHECK(viewer["roles"] == json::array({"read"}));
  json oncall = json::parse(api.Get("/api/v1/auth", "oncall-secret").body);
  CHECK(oncall["roles"] == json::array({"read", "alerts", "ack", "silence", "admin", "schedule"}));
  json wrong = json::parse(api.Get("/api/v1/auth", "guess").body);
  CHECK(wrong["authenticated"] == false);
  CHECK(wrong["roles"].empty());
  // The answer never carries a secret.
  CHECK(api.Get("/api/v1/auth", "oncall-secret").body.find("secret") == std::string::npos);

  WebApi open(/*tokens=*/false);
  json anyone = json::parse(open.Get("/api/v1/auth").body);
  CHECK(anyone["enabled"] == false);
  CHECK(anyone["roles"].size() == 6);
}
