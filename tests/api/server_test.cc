// The HTTP server and the Alertmanager API handlers, in process, over real TCP connections.
#include "api/server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/api.h"
#include "api/ingest.h"
#include "api/json_writer.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::api;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A raw client socket, for what an HTTP library will not send (slow, malformed, oversized).
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
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until the peer closes or `timeout` passes; returns what arrived.
  std::string ReadAll(std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
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

struct TestApi {
  std::string dir = testing::MakeTempDir("alertd-api");
  SystemClock clock;
  std::shared_ptr<const config::Config> cfg;
  std::unique_ptr<storage::AlertStore> store;
  std::unique_ptr<Server> server;
  std::string base;

  explicit TestApi(ServerOptions opts = {}, std::function<void(Router&)> extra = {}) {
    auto c = std::make_shared<config::Config>();
    c->route.receiver = "team-a";
    config::Route child;
    child.receiver = "team-db";
    child.matchers = *ParseMatchers(R"(service="db")");
    child.group_by = {"alertname"};  // the loader resolves inheritance; built by hand here
    c->route.routes.push_back(child);
    c->route.group_by = {"alertname"};
    for (const char* name : {"team-a", "team-db"}) {
      config::Receiver r;
      r.name = name;
      c->receivers.push_back(r);
    }
    c->redacted_yaml = "route:\n  receiver: team-a\n";
    cfg = c;
    auto db = storage::Database::Open(dir + "/a.db");
    REQUIRE(db.ok());
    auto s = storage::OpenAlertStore(std::move(*db), &clock);
    REQUIRE(s.ok());
    store = std::move(*s);
    ApiContext ctx;
    ctx.alerts = store.get();
    ctx.clock = &clock;
    ctx.config = [c = cfg] { return c; };
    ctx.status = NewRouteTreeStatusProvider(ctx.config, [s = store.get()] { return s->List(); });
    ctx.start_time = clock.Now();
    auto router = std::make_shared<Router>();
    RegisterApi(*router, ctx);
    if (extra) extra(*router);
    opts.listen = "127.0.0.1:0";
    auto srv = StartServer(opts, router);
    REQUIRE_MESSAGE(srv.ok(), srv.status().message());
    server = std::move(*srv);
    base = "http://" + server->address();
  }
  ~TestApi() {
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

}  // namespace

TEST_CASE("JSON writer escapes as Go does and prints API times with milliseconds") {
  CHECK(JsonString("a\"b\\c\n\t<&>") == R"("a\"b\\c\n\t\u003c\u0026\u003e")");
  CHECK(JsonString("caf\xC3\xA9 \xE2\x80\xA8") == "\"caf\xC3\xA9 \\u2028\"");
  CHECK(JsonString("bad \xFF byte") == "\"bad \xEF\xBF\xBD byte\"");
  CHECK(JsonString(std::string("\x01", 1)) == R"("\u0001")");
  std::string t;
  AppendDateTimeJson(&t, *ParseRFC3339("2024-05-01T10:00:00.123456789Z"));
  CHECK(t == R"("2024-05-01T10:00:00.123Z")");
  t.clear();
  AppendDateTimeJson(&t, kZeroTime);
  CHECK(t == R"("0001-01-01T00:00:00.000Z")");
}

TEST_CASE("ingestion applies Alertmanager's defaults and validation") {
  const Time now = *ParseRFC3339("2024-05-01T10:00:00Z");
  struct Row {
    const char* name;
    const char* body;
    bool valid;
    const char* error;  // substring, when invalid
  };
  std::vector<Row> rows = {
      {"minimal", R"([{"labels":{"alertname":"A"}}])", true, ""},
      {"empty labels are removed first", R"([{"labels":{"alertname":"A","x":""}}])", true, ""},
      {"only empty labels", R"([{"labels":{"x":""}}])", false, "at least one label pair required"},
      {"no labels", R"([{"labels":{}}])", false, "at least one label pair required"},
      {"invalid label name", R"([{"labels":{"1abc":"v"}}])", false, "invalid label name \"1abc\""},
      {"invalid annotation name", R"([{"labels":{"a":"b"},"annotations":{"a-b":"x"}}])", false,
       "invalid annotations"},
      {"ends before it starts",
       R"([{"labels":{"a":"b"},"startsAt":"2024-05-01T10:00:00Z","endsAt":"2024-05-01T09:00:00Z"}])",
       false, "start time must be before end time"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto parsed = ParsePostableAlerts(row.body);
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
    auto p = PrepareAlerts(std::move(*parsed), now, 5min);
    CHECK(p.valid.size() == (row.valid ? 1u : 0u));
    if (!row.valid) {
      REQUIRE(p.errors.size() == 1);
      CHECK_MESSAGE(p.errors[0].find(row.error) != std::string::npos, p.errors[0]);
      CHECK(p.errors[0].rfind("alert 0 ", 0) == 0);
    } else {
      CHECK(p.valid[0].starts_at == now);
      CHECK(p.valid[0].ends_at == now + 5min);
      CHECK(p.valid[0].timeout);
      CHECK(p.valid[0].updated_at == now);
      CHECK_FALSE(p.valid[0].labels.Has("x"));
    }
  }
  SUBCASE("only endsAt given: startsAt becomes endsAt, no timeout") {
    auto parsed = ParsePostableAlerts(R"([{"labels":{"a":"b"},"endsAt":"2024-05-01T09:00:00Z"}])");
    auto p = PrepareAlerts(std::move(*parsed), now, 5min);
    REQUIRE(p.valid.size() == 1);
    CHECK(p.valid[0].starts_at == p.valid[0].ends_at);
    CHECK_FALSE(p.valid[0].timeout);
  }
}

TEST_CASE("malformed bodies are rejected with a message naming the problem") {
  struct Row {
    const char* name;
    std::string body;
    const char* error;
  };
  std::vector<Row> rows = {
      {"not JSON", "[{", "malformed JSON"},
      {"nested a million deep", std::string(1000000, '['), "malformed JSON"},
      {"lone surrogate in a value", "[{\"labels\":{\"a\":\"\\udc00\"}}]", "malformed JSON"},
      {"invalid UTF-8 in a value", "[{\"labels\":{\"a\":\"\xff\"}}]", "malformed JSON"},
      {"object instead of array", R"({"labels":{}})", "must be a JSON array"},
      {"labels missing", R"([{"annotations":{}}])", "alert 0: labels is required"},
      {"label value a number", R"([{"labels":{"a":1}}])",
       "alert 0: labels: value of \"a\" must be a string"},
      {"labels an array", R"([{"labels":["a"]}])", "labels must be an object"},
      {"startsAt a number", R"([{"labels":{"a":"b"},"startsAt":5}])", "startsAt must be a string"},
      {"startsAt not a time", R"([{"labels":{"a":"b"},"startsAt":"yesterday"}])",
       "not an RFC 3339 time"},
      {"second alert bad", R"([{"labels":{"a":"b"}}, 3])", "alert 1: must be an object"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = ParsePostableAlerts(row.body);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find(row.error) != std::string::npos, r.status().message());
  }
}

TEST_CASE("API v2 over HTTP: post, list with filters, groups, status, receivers") {
  TestApi t;
  auto post = testing::HttpPostJson(t.base + "/api/v2/alerts", R"([
    {"labels":{"alertname":"DiskFull","service":"db","instance":"a"},"annotations":{"summary":"disk"}},
    {"labels":{"alertname":"DiskFull","service":"web","instance":"b"}},
    {"labels":{"alertname":"Old"},"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-01-01T01:00:00Z"}
  ])");
  CHECK(post.status == 200);
  CHECK(post.body.empty());

  auto get = testing::HttpGet(t.base + "/api/v2/alerts");
  REQUIRE(get.status == 200);
  auto list = json::parse(get.body);
  REQUIRE(list.size() == 2);  // the resolved one is not listed, as in Alertmanager
  CHECK(list[0]["fingerprint"].get<std::string>() < list[1]["fingerprint"].get<std::string>());
  for (const auto& a : list) {
    LabelSet ls;
    for (auto& [k, v] : a["labels"].items()) ls.Set(k, v.get<std::string>());
    CHECK(a["fingerprint"] == ls.FingerprintHex());
    CHECK(a["status"]["state"] == "active");
    CHECK(a["status"]["silencedBy"].is_array());
    const std::string want = ls.Get("service") == "db" ? "team-db" : "team-a";
    CHECK(a["receivers"] == json::array({{{"name", want}}}));
  }

  struct Row {
    const char* name;
    std::string query;
    size_t count;
  };
  std::vector<Row> rows = {
      {"filter equal", "filter=service%3D%22db%22", 1},
      {"filter regex", "filter=instance%3D~%22a%7Cb%22", 2},
      {"two filters", "filter=service%3D%22db%22&filter=instance%3D%22b%22", 0},
      {"receiver regex", "receiver=team-d.*", 1},
      {"receiver anchored", "receiver=team", 0},
      {"active=false", "active=false", 0},
      {"silenced=false keeps unsilenced", "silenced=false", 2},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = testing::HttpGet(t.base + "/api/v2/alerts?" + row.query);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body).size() == row.count);
  }
  auto bad = testing::HttpGet(t.base + "/api/v2/alerts?filter=%3D%3D%3D");
  CHECK(bad.status == 400);
  CHECK(ErrorOf(bad).find("bad matcher format") != std::string::npos);
  CHECK(testing::HttpGet(t.base + "/api/v2/alerts?active=maybe").status == 400);

  auto groups = json::parse(testing::HttpGet(t.base + "/api/v2/alerts/groups").body);
  REQUIRE(groups.size() == 2);
  for (const auto& g : groups) {
    CHECK(g["labels"] == json{{"alertname", "DiskFull"}});
    CHECK(g["alerts"].size() == 1);
  }

  auto status = json::parse(testing::HttpGet(t.base + "/api/v2/status").body);
  CHECK(status["cluster"]["status"] == "disabled");
  CHECK(status["config"]["original"] == "route:\n  receiver: team-a\n");
  CHECK(status["versionInfo"]["version"].is_string());
  CHECK(status["uptime"].get<std::string>().size() == 24);
  auto receivers = json::parse(testing::HttpGet(t.base + "/api/v2/receivers").body);
  CHECK(receivers == json::parse(R"([{"name":"team-a"},{"name":"team-db"}])"));
}

