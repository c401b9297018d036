// The alertd binary against real clients: amtool, Prometheus, an Alertmanager forwarding
// through webhook_configs; bad input; kill -9; databases it must refuse.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/labels.h"
#include "core/clock.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct Alertd {
  std::string dir;
  int port = 0;
  std::string url;
  std::string db;
  std::string config;
  Process proc;

  // Writes a config (Alertmanager's route/receivers plus server/storage) and starts alertd.
  explicit Alertd(const std::string& d, const std::string& extra_server = "", bool wait = true)
      : dir(d) {
    port = FreePort();
    url = "http://127.0.0.1:" + std::to_string(port);
    db = dir + "/data/alertd.db";
    config = dir + "/alertd.yml";
    WriteFile(
        config,
        "route:\n  receiver: default\n  group_by: [alertname]\nreceivers:\n  - name: default\n"
        "server:\n  listen: 127.0.0.1:" +
            std::to_string(port) + "\n" + extra_server + "storage:\n  path: " + db + "\n");
    Start(wait);
  }
  void Start(bool wait = true) {
    proc = Process::Start({kAlertdBinary, "--config", config}, dir + "/alertd.log");
    if (wait) REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), proc.Log());
  }
  json Alerts(const std::string& query = "") const {
    auto r = HttpGet(url + "/api/v2/alerts" + query);
    if (r.status != 200) return json::array();
    return json::parse(r.body);
  }
};

std::string ErrorOf(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error"))
    return "<not a JSON error: " + r.body + ">";
  return j["error"].get<std::string>();
}

LabelSet FromJson(const json& labels) {
  LabelSet ls;
  for (auto& [k, v] : labels.items()) ls.Set(k, v.get<std::string>());
  return ls;
}

std::map<std::string, std::string> FingerprintsByLabels(const json& alerts) {
  std::map<std::string, std::string> out;
  for (const auto& a : alerts)
    out[FromJson(a["labels"]).String()] = a["fingerprint"].get<std::string>();
  return out;
}

// ≥ 20 label sets that exercise the fingerprint: unicode, empty values (dropped on ingestion),
// many labels, separators and quotes in values.
json FingerprintLabelSets() {
  json sets = json::array();
  sets.push_back({{"alertname", "TestAlert"}});
  sets.push_back({{"name", "garland, briggs"}, {"fear", "love is not enough"}});
  sets.push_back({{"alertname", "Unicode"}, {"city", "Zürich"}, {"emoji", "🔥🚒"}});
  sets.push_back({{"alertname", "CJK"}, {"msg", "磁盘已满"}});
  sets.push_back({{"alertname", "Empty"}, {"gone", ""}, {"kept", "v"}});
  sets.push_back({{"alertname", "Quote"}, {"q", "say \"hi\"\n\ttab"}});
  sets.push_back({{"alertname", "Backslash"}, {"path", "C:\\Windows\\"}});
  sets.push_back({{"alertname", "Separator"},
                  {"v",
                   "a\xC3\xBF"
                   "b"}});
  json many = {{"alertname", "Many"}};
  for (int i = 0; i < 40; ++i)
    many["label_" + std::to_string(i)] = "value " + std::to_string(i * 7);
  sets.push_back(many);
  for (int i = 0; i < 12; ++i) {
    sets.push_back({{"alertname", "Series"},
                    {"instance", "host-" + std::to_string(i) + ":9100"},
                    {"job", "node"},
                    {"severity", i % 2 ? "critical" : "warning"}});
  }
  sets.push_back({{"_underscore", "x"}, {"alertname", "Underscore"}});
  sets.push_back({{"alertname", "Long"}, {"v", std::string(2000, 'z')}});
  return sets;
}

}  // namespace

