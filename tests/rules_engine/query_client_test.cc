// The datasource client: response decoding (table), and the curl client against a fake query
// API: GET vs form POST, `time`, basic auth with a password file, bearer token from a file,
// extra headers, error mapping, timeouts, and the bound on queries in flight and sockets.
#include "rules_engine/query_client.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "rules_engine/manager.h"
#include "tests/rules_engine/fakes.h"
#include "tests/support/process.h"

namespace alertd::rules_engine {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

TEST_CASE("ParseQueryResponse") {
  struct Row {
    std::string name;
    long status;
    std::string body;
    Status::Code want_code;
    size_t want_samples = 0;
    std::string want_message;  // substring
  };
  const std::vector<Row> rows = {
      {"vector", 200,
       R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"2.5"]}]}})",
       Status::Code::kOk, 1, ""},
      {"empty vector", 200, R"({"status":"success","data":{"resultType":"vector","result":[]}})",
       Status::Code::kOk, 0, ""},
      {"scalar", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}})",
       Status::Code::kOk, 1, ""},
      {"histogram sample is skipped", 200,
       R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}})",
       Status::Code::kOk, 0, ""},
      {"bad_data", 400, R"({"status":"error","errorType":"bad_data","error":"parse error"})",
       Status::Code::kInvalidArgument, 0, "bad_data: parse error"},
      {"execution error", 422,
       R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})",
       Status::Code::kInvalidArgument, 0, "execution: many-to-many"},
      {"timeout", 503, R"({"status":"error","errorType":"timeout","error":"query timed out"})",
       Status::Code::kTimeout, 0, "timeout: query timed out"},
      {"proxy 502 html", 502, "<html>bad gateway</html>", Status::Code::kUnavailable, 0,
       "server returned HTTP status 502: <html>bad gateway</html>"},
      {"not json at 200", 200, "hello", Status::Code::kInternal, 0, "HTTP status 200"},
      // Only connection errors, 5xx and 429 are kUnavailable, the errors the rule engine
      // retries; any other 4xx is the query's fault, JSON error body or not.
      {"json error at 404", 404, R"({"status":"error","errorType":"not_found","error":"no route"})",
       Status::Code::kInvalidArgument, 0, "not_found: no route"},
      {"json error at 403", 403, R"({"status":"error","error":"forbidden"})",
       Status::Code::kInvalidArgument, 0, "forbidden"},
      {"json error at 429", 429, R"({"status":"error","errorType":"too_many","error":"slow down"})",
       Status::Code::kUnavailable, 0, "too_many: slow down"},
      {"json error at 503", 503, R"({"status":"error","errorType":"unavailable","error":"x"})",
       Status::Code::kUnavailable, 0, "unavailable: x"},
      {"html 429", 429, "<html>rate limited</html>", Status::Code::kUnavailable, 0, "429"},
      {"html 401", 401, "<html>login</html>", Status::Code::kInternal, 0, "401"},
      {"malformed value", 200,
       R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}})",
       Status::Code::kInternal, 0, "malformed sample value"},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    auto res = ParseQueryResponse(r.status, r.body);
    CHECK(res.status().code() == r.want_code);
    if (res.ok()) {
      CHECK(res->samples.size() == r.want_samples);
    } else {
      CHECK(res.status().message().find(r.want_message) != std::string::npos);
    }
  }
}

