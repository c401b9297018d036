// The alertd binary as an attacker meets it: /api/v2/status shows no secret and amtool still
// reads it; datasource credentials stay out of /api/v1/rules lastError and the log; tokens
// hold roles (403 without, acks carry the token's name across a restart); a browser's form or
// text/plain post gets 415 and changes nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// One alertd on `body` (everything but `server:` and `storage:`); `server_extra` lands
// under `server:`.
struct Alertd {
  std::string dir, config, url;
  int port = FreePort();
  Process proc;

  Alertd(const std::string& d, const std::string& body, const std::string& server_extra = "")
      : dir(d) {
    url = "http://127.0.0.1:" + std::to_string(port);
    config = dir + "/alertd.yml";
    WriteFile(config, body + "server:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n" +
                          server_extra + "storage:\n  path: " + dir + "/data/alertd.db\n");
  }
  void Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {kAlertdBinary, "--config", config};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = Process::Start(argv, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), proc.Log());
  }
};

std::string ErrorOf(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error")) return "<not a JSON error>";
  return j["error"].get<std::string>();
}

HttpResponse Send(const std::string& method, const std::string& url, const std::string& body,
                  const std::string& token, const std::string& type = "application/json") {
  std::map<std::string, std::string> h;
  if (!type.empty()) h["Content-Type"] = type;
  if (!token.empty()) h["Authorization"] = "Bearer " + token;
  return HttpRequest(method, url, body, h);
}

const char* kSilence = R"({"matchers":[{"name":"alertname","value":"X","isRegex":false}],)"
                       R"("startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",)"
                       R"("createdBy":"test","comment":"c"})";

size_t Count(const std::string& url, const std::string& token = "") {
  auto r = Send("GET", url, "", token, "");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  json j = json::parse(r.body);
  return j.is_object() ? j["acks"].size() : j.size();
}

}  // namespace

TEST_CASE("status: amtool config show reads alertd's redacted configuration") {
  const std::string dir = MakeTempDir("alertd-sec-status");
  {
    Alertd ad(dir, R"(route:
  receiver: pager
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: routing-key-Q7x}]
    slack_configs: [{api_url: 'https://hooks.slack.com/services/T/B/slack-Z3q', channel: '#ops'}]
    webhook_configs:
      - url: http://hooks.example.org/hook-Y2w
        http_config: {basic_auth: {username: hook, password: hook-pass-V4e}}
)",
              "  auth:\n    tokens:\n      - {name: ops, token: auth-token-P9k}\n");
    ad.Start();
    std::string out;
    const int rc =
        RunCommand({"/usr/bin/amtool", "config", "show", "--alertmanager.url=" + ad.url}, &out);
    REQUIRE_MESSAGE(rc == 0, out);
    CHECK(out.find("receiver: pager") != std::string::npos);
    CHECK(out.find("routing_key: <secret>") != std::string::npos);
    CHECK(out.find("#ops") != std::string::npos);
    const std::string body = HttpGet(ad.url + "/api/v2/status").body;
    for (const char* secret :
         {"routing-key-Q7x", "slack-Z3q", "hook-Y2w", "hook-pass-V4e", "auth-token-P9k"}) {
      INFO(secret);
      CHECK(out.find(secret) == std::string::npos);
      CHECK(body.find(secret) == std::string::npos);
    }
  }
  RemoveTree(dir);
}

TEST_CASE("datasource credentials stay out of lastError and the log") {
  const std::string dir = MakeTempDir("alertd-sec-ds");
  const int query_port = FreePort();
  Process server = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/rules_engine/fixtures/query_server.py",
       std::to_string(query_port)},
      dir + "/query.log");
  REQUIRE(WaitHttpReady("http://127.0.0.1:" + std::to_string(query_port) + "/ready", 20s));
  struct Row {
    const char* name;
    std::string host;  // where the datasource is
    const char* expr;  // what the server answers (tests/rules_engine/fixtures/query_server.py)
  };
  const Row rows[] = {
      {"nothing listening", "127.0.0.1:" + std::to_string(FreePort()), "up"},
      {"an error page quoting the credentials", "127.0.0.1:" + std::to_string(query_port), "echo"},
      {"a Prometheus error quoting them", "127.0.0.1:" + std::to_string(query_port), "echojson"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const std::string sub = dir + "/" + std::to_string(&row - rows);
    std::filesystem::create_directories(sub);
    WriteFile(sub + "/rules.yml", std::string("groups:\n  - name: g\n    interval: 1s\n"
                                              "    rules:\n      - alert: A\n        expr: ") +
                                      row.expr + "\n");
    Alertd ad(sub,
              "route: {receiver: r}\nreceivers: [{name: r}]\nrule_files: [rules.yml]\n"
              "evaluation: {interval: 1s}\n"
              "datasource:\n  url: http://ds-user-K1:ds-pass-K2@" +
                  row.host + "\n  headers: {X-Scope-OrgID: tenant-K3}\n");
    ad.Start({"--log-level=debug"});
    std::string last_error;
    REQUIRE_MESSAGE(WaitFor(
                        [&] {
                          auto r = HttpGet(ad.url + "/api/v1/rules");
                          auto j = json::parse(r.body, nullptr, false);
                          if (j.is_discarded()) return false;
                          for (const auto& g : j["data"]["groups"])
                            for (const auto& rule : g["rules"])
                              last_error = rule.value("lastError", "");
                          return !last_error.empty();
                        },
                        20s),
                    ad.proc.Log());
    INFO(last_error);
    CHECK(last_error.find(row.expr == std::string("up") ? "127.0.0.1" : "<secret>") !=
          std::string::npos);
    ad.proc.Stop();
    const std::string log = ad.proc.Log();
    INFO(log);
    CHECK(log.find(last_error.substr(0, 20)) != std::string::npos);  // the error was logged
    for (const char* secret : {"ds-user-K1", "ds-pass-K2", "tenant-K3",
                               "ZHMtdXNlci1LMTpkcy1wYXNzLUsy" /* base64 of user:pass */}) {
      INFO(secret);
      CHECK(last_error.find(secret) == std::string::npos);
      CHECK(log.find(secret) == std::string::npos);
    }
  }
  server.Stop();
  RemoveTree(dir);
}

