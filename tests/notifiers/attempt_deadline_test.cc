// An attempt in flight ends at the flush deadline, as Alertmanager cancels its notify context
// (a group's flush timeout, max(group_interval, 10s)): against a sink that never answers
// (fixtures/http_sink.py /hang/), a webhook with `timeout: 0` waits until the deadline and no
// longer, a webhook `timeout` bounds each attempt, and the other integrations end at the
// deadline too. End to end, alertd and a real Alertmanager 0.25 on the same config both give
// up the first attempt at the deadline, count it as failed and try again at the next flush.
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

namespace t = alertd::testing;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

// The single integration of `receiver_yaml` (one receiver named "r").
std::vector<Integration> Build(const std::string& receiver_yaml, const std::string& dir) {
  const config::Config cfg = testsupport::LoadConfig(
      "route:\n  receiver: r\nreceivers:\n- name: r\n" + receiver_yaml, dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  INFO(ints.status().ToString());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 1);
  return std::move(*ints);
}

TEST_CASE("an attempt against a peer that never answers ends at the flush deadline") {
  testsupport::HttpSink sink;
  struct Row {
    const char* name;
    std::string receiver;
    std::chrono::milliseconds deadline_in;  // from the start of the attempt
    double min_s, max_s;                    // how long the attempt may take
  };
  const std::string hang = sink.url() + "/hang/";
  const std::vector<Row> rows = {
      // TestDeps' per-attempt timeout of other integrations is 5 s: the deadline comes first.
      {"webhook timeout 0: no limit but the deadline",
       "  webhook_configs:\n  - url: " + hang + "w0\n", std::chrono::milliseconds(1500), 1.4, 3.0},
      {"a webhook timeout shorter than the deadline bounds the attempt",
       "  webhook_configs:\n  - url: " + hang + "w1\n    timeout: 500ms\n",
       std::chrono::milliseconds(10000), 0.4, 2.0},
      {"a webhook timeout longer than the deadline: the deadline wins",
       "  webhook_configs:\n  - url: " + hang + "w2\n    timeout: 1m\n",
       std::chrono::milliseconds(1500), 1.4, 3.0},
      {"a deadline already past fails at once", "  webhook_configs:\n  - url: " + hang + "w3\n",
       std::chrono::milliseconds(-1000), 0.0, 1.0},
      {"slack ends at the deadline too", "  slack_configs:\n  - api_url: " + hang + "s\n",
       std::chrono::milliseconds(1500), 1.4, 3.0},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto ints = Build(row.receiver, sink.dir());
    Notification n = testsupport::DiskFullNotification("r", testsupport::T("2024-01-01T00:05:00Z"));
    const auto start = Steady::now();
    n.deadline = start + row.deadline_in;
    NotifyResult r = ints[0].notifier->Notify(n);
    const double took = std::chrono::duration<double>(Steady::now() - start).count();
    INFO("took " << took << " s: " << r.status.ToString());
    CHECK_FALSE(r.status.ok());
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.retryable);
    CHECK(took >= row.min_s);
    CHECK(took < row.max_s);
  }
}

// The webhook requests to `path` the sink saw, in arrival order.
std::vector<json> Hung(const testsupport::HttpSink& sink, const std::string& path) {
  return sink.RequestsTo(path);
}

// The sum of a counter's samples in a Prometheus text exposition whose labels contain
// `label` (e.g. integration="webhook").
double CounterSum(const std::string& exposition, const std::string& name,
                  const std::string& label) {
  double sum = 0;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 || line.find(label) == std::string::npos) continue;
    sum += std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
  }
  return sum;
}

TEST_CASE(
    "alertd and Alertmanager cut a hanging webhook off at the deadline and retry at the next "
    "flush") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  // group_interval 1s: the flush timeout is Alertmanager's minimum, 10 s.
  auto yaml = [&](const std::string& who) {
    return "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 0s\n"
           "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: hook\n"
           "  webhook_configs:\n  - url: " +
           sink.url() + "/hang/" + who + "\n";
  };
  testsupport::AlertmanagerPeer am(dir, yaml("am"));
  t::WriteFile(dir + "/alertd.yml", yaml("alertd"));
  const int port = t::FreePort();
  const std::string alertd_url = "http://127.0.0.1:" + std::to_string(port);
  t::Process alertd = t::Process::Start(
      {t::kAlertdBinary, "--config", dir + "/alertd.yml", "--listen",
       "127.0.0.1:" + std::to_string(port), "--storage", dir + "/alertd-data/alertd.db"},
      dir + "/alertd.log");
  REQUIRE(t::WaitHttpReady(alertd_url + "/-/ready", std::chrono::seconds(20)));

  const json alerts = json::array({{{"labels", {{"alertname", "Hang"}}}}});
  am.Post(alerts);
  REQUIRE(t::HttpPostJson(alertd_url + "/api/v2/alerts", alerts.dump()).status == 200);

  for (const std::string who : {"am", "alertd"}) {
    INFO(who);
    INFO(alertd.Log());
    INFO(am.Log());
    // The first attempt is given up at the 10 s deadline (not later, not earlier), and the
    // next flush sends again (the group stays unsent).
    const bool retried = t::WaitFor(
        [&] {
          auto rs = Hung(sink, "/hang/" + who);
          return rs.size() >= 2 && rs[0].contains("ended_after");
        },
        std::chrono::seconds(25));
    auto rs = Hung(sink, "/hang/" + who);
    INFO(json(rs).dump());
    REQUIRE(retried);
    const double ended = rs[0]["ended_after"].get<double>();
    CHECK(ended >= 9.5);
    CHECK(ended < 12.0);
    const double next = rs[1]["t"].get<double>() - rs[0]["t"].get<double>();
    CHECK(next >= 9.5);
    CHECK(next < 14.0);
  }
  // Nothing hangs: alertd still answers, and each side counted the cut attempt as failed.
  auto ours = t::HttpGet(alertd_url + "/metrics");
  REQUIRE(ours.status == 200);
  CHECK(CounterSum(ours.body, "alertd_notifications_failed_total", "integration=\"webhook\"") >= 1);
  auto theirs = t::HttpGet(am.url() + "/metrics");
  REQUIRE(theirs.status == 200);
  CHECK(CounterSum(theirs.body, "alertmanager_notifications_failed_total",
                   "integration=\"webhook\"") >= 1);
  // Stopping alertd with an attempt in flight waits for that attempt's deadline at most.
  const auto stop_start = Steady::now();
  alertd.Stop(std::chrono::seconds(15));
  CHECK(Steady::now() - stop_start < std::chrono::seconds(12));
}

}  // namespace
}  // namespace alertd::notifiers
