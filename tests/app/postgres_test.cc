// alertd on PostgreSQL (storage.postgres), against a real server: alerts, silences and acks
// survive kill -9; a second alertd on the same database is refused; while PostgreSQL is down,
// writes get 503 with a JSON error and /-/ready says not ready, and alertd comes back by
// itself when the server does.
#include "tests/support/postgres.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct PgAlertd {
  std::string dir;
  int port = 0;
  std::string url;
  std::string config;
  Process proc;

  PgAlertd(const std::string& d, const std::string& dsn, const std::string& name = "alertd")
      : dir(d) {
    port = FreePort();
    url = "http://127.0.0.1:" + std::to_string(port);
    config = dir + "/" + name + ".yml";
    WriteFile(dir + "/pgpass", std::string(PostgresServer::kPassword) + "\n");
    WriteFile(config,
              "route:\n  receiver: default\n  group_by: [alertname]\nreceivers:\n"
              "  - name: default\nserver:\n  listen: 127.0.0.1:" +
                  std::to_string(port) + "\nstorage:\n  postgres:\n    dsn: \"" + dsn +
                  "\"\n    password_file: pgpass\n");
  }
  void Start(bool wait = true) {
    proc = Process::Start({kAlertdBinary, "--config", config}, config + ".log");
    if (wait) REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 30s), proc.Log());
  }
  json Get(const std::string& path) const {
    auto r = HttpGet(url + path);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
};

}  // namespace

TEST_CASE("on PostgreSQL: alerts, silences and acks survive kill -9; one alertd per database") {
  const std::string dir = MakeTempDir("alertd-pg-app");
  const std::string dsn = SharedPostgres().NewDatabase();
  PgAlertd a(dir, dsn);
  a.Start();
  REQUIRE(HttpPostJson(a.url + "/api/v2/alerts",
                       R"([{"labels":{"alertname":"Disk","host":"a"}},
                           {"labels":{"alertname":"Cpu","host":"b"}}])")
              .status == 200);
  auto sil = HttpPostJson(a.url + "/api/v2/silences", R"({"matchers":[{"name":"alertname",
      "value":"Cpu","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z",
      "endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"maintenance"})");
  REQUIRE_MESSAGE(sil.status == 200, sil.body);
  const std::string silence_id = json::parse(sil.body)["silenceID"];
  std::string fp;
  for (const auto& al : a.Get("/api/v2/alerts")) {
    if (al["labels"]["alertname"] == "Disk") fp = al["fingerprint"];
  }
  REQUIRE(!fp.empty());
  auto ack = HttpPostJson(a.url + "/api/v1/alerts/" + fp + "/ack", R"({"by":"alice"})");
  REQUIRE_MESSAGE(ack.status == 200, ack.body);

  // A second alertd on the same database stops at once and names the reason.
  {
    PgAlertd b(dir, dsn, "second");
    b.Start(/*wait=*/false);
    REQUIRE(WaitFor([&] { return !b.proc.Running(); }, 30s));
    const int status = b.proc.Stop();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(b.proc.Log().find("another alertd is using this PostgreSQL database") !=
          std::string::npos);
  }
  // The password never reaches the log.
  CHECK(a.proc.Log().find(PostgresServer::kPassword) == std::string::npos);

  a.proc.Kill9();
  a.Start();
  const json alerts = a.Get("/api/v2/alerts");
  REQUIRE(alerts.size() == 2);
  for (const auto& al : alerts) {
    if (al["labels"]["alertname"] == "Cpu") {
      CHECK(al["status"]["state"] == "suppressed");
      CHECK(al["status"]["silencedBy"] == json::array({silence_id}));
    } else {
      CHECK(al["ack"]["by"] == "alice");
    }
  }
  const json acks = a.Get("/api/v1/acks");
  CHECK(acks.dump().find("alice") != std::string::npos);
  a.proc.Stop();
  RemoveTree(dir);
}

TEST_CASE("on PostgreSQL: while the server is down, writes get 503 and alertd is not ready") {
  const std::string dir = MakeTempDir("alertd-pg-down");
  PgAlertd a(dir, SharedPostgres().NewDatabase());
  a.Start();
  REQUIRE(HttpPostJson(a.url + "/api/v2/alerts", R"([{"labels":{"alertname":"Before"}}])").status ==
          200);
  SharedPostgres().Stop();
  auto down = HttpPostJson(a.url + "/api/v2/alerts", R"([{"labels":{"alertname":"During"}}])");
  CHECK(down.status == 503);
  CHECK(json::parse(down.body).contains("error"));
  auto sil = HttpPostJson(a.url + "/api/v2/silences", R"({"matchers":[{"name":"alertname",
      "value":"X","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z",
      "endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"c"})");
  CHECK(sil.status == 503);
  // Readiness follows within the writer's idle check (5 s).
  CHECK(WaitFor([&] { return HttpGet(a.url + "/-/ready").status == 503; }, 30s));
  // Reads are still served from memory.
  CHECK(HttpGet(a.url + "/api/v2/alerts").status == 200);

  SharedPostgres().Start();
  CHECK(WaitFor([&] { return HttpGet(a.url + "/-/ready").status == 200; }, 60s));
  REQUIRE(WaitFor(
      [&] {
        return HttpPostJson(a.url + "/api/v2/alerts", R"([{"labels":{"alertname":"After"}}])")
                   .status == 200;
      },
      60s));
  // Nothing was lost: the alert refused with 503 was kept and committed with the next one.
  a.proc.Kill9();
  a.Start();
  std::vector<std::string> names;
  for (const auto& al : a.Get("/api/v2/alerts")) names.push_back(al["labels"]["alertname"]);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"After", "Before", "During"});
  a.proc.Stop();
  RemoveTree(dir);
}