TEST_CASE("a batch with invalid alerts stores the valid ones and answers 400 naming the others") {
  TestApi t;
  auto r = testing::HttpPostJson(
      t.base + "/api/v2/alerts",
      R"([{"labels":{"alertname":"Good"}},{"labels":{"bad-name":"x"}},{"labels":{"e":""}}])");
  CHECK(r.status == 400);
  const std::string err = ErrorOf(r);
  CHECK(err.find("alert 1 {bad-name=\"x\"}: invalid label set") != std::string::npos);
  CHECK(err.find("alert 2 {}: at least one label pair required") != std::string::npos);
  CHECK(t.store->Size() == 1);
}

TEST_CASE("webhook receiver ingests firing and resolved alerts of a version 4 payload") {
  TestApi t;
  const std::string payload = R"({"version":"4","groupKey":"{}:{}","status":"firing","receiver":"x",
    "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","truncatedAlerts":0,
    "alerts":[
     {"status":"firing","labels":{"alertname":"F"},"annotations":{},"startsAt":"2024-05-01T10:00:00Z",
      "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom","fingerprint":"x"},
     {"status":"resolved","labels":{"alertname":"R"},"annotations":{},"startsAt":"2024-05-01T09:00:00Z",
      "endsAt":"2024-05-01T09:30:00Z","generatorURL":"","fingerprint":"y"}]})";
  auto r = testing::HttpPostJson(t.base + "/api/v1/webhook/alertmanager", payload);
  CHECK(r.status == 200);
  auto f = t.store->Get(LabelSet{{"alertname", "F"}}.Fingerprint());
  auto res = t.store->Get(LabelSet{{"alertname", "R"}}.Fingerprint());
  REQUIRE(f);
  REQUIRE(res);
  CHECK(f->timeout);
  CHECK_FALSE(f->ResolvedAt(t.clock.Now()));
  CHECK(res->ResolvedAt(t.clock.Now()));
  CHECK(res->ends_at == *ParseRFC3339("2024-05-01T09:30:00Z"));

  auto v3 = testing::HttpPostJson(t.base + "/api/v1/webhook/alertmanager",
                                  R"({"version":"3","alerts":[]})");
  CHECK(v3.status == 400);
  CHECK(ErrorOf(v3).find("version must be \"4\"") != std::string::npos);
}

