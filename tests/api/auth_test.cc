// The auth guard on a Router with recording handlers: which requests are refused under which
// configuration, that refused handlers never run, and the principal handlers see.
#include "api/auth.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include "api/access.h"
#include "api/api.h"

using namespace alertd;
using namespace alertd::api;

namespace {

config::ServerConfig AuthConfig(bool reads, bool posts) {
  config::ServerConfig s;
  s.auth_tokens = {{"admin", "admin-secret", ""}, {"robot", "robot-secret", ""}};
  s.auth_reads = reads;
  s.auth_alert_posts = posts;
  return s;
}

struct Outcome {
  int status = 0;
  bool ran = false;
  std::string principal;
  std::string www_authenticate;
};

Outcome Call(const AuthHolder& holder, const std::string& method, const std::string& path,
             const std::string& authorization) {
  Outcome o;
  Router router;
  auto record = [&o](const Request& req) {
    o.ran = true;
    o.principal = req.principal;
    return Response::Json(200, "{}");
  };
  for (const char* p : {"/api/v2/alerts", "/api/v1/webhook/alertmanager", "/api/v2/silences",
                        "/-/reload", "/api/v1/alerts/{fingerprint}/ack", "/api/v1/acks",
                        "/api/v1/integrations/pagerduty", "/api/v1/integrations/slack"}) {
    router.HandleSync("POST", p, record);
  }
  for (const char* p : {"/api/v2/alerts", "/api/v2/silences", "/-/healthy", "/-/ready", "/metrics",
                        "/api/v1/acks"}) {
    router.HandleSync("GET", p, record);
  }
  router.HandleSync("DELETE", "/api/v2/silence/{id}", record);
  router.HandleSync("DELETE", "/api/v1/alerts/{fingerprint}/ack", record);
  router.SetGuard(MakeAccessGuard(&holder));
  Request req;
  req.method = method;
  req.path = path;
  if (!authorization.empty()) req.headers["authorization"] = authorization;
  if (method != "GET" && method != "HEAD") req.headers["content-type"] = "application/json";
  router.Dispatch(req, [&o](Response r) {
    o.status = r.status;
    for (const auto& [k, v] : r.headers) {
      if (k == "WWW-Authenticate") o.www_authenticate = v;
    }
  });
  return o;
}

}  // namespace

