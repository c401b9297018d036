// alertd on PostgreSQL (storage.postgres), against a real server: alerts, silences and acks
// survive kill -9; a second alertd on the same database is refused; while PostgreSQL is down,
// writes get 503 with a JSON error and /-/ready says not ready, and alertd comes back by
// itself when the server does; `alertd migrate` moves a SQLite installation onto PostgreSQL and
// its timeline goes on there.
#include "tests/support/postgres.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// The storage block's body for the database `dsn`, its password in the directory's pgpass.
std::string OnPostgres(const std::string& dsn) {
  return "  postgres:\n    dsn: \"" + dsn + "\"\n    password_file: pgpass\n";
}

struct PgAlertd {
  std::string dir;
  int port = 0;
  std::string url;
  std::string config;
  Process proc;

  static constexpr const char* kRouting =
      "route:\n  receiver: default\n  group_by: [alertname]\nreceivers:\n  - name: default\n";

  // `storage` is the body of the storage block (OnPostgres, or a SQLite path); `routing` the
  // route, the receivers and the rest.
  PgAlertd(const std::string& d, const std::string& storage, const std::string& name = "alertd",
           const std::string& routing = kRouting)
      : dir(d) {
    port = FreePort();
    url = "http://127.0.0.1:" + std::to_string(port);
    config = dir + "/" + name + ".yml";
    WriteFile(dir + "/pgpass", std::string(PostgresServer::kPassword) + "\n");
    WriteFile(config, routing + "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
                          "\nstorage:\n" + storage);
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
  PgAlertd a(dir, OnPostgres(dsn));
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
    PgAlertd b(dir, OnPostgres(dsn), "second");
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
  PgAlertd a(dir, OnPostgres(SharedPostgres().NewDatabase()));
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

TEST_CASE("alertd migrate: a SQLite installation goes on on PostgreSQL, nothing sent twice") {
  const std::string dir = MakeTempDir("alertd-pg-migrate");
  const std::string records = dir + "/records.jsonl";
  const int sink_port = FreePort();
  Process sink = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
       std::to_string(sink_port), std::to_string(FreePort()), records},
      dir + "/sink.log");
  const std::string sink_url = "http://127.0.0.1:" + std::to_string(sink_port);
  const std::string routing = R"(route:
  receiver: first
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  escalation: pager
receivers:
  - name: first
    webhook_configs: [{url: ')" + sink_url + R"(/first'}]
  - name: leads
    webhook_configs: [{url: ')" + sink_url + R"(/leads'}]
escalation_policies:
  - name: pager
    steps:
      - after: 12s
        receivers: [leads]
)";
  auto find = [&](const std::string& what, const std::string& alertname) {
    std::vector<SinkRecord> out;
    for (auto& r : ReadSinkRecords(records)) {
      if (r.What().rfind(what, 0) == 0 &&
          r.body["commonLabels"].value("alertname", "") == alertname) {
        out.push_back(std::move(r));
      }
    }
    return out;
  };

  // On SQLite: Disk and Mem notified, Mem acknowledged, Cpu silenced.
  PgAlertd a(dir, "  path: " + dir + "/data/alertd.db\n", "sqlite", routing);
  a.Start();
  auto sil = HttpPostJson(a.url + "/api/v2/silences", R"({"matchers":[{"name":"alertname",
      "value":"Cpu","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z",
      "endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"maintenance"})");
  REQUIRE_MESSAGE(sil.status == 200, sil.body);
  const std::string silence_id = json::parse(sil.body)["silenceID"];
  REQUIRE(HttpPostJson(a.url + "/api/v2/alerts",
                       R"([{"labels":{"alertname":"Disk"}},{"labels":{"alertname":"Mem"}},
                           {"labels":{"alertname":"Cpu"}}])")
              .status == 200);
  REQUIRE_MESSAGE(WaitFor([&] {
                    return !find("webhook /first", "Disk").empty() &&
                           !find("webhook /first", "Mem").empty();
                  }, 20s),
                  a.proc.Log());
  const double disk_first = find("webhook /first", "Disk")[0].t;
  const double mem_first = find("webhook /first", "Mem")[0].t;
  auto ack = HttpPostJson(a.url + "/api/v1/acks",
                          R"({"matchers":[{"name":"alertname","value":"Mem"}],"by":"alice"})");
  REQUIRE_MESSAGE(ack.status == 200, ack.body);
  REQUIRE(a.proc.Stop() == 0);

  // The move.
  const std::string dsn = SharedPostgres().NewDatabase();
  Process migrate = Process::Start({kAlertdBinary, "migrate", "--from", dir + "/data/alertd.db",
                                    "--to", dsn, "--to-password-file", dir + "/pgpass"},
                                   dir + "/migrate.log");
  REQUIRE(WaitFor([&] { return !migrate.Running(); }, 30s));
  const int status = migrate.Stop();
  INFO(migrate.Log());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(migrate.Log().find("copied 3 alerts") != std::string::npos);
  CHECK(migrate.Log().find(PostgresServer::kPassword) == std::string::npos);

  // On PostgreSQL: the same alerts, silence and ack; Disk's escalation step comes on time;
  // nothing already delivered is delivered again, Mem (acknowledged) does not escalate and Cpu
  // (silenced) is never notified.
  PgAlertd b(dir, OnPostgres(dsn), "postgres", routing);
  b.Start();
  for (const auto& al : b.Get("/api/v2/alerts")) {
    if (al["labels"]["alertname"] == "Cpu") {
      CHECK(al["status"]["silencedBy"] == json::array({silence_id}));
    } else if (al["labels"]["alertname"] == "Mem") {
      CHECK(al["ack"]["by"] == "alice");
    } else {
      CHECK(al["ack"].is_null());
    }
  }
  REQUIRE_MESSAGE(WaitFor([&] { return !find("webhook /leads", "Disk").empty(); }, 30s),
                  std::string(b.proc.Log() + DescribeSinkRecords(ReadSinkRecords(records))));
  const double step = find("webhook /leads", "Disk")[0].t;
  CHECK(step >= disk_first + 12 - 0.5);
  CHECK(step <= disk_first + 12 + 3);
  // Mem's step was due with Disk's; give it the same margin before saying it did not come.
  const auto past_mem_step =
      std::chrono::milliseconds(static_cast<int64_t>((mem_first + 12 + 3 - UnixNow()) * 1000));
  CHECK(!WaitFor([&] { return !find("webhook /leads", "Mem").empty(); },
                 std::max(past_mem_step, std::chrono::milliseconds(1))));
  const std::string got = DescribeSinkRecords(ReadSinkRecords(records));
  CHECK_MESSAGE(find("webhook /first", "Disk").size() == 1, got);
  CHECK_MESSAGE(find("webhook /first", "Mem").size() == 1, got);
  CHECK_MESSAGE(find("webhook", "Cpu").empty(), got);
  CHECK(b.proc.Stop() == 0);
  sink.Stop();
  RemoveTree(dir);
}