TEST_CASE("HTTP behaviour: health, HEAD, 404, 405, keep-alive, body limit, bad requests") {
  ServerOptions opts;
  opts.max_body_bytes = 4096;
  TestApi t(opts);

  auto healthy = testing::HttpGet(t.base + "/-/healthy");
  CHECK(healthy.status == 200);
  auto head = testing::HttpRequest("HEAD", t.base + "/-/ready");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  auto nf = testing::HttpGet(t.base + "/nope");
  CHECK(nf.status == 404);
  CHECK(ErrorOf(nf).find("not found") != std::string::npos);
  auto na = testing::HttpRequest("DELETE", t.base + "/api/v2/alerts");
  CHECK(na.status == 405);
  CHECK(na.headers["allow"].find("POST") != std::string::npos);

  SUBCASE("several requests on one connection") {
    RawClient c(t.server->port());
    REQUIRE(c.connected());
    REQUIRE(c.Send(
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    testing::WaitFor(
        [&] {
          got += c.ReadAll(100ms);
          return got.find("HTTP/1.1 200", got.find("HTTP/1.1 200") + 1) != std::string::npos;
        },
        5s);
    CHECK_FALSE(c.closed());
  }
  SUBCASE("body over the limit: 413 before reading it") {
    auto r = testing::HttpPostJson(t.base + "/api/v2/alerts", std::string(5000, ' ') + "[]");
    CHECK(r.status == 413);
    CHECK(ErrorOf(r).find("larger than 4096 bytes") != std::string::npos);
  }
  SUBCASE("malformed request line: 400 and close") {
    RawClient c(t.server->port());
    REQUIRE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
    std::string got = c.ReadAll(3s);
    CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(got.find("{\"error\":") != std::string::npos);
    CHECK(c.closed());
  }
  SUBCASE("bad percent-encoding in the target") {
    CHECK(testing::HttpGet(t.base + "/api/v2/alerts?filter=%zz").status == 400);
  }
}

TEST_CASE("a slow client is cut off at the read timeout while others are served") {
  ServerOptions opts;
  opts.read_timeout = 1s;
  opts.threads = 1;  // even with one thread the slow client holds nothing up
  TestApi t(opts);
  RawClient slow(t.server->port());
  REQUIRE(slow.Send("POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n"));
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  bool cut = false;
  while (std::chrono::steady_clock::now() - start < 5s) {
    slow.Send("X-Slow: 1\r\n");  // a header line every 100 ms, never finishing
    CHECK(testing::HttpGet(t.base + "/-/healthy").status == 200);
    got += slow.ReadAll(100ms);
    if (slow.closed()) {
      cut = true;
      break;
    }
  }
  CHECK(cut);
  CHECK(got.empty());  // the request never completed, so it got no answer
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("graceful stop finishes the request in flight and refuses new connections") {
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  TestApi t({}, [&](Router& r) {
    r.Handle("GET", "/slow", [&](Request&, Responder respond) {
      entered = true;
      std::thread([&, respond = std::move(respond)] {
        while (!release) std::this_thread::sleep_for(5ms);
        respond(Response::Text(200, "done"));
      }).detach();
    });
  });
  testing::HttpResponse slow;
  std::thread client([&] { slow = testing::HttpGet(t.base + "/slow"); });
  REQUIRE(testing::WaitFor([&] { return entered.load(); }, 5s));
  std::thread stopper([&] { t.server->Stop(); });
  // Stop waits for the request: release it only once Stop has started refusing connections.
  REQUIRE(
      testing::WaitFor([&] { return testing::HttpGet(t.base + "/-/healthy").status == 0; }, 5s));
  release = true;
  stopper.join();
  client.join();
  CHECK_MESSAGE(slow.status == 200, slow.error);
  CHECK(slow.body == "done");
}

TEST_CASE("a large alert list is streamed in chunks, and the connection stays usable") {
  TestApi t;
  std::vector<Alert> alerts;
  const Time now = t.clock.Now();
  for (int i = 0; i < 3000; ++i) {
    Alert a;
    a.labels = LabelSet{{"alertname", "Many"}, {"i", std::to_string(i)}};
    a.annotations.Set("description", std::string(200, 'd'));
    a.starts_at = now;
    a.ends_at = now + 1h;
    a.updated_at = now;
    alerts.push_back(std::move(a));
  }
  REQUIRE(t.store->Put(std::move(alerts)).ok());

  auto get = testing::HttpGet(t.base + "/api/v2/alerts");
  REQUIRE(get.status == 200);
  CHECK(get.headers["transfer-encoding"] == "chunked");
  CHECK(get.body.size() > 4 * 64 * 1024);  // several chunks
  auto list = json::parse(get.body);
  REQUIRE(list.size() == 3000);
  for (size_t i = 1; i < list.size(); ++i) {
    CHECK(list[i - 1]["fingerprint"].get<std::string>() < list[i]["fingerprint"].get<std::string>());
  }
  // A filter that leaves nothing still gives a well-formed empty list.
  auto none = testing::HttpGet(t.base + "/api/v2/alerts?filter=i%3D%22nope%22");
  CHECK(json::parse(none.body) == json::array());
  // HEAD gives the length of what GET sends.
  auto head = testing::HttpRequest("HEAD", t.base + "/api/v2/alerts");
  CHECK(head.status == 200);
  CHECK(head.headers["content-length"] == std::to_string(get.body.size()));

  // Two GETs and a health check on one connection: the chunked answers end where they should.
  RawClient c(t.server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Send("GET /api/v2/alerts HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /api/v2/alerts HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  auto answers = [&] {
    size_t n = 0;
    for (size_t p = got.find("HTTP/1.1 200"); p != std::string::npos;
         p = got.find("HTTP/1.1 200", p + 1)) {
      ++n;
    }
    return n;
  };
  testing::WaitFor(
      [&] {
        got += c.ReadAll(100ms);
        return answers() == 3 && got.ends_with("\r\n\r\nOK");
      },
      10s);
  CHECK_FALSE(c.closed());
  CHECK(answers() == 3);
  CHECK(got.ends_with("\r\n\r\nOK"));
  // Each list ends with the last chunk marker before the next answer starts.
  CHECK(got.find("]\n\r\n0\r\n\r\nHTTP/1.1 200") != std::string::npos);
}