TEST_CASE("auth guard: table of requests under each configuration") {
  struct Row {
    const char* name;
    bool reads, posts;
    const char* method;
    const char* path;
    const char* authorization;
    int status;
    const char* principal;
  };
  const Row rows[] = {
      {"silence without token", false, false, "POST", "/api/v2/silences", "", 401, ""},
      {"silence, wrong token", false, false, "POST", "/api/v2/silences", "Bearer nope", 401, ""},
      {"silence, basic scheme", false, false, "POST", "/api/v2/silences", "Basic admin-secret", 401,
       ""},
      {"silence, admin", false, false, "POST", "/api/v2/silences", "Bearer admin-secret", 200,
       "admin"},
      {"silence, robot", false, false, "POST", "/api/v2/silences", "Bearer robot-secret", 200,
       "robot"},
      {"scheme case-insensitive", false, false, "POST", "/api/v2/silences", "bEaReR robot-secret",
       200, "robot"},
      {"delete silence without token", false, false, "DELETE", "/api/v2/silence/abc", "", 401, ""},
      {"ack without token", false, false, "POST", "/api/v1/alerts/0123/ack", "", 401, ""},
      {"ack with token", false, false, "POST", "/api/v1/alerts/0123/ack", "Bearer admin-secret",
       200, "admin"},
      {"un-ack without token", false, false, "DELETE", "/api/v1/alerts/0123/ack", "", 401, ""},
      {"bulk ack without token", false, false, "POST", "/api/v1/acks", "", 401, ""},
      {"reload without token", false, false, "POST", "/-/reload", "", 401, ""},
      {"read open", false, false, "GET", "/api/v2/silences", "", 200, ""},
      {"read open, token still names", false, false, "GET", "/api/v1/acks", "Bearer robot-secret",
       200, "robot"},
      {"read open, bad token ignored", false, false, "GET", "/api/v2/alerts", "Bearer x", 200, ""},
      {"HEAD is a read", false, false, "HEAD", "/api/v2/alerts", "", 200, ""},
      {"alert post open", false, false, "POST", "/api/v2/alerts", "", 200, ""},
      {"webhook open", false, false, "POST", "/api/v1/webhook/alertmanager", "", 200, ""},
      {"reads protected", true, false, "GET", "/api/v2/alerts", "", 401, ""},
      {"metrics protected", true, false, "GET", "/metrics", "", 401, ""},
      {"reads protected, token", true, false, "GET", "/metrics", "Bearer admin-secret", 200,
       "admin"},
      {"healthy always open", true, true, "GET", "/-/healthy", "", 200, ""},
      {"ready always open", true, true, "GET", "/-/ready", "", 200, ""},
      {"alert posts protected", false, true, "POST", "/api/v2/alerts", "", 401, ""},
      {"webhook protected", false, true, "POST", "/api/v1/webhook/alertmanager", "", 401, ""},
      {"alert posts protected, token", false, true, "POST", "/api/v2/alerts", "Bearer robot-secret",
       200, "robot"},
      {"unknown path is still 404", true, true, "GET", "/nope", "", 404, ""},
      // Verified by their own signatures (api/integrations.h), whatever is protected.
      {"PagerDuty webhook needs no token", true, true, "POST", "/api/v1/integrations/pagerduty",
       "", 200, ""},
      {"Slack interaction needs no token", true, true, "POST", "/api/v1/integrations/slack", "",
       200, ""},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    AuthHolder holder;
    auto a = Authenticator::FromConfig(AuthConfig(row.reads, row.posts));
    REQUIRE(a.ok());
    holder.Set(*a);
    const Outcome o = Call(holder, row.method, row.path, row.authorization);
    CHECK(o.status == row.status);
    CHECK(o.ran == (row.status == 200));
    CHECK(o.principal == row.principal);
    if (row.status == 401) CHECK(o.www_authenticate.find("Bearer realm=\"alertd\"") == 0);
  }
}

TEST_CASE("auth guard: no tokens configured means no auth") {
  for (bool reads : {false, true}) {
    AuthHolder holder;
    auto a = Authenticator::FromConfig(AuthConfig(reads, true));
    REQUIRE(a.ok());
    config::ServerConfig none;
    none.auth_reads = reads;
    auto open = Authenticator::FromConfig(none);
    REQUIRE(open.ok());
    CHECK_FALSE((*open)->enabled());
    holder.Set(*open);
    CHECK(Call(holder, "POST", "/api/v2/silences", "").status == 200);
    CHECK(Call(holder, "GET", "/metrics", "").status == 200);
    AuthHolder unset;  // nothing installed: open as well
    CHECK(Call(unset, "DELETE", "/api/v2/silence/x", "").status == 200);
  }
}

TEST_CASE("token files: read and trimmed; unreadable or empty files are errors without secrets") {
  const std::string path = "/tmp/alertd-auth-test-token-" + std::to_string(::getpid());
  { std::ofstream(path) << "  file-secret\n\n"; }
  config::ServerConfig s;
  s.auth_tokens = {{"filed", "", path}};
  auto a = Authenticator::FromConfig(s);
  REQUIRE(a.ok());
  REQUIRE((*a)->Identify("file-secret").has_value());
  CHECK((*a)->Identify("file-secret")->name == "filed");
  CHECK_FALSE((*a)->Identify("file-secret\n").has_value());
  CHECK_FALSE((*a)->Identify("").has_value());

  { std::ofstream(path) << "\n"; }
  auto empty = Authenticator::FromConfig(s);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message().find("is empty") != std::string::npos);
  std::remove(path.c_str());
  auto missing = Authenticator::FromConfig(s);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kInvalidArgument);
  CHECK(missing.status().message().find("\"filed\"") != std::string::npos);
  CHECK(missing.status().message().find(path) != std::string::npos);
}