class QueryServer {
 public:
  QueryServer() {
    port_ = alertd::testing::FreePort();
    dir_ = alertd::testing::MakeTempDir("alertd-query");
    proc_ = alertd::testing::Process::Start(
        {"/usr/bin/python3",
         std::string(alertd::testing::kSourceDir) + "/tests/rules_engine/fixtures/query_server.py",
         std::to_string(port_)},
        dir_ + "/server.log");
    REQUIRE(alertd::testing::WaitHttpReady(url() + "/ready", 20s));
  }
  ~QueryServer() {
    proc_.Stop();
    alertd::testing::RemoveTree(dir_);
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  const std::string& dir() const { return dir_; }
  json Get(const std::string& path) { return json::parse(alertd::testing::HttpGet(url() + path).body); }

 private:
  int port_ = 0;
  std::string dir_;
  alertd::testing::Process proc_;
};

TEST_CASE("HTTP query client against a fake Prometheus API") {
  QueryServer server;
  alertd::testing::WriteFile(server.dir() + "/password", "s3cret\n");
  config::DatasourceConfig cfg;
  cfg.url = server.url() + "/";
  cfg.timeout = 2s;
  cfg.max_concurrent_queries = 3;
  config::BasicAuth basic;
  basic.username = "alice";
  basic.password_file = server.dir() + "/password";
  cfg.http_config.basic_auth = basic;
  cfg.http_config.headers = {{"X-Scope-OrgID", "tenant-1"}};
  auto client = NewHttpQueryClient(cfg);
  REQUIRE(client.ok());
  const Time ts = FromUnixMillis(1700000000250);

  auto vec = (*client)->Query("vec", ts);
  REQUIRE(vec.ok());
  REQUIRE(vec->samples.size() == 2);
  CHECK(vec->samples[0].metric == LabelSet{{"__name__", "up"}, {"job", "a"}});
  CHECK(vec->samples[0].value == 1);
  CHECK(std::isnan(vec->samples[1].value));
  CHECK(vec->warnings == std::vector<std::string>{"careful"});

  auto scalar = (*client)->Query("scalar", ts);
  REQUIRE(scalar.ok());
  CHECK(scalar->type == QueryResult::Type::kScalar);
  CHECK(scalar->samples.at(0).value == 42.5);
  auto str = (*client)->Query("str", ts);
  REQUIRE(str.ok());
  CHECK(str->type == QueryResult::Type::kString);
  CHECK(str->string_value == "hi");

  auto bad = (*client)->Query("bad", ts);
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
  CHECK(bad.status().message() == "bad_data: 1:4: parse error: oops");
  auto down = (*client)->Query("down", ts);
  CHECK(down.status().code() == Status::Code::kUnavailable);
  CHECK(down.status().message().find("503") != std::string::npos);

  const std::string long_query = "slow_" + std::string(3000, 'x');
  REQUIRE((*client)->Query(long_query, ts).ok());

  json reqs = server.Get("/_requests");
  REQUIRE(reqs.size() == 6);
  CHECK(reqs[0]["method"] == "GET");
  CHECK(reqs[0]["params"]["time"] == "1700000000.250");
  CHECK(reqs[0]["params"]["timeout"] == "2000ms");
  CHECK(reqs[0]["authorization"] == "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  CHECK(reqs[0]["x_scope"] == "tenant-1");
  CHECK(reqs[5]["method"] == "POST");
  CHECK(reqs[5]["content_type"] == "application/x-www-form-urlencoded");
  CHECK(reqs[5]["params"]["query"] == long_query);

  // 12 concurrent slow queries through 3 slots: never more than 3 in flight, and the slots'
  // keep-alive connections are reused (a handful of sockets, not one per query).
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      if ((*client)->Query(fmt::format("slow{}", i), ts).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 12);
  json stats = server.Get("/_stats");
  CHECK(stats["max_inflight"].get<int>() <= 3);
  CHECK(stats["max_inflight"].get<int>() >= 2);
  CHECK(stats["connections"].get<int>() <= 3);

  // Bearer token from a file, re-read when the file changes; a timeout is kTimeout.
  alertd::testing::WriteFile(server.dir() + "/token", "t0k3n\n");
  config::DatasourceConfig bearer;
  bearer.url = server.url();
  bearer.timeout = 100ms;
  config::Authorization authz;
  authz.credentials_file = server.dir() + "/token";
  bearer.http_config.authorization = authz;
  auto bc = NewHttpQueryClient(bearer);
  REQUIRE(bc.ok());
  REQUIRE((*bc)->Query("vec", ts).ok());
  std::this_thread::sleep_for(20ms);  // a distinct mtime for the rewritten file
  alertd::testing::WriteFile(server.dir() + "/token", "n3w-token-value");
  REQUIRE((*bc)->Query("vec", ts).ok());
  auto slow = (*bc)->Query("slow", ts);
  CHECK(slow.status().code() == Status::Code::kTimeout);
  reqs = server.Get("/_requests");
  CHECK(reqs[reqs.size() - 3]["authorization"] == "Bearer t0k3n");
  CHECK(reqs[reqs.size() - 2]["authorization"] == "Bearer n3w-token-value");

  // Nothing listening: kUnavailable, promptly.
  config::DatasourceConfig nowhere;
  nowhere.url = fmt::format("http://127.0.0.1:{}", alertd::testing::FreePort());
  auto nc = NewHttpQueryClient(nowhere);
  REQUIRE(nc.ok());
  auto refused = (*nc)->Query("vec", ts);
  CHECK(refused.status().code() == Status::Code::kUnavailable);
  CHECK_FALSE(NewHttpQueryClient(config::DatasourceConfig{}).ok());
}

TEST_CASE("query errors never carry the datasource's credentials") {
  QueryServer server;
  const Time ts = FromUnixMillis(1700000000250);
  alertd::testing::WriteFile(server.dir() + "/bearer", "file-bearer-Zq81\n");
  struct Row {
    const char* name;
    std::function<void(config::DatasourceConfig*)> setup;
    std::vector<std::string> secrets;  // none may appear in any error message
  };
  const std::string host = server.url().substr(7);  // 127.0.0.1:port
  const Row rows[] = {
      {"userinfo in the URL",
       [&](config::DatasourceConfig* c) { c->url = "http://ds-user-Kp2:ds-pass-Wx7@" + host; },
       {"ds-user-Kp2", "ds-pass-Wx7", "ZHMtdXNlci1LcDI6ZHMtcGFzcy1XeDc="}},
      {"percent-encoded userinfo",
       [&](config::DatasourceConfig* c) { c->url = "http://u:p%40ss-Lm3@" + host; },
       {"p%40ss-Lm3", "p@ss-Lm3"}},
      {"basic_auth password",
       [&](config::DatasourceConfig* c) {
         config::BasicAuth b;
         b.username = "bob";
         b.password = "basic-pass-Qr5";
         c->http_config.basic_auth = b;
       },
       {"basic-pass-Qr5", "Ym9iOmJhc2ljLXBhc3MtUXI1"}},
      {"bearer token",
       [&](config::DatasourceConfig* c) {
         c->http_config.authorization = config::Authorization{"Bearer", "bearer-Tt9", ""};
       },
       {"bearer-Tt9"}},
      {"bearer token from a file",
       [&](config::DatasourceConfig* c) {
         c->http_config.authorization =
             config::Authorization{"Bearer", "", server.dir() + "/bearer"};
       },
       {"file-bearer-Zq81"}},
      {"header value",
       [&](config::DatasourceConfig* c) {
         c->http_config.headers = {{"X-Scope-OrgID", "tenant-secret-Hh4"}};
       },
       {"tenant-secret-Hh4"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    config::DatasourceConfig cfg;
    cfg.url = server.url();
    cfg.timeout = 2s;
    row.setup(&cfg);
    auto client = NewHttpQueryClient(cfg);
    REQUIRE(client.ok());
    // The credentials reach the server (the error pages quote them back)...
    auto echo = (*client)->Query("echo", ts);
    REQUIRE_FALSE(echo.ok());
    CHECK(echo.status().message().find("502") != std::string::npos);
    CHECK(echo.status().message().find("<secret>") != std::string::npos);
    auto echojson = (*client)->Query("echojson", ts);
    REQUIRE_FALSE(echojson.ok());
    CHECK(echojson.status().message().find("refused") != std::string::npos);
    // ...and a datasource that is down is named without them.
    config::DatasourceConfig dead = cfg;
    const std::string dead_host = fmt::format("127.0.0.1:{}", alertd::testing::FreePort());
    const size_t at = dead.url.find(host);
    dead.url.replace(at, host.size(), dead_host);
    auto dc = NewHttpQueryClient(dead);
    REQUIRE(dc.ok());
    auto down = (*dc)->Query("vec", ts);
    REQUIRE_FALSE(down.ok());
    CHECK(down.status().message().find(dead_host) != std::string::npos);
    for (const auto& secret : row.secrets) {
      INFO(secret);
      CHECK(echo.status().message().find(secret) == std::string::npos);
      CHECK(echojson.status().message().find(secret) == std::string::npos);
      CHECK(down.status().message().find(secret) == std::string::npos);
    }
  }
  // The proxy's password too, when the proxy cannot be reached.
  config::DatasourceConfig proxied;
  proxied.url = server.url();
  proxied.timeout = 2s;
  proxied.http_config.proxy_url =
      fmt::format("http://proxy-user:proxy-pass-Vv6@127.0.0.1:{}", alertd::testing::FreePort());
  auto pc = NewHttpQueryClient(proxied);
  REQUIRE(pc.ok());
  auto via = (*pc)->Query("vec", ts);
  REQUIRE_FALSE(via.ok());
  CHECK(via.status().message().find("proxy-pass-Vv6") == std::string::npos);
}

TEST_CASE("a response over datasource.max_response_bytes fails the query with a clear error") {
  QueryServer server;
  config::DatasourceConfig cfg;
  cfg.url = server.url();
  cfg.timeout = 20s;
  cfg.max_response_bytes = 1 << 20;  // the responses are about 2 MiB
  auto client = NewHttpQueryClient(cfg);
  REQUIRE(client.ok());
  for (const char* q : {"huge", "hugechunked"}) {
    INFO(q);
    auto r = (*client)->Query(q, FromUnixMillis(0));
    REQUIRE_FALSE(r.ok());
    // Not retried: the same query would get the same answer.
    CHECK(r.status().code() == Status::Code::kInternal);
    CHECK_MESSAGE(r.status().message().find(
                      "response larger than datasource.max_response_bytes (1048576 bytes)") !=
                      std::string::npos,
                  r.status().message());
  }
  // The slot is usable afterwards, and under a larger cap the same answer decodes.
  CHECK((*client)->Query("vec", FromUnixMillis(0)).ok());
  cfg.max_response_bytes = 8 << 20;
  auto big = NewHttpQueryClient(cfg);
  REQUIRE(big.ok());
  auto r = (*big)->Query("hugechunked", FromUnixMillis(0));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->samples.size() == 20000);
}

TEST_CASE("waiting for a query slot ends at the query's timeout") {
  QueryServer server;
  config::DatasourceConfig cfg;
  cfg.url = server.url();
  cfg.timeout = 1s;
  cfg.max_concurrent_queries = 1;
  auto client = NewHttpQueryClient(cfg);
  REQUIRE(client.ok());
  // Three queries on one slot against a datasource that never answers: each fails within
  // about one timeout. Queueing behind each other, the last would take three.
  std::vector<std::thread> threads;
  std::vector<Status> results(3);
  std::vector<Duration> took(3);
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      const auto start = std::chrono::steady_clock::now();
      results[i] = (*client)->Query(fmt::format("hang{}", i), FromUnixMillis(0)).status();
      took[i] = std::chrono::steady_clock::now() - start;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 3; ++i) {
    INFO(i, ": ", results[i].message());
    CHECK(results[i].code() == Status::Code::kTimeout);
    CHECK(took[i] < 2500ms);
  }
}

TEST_CASE("stopping the rule manager waits for the hung query in flight, not for its group") {
  QueryServer server;
  config::DatasourceConfig cfg;
  cfg.url = server.url();
  cfg.timeout = 1s;
  auto client = NewHttpQueryClient(cfg);
  REQUIRE(client.ok());
  config::RuleGroup g;
  g.name = "hung";
  g.file = "/rules/hung.yml";
  g.interval = 1s;
  for (int i = 0; i < 5; ++i) {
    config::Rule r;
    r.alert = fmt::format("Hung{}", i);
    r.expr = fmt::format("hang{}", i);
    g.rules.push_back(r);
  }
  SystemClock clock;
  ManagerOptions opts;
  opts.workers = 1;
  ManagerDeps deps;
  deps.query = client->get();
  deps.clock = &clock;
  auto m = RuleManager::Create({g}, opts, deps);
  REQUIRE(m.ok());
  (*m)->Start();
  REQUIRE(alertd::testing::WaitFor([&] { return server.Get("/_requests").size() == 1; }, 10s));
  (*m)->Stop();
  // Stop returned once the query in flight timed out; the group's other four rules never
  // queried (each would have hung for another timeout).
  CHECK(server.Get("/_requests").size() == 1);
}

TEST_CASE("a datasource answering 503 to every other query loses no evaluation") {
  QueryServer server;  // the 503s come from a "load balancer" in front of it
  config::DatasourceConfig cfg;
  cfg.url = server.url();
  cfg.timeout = 5s;
  auto client = NewHttpQueryClient(cfg);
  REQUIRE(client.ok());
  config::RuleGroup g;
  g.name = "flaky";
  g.file = "/rules/flaky.yml";
  g.interval = 10s;
  config::Rule fire;
  fire.alert = "FlakyFire";
  fire.expr = "flaky_fire";
  config::Rule pending;
  pending.alert = "FlakyPending";
  pending.expr = "flaky_pending";
  pending.for_ = 30s;
  g.rules = {fire, pending};
  rules_engine::testing::FakeClock clock(FromUnixSeconds(1700000000));
  rules_engine::testing::FakeSink sink;
  rules_engine::testing::FakeRuleStateStore state;
  ManagerOptions opts;
  opts.workers = 0;
  auto m = RuleManager::Create({g}, opts, {client->get(), &sink, &state, &clock});
  REQUIRE(m.ok());
  REQUIRE((*m)->Restore().ok());
  const Time first = (*m)->RunDue(clock.Now());
  std::vector<Alert> sent;
  for (int i = 0; i < 6; ++i) {
    const Time ts = first + i * 10s;
    clock.Set(ts);
    (*m)->RunDue(ts);
    INFO("evaluation ", i);
    auto snap = (*m)->Snapshot();
    REQUIRE(snap[0].rules.size() == 2);
    for (const auto& r : snap[0].rules) {
      CHECK_MESSAGE(r.health == RuleHealth::kGood, r.last_error);
      REQUIRE(r.alerts.size() == 1);
      CHECK(r.alerts[0].active_at == first);  // never restarted
    }
    CHECK(snap[0].rules[1].alerts[0].state ==
          (i < 3 ? AlertState::kPending : AlertState::kFiring));
    for (auto& a : sink.Take()) {
      CHECK(a.ends_at > ts);  // nothing resolved
      sent.push_back(std::move(a));
    }
  }
  REQUIRE(sent.size() == 2);  // each alert once, when it fired
  CHECK(sent[0].labels.Get("alertname") == "FlakyFire");
  CHECK(sent[0].starts_at == first);
  CHECK(sent[1].labels.Get("alertname") == "FlakyPending");
  CHECK(sent[1].starts_at == first + 30s);
  json stats = server.Get("/_stats");
  CHECK(stats["flaky_503"].get<int>() >= 6);  // half of the queries failed first
  std::string metrics;
  (*m)->AppendMetrics(&metrics);
  const std::string group = "{rule_group=\"/rules/flaky.yml;flaky\"} ";
  CHECK(metrics.find("prometheus_rule_evaluation_failures_total" + group + "0\n") !=
        std::string::npos);
  CHECK(metrics.find("prometheus_rule_evaluations_total" + group + "12\n") != std::string::npos);
  CHECK(metrics.find("alertd_rule_query_retries_total" + group +
                     std::to_string(stats["flaky_503"].get<int>()) + "\n") != std::string::npos);
  (*m)->Stop();
}

}  // namespace
}  // namespace alertd::rules_engine
