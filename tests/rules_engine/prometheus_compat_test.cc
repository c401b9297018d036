// alertd against a real Prometheus 2.42 (the Debian package): the same rule file is loaded
// into Prometheus (the reference, which evaluates it itself) and into alertd (which queries
// that Prometheus), both scraping a scripted exporter every second and evaluating every second.
// At each checkpoint alertd's /api/v1/alerts must equal Prometheus's (labels, annotations,
// state). Then a datasource outage (Prometheus stopped and restarted) and a kill -9 restart of
// alertd with one alert pending and one firing.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/time.h"
#include "tests/support/process.h"

namespace {

using namespace std::chrono_literals;
using alertd::testing::FreePort;
using alertd::testing::HttpGet;
using alertd::testing::Process;
using alertd::testing::WaitFor;
using alertd::testing::WriteFile;
using json = nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPython = "/usr/bin/python3";

struct Series {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  double rate = -1;  // >= 0: a counter growing at this rate
};

// One test environment: scripted exporter, Prometheus, alertd, in a temp directory.
class Env {
 public:
  // `evaluation`: more keys of alertd's evaluation section, each line indented by 2.
  explicit Env(const std::string& rules_path, const std::string& evaluation = "")
      : rules_path_(rules_path) {
    dir_ = alertd::testing::MakeTempDir("alertd-rules-it");
    script_ = dir_ + "/script.json";
    exporter_port_ = FreePort();
    prom_port_ = FreePort();
    alertd_port_ = FreePort();
    SetSeries({});
    exporter_ = Process::Start({kPython, std::string(alertd::testing::kSourceDir) +
                                             "/tests/rules_engine/fixtures/exporter.py",
                                std::to_string(exporter_port_), script_},
                               dir_ + "/exporter.log");
    REQUIRE(alertd::testing::WaitHttpReady(ExporterUrl() + "/-/ready", 20s));
    WriteFile(dir_ + "/prometheus.yml", fmt::format(R"(global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels:
    site: test
scrape_configs:
  - job_name: test
    static_configs:
      - targets: ['127.0.0.1:{}']
rule_files:
  - '{}'
)", exporter_port_, rules_path_));
    WriteFile(dir_ + "/alertd.yml", fmt::format(R"(datasource:
  url: {}
  timeout: 3s
evaluation:
  interval: 1s
{}  external_labels:
    site: test
rule_files:
  - '{}'
storage:
  path: {}/alertd.db
server:
  listen: 127.0.0.1:{}
route:
  receiver: none
receivers:
  - name: none
)", PromUrl(), evaluation, rules_path_, dir_, alertd_port_));
  }
  ~Env() {
    alertd_.Stop();
    prom_.Stop();
    exporter_.Stop();
    alertd::testing::RemoveTree(dir_);
  }

  std::string ExporterUrl() const { return fmt::format("http://127.0.0.1:{}", exporter_port_); }
  std::string PromUrl() const { return fmt::format("http://127.0.0.1:{}", prom_port_); }
  std::string AlertdUrl() const { return fmt::format("http://127.0.0.1:{}", alertd_port_); }

  void SetSeries(const std::vector<Series>& series) {
    json doc = {{"series", json::array()}};
    for (const auto& s : series) {
      json j = {{"name", s.name}, {"labels", s.labels}};
      if (s.rate >= 0) j["rate"] = s.rate;
      else j["value"] = s.value;
      doc["series"].push_back(j);
    }
    WriteFile(script_ + ".tmp", doc.dump());
    std::filesystem::rename(script_ + ".tmp", script_);
  }

  void StartPrometheus() {
    prom_ = Process::Start({kPrometheus, "--config.file=" + dir_ + "/prometheus.yml",
                            "--storage.tsdb.path=" + dir_ + "/prom-data",
                            fmt::format("--web.listen-address=127.0.0.1:{}", prom_port_),
                            "--log.level=warn"},
                           dir_ + "/prometheus.log");
    REQUIRE_MESSAGE(alertd::testing::WaitHttpReady(PromUrl() + "/-/ready", 60s), prom_.Log());
  }
  void StopPrometheus() { prom_.Stop(); }

  void StartAlertd() {
    alertd_ = Process::Start({alertd::testing::kAlertdBinary, "--config", dir_ + "/alertd.yml"},
                             dir_ + "/alertd.log");
    REQUIRE_MESSAGE(alertd::testing::WaitHttpReady(AlertdUrl() + "/-/ready", 30s), alertd_.Log());
  }
  void Kill9Alertd() { alertd_.Kill9(); }
  std::string AlertdLog() const { return alertd_.Log(); }

  // PromQL value of a query at Prometheus (empty result: nullopt).
  std::optional<double> PromValue(const std::string& q) {
    auto r = alertd::testing::HttpRequest(
        "POST", PromUrl() + "/api/v1/query", "query=" + Escape(q),
        {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (r.status != 200) return std::nullopt;
    auto doc = json::parse(r.body, nullptr, false);
    if (doc.is_discarded() || doc["data"]["result"].empty()) return std::nullopt;
    return std::stod(doc["data"]["result"][0]["value"][1].get<std::string>());
  }

 private:
  static std::string Escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c)) out.push_back(static_cast<char>(c));
      else out += fmt::format("%{:02X}", c);
    }
    return out;
  }