TEST_CASE("amtool adds and queries alerts against alertd") {
  std::string dir = MakeTempDir("alertd-amtool");
  {
    Alertd ad(dir);
    std::string out;
    int rc = RunCommand({"/usr/bin/amtool", "alert", "add", "AmtoolAlert", "severity=critical",
                         "--annotation=summary=from amtool", "--alertmanager.url=" + ad.url},
                        &out);
    REQUIRE_MESSAGE(rc == 0, out);
    rc = RunCommand(
        {"/usr/bin/amtool", "alert", "query", "-o", "json", "--alertmanager.url=" + ad.url}, &out);
    REQUIRE_MESSAGE(rc == 0, out);
    auto start = out.find('[');
    REQUIRE(start != std::string::npos);
    auto list = json::parse(out.substr(start));
    REQUIRE(list.size() == 1);
    CHECK(list[0]["labels"]["alertname"] == "AmtoolAlert");
    CHECK(list[0]["annotations"]["summary"] == "from amtool");
    CHECK(list[0]["fingerprint"] == FromJson(list[0]["labels"]).FingerprintHex());

    rc = RunCommand(
        {"/usr/bin/amtool", "alert", "query", "severity=critical", "--alertmanager.url=" + ad.url},
        &out);
    CHECK(rc == 0);
    CHECK(out.find("AmtoolAlert") != std::string::npos);
    rc = RunCommand(
        {"/usr/bin/amtool", "alert", "query", "severity=info", "--alertmanager.url=" + ad.url},
        &out);
    CHECK(rc == 0);
    CHECK(out.find("AmtoolAlert") == std::string::npos);
    rc = RunCommand({"/usr/bin/amtool", "config", "show", "--alertmanager.url=" + ad.url}, &out);
    CHECK_MESSAGE(rc == 0, out);
    CHECK(out.find("receiver: default") != std::string::npos);
  }
  RemoveTree(dir);
}

TEST_CASE("fingerprints equal Alertmanager's, and an Alertmanager forwards to alertd by webhook") {
  std::string dir = MakeTempDir("alertd-am");
  {
    Alertd ad(dir);
    const int am_port = FreePort();
    const std::string am_url = "http://127.0.0.1:" + std::to_string(am_port);
    WriteFile(
        dir + "/am.yml",
        "route:\n  receiver: alertd\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n"
        "  repeat_interval: 1h\nreceivers:\n  - name: alertd\n    webhook_configs:\n"
        "      - url: " +
            ad.url + "/api/v1/webhook/alertmanager\n        send_resolved: true\n");
    Process am = Process::Start(
        {"/usr/bin/prometheus-alertmanager", "--config.file=" + dir + "/am.yml",
         "--storage.path=" + dir + "/am-data",
         "--cluster.listen-address=", "--web.listen-address=127.0.0.1:" + std::to_string(am_port)},
        dir + "/am.log");
    REQUIRE_MESSAGE(WaitHttpReady(am_url + "/-/ready", 30s), am.Log());

    json sets = FingerprintLabelSets();
    REQUIRE(sets.size() >= 20);
    json body = json::array();
    for (const auto& s : sets) body.push_back({{"labels", s}, {"annotations", {{"summary", "s"}}}});
    REQUIRE(HttpPostJson(am_url + "/api/v2/alerts", body.dump()).status == 200);
    // The same label sets straight to alertd's API too.
    REQUIRE(HttpPostJson(ad.url + "/api/v2/alerts", body.dump()).status == 200);

    json am_alerts;
    REQUIRE(WaitFor(
        [&] {
          auto r = HttpGet(am_url + "/api/v2/alerts");
          if (r.status != 200) return false;
          am_alerts = json::parse(r.body);
          return am_alerts.size() == sets.size();
        },
        20s));
    // Alertmanager's fingerprints = alertd's LabelSet::FingerprintHex = alertd's API.
    auto am_fps = FingerprintsByLabels(am_alerts);
    auto ad_fps = FingerprintsByLabels(ad.Alerts());
    REQUIRE(am_fps.size() == sets.size());
    CHECK(ad_fps == am_fps);
    for (const auto& a : am_alerts) {
      INFO(a["labels"].dump());
      CHECK(a["fingerprint"] == FromJson(a["labels"]).FingerprintHex());
      CHECK_FALSE(a["labels"].contains("gone"));  // empty values are dropped by both
    }

    // Webhook delivery: restart alertd on a fresh database so only the webhook feeds it.
    ad.proc.Stop();
    RemoveTree(dir + "/data");
    ad.Start();
    REQUIRE(HttpPostJson(am_url + "/api/v2/alerts",
                         json::array({{{"labels", {{"alertname", "ViaWebhook"}, {"n", "1"}}}},
                                      {{"labels", {{"alertname", "ViaWebhook"}, {"n", "2"}}}}})
                             .dump())
                .status == 200);
    json got;
    REQUIRE_MESSAGE(WaitFor(
                        [&] {
                          got = ad.Alerts("?filter=alertname%3D%22ViaWebhook%22");
                          return got.size() == 2;
                        },
                        30s),
                    am.Log());
    auto am_hook = FingerprintsByLabels(
        json::parse(HttpGet(am_url + "/api/v2/alerts?filter=alertname%3D%22ViaWebhook%22").body));
    CHECK(FingerprintsByLabels(got) == am_hook);

    // Resolve in Alertmanager: the resolved notification reaches alertd, which stops listing it.
    const std::string past = "2020-01-01T00:00:00Z";
    REQUIRE(HttpPostJson(am_url + "/api/v2/alerts",
                         json::array({{{"labels", {{"alertname", "ViaWebhook"}, {"n", "1"}}},
                                       {"startsAt", "2019-12-31T00:00:00Z"},
                                       {"endsAt", "2020-01-01T00:00:00Z"}}})
                             .dump())
                .status == 200);
    (void)past;
    REQUIRE_MESSAGE(
        WaitFor([&] { return ad.Alerts("?filter=alertname%3D%22ViaWebhook%22").size() == 1; }, 30s),
        am.Log());
    CHECK(ad.Alerts("?filter=alertname%3D%22ViaWebhook%22")[0]["labels"]["n"] == "2");
    am.Stop();
  }
  RemoveTree(dir);
}

