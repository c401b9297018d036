// Who may call which endpoint, and how, decided in one place: the route table kRouteAccess in
// api/access.cc, which the Router's guard (MakeAccessGuard) reads before any handler runs.
// Every check depends only on the method, the matched route and the headers, never on the
// body, so the guard can run as soon as the request headers are read.
//
// For each request, in order:
//   1. Routes verified by their own signature (the Slack and PagerDuty integration callbacks)
//      pass: no token, no role, no content-type check; their handler verifies the request.
//   2. Authentication and roles (api/auth.h): 401 without a valid token where one is needed,
//      403 when the token lacks the route's role.
//   3. Browsers are not clients: a mutating request (any method but GET and HEAD) must say
//      `Content-Type: application/json` (parameters such as `; charset=utf-8` allowed), or
//      get 415. A web page can make the browser POST a form or text/plain to 127.0.0.1 with
//      no CORS check, but not JSON. A request with no body and no Content-Type passes only
//      for DELETE (browsers never send a cross-site DELETE without a CORS preflight, which
//      alertd does not grant) and routes marked body-optional (POST /-/reload).
// A refused request gets a JSON {"error": ...} and its handler does not run: nothing changes.
//
// Thread-safety: everything here is immutable or pure; the guard is safe on any thread.
#pragma once

#include <optional>
#include <string_view>

#include "api/auth.h"
#include "api/server.h"
#include "config/config.h"

namespace alertd::api {

struct RouteAccess {
  config::Role role = config::Role::kAdmin;  // what a token needs here
  bool always_open = false;                  // never needs a token (/-/healthy, /-/ready)
  bool alert_intake = false;        // needs a token only with server.auth.protect_alert_posts
  bool signature_verified = false;  // no token, no content-type check: the handler verifies
  bool body_optional = false;       // may come with no body and no Content-Type
  bool admin_too = false;           // a token with `admin` may call it as well as with `role`
};

// The rule for `method` (HEAD counts as GET) on `route`, the pattern the Router matched
// ("/api/v2/silence/{id}"). Routes the table does not list: GET needs `read`, anything else
// `admin`.
RouteAccess AccessOf(std::string_view method, std::string_view route);

// Whether a Content-Type value names the media type application/json (case-insensitive,
// parameters ignored): "application/json; charset=utf-8" does, "application/jsonx" not.
bool IsJsonContentType(std::string_view value);

// Step 3 above: the 415 answer for a request that is not JSON where JSON is required.
std::optional<Response> CheckContentType(const Request& req, const RouteAccess& access);

// The Router's guard: steps 1 to 3. `holder` (may be null: no authentication at all; then
// Request::principal is left as it is) must outlive the router.
Router::Guard MakeAccessGuard(const AuthHolder* holder);

}  // namespace alertd::api
