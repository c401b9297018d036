// Test helper: the Python HTTP sink (fixtures/http_sink.py) on a free loopback port, and the
// alerts/notifications the notifier tests share. One sink per test case.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"
#include "notifiers/registry.h"
#include "tests/support/process.h"

namespace alertd::notifiers::testsupport {

class HttpSink {
 public:
  HttpSink() {
    dir_ = alertd::testing::MakeTempDir("alertd-sink");
    port_ = alertd::testing::FreePort();
    proc_ = alertd::testing::Process::Start(
        {"/usr/bin/python3",
         std::string(alertd::testing::kSourceDir) + "/tests/notifiers/fixtures/http_sink.py",
         std::to_string(port_)},
        dir_ + "/sink.log");
    REQUIRE(alertd::testing::WaitHttpReady(url() + "/-/ready", std::chrono::seconds(10)));
  }
  ~HttpSink() {
    proc_.Stop(std::chrono::milliseconds(2000));
    alertd::testing::RemoveTree(dir_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Every request recorded so far (see http_sink.py).
  nlohmann::json Requests() const {
    auto r = alertd::testing::HttpGet(url() + "/_requests");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  // Requests whose path starts with `prefix`.
  std::vector<nlohmann::json> RequestsTo(const std::string& prefix) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : Requests()) {
      if (r["path"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  alertd::testing::Process proc_;
};

// The vendor behind a fixed HTTPS endpoint (fixtures/tls_proxy.py): an HTTP proxy that
// terminates CONNECT tunnels with its own test CA and answers as the vendor. Point a
// receiver's http_config at it with HttpConfigYaml().
class TlsInterceptProxy {
 public:
  TlsInterceptProxy() {
    dir_ = alertd::testing::MakeTempDir("alertd-tls-proxy");
    port_ = alertd::testing::FreePort();
    proc_ = alertd::testing::Process::Start(
        {"/usr/bin/python3",
         std::string(alertd::testing::kSourceDir) + "/tests/notifiers/fixtures/tls_proxy.py",
         std::to_string(port_), dir_},
        dir_ + "/proxy.log");
    REQUIRE(alertd::testing::WaitHttpReady(url() + "/-/ready", std::chrono::seconds(10)));
  }
  ~TlsInterceptProxy() {
    proc_.Stop(std::chrono::milliseconds(2000));
    alertd::testing::RemoveTree(dir_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // `http_config:` for one receiver entry, indented by `indent` spaces.
  std::string HttpConfigYaml(int indent) const {
    const std::string pad(indent, ' ');
    return pad + "http_config:\n" + pad + "  proxy_url: " + url() + "\n" + pad +
           "  tls_config:\n" + pad + "    ca_file: " + dir_ + "/ca.pem\n";
  }
  nlohmann::json Requests() const {
    auto r = alertd::testing::HttpGet(url() + "/_requests");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }

 private:
  std::string dir_;
  int port_ = 0;
  alertd::testing::Process proc_;
};

inline Time T(const char* rfc3339) { return *ParseRFC3339(rfc3339); }

inline AlertPtr MakeAlert(LabelSet labels, LabelSet annotations, Time starts,
                          Time ends = kZeroTime) {
  auto a = std::make_shared<Alert>();
  a->labels = std::move(labels);
  a->annotations = std::move(annotations);
  a->starts_at = starts;
  a->ends_at = ends;
  a->generator_url = "http://prometheus.example/graph?g0.expr=up&g0.tab=1";
  return a;
}

// Two firing DiskFull alerts on instances a and b, grouped by alertname.
inline Notification DiskFullNotification(const std::string& receiver, Time now) {
  Notification n;
  n.receiver = receiver;
  n.group_key = "{}:{alertname=\"DiskFull\"}";
  n.group_labels = LabelSet{{"alertname", "DiskFull"}};
  n.now = now;
  n.external_url = "http://alertd.example:9093";
  n.notification_reason = "first notification";
  n.alerts.push_back(
      MakeAlert({{"alertname", "DiskFull"}, {"instance", "a"}, {"severity", "critical"}},
                {{"summary", "disk a is full"}, {"runbook", "http://runbooks/disk"}},
                T("2024-01-01T00:00:00Z")));
  n.alerts.push_back(
      MakeAlert({{"alertname", "DiskFull"}, {"instance", "b"}, {"severity", "critical"}},
                {{"summary", "disk b is full"}, {"runbook", "http://runbooks/disk"}},
                T("2024-01-01T00:00:00Z")));
  return n;
}

inline Deps TestDeps() {
  config::Config empty;
  Deps d;
  auto t = LoadTemplates(empty);
  REQUIRE(t.ok());
  d.templates = *t;
  d.timeout = std::chrono::seconds(5);
  return d;
}

// A real Alertmanager 0.25 (/usr/bin/prometheus-alertmanager) on a free loopback port with
// the configuration `yaml`, its external URL its own address; stopped by the destructor.
class AlertmanagerPeer {
 public:
  AlertmanagerPeer(const std::string& dir, const std::string& yaml) {
    const int port = alertd::testing::FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    alertd::testing::WriteFile(dir + "/am.yml", yaml);
    proc_ = alertd::testing::Process::Start(
        {"/usr/bin/prometheus-alertmanager", "--config.file=" + dir + "/am.yml",
         "--storage.path=" + dir + "/am-data",
         "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address=",
         "--web.external-url=" + url_},
        dir + "/am.log");
    const bool ready = alertd::testing::WaitHttpReady(url_ + "/-/ready", std::chrono::seconds(20));
    INFO(proc_.Log());
    REQUIRE(ready);
  }
  ~AlertmanagerPeer() { proc_.Stop(); }
  const std::string& url() const { return url_; }
  std::string Log() { return proc_.Log(); }
  // POST /api/v2/alerts; REQUIREs a 200.
  void Post(const nlohmann::json& alerts) {
    auto r = alertd::testing::HttpPostJson(url_ + "/api/v2/alerts", alerts.dump());
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

 private:
  std::string url_;
  alertd::testing::Process proc_;
};

// The notification alertd's router hands `receiver` for `alerts` (Alertmanager API v2 alert
// objects, in the order the group holds them): the same alerts, group key and external URL
// an Alertmanager gives its integrations, so the two payloads can be compared.
inline Notification NotificationOf(const nlohmann::json& alerts, const std::string& receiver,
                                   const LabelSet& group_labels, const std::string& external_url) {
  Notification n;
  n.receiver = receiver;
  n.group_labels = group_labels;
  n.group_key = "{}:" + group_labels.String();
  n.now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  n.external_url = external_url;
  n.notification_reason = "first notification";
  for (const auto& a : alerts) {
    LabelSet labels, annotations;
    for (const auto& [k, v] : a["labels"].items()) labels.Set(k, v.get<std::string>());
    if (a.contains("annotations")) {
      for (const auto& [k, v] : a["annotations"].items()) annotations.Set(k, v.get<std::string>());
    }
    auto alert = MakeAlert(labels, annotations, T(a["startsAt"].get<std::string>().c_str()),
                           a.contains("endsAt") ? T(a["endsAt"].get<std::string>().c_str())
                                                : kZeroTime);
    std::const_pointer_cast<Alert>(alert)->generator_url = a.value("generatorURL", "");
    n.alerts.push_back(alert);
  }
  return n;
}

// An RFC 3339 time a minute ago: the endsAt of alerts resolved for the comparison tests.
inline std::string ResolvedAMinuteAgo() {
  return FormatRFC3339(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) -
                       std::chrono::minutes(1));
}

// Sends `n` through every integration; CHECKs that each delivered it.
inline void NotifyAll(std::vector<Integration>& integrations, const Notification& n) {
  for (auto& i : integrations) {
    NotifyResult r = i.notifier->Notify(n);
    INFO(i.notifier->integration() << ": " << r.status.ToString());
    CHECK(r.status.ok());
  }
}

// Loads a config text; REQUIREs it to be valid.
inline config::Config LoadConfig(const std::string& yaml, const std::string& dir) {
  auto r = config::LoadConfigString(yaml, dir + "/alertd.yml");
  INFO(r.ErrorText());
  REQUIRE(r.ok());
  return *r.config;
}

}  // namespace alertd::notifiers::testsupport