TEST_CASE("a real Prometheus delivers firing and then resolved alerts") {
  std::string dir = MakeTempDir("alertd-prom");
  {
    Alertd ad(dir);
    const int prom_port = FreePort();
    WriteFile(dir + "/rules.yml",
              "groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: PromFiring\n"
              "        expr: vector(1)\n        labels:\n          severity: page\n"
              "        annotations:\n          summary: value {{ $value }}\n");
    WriteFile(
        dir + "/prometheus.yml",
        "global:\n  evaluation_interval: 1s\nrule_files: [" + dir +
            "/rules.yml]\n"
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:" +
            std::to_string(ad.port) + "']\n");
    Process prom =
        Process::Start({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                        "--storage.tsdb.path=" + dir + "/prom-data",
                        "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                        "--rules.alert.resend-delay=1s"},
                       dir + "/prom.log");
    json got;
    REQUIRE_MESSAGE(WaitFor(
                        [&] {
                          got = ad.Alerts("?filter=alertname%3D%22PromFiring%22");
                          return got.size() == 1;
                        },
                        60s),
                    prom.Log());
    CHECK(got[0]["labels"]["severity"] == "page");
    CHECK(got[0]["annotations"]["summary"] == "value 1");
    CHECK(got[0]["generatorURL"].get<std::string>().find("/graph?g0.expr=vector%281%29") !=
          std::string::npos);
    const std::string fp = got[0]["fingerprint"];

    // The rule stops matching: Prometheus sends the alert resolved, alertd stops listing it.
    WriteFile(dir + "/rules.yml",
              "groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: PromFiring\n"
              "        expr: vector(1) > 2\n        labels:\n          severity: page\n"
              "        annotations:\n          summary: value {{ $value }}\n");
    prom.Signal(SIGHUP);
    REQUIRE_MESSAGE(
        WaitFor([&] { return ad.Alerts("?filter=alertname%3D%22PromFiring%22").empty(); }, 90s),
        prom.Log());
    prom.Stop();
    ad.proc.Stop();
    // It is kept, resolved, in the database.
    auto db = storage::Database::Open(ad.db);
    REQUIRE(db.ok());
    SystemClock clock;
    auto store = storage::OpenAlertStore(std::move(*db), &clock);
    REQUIRE_MESSAGE(store.ok(), store.status().message());
    auto a = (*store)->Get(std::stoull(fp, nullptr, 16));
    REQUIRE(a);
    CHECK(a->ends_at > a->starts_at);
    CHECK(a->ends_at <= clock.Now());
    CHECK_FALSE(a->timeout);  // Prometheus sends endsAt: no timeout
  }
  RemoveTree(dir);
}

TEST_CASE("bad input gets its answer and the daemon keeps serving others") {
  std::string dir = MakeTempDir("alertd-bad");
  {
    Alertd ad(dir, "  read_timeout: 1s\n  max_body_bytes: 2000000\n");
    json big = json::array();
    for (int i = 0; i < 10000; ++i) {
      big.push_back({{"labels", {{"alertname", "Bulk"}, {"i", std::to_string(i)}}}});
    }
    struct Row {
      const char* name;
      std::string body;
      long status;
      const char* error;
    };
    std::vector<Row> rows = {
        {"malformed JSON", "[{\"labels\":", 400, "malformed JSON"},
        {"wrong top-level type", "{\"labels\":{}}", 400, "must be a JSON array"},
        {"wrong label value type", R"([{"labels":{"a":true}}])", 400, "must be a string"},
        {"wrong startsAt type", R"([{"labels":{"a":"b"},"startsAt":12}])", 400,
         "startsAt must be a string"},
        {"invalid label name", R"([{"labels":{"a.b":"c"}}])", 400, "invalid label name \"a.b\""},
        {"empty label set", R"([{"labels":{}}])", 400, "at least one label pair required"},
        {"over the body limit", "[" + std::string(2100000, ' ') + "]", 413,
         "larger than 2000000 bytes"},
        {"10,000 alerts in one request", big.dump(), 200, ""},
    };
    for (const auto& row : rows) {
      INFO(row.name);
      auto r = HttpPostJson(ad.url + "/api/v2/alerts", row.body);
      CHECK(r.status == row.status);
      if (row.status != 200) CHECK_MESSAGE(ErrorOf(r).find(row.error) != std::string::npos, r.body);
      CHECK(HttpGet(ad.url + "/-/healthy").status == 200);
    }
    CHECK(ad.Alerts("?filter=alertname%3D%22Bulk%22").size() == 10000);

    // Slowloris: headers trickle in; the connection is cut after read_timeout while normal
    // requests keep being answered.
    std::atomic<bool> done{false};
    std::atomic<int> served{0};
    std::thread others([&] {
      while (!done) {
        if (HttpGet(ad.url + "/-/healthy").status == 200) ++served;
        std::this_thread::sleep_for(50ms);
      }
    });
    std::string out;
    const auto start = std::chrono::steady_clock::now();
    // curl with a body delivered at 1 byte/s; it must fail well before its own 20 s limit.
    int rc = RunCommand({"/usr/bin/curl", "-sS", "-o", "/dev/null", "--limit-rate", "1",
                         "--max-time", "20", "-H", "Content-Type: application/json",
                         "--data-binary", std::string(50, ' ') + "[]", ad.url + "/api/v2/alerts"},
                        &out);
    const auto took = std::chrono::steady_clock::now() - start;
    done = true;
    others.join();
    CHECK(rc != 0);
    CHECK(took < 10s);
    CHECK(served > 5);
    CHECK(ad.proc.Running());
  }
  RemoveTree(dir);
}

TEST_CASE("kill -9 right after a 200: the alerts are there after restart") {
  std::string dir = MakeTempDir("alertd-kill");
  {
    Alertd ad(dir);
    std::set<std::string> acknowledged;
    for (int round = 0; round < 3; ++round) {
      json batch = json::array();
      for (int i = 0; i < 64; ++i) {
        batch.push_back({{"labels",
                          {{"alertname", "Durable"},
                           {"round", std::to_string(round)},
                           {"i", std::to_string(i)}}}});
      }
      auto r = HttpPostJson(ad.url + "/api/v2/alerts", batch.dump());
      REQUIRE(r.status == 200);
      ad.proc.Kill9();  // the instant the 200 arrived
      for (const auto& a : batch) acknowledged.insert(FromJson(a["labels"]).FingerprintHex());
      ad.Start();
      auto listed = ad.Alerts("?filter=alertname%3D%22Durable%22");
      std::set<std::string> have;
      for (const auto& a : listed) have.insert(a["fingerprint"].get<std::string>());
      CHECK(have == acknowledged);
    }
  }
  RemoveTree(dir);
}

TEST_CASE("the daemon refuses a database from a newer alertd and a corrupt file") {
  std::string dir = MakeTempDir("alertd-refuse");
  {
    Alertd ad(dir);
    ad.proc.Stop();
    {
      auto db = storage::Database::Open(ad.db);
      REQUIRE(db.ok());
      REQUIRE((*db)->Exec("PRAGMA user_version = 999").ok());
    }
    ad.Start(false);
    REQUIRE(WaitFor([&] { return !ad.proc.Running(); }, 20s));
    CHECK(ad.proc.Log().find("written by a newer alertd") != std::string::npos);

    WriteFile(ad.db,
              "this is not a database, but it is somebody's file\n" + std::string(4096, '#'));
    RemoveTree(ad.db + "-wal");
    RemoveTree(ad.db + "-shm");
    const std::string before = ReadFile(ad.db);
    ad.Start(false);
    REQUIRE(WaitFor([&] { return !ad.proc.Running(); }, 20s));
    CHECK(ad.proc.Log().find("is not a valid alertd database") != std::string::npos);
    CHECK(ReadFile(ad.db) == before);
  }
  RemoveTree(dir);
}

TEST_CASE("a second alertd on the same database exits 1 at once and the first keeps working") {
  std::string dir = MakeTempDir("alertd-lock");
  {
    Alertd first(dir);
    auto r = HttpPostJson(first.url + "/api/v2/alerts",
                          R"([{"labels":{"alertname":"Locked","n":"1"}}])");
    REQUIRE(r.status == 200);
    // The same database behind another port, so that only the lock can stop it.
    const int port2 = FreePort();
    const std::string config2 = dir + "/second.yml";
    WriteFile(config2,
              "route:\n  receiver: default\nreceivers:\n  - name: default\n"
              "server:\n  listen: 127.0.0.1:" +
                  std::to_string(port2) + "\nstorage:\n  path: " + first.db + "\n");
    Process second = Process::Start({kAlertdBinary, "--config", config2}, dir + "/second.log");
    REQUIRE_MESSAGE(WaitFor([&] { return !second.Running(); }, 10s), second.Log());
    const int status = second.Stop();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    const std::string want = "storage: " + first.db + " is in use by another alertd (pid " +
                             std::to_string(first.proc.pid()) + ")";
    CHECK_MESSAGE(second.Log().find(want) != std::string::npos, second.Log());
    CHECK(HttpGet("http://127.0.0.1:" + std::to_string(port2) + "/-/ready").status != 200);

    // The first one still answers, and still stores.
    r = HttpPostJson(first.url + "/api/v2/alerts", R"([{"labels":{"alertname":"Locked","n":"2"}}])");
    CHECK(r.status == 200);
    CHECK(first.Alerts("?filter=alertname%3D%22Locked%22").size() == 2);

    // kill -9 leaves no stale lock: the kernel releases it with the process.
    first.proc.Kill9();
    Process third = Process::Start({kAlertdBinary, "--config", config2}, dir + "/third.log");
    const std::string url3 = "http://127.0.0.1:" + std::to_string(port2);
    REQUIRE_MESSAGE(WaitHttpReady(url3 + "/-/ready", 20s), third.Log());
    auto listed = HttpGet(url3 + "/api/v2/alerts?filter=alertname%3D%22Locked%22");
    REQUIRE(listed.status == 200);
    CHECK(json::parse(listed.body).size() == 2);
    CHECK(ReadFile(first.db + ".lock") == std::to_string(third.pid()) + "\n");
    third.Stop();
  }
  RemoveTree(dir);
}

TEST_CASE("Alertmanager's flag names start alertd as they start Alertmanager") {
  const std::string dir = MakeTempDir("alertd-amflags");
  {
    const int port = FreePort();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    WriteFile(dir + "/alertmanager.yml", "route:\n  receiver: default\nreceivers:\n  - name: default\n");
    // The command line of a service definition written for Alertmanager 0.25.
    Process p = Process::Start({kAlertdBinary, "--config.file=" + dir + "/alertmanager.yml",
                                "--storage.path=" + dir + "/data",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                "--cluster.listen-address=", "--log.level=warn"},
                               dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), p.Log());
    CHECK(HttpPostJson(url + "/api/v2/alerts", R"([{"labels":{"alertname":"Flags"}}])").status ==
          200);
    CHECK(std::filesystem::exists(dir + "/data/alertd.db"));
  }
  {
    // --storage given an existing directory, as Alertmanager users pass --storage.path.
    const int port = FreePort();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    std::filesystem::create_directories(dir + "/existing");
    Process p = Process::Start({kAlertdBinary, "--config.file=" + dir + "/alertmanager.yml",
                                "--storage=" + dir + "/existing",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                               dir + "/dir.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), p.Log());
    CHECK(std::filesystem::exists(dir + "/existing/alertd.db"));
  }
  {
    // --storage and --storage.path name the same thing: both at once is refused.
    Process p = Process::Start({kAlertdBinary, "--config.file=" + dir + "/alertmanager.yml",
                                "--storage.path=" + dir + "/data", "--storage=" + dir + "/x.db"},
                               dir + "/refused.log");
    REQUIRE(WaitFor([&] { return !p.Running(); }, 10s));
    const int status = p.Stop();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) != 0);
    CHECK(p.Log().find("excludes") != std::string::npos);
  }
  RemoveTree(dir);
}
