#include "api/access.h"

#include <cctype>

namespace alertd::api {
namespace {

using config::Role;

enum Flag : unsigned {
  kNone = 0,
  kAlwaysOpen = 1,
  kAlertIntake = 2,
  kSignatureVerified = 4,  // verified by its own signature: no token, no content-type check
  kBodyOptional = 8,
  kAdminToo = 16,  // `admin` may do it as well
};

struct Rule {
  std::string_view method;
  std::string_view pattern;
  Role role;
  unsigned flags;
};

// Every endpoint whose rule is not the default (GET: read; anything else: admin). An endpoint
// added later adds its line here.
constexpr Rule kRouteAccess[] = {
    {"GET", "/-/healthy", Role::kRead, kAlwaysOpen},
    {"GET", "/-/ready", Role::kRead, kAlwaysOpen},
    // The web page's files hold no data; the page asks for a token itself. /api/v1/auth says
    // only what the presented token may do.
    {"GET", "/", Role::kRead, kAlwaysOpen},
    {"GET", "/assets/{name}", Role::kRead, kAlwaysOpen},
    {"GET", "/api/v1/auth", Role::kRead, kAlwaysOpen},
    {"POST", "/api/v2/alerts", Role::kAlerts, kAlertIntake},
    {"POST", "/api/v1/webhook/alertmanager", Role::kAlerts, kAlertIntake},
    // A cron job's `curl -X POST` carries no body.
    {"POST", "/api/v1/heartbeats/{name}", Role::kAlerts, kAlertIntake | kBodyOptional},
    {"POST", "/api/v2/silences", Role::kSilence, kNone},
    {"DELETE", "/api/v2/silence/{id}", Role::kSilence, kNone},
    {"POST", "/api/v1/alerts/{fingerprint}/ack", Role::kAck, kNone},
    {"DELETE", "/api/v1/alerts/{fingerprint}/ack", Role::kAck, kNone},
    {"POST", "/api/v1/acks", Role::kAck, kNone},
    {"POST", "/api/v1/schedules/{name}/overrides", Role::kSchedule, kAdminToo},
    {"DELETE", "/api/v1/schedules/{name}/overrides/{id}", Role::kSchedule, kAdminToo},
    {"POST", "/-/reload", Role::kAdmin, kBodyOptional},
    {"POST", "/api/v1/receivers/{name}/test", Role::kAdmin, kBodyOptional},
    // Acknowledgements coming back from Slack (a form post) and PagerDuty (webhooks v3): the
    // handler checks the request's signature against the integration's signing secret.
    {"POST", "/api/v1/integrations/slack", Role::kAck, kSignatureVerified},
    {"POST", "/api/v1/integrations/pagerduty", Role::kAck, kSignatureVerified},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsRead(std::string_view method) { return method == "GET" || method == "HEAD"; }

// Whether the headers announce a body (a Content-Length other than 0, or chunked transfer).
bool HasBody(const Request& req) {
  if (!req.Header("transfer-encoding").empty()) return true;
  const std::string_view len = Trim(req.Header("content-length"));
  return !len.empty() && len.find_first_not_of('0') != std::string_view::npos;
}

}  // namespace

RouteAccess AccessOf(std::string_view method, std::string_view route) {
  const std::string_view m = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& r : kRouteAccess) {
    if (r.method == m && r.pattern == route) {
      RouteAccess a;
      a.role = r.role;
      a.always_open = (r.flags & kAlwaysOpen) != 0;
      a.alert_intake = (r.flags & kAlertIntake) != 0;
      a.signature_verified = (r.flags & kSignatureVerified) != 0;
      a.body_optional = (r.flags & kBodyOptional) != 0;
      a.admin_too = (r.flags & kAdminToo) != 0;
      return a;
    }
  }
  RouteAccess a;
  a.role = IsRead(m) ? Role::kRead : Role::kAdmin;
  return a;
}

bool IsJsonContentType(std::string_view value) {
  const size_t semi = value.find(';');
  return IEquals(Trim(value.substr(0, semi)), "application/json");
}

std::optional<Response> CheckContentType(const Request& req, const RouteAccess& access) {
  if (IsRead(req.method) || access.signature_verified) return std::nullopt;
  const std::string_view type = req.Header("content-type");
  if (type.empty()) {
    if ((req.method == "DELETE" || access.body_optional) && !HasBody(req)) return std::nullopt;
    return Response::Error(
        415, "Content-Type: application/json is required for " + req.method + " " + req.path);
  }
  if (IsJsonContentType(type)) return std::nullopt;
  return Response::Error(415, "unsupported Content-Type \"" + std::string(type) +
                                  "\": " + req.method + " " + req.path + " takes application/json");
}

Router::Guard MakeAccessGuard(const AuthHolder* holder) {
  return [holder](Request& req) -> std::optional<Response> {
    const RouteAccess access = AccessOf(req.method, req.route);
    if (access.signature_verified) {
      req.principal.clear();
      return std::nullopt;
    }
    if (holder) {
      auto a = holder->Get();
      if (!a) {
        req.principal.clear();
      } else if (auto refusal = a->Authorize(req, access)) {
        return refusal;
      }
    }
    return CheckContentType(req, access);
  };
}

}  // namespace alertd::api
