// Limits a hostile or broken client cannot pass: ingest limits (server.limits), parsing off
// the I/O threads, authentication before the body is read, and the connection cap. In
// process, over real TCP connections.
#include <arpa/inet.h>
#include <dirent.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/api.h"
#include "api/auth.h"
#include "api/ingest.h"
#include "api/server.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::api;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A client socket that sends exactly what it is given (headers without the body they
// announce, nothing at all).
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  bool Send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until the peer closes, `until` is found in what arrived, or `timeout` passes.
  std::string Read(std::chrono::milliseconds timeout, std::string_view until = {}) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!until.empty() && out.find(until) != std::string::npos) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, n);
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

// An executor that holds posted work until the test runs it: shows where work would run and
// what answers while it waits.
class HeldExecutor final : public Executor {
 public:
  void Post(std::function<void()> work) override {
    std::lock_guard l(mu_);
    held_.push_back(std::move(work));
  }
  size_t held() {
    std::lock_guard l(mu_);
    return held_.size();
  }
  void RunAll() {
    std::deque<std::function<void()>> work;
    {
      std::lock_guard l(mu_);
      work.swap(held_);
    }
    for (auto& w : work) w();
  }

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> held_;
};

struct Fixture {
  std::string dir = testing::MakeTempDir("alertd-limits");
  SystemClock clock;
  std::shared_ptr<config::Config> cfg = std::make_shared<config::Config>();
  std::unique_ptr<storage::AlertStore> store;
  AuthHolder auth;
  std::unique_ptr<Server> server;
  std::string base;

  // `setup` may change the configuration and the context before the server starts.
  explicit Fixture(ServerOptions opts = {},
                   const std::function<void(config::Config&, ApiContext&)>& setup = {}) {
    cfg->route.receiver = "a";
    config::Receiver r;
    r.name = "a";
    cfg->receivers.push_back(r);
    auto db = storage::Database::Open(dir + "/a.db");
    REQUIRE(db.ok());
    auto s = storage::OpenAlertStore(std::move(*db), &clock);
    REQUIRE(s.ok());
    store = std::move(*s);
    ApiContext ctx;
    ctx.alerts = store.get();
    ctx.clock = &clock;
    ctx.auth = &auth;
    ctx.start_time = clock.Now();
    if (setup) setup(*cfg, ctx);
    std::shared_ptr<const config::Config> c = cfg;
    ctx.config = [c] { return c; };
    ctx.status = NewRouteTreeStatusProvider(ctx.config, [st = store.get()] { return st->List(); });
    auto a = Authenticator::FromConfig(cfg->server);
    REQUIRE(a.ok());
    auth.Set(*a);
    auto router = std::make_shared<Router>();
    RegisterApi(*router, ctx);
    opts.listen = "127.0.0.1:0";
    auto srv = StartServer(opts, router);
    REQUIRE_MESSAGE(srv.ok(), srv.status().message());
    server = std::move(*srv);
    base = "http://" + server->address();
  }
  ~Fixture() {
    server->Stop();
    store->Close();
    testing::RemoveTree(dir);
  }
};

std::string ErrorOf(const testing::HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error"))
    return "<not a JSON error: " + r.body + ">";
  return j["error"].get<std::string>();
}

// {"l0":"v","l1":"v",...}: `n` labels.
std::string LabelsJson(size_t n, size_t value_bytes = 1) {
  std::string out = "{";
  const std::string v(value_bytes, 'v');
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "\"l" + std::to_string(i) + "\":\"" + v + "\"";
  }
  return out + "}";
}

std::string Webhook(const std::string& alerts) {
  return R"({"version":"4","status":"firing","receiver":"x","groupKey":"{}","alerts":)" + alerts +
         "}";
}

}  // namespace

