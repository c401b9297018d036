// net::HttpClient against a real local HTTP server (python3's http.server): secret files read
// at every request; proxies from the environment used only with proxy_from_environment;
// no_proxy; proxy_connect_header sent with CONNECT to a real proxy
// (tests/notifiers/fixtures/tls_proxy.py).
#include "net/http_client.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "tests/support/process.h"

namespace alertd::net {
namespace {

using namespace std::chrono_literals;

// Answers every GET with the request's Authorization header as its body.
constexpr const char* kEchoServer = R"(
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.headers.get("Authorization") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)";

struct EchoServer {
  std::string dir = testing::MakeTempDir("net-http");
  int port = testing::FreePort();
  testing::Process proc;
  EchoServer() {
    testing::WriteFile(dir + "/server.py", kEchoServer);
    proc = testing::Process::Start({"/usr/bin/python3", dir + "/server.py", std::to_string(port)},
                                   dir + "/server.log");
    REQUIRE(testing::WaitFor(
        [&] {
          auto c = HttpClient::Create(config::HTTPClientConfig{}, "t");
          HttpRequest r;
          r.method = "GET";
          r.url = url();
          r.timeout = 1s;
          return (*c)->Do(r).status == 200;
        },
        10000ms));
  }
  ~EchoServer() {
    proc.Stop();
    testing::RemoveTree(dir);
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/", port); }
};

HttpResponse Get(HttpClient& c, const std::string& url) {
  HttpRequest r;
  r.method = "GET";
  r.url = url;
  r.timeout = 5s;
  return c.Do(r);
}

TEST_CASE("authorization.credentials_file is read again at every request") {
  EchoServer server;
  const std::string token = server.dir + "/token";
  testing::WriteFile(token, "first\n");
  config::HTTPClientConfig cfg;
  config::Authorization authz;
  authz.credentials_file = token;
  cfg.authorization = authz;
  auto c = HttpClient::Create(cfg, "t");
  REQUIRE(c.ok());
  auto r = Get(**c, server.url());
  REQUIRE(r.transport.ok());
  CHECK(r.body == "Bearer first");
  testing::WriteFile(token, "second");  // rotated: the same client sends the new token
  r = Get(**c, server.url());
  REQUIRE(r.transport.ok());
  CHECK(r.body == "Bearer second");
  std::vector<std::string> secrets;
  HttpRequest req;
  req.method = "GET";
  req.url = server.url();
  req.secrets_out = &secrets;
  (*c)->Do(req);
  CHECK(std::find(secrets.begin(), secrets.end(), "second") != secrets.end());
  // A file gone at send time fails that request, naming the file but no secret.
  testing::RemoveTree(token);
  r = Get(**c, server.url());
  CHECK(r.transport.code() == Status::Code::kUnavailable);
  CHECK(r.transport.message().find(token) != std::string::npos);
  // At creation, an unreadable file refuses the configuration.
  CHECK_FALSE(HttpClient::Create(cfg, "t").ok());
}

TEST_CASE("proxies from the environment are not used") {
  EchoServer server;
  const int dead = testing::FreePort();  // nothing listens: a request through it would fail
  const std::string proxy = fmt::format("http://127.0.0.1:{}", dead);
  for (const char* v : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    setenv(v, proxy.c_str(), 1);
  auto c = HttpClient::Create(config::HTTPClientConfig{}, "t");
  REQUIRE(c.ok());
  auto r = Get(**c, server.url());
  for (const char* v : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    unsetenv(v);
  REQUIRE(r.transport.ok());
  CHECK(r.status == 200);
  // proxy_url itself is used: through the dead proxy the request fails.
  config::HTTPClientConfig via;
  via.proxy_url = proxy;
  auto p = HttpClient::Create(via, "t");
  REQUIRE(p.ok());
  CHECK(Get(**p, server.url()).transport.code() == Status::Code::kUnavailable);
}

TEST_CASE("no_proxy reaches its hosts directly; proxy_from_environment reads HTTP(S)_PROXY") {
  EchoServer server;
  const std::string dead = fmt::format("http://127.0.0.1:{}", testing::FreePort());
  config::HTTPClientConfig cfg;
  cfg.proxy_url = dead;
  cfg.no_proxy = "example.org,127.0.0.1";
  auto direct = HttpClient::Create(cfg, "t");
  REQUIRE(direct.ok());
  CHECK(Get(**direct, server.url()).status == 200);
  cfg.no_proxy = "example.org";
  auto proxied = HttpClient::Create(cfg, "t");
  CHECK(Get(**proxied, server.url()).transport.code() == Status::Code::kUnavailable);

  config::HTTPClientConfig env;
  env.proxy_from_environment = true;
  auto from_env = HttpClient::Create(env, "t");
  REQUIRE(from_env.ok());
  setenv("HTTP_PROXY", dead.c_str(), 1);
  CHECK(Get(**from_env, server.url()).transport.code() == Status::Code::kUnavailable);
  setenv("NO_PROXY", "127.0.0.1", 1);
  CHECK(Get(**from_env, server.url()).status == 200);
  unsetenv("NO_PROXY");
  unsetenv("HTTP_PROXY");
  CHECK(Get(**from_env, server.url()).status == 200);  // no proxy in the environment
}

TEST_CASE("proxy_connect_header goes with the CONNECT to the proxy, not to the server") {
  const std::string dir = testing::MakeTempDir("net-proxy");
  const int port = testing::FreePort();
  testing::Process proxy = testing::Process::Start(
      {"/usr/bin/python3", std::string(testing::kSourceDir) + "/tests/notifiers/fixtures/tls_proxy.py",
       std::to_string(port), dir},
      dir + "/proxy.log");
  const std::string proxy_url = fmt::format("http://127.0.0.1:{}", port);
  REQUIRE(testing::WaitHttpReady(proxy_url + "/-/ready", 10s));
  config::HTTPClientConfig cfg;
  cfg.proxy_url = proxy_url;
  cfg.proxy_connect_header = {{"Proxy-Authorization", {"Basic cHJveHk6c2VjcmV0"}},
                              {"X-Tenant", {"team-a"}}};
  cfg.tls_config.ca_file = dir + "/ca.pem";
  auto c = HttpClient::Create(cfg, "t");
  REQUIRE(c.ok());
  HttpRequest req;
  req.url = "https://api.pushover.net/1/messages.json?token=t&user=u&message=m";
  req.timeout = 10s;
  auto r = (*c)->Do(req);
  INFO(r.transport.ToString() << " " << r.body);
  REQUIRE(r.status == 200);
  const auto seen = nlohmann::json::parse(testing::HttpGet(proxy_url + "/_requests").body);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0]["method"] == "CONNECT");
  CHECK(seen[0]["headers"]["proxy-authorization"] == "Basic cHJveHk6c2VjcmV0");
  CHECK(seen[0]["headers"]["x-tenant"] == "team-a");
  CHECK(seen[1]["method"] == "POST");
  CHECK_FALSE(seen[1]["headers"].contains("proxy-authorization"));
  CHECK_FALSE(seen[1]["headers"].contains("x-tenant"));
  proxy.Stop();
  testing::RemoveTree(dir);
}

TEST_CASE("max_response_bytes keeps the whole body up to the cap and refuses a bigger one") {
  EchoServer server;
  config::HTTPClientConfig cfg;
  config::Authorization authz;
  authz.credentials = std::string(100, 'x');
  cfg.authorization = authz;
  auto c = HttpClient::Create(cfg, "t");
  REQUIRE(c.ok());
  HttpRequest req;
  req.method = "GET";
  req.url = server.url();
  req.max_response_bytes = 200;
  auto r = (*c)->Do(req);
  REQUIRE(r.transport.ok());
  CHECK(r.body.size() == 107);  // "Bearer " + 100
  req.max_response_bytes = 50;
  r = (*c)->Do(req);
  CHECK(r.too_large);
  CHECK(r.transport.code() == Status::Code::kUnavailable);
}

}  // namespace
}  // namespace alertd::net