TEST_CASE("roles: a token without the role gets 403; acks name their token across a restart") {
  const std::string dir = MakeTempDir("alertd-sec-roles");
  {
    Alertd ad(dir, "route: {receiver: r, group_by: [alertname]}\nreceivers: [{name: r}]\n",
              "  auth:\n    tokens:\n"
              "      - {name: viewer, token: viewer-tok, roles: [read]}\n"
              "      - {name: muter, token: muter-tok, roles: [silence]}\n"
              "      - {name: oncall, token: oncall-tok, roles: [ack, read]}\n"
              "      - {name: root, token: root-tok}\n");
    ad.Start();
    const std::string silences = ad.url + "/api/v2/silences";
    auto r = Send("POST", silences, kSilence, "viewer-tok");
    CHECK(r.status == 403);
    CHECK(ErrorOf(r).find("token \"viewer\" lacks the \"silence\" role") == 0);
    CHECK(Send("POST", ad.url + "/-/reload", "", "muter-tok", "").status == 403);
    CHECK(Count(silences) == 0);
    CHECK(Send("POST", silences, kSilence, "muter-tok").status == 200);
    CHECK(Count(silences) == 1);

    REQUIRE(
        HttpPostJson(ad.url + "/api/v2/alerts", R"([{"labels":{"alertname":"Disk"}}])").status ==
        200);
    const std::string ack = R"({"matchers":[{"name":"alertname","value":"Disk"}],"by":"alice"})";
    r = Send("POST", ad.url + "/api/v1/acks", ack, "muter-tok");
    CHECK(r.status == 403);
    CHECK(Count(ad.url + "/api/v1/acks") == 0);
    r = Send("POST", ad.url + "/api/v1/acks", ack, "oncall-tok");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(json::parse(r.body)["fingerprints"].size() == 1);
    CHECK(Send("POST", ad.url + "/-/reload", "", "root-tok", "").status == 200);

    // Stopped and started again: the ack still says who claimed it and which token made it.
    REQUIRE(WIFEXITED(ad.proc.Stop()));
    ad.Start();
    auto list = json::parse(HttpGet(ad.url + "/api/v1/acks").body)["acks"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["by"] == "alice");
    CHECK(list[0]["token"] == "oncall");
  }
  RemoveTree(dir);
}

TEST_CASE("browsers are not clients: non-JSON posts get 415 and change nothing") {
  const std::string dir = MakeTempDir("alertd-sec-csrf");
  {
    // No tokens configured: what a page in the operator's browser could reach.
    Alertd ad(dir, "route: {receiver: r}\nreceivers: [{name: r}]\n");
    ad.Start();
    REQUIRE(
        HttpPostJson(ad.url + "/api/v2/alerts", R"([{"labels":{"alertname":"Disk"}}])").status ==
        200);
    const std::string ack_all =
        R"({"matchers":[{"name":"alertname","value":".*","isRegex":true}]})";
    struct Row {
      const char* name;
      std::string path, body, type;
    };
    const Row rows[] = {
        {"a form silencing everything", "/api/v2/silences", kSilence,
         "application/x-www-form-urlencoded"},
        {"text/plain acking everything", "/api/v1/acks", ack_all, "text/plain"},
        {"multipart alerts", "/api/v2/alerts", R"([{"labels":{"alertname":"Fake"}}])",
         "multipart/form-data; boundary=x"},
        {"an untyped ack", "/api/v1/acks", ack_all, ""},
        {"a form reload", "/-/reload", "", "application/x-www-form-urlencoded"},
        {"a text/plain reload", "/-/reload", "x", "text/plain"},
    };
    for (const auto& row : rows) {
      INFO(row.name);
      auto r = Send("POST", ad.url + row.path, row.body, "", row.type);
      CHECK(r.status == 415);
      CHECK(ErrorOf(r).find("application/json") != std::string::npos);
    }
    CHECK(Count(ad.url + "/api/v2/silences") == 0);
    CHECK(Count(ad.url + "/api/v1/acks") == 0);
    CHECK(Count(ad.url + "/api/v2/alerts") == 1);
    const std::string metrics = HttpGet(ad.url + "/metrics").body;
    CHECK(metrics.find("alertd_config_reloads_total 0") != std::string::npos);
    // JSON with a charset works, and a reload may come with no body and no content type.
    CHECK(Send("POST", ad.url + "/api/v2/silences", kSilence, "", "application/json; charset=utf-8")
              .status == 200);
    CHECK(Send("POST", ad.url + "/-/reload", "", "", "").status == 200);
  }
  RemoveTree(dir);
}