TEST_CASE("ingest requests over server.limits get 400 naming the limit, and nothing is stored") {
  Fixture t({}, [](config::Config& c, ApiContext&) {
    c.server.limits.max_alerts_per_request = 2;
    c.server.limits.max_labels_per_alert = 3;
    c.server.limits.max_label_set_bytes = 40;
  });
  struct Row {
    const char* name;
    const char* path;
    std::string body;
    const char* error;  // empty: accepted
  };
  const std::string three = R"({"labels":)" + LabelsJson(3) + "}";
  const std::vector<Row> rows = {
      {"three alerts", "/api/v2/alerts", "[" + three + "," + three + "," + three + "]",
       "3 alerts in one request, more than server.limits.max_alerts_per_request (2)"},
      {"four labels", "/api/v2/alerts", R"([{"labels":)" + LabelsJson(4) + "}]",
       "alert 0: labels: 4 entries, more than server.limits.max_labels_per_alert (3)"},
      {"four annotations", "/api/v2/alerts",
       R"([{"labels":{"a":"b"},"annotations":)" + LabelsJson(4) + "}]",
       "annotations: 4 entries, more than server.limits.max_labels_per_alert (3)"},
      {"label bytes", "/api/v2/alerts", R"([{"labels":)" + LabelsJson(2, 20) + "}]",
       "labels: names and values larger than server.limits.max_label_set_bytes (40 bytes)"},
      {"webhook: three alerts", "/api/v1/webhook/alertmanager",
       Webhook("[" + three + "," + three + "," + three + "]"),
       "more than server.limits.max_alerts_per_request (2)"},
      {"webhook: four labels", "/api/v1/webhook/alertmanager",
       Webhook(R"([{"labels":)" + LabelsJson(4) + "}]"),
       "alert 0: labels: 4 entries, more than server.limits.max_labels_per_alert (3)"},
      {"webhook: label bytes", "/api/v1/webhook/alertmanager",
       Webhook(R"([{"labels":)" + LabelsJson(2, 20) + "}]"), "max_label_set_bytes (40 bytes)"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = testing::HttpPostJson(t.base + row.path, row.body);
    CHECK(r.status == 400);
    CHECK_MESSAGE(ErrorOf(r).find(row.error) != std::string::npos, ErrorOf(r));
  }
  CHECK(t.store->Size() == 0);
  // At the limits: accepted, on both paths.
  CHECK(testing::HttpPostJson(t.base + "/api/v2/alerts", "[" + three + "," + three + "]").status ==
        200);
  CHECK(testing::HttpPostJson(t.base + "/api/v1/webhook/alertmanager",
                              Webhook(R"([{"labels":{"x":"y"}}])"))
            .status == 200);
  CHECK(t.store->Size() == 2);
}

TEST_CASE("an alert of 300,000 labels is refused by the default limit before its set is built") {
  // About 4 MiB, what the default body limit lets through.
  const std::string body = R"([{"labels":)" + LabelsJson(300000) + "}]";
  auto r = ParsePostableAlerts(body, config::ServerLimits{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(
            "300000 entries, more than server.limits.max_labels_per_alert (1000)") !=
        std::string::npos);
  auto w = ParseWebhookPayload(Webhook(body), config::ServerLimits{});
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("max_labels_per_alert (1000)") != std::string::npos);
  // Labels repeated in one object: the last value wins on both paths, as before.
  auto dup = ParsePostableAlerts(R"([{"labels":{"b":"1","a":"x","b":"2"}}])");
  REQUIRE(dup.ok());
  CHECK((*dup)[0].labels == LabelSet{{"a", "x"}, {"b", "2"}});
}

TEST_CASE("ingest bodies are parsed off the I/O thread: /-/healthy answers meanwhile") {
  HeldExecutor held;
  ServerOptions opts;
  opts.threads = 1;  // one I/O thread: had it parsed the body, nothing else could be answered
  Fixture t(opts, [&](config::Config&, ApiContext& ctx) { ctx.ingest_executor = &held; });
  for (const char* path : {"/api/v2/alerts", "/api/v1/webhook/alertmanager"}) {
    INFO(path);
    const std::string alerts = R"([{"labels":{"alertname":"Big","path":")" + std::string(path) +
                               R"("},"annotations":)" + LabelsJson(900, 400) + "}]";
    const std::string body = std::string(path) == "/api/v2/alerts" ? alerts : Webhook(alerts);
    std::atomic<bool> answered{false};
    testing::HttpResponse post;
    std::thread client([&] {
      post = testing::HttpPostJson(t.base + path, body);
      answered = true;
    });
    // The request is read and its parse is waiting on the executor...
    REQUIRE(testing::WaitFor([&] { return held.held() == 1; }, 10s));
    // ...while the one I/O thread answers other clients.
    CHECK(testing::HttpGet(t.base + "/-/healthy").status == 200);
    CHECK(testing::HttpGet(t.base + "/api/v2/status").status == 200);
    CHECK_FALSE(answered.load());
    held.RunAll();
    client.join();
    CHECK_MESSAGE(post.status == 200, post.body);
  }
  CHECK(t.store->Size() == 2);
}