  std::string rules_path_, dir_, script_;
  int exporter_port_ = 0, prom_port_ = 0, alertd_port_ = 0;
  Process exporter_, prom_, alertd_;
};

json GetJson(const std::string& url) {
  auto r = HttpGet(url);
  if (r.status != 200) return json();
  auto doc = json::parse(r.body, nullptr, false);
  return doc.is_discarded() ? json() : doc;
}

// The comparable view of /api/v1/alerts: "<labels> <annotations> <state>" per alert.
std::set<std::string> AlertSet(const std::string& base) {
  std::set<std::string> out;
  json doc = GetJson(base + "/api/v1/alerts");
  if (!doc.is_object()) return {"<unreachable>"};
  for (const auto& a : doc["data"]["alerts"]) {
    out.insert(a["labels"].dump() + " " + a["annotations"].dump() + " " +
               a["state"].get<std::string>());
  }
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "  " + x + "\n";
  return out;
}

// Waits until alertd's alerts equal Prometheus's; reports both on failure.
void ExpectConverged(Env& env, const std::string& checkpoint) {
  std::set<std::string> prom, ours;
  const bool ok = WaitFor(
      [&] {
        prom = AlertSet(env.PromUrl());
        ours = AlertSet(env.AlertdUrl());
        return prom == ours;
      },
      20s, 200ms);
  INFO(checkpoint);
  INFO("prometheus:\n" << Join(prom) << "alertd:\n" << Join(ours));
  CHECK(ok);
}

// The state of the alert of `alertname` whose labels include `match`, or "" if none.
std::string StateOf(const std::string& base, const std::string& alertname,
                    const std::map<std::string, std::string>& match = {}) {
  json doc = GetJson(base + "/api/v1/alerts");
  if (!doc.is_object()) return "<unreachable>";
  for (const auto& a : doc["data"]["alerts"]) {
    if (a["labels"].value("alertname", "") != alertname) continue;
    bool all = true;
    for (const auto& [k, v] : match) all = all && a["labels"].value(k, "") == v;
    if (all) return a["state"];
  }
  return "";
}

// True when the RFC 3339 time `a` is after `b`.
bool After(const std::string& a, const std::string& b) {
  auto ta = alertd::ParseRFC3339(a), tb = alertd::ParseRFC3339(b);
  return ta.ok() && tb.ok() && *ta > *tb;
}

json FindAlert(const json& alerts, const std::string& alertname) {
  for (const auto& a : alerts) {
    if (a["labels"].value("alertname", "") == alertname) return a;
  }
  return json();
}

// The rule named `name` in /api/v1/rules.
json RuleOf(const std::string& base, const std::string& name) {
  json doc = GetJson(base + "/api/v1/rules");
  if (!doc.is_object()) return json();
  for (const auto& g : doc["data"]["groups"]) {
    for (const auto& r : g["rules"]) {
      if (r["name"] == name) return r;
    }
  }
  return json();
}

std::vector<Series> PhaseA() {
  return {{"test_gauge", {{"item", "x"}, {"kind", "a"}}, 60},
          {"test_gauge", {{"item", "y"}, {"kind", "a"}}, 20},
          {"test_gauge", {{"item", "z"}, {"kind", "b"}}, 70},
          {"test_requests_total", {{"item", "c"}}, 0, 10},
          {"test_requests_total", {{"item", "d"}}, 0, 1}};
}

TEST_CASE("alertd matches Prometheus 2.42 on the same rules; datasource outage") {
  const std::string rules =
      std::string(alertd::testing::kSourceDir) + "/tests/rules_engine/fixtures/compat_rules.yml";
  Env env(rules);
  env.SetSeries(PhaseA());
  env.StartPrometheus();
  env.StartAlertd();
  const std::string prom = env.PromUrl(), ours = env.AlertdUrl();

  // --- checkpoint A: thresholds, rate, for, templating, absent, aggregation, limit, errors.
  REQUIRE_MESSAGE(WaitFor([&] { return StateOf(prom, "PendingFor", {{"item", "x"}}) == "firing" &&
                                       StateOf(prom, "HighRate", {{"item", "c"}}) == "firing"; },
                          40s, 200ms),
                  "Prometheus never fired PendingFor/HighRate");
  ExpectConverged(env, "A: steady state");
  CHECK(StateOf(ours, "HighValue", {{"item", "x"}, {"severity", "page"}}) == "firing");
  CHECK(StateOf(ours, "HighValue", {{"item", "y"}}) == "");
  CHECK(StateOf(ours, "HighRate", {{"item", "c"}}) == "firing");
  CHECK(StateOf(ours, "HighRate", {{"item", "d"}}) == "");
  CHECK(StateOf(ours, "PendingFor", {{"item", "z"}}) == "firing");
  CHECK(StateOf(ours, "Templated", {{"item", "x"}, {"level", "high"}}) == "firing");
  CHECK(StateOf(ours, "Templated", {{"item", "y"}, {"level", "low"}}) == "firing");
  CHECK(StateOf(ours, "MetricAbsent") == "firing");
  CHECK(StateOf(ours, "SumByKind", {{"kind", "a"}}) == "firing");
  CHECK(StateOf(ours, "Limited") == "");
  {
    json a = FindAlert(GetJson(ours + "/api/v1/alerts")["data"]["alerts"], "HighValue");
    REQUIRE(a.is_object());
    CHECK(a["annotations"]["human"].get<std::string>().find(" (") != std::string::npos);
    json t = RuleOf(ours, "Templated");
    REQUIRE(t.is_object());
    CHECK(t["alerts"][0]["annotations"]["doubled"].get<std::string>().find(" / test") !=
          std::string::npos);
    CHECK_FALSE(t["alerts"][0]["labels"].contains("empty"));
  }
  for (const char* name : {"Limited", "BrokenAtRuntime"}) {
    INFO(name);
    json ro = RuleOf(ours, name), rp = RuleOf(prom, name);
    REQUIRE(ro.is_object());
    REQUIRE(rp.is_object());
    CHECK(ro["health"] == "err");
    CHECK(rp["health"] == "err");
    // Prometheus's own error text is part of ours (the datasource reports it).
    CHECK(ro["lastError"].get<std::string>().find(rp["lastError"].get<std::string>()) !=
          std::string::npos);
  }
  {
    json r = RuleOf(ours, "HighValue");
    CHECK(r["health"] == "ok");
    CHECK(r["type"] == "alerting");
    CHECK(r["query"] == RuleOf(prom, "HighValue")["query"]);
    json p = RuleOf(ours, "PendingFor");
    CHECK(p["duration"] == 6);
    json k = RuleOf(ours, "KeepFiring");
    CHECK(k["keepFiringFor"] == 5);
  }
  // /api/v1/rules filters of 2.42 (`type`, case-insensitive; a group whose rules are all
  // filtered out stays, with `rules: []`) and its error for a bad type: the same shape.
  for (const char* q : {"", "?type=alert", "?type=record", "?type=ALERT", "?type=Record"}) {
    INFO(q);
    auto shape = [&](const std::string& base) {
      json doc = GetJson(base + "/api/v1/rules" + q);
      std::string out;
      for (const auto& g : doc["data"]["groups"]) {
        out += g["name"].get<std::string>() + ":";
        if (!g["rules"].is_array()) out += "<not an array>";
        for (const auto& r : g["rules"]) out += r["name"].get<std::string>() + ",";
        out += ";";
      }
      return out;
    };
    const std::string p = shape(prom);
    CHECK(p.find(':') != std::string::npos);
    CHECK(shape(ours) == p);
  }
  {
    auto p = HttpGet(prom + "/api/v1/rules?type=bogus");
    auto o = HttpGet(ours + "/api/v1/rules?type=bogus");
    CHECK(o.status == p.status);
    json pd = json::parse(p.body, nullptr, false), od = json::parse(o.body, nullptr, false);
    REQUIRE(pd.is_object());
    REQUIRE(od.is_object());
    CHECK(od["errorType"] == pd["errorType"]);
    CHECK(od["error"] == pd["error"]);
  }

  // Both evaluate each group on the same slots (Prometheus's group hash): the sub-second
  // phase of each group's last evaluation start agrees (up to scheduling jitter).
  for (const char* group : {"compat", "limited"}) {
    INFO(group);
    auto phase = [&](const std::string& base) -> std::optional<int64_t> {
      json doc = GetJson(base + "/api/v1/rules");
      for (const auto& g : doc["data"]["groups"]) {
        if (g["name"] != group) continue;
        auto t = alertd::ParseRFC3339(g["lastEvaluation"].get<std::string>());
        if (!t.ok()) return std::nullopt;
        return t->time_since_epoch().count() % 1'000'000'000;
      }
      return std::nullopt;
    };
    auto p = phase(prom), o = phase(ours);
    REQUIRE(p.has_value());
    REQUIRE(o.has_value());
    int64_t d = std::llabs(*p - *o);
    d = std::min<int64_t>(d, 1'000'000'000 - d);
    CHECK(d < 150'000'000);
  }

  // --- flapping: y crosses PendingFor's threshold every 2 s; its 6 s `for` never completes.
  for (int i = 0; i < 4; ++i) {
    auto s = PhaseA();
    s[1].value = i % 2 == 0 ? 60 : 20;
    env.SetSeries(s);
    const double want = s[1].value;
    REQUIRE(WaitFor([&] { return env.PromValue("test_gauge{item=\"y\"}") == want; }, 10s, 100ms));
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      CHECK(StateOf(ours, "PendingFor", {{"item", "y"}}) != "firing");
      std::this_thread::sleep_for(200ms);
    }
  }
  env.SetSeries(PhaseA());
  ExpectConverged(env, "after flapping");

  // --- checkpoint B: x drops, z disappears, y rises (templated label changes), rate stops.
  auto b = PhaseA();
  b[0].value = 5;
  b[1].value = 60;
  b[3].rate = 0;
  b.erase(b.begin() + 2);
  env.SetSeries(b);
  // While keep_firing_for holds x, HighValue x is already gone.
  CHECK(WaitFor([&] { return StateOf(ours, "HighValue", {{"item", "x"}}) == "" &&
                             StateOf(ours, "KeepFiring", {{"item", "x"}}) == "firing"; },
                4s, 100ms));
  REQUIRE(WaitFor([&] { return StateOf(prom, "PendingFor", {{"item", "y"}}) == "firing" &&
                               StateOf(prom, "KeepFiring", {{"item", "z"}}) == "" &&
                               StateOf(prom, "HighRate", {{"item", "c"}}) == ""; },
                  40s, 200ms));
  ExpectConverged(env, "B: after changes");
  CHECK(StateOf(ours, "Templated", {{"item", "y"}, {"level", "high"}}) == "firing");
  CHECK(StateOf(ours, "Templated", {{"item", "y"}, {"level", "low"}}) == "");
  CHECK(StateOf(ours, "Limited", {{"item", "y"}}) == "firing");
  CHECK(StateOf(ours, "SumByKind", {{"kind", "b"}}) == "");
  CHECK(StateOf(ours, "KeepFiring", {{"item", "z"}}) == "");
  CHECK(RuleOf(ours, "Limited")["health"] == "ok");

  // --- datasource outage: states kept exactly, rules report the error, then resume.
  json before = GetJson(ours + "/api/v1/alerts")["data"]["alerts"];
  REQUIRE(before.is_array());
  REQUIRE_FALSE(before.empty());
  env.StopPrometheus();
  const std::string stopped_at = alertd::FormatRFC3339(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  CHECK(WaitFor([&] {
    json r = RuleOf(ours, "HighValue");
    return r.is_object() && r["health"] == "err" && !r.value("lastError", "").empty();
  }, 15s, 100ms));
  // Several evaluations after the error: nothing resolved, nothing restarted.
  CHECK(WaitFor([&] {
    json r = RuleOf(ours, "PendingFor");
    return r.is_object() && r["health"] == "err" &&
           After(r["lastEvaluation"].get<std::string>(), stopped_at);
  }, 15s, 100ms));
  json during = GetJson(ours + "/api/v1/alerts")["data"]["alerts"];
  CHECK(during == before);
  env.StartPrometheus();
  CHECK(WaitFor([&] {
    for (const char* n : {"HighValue", "HighRate", "PendingFor", "KeepFiring", "Templated",
                          "MetricAbsent", "SumByKind", "Limited"}) {
      if (RuleOf(ours, n)["health"] != "ok") return false;
    }
    return true;
  }, 30s, 200ms));
  CHECK(StateOf(ours, "HighValue", {{"item", "y"}}) == "firing");
}

TEST_CASE("kill -9 with one alert pending and one firing: for continues, no second send") {
  const std::string dir = alertd::testing::MakeTempDir("alertd-rules-restart");
  const std::string rules = dir + "/restart.yml";
  WriteFile(rules, R"(groups:
  - name: restart
    rules:
      - alert: WillFire
        expr: test_gauge{item="y"} > 50
        for: 20s
      - alert: AlreadyFiring
        expr: test_gauge{item="y"} > 50
)");
  // A grace period under WillFire's `for`, so that 2.42's restore applies to it.
  Env env(rules, "  for_grace_period: 5s\n");
  auto series = PhaseA();
  series[1].value = 60;
  env.SetSeries(series);
  env.StartPrometheus();
  env.StartAlertd();
  const std::string ours = env.AlertdUrl();
  REQUIRE(WaitFor([&] { return StateOf(ours, "AlreadyFiring") == "firing" &&
                               StateOf(ours, "WillFire") == "pending"; }, 40s, 100ms));
  json pending = FindAlert(GetJson(ours + "/api/v1/alerts")["data"]["alerts"], "WillFire");
  const std::string active_at = pending["activeAt"];
  json stored;
  REQUIRE(WaitFor([&] {
    stored = FindAlert(GetJson(ours + "/api/v2/alerts"), "AlreadyFiring");
    return stored.is_object();
  }, 10s));
  // Let an evaluation or two pass so the kill lands between evaluations, as any crash would.
  std::this_thread::sleep_for(1500ms);
  const auto killed = std::chrono::system_clock::now();
  env.Kill9Alertd();
  env.StartAlertd();
  const auto down = std::chrono::system_clock::now() - killed;
  const std::string restarted_at = alertd::FormatRFC3339(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));

  json after = FindAlert(GetJson(ours + "/api/v1/alerts")["data"]["alerts"], "WillFire");
  REQUIRE(after.is_object());
  // RestoreForState: activeAt moves forward by the downtime (up to a second more: the last
  // evaluation before the kill), so `for` counts only the time alertd was up.
  auto active = alertd::ParseRFC3339(active_at);
  auto restored = alertd::ParseRFC3339(after["activeAt"].get<std::string>());
  REQUIRE(active.ok());
  REQUIRE(restored.ok());
  CHECK(*restored > *active);
  CHECK(*restored - *active <= down + 1s);
  CHECK(after["state"] == "pending");
  // A few evaluations after the restart the firing alert has not been sent again: the store
  // still holds the alert from before (same startsAt, same updatedAt).
  REQUIRE(WaitFor([&] {
    json r = RuleOf(ours, "AlreadyFiring");
    return r.is_object() && r["health"] == "ok" &&
           After(r["lastEvaluation"].get<std::string>(), restarted_at);
  }, 15s, 100ms));
  json again = FindAlert(GetJson(ours + "/api/v2/alerts"), "AlreadyFiring");
  REQUIRE(again.is_object());
  CHECK(again["startsAt"] == stored["startsAt"]);
  CHECK(again["updatedAt"] == stored["updatedAt"]);
  CHECK(StateOf(ours, "AlreadyFiring") == "firing");

  // The pending alert fires 20 s of uptime after it became active: restored activeAt + 20 s.
  REQUIRE(WaitFor([&] { return StateOf(ours, "WillFire") == "firing"; }, 40s, 100ms));
  json fired = FindAlert(GetJson(ours + "/api/v2/alerts"), "WillFire");
  REQUIRE(fired.is_object());
  auto starts = alertd::ParseRFC3339(fired["startsAt"].get<std::string>());
  REQUIRE(starts.ok());
  const auto delay = *starts - *restored;
  CHECK(delay >= 20s - 1ms);  // /api/v2/alerts prints milliseconds, truncated
  CHECK(delay <= 22s);
  INFO(env.AlertdLog());
  alertd::testing::RemoveTree(dir);
}

}  // namespace