TEST_CASE("authentication is checked once the header is read, before the body") {
  ServerOptions opts;
  opts.read_timeout = 120s;  // far longer than the test waits for the answer
  Fixture t(opts, [](config::Config& c, ApiContext&) {
    c.server.auth_tokens = {{"ops", "ops-secret", ""}};
  });
  SUBCASE("headers announcing 1 MB, no body sent: 401 at once, connection closed") {
    RawClient c(t.server->port());
    REQUIRE(c.connected());
    REQUIRE(
        c.Send("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"));
    // The read timeout (120 s) is not what ends the wait: the answer and the close are.
    const std::string got = c.Read(60s);
    CHECK(got.rfind("HTTP/1.1 401", 0) == 0);
    CHECK(got.find("{\"error\":") != std::string::npos);
    CHECK(c.closed());
  }
  SUBCASE("the same with Expect: 100-continue: 401 instead of 100 Continue") {
    RawClient c(t.server->port());
    REQUIRE(
        c.Send("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"));
    const std::string got = c.Read(60s);
    CHECK(got.rfind("HTTP/1.1 401", 0) == 0);
    CHECK(got.find("100 Continue") == std::string::npos);
    CHECK(c.closed());
  }
  SUBCASE("a small body is read: the refused connection stays usable") {
    RawClient c(t.server->port());
    REQUIRE(
        c.Send("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
               "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string got = c.Read(60s, "HTTP/1.1 200");
    CHECK(got.rfind("HTTP/1.1 401", 0) == 0);
    CHECK(got.find("HTTP/1.1 200") != std::string::npos);
    CHECK_FALSE(c.closed());
  }
  SUBCASE("with the token the request goes on to its handler") {
    auto r = testing::HttpRequest(
        "POST", t.base + "/api/v2/silences", "{",
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer ops-secret"}});
    CHECK(r.status == 503);  // the handler's own answer: this fixture has no silences
  }
}

TEST_CASE("the guard runs once per request: at header time, not again in Dispatch") {
  Router router;
  int guarded = 0, handled = 0;
  router.HandleSync("POST", "/x/{id}", [&](const Request& req) {
    ++handled;
    CHECK(req.path_params.at("id") == "7");
    CHECK(req.principal == "p");
    return Response::Json(200, "{}");
  });
  router.SetGuard([&](Request& req) -> std::optional<Response> {
    ++guarded;
    CHECK(req.route == "/x/{id}");
    if (req.Header("authorization") != "ok") return Response::Error(401, "no");
    req.principal = "p";
    return std::nullopt;
  });
  Request req;
  req.method = "POST";
  req.path = "/x/7";
  req.headers["authorization"] = "ok";
  CHECK_FALSE(router.Admit(req).has_value());
  CHECK(req.admitted);
  int status = 0;
  router.Dispatch(req, [&](Response r) { status = r.status; });
  CHECK(status == 200);
  CHECK(guarded == 1);
  CHECK(handled == 1);

  Request bad;
  bad.method = "POST";
  bad.path = "/x/7";
  auto refusal = router.Admit(bad);
  REQUIRE(refusal.has_value());
  CHECK(refusal->status == 401);
  CHECK_FALSE(bad.admitted);
  CHECK(guarded == 2);
  // A path no route matches is left to Dispatch (404), without the guard.
  Request none;
  none.method = "GET";
  none.path = "/nope";
  CHECK_FALSE(router.Admit(none).has_value());
  CHECK(guarded == 2);
  // Without Admit (a Router used directly), Dispatch runs the guard itself.
  Request direct;
  direct.method = "POST";
  direct.path = "/x/7";
  router.Dispatch(direct, [&](Response r) { status = r.status; });
  CHECK(status == 401);
  CHECK(guarded == 3);
  CHECK(handled == 1);
}

TEST_CASE("connections beyond server.max_connections are closed at once") {
  ServerOptions opts;
  opts.max_connections = 2;
  Fixture t(opts);
  auto a = std::make_unique<RawClient>(t.server->port());
  RawClient b(t.server->port());
  REQUIRE(a->connected());
  REQUIRE(b.connected());
  REQUIRE(testing::WaitFor([&] { return t.server->Stats().connections == 2; }, 10s));
  RawClient third(t.server->port());
  REQUIRE(third.connected());  // the kernel completes the handshake; alertd then closes it
  third.Send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string got = third.Read(30s);
  CHECK(third.closed());
  CHECK(got.empty());
  CHECK(t.server->Stats().connections_refused == 1);
  // The two open ones are still served.
  REQUIRE(b.Send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(b.Read(30s, "\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  // Once one closes, a new connection gets in.
  a.reset();
  REQUIRE(testing::WaitFor([&] { return t.server->Stats().connections == 1; }, 10s));
  CHECK(testing::HttpGet(t.base + "/-/healthy").status == 200);
}

namespace {

size_t OpenFds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n - 3;  // ".", ".." and the directory's own descriptor
}

}  // namespace

TEST_CASE("accept errors (out of file descriptors) back off instead of spinning") {
  ServerOptions opts;
  opts.threads = 1;
  Fixture t(opts);
  // The client's socket exists before descriptors run out; connect() needs none.
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(client >= 0);
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  struct Restore {
    rlimit saved;
    ~Restore() { setrlimit(RLIMIT_NOFILE, &saved); }
  } restore{saved};
  rlimit tight = saved;
  tight.rlim_cur = OpenFds();  // every descriptor in use: the server's accept gets EMFILE
  REQUIRE(setrlimit(RLIMIT_NOFILE, &tight) == 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(t.server->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(testing::WaitFor([&] { return t.server->Stats().accept_errors >= 1; }, 10s, 10ms));
  const auto first = std::chrono::steady_clock::now();
  REQUIRE(testing::WaitFor([&] { return t.server->Stats().accept_errors >= 4; }, 10s, 10ms));
  // Three retries are at least three back-offs (100 ms each) apart; a spinning accept loop
  // fails thousands of times in that while.
  CHECK(std::chrono::steady_clock::now() - first >= 250ms);
  setrlimit(RLIMIT_NOFILE, &saved);
  // Descriptors are back: the waiting connection is accepted and served.
  const std::string req = "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(client, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{client, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) break;
    const ssize_t n = recv(client, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, n);
  }
  close(client);
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
}
