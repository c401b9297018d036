// End to end, who is on call: the real alertd binary with people, a schedule and escalation
// steps that page whoever is on call by email through a real SMTP server (aiosmtpd, in
// tests/app/fixtures/e2e_sink.py). The story:
//   - a critical alert pages the person on call (alice, from the rotation) by email, and the
//     group's escalation view says whom it paged;
//   - an override puts bob on call: the next alert's page goes to him;
//   - the first alert is acknowledged: its next step (the managers) never fires, while the
//     second alert's does;
//   - a step whose schedule has nobody on call (a rotation outside its time interval) falls
//     through to the next step at once, and the group's view shows the gap;
//   - the schedule's handoff_receivers are told when the override puts bob on call;
//   - overrides survive a restart.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "tests/app/sink_records.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr double kManagersAfter = 6;  // seconds: the policy's second step

struct OnCallStack {
  std::string dir = MakeTempDir("alertd-schedules-e2e");
  int sink_port = FreePort(), smtp_port = FreePort(), alertd_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(alertd_port);
  std::string records = dir + "/records.jsonl";
  Process sink, alertd;

  OnCallStack() {
    sink = Process::Start(
        {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
         std::to_string(sink_port), std::to_string(smtp_port), records},
        dir + "/sink.log");
    const std::string sink_url = "http://127.0.0.1:" + std::to_string(sink_port);
    WriteFile(dir + "/alertd.yml", R"(global:
  smtp_smarthost: 127.0.0.1:)" + std::to_string(smtp_port) +
                                       R"(
  smtp_from: alertd@example.org
  smtp_require_tls: false
storage:
  path: )" + dir + R"(/data/alertd.db
server:
  listen: 127.0.0.1:)" + std::to_string(alertd_port) +
                                       R"(
time_intervals:
  - name: year-2000
    time_intervals: [{years: ['2000']}]
people:
  - {name: alice, email: alice@example.com}
  - {name: bob, email: bob@example.com}
schedules:
  - name: primary
    time_zone: Europe/Berlin
    rotations:
      - {name: always-alice, start: 2020-01-06T09:00, shift: 5200w, participants: [alice]}
    handoff_receivers: [handoffs]
  - name: nights
    rotations:
      - {name: never, start: 2020-01-06T09:00, shift: 1d, participants: [bob],
         active_time_intervals: [year-2000]}
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  escalation: critical
  routes:
    - matchers: ['alertname="Gap"']
      receiver: team
      escalation: gap
receivers:
  - name: team
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/team'}]
  - name: oncall-email
    email_configs: [{to: '{{ .OnCall.Email }}'}]
  - name: handoffs
    webhook_configs: [{url: ')" + sink_url +
                                       R"(/handoff'}]
  - name: managers-email
    email_configs: [{to: managers@example.org}]
escalation_policies:
  - name: critical
    steps:
      - {after: 0s, schedule: primary, receivers: [oncall-email]}
      - {after: 6s, receivers: [managers-email]}
  - name: gap
    steps:
      - {after: 0s, schedule: nights, receivers: [oncall-email]}
      - {after: 10m, receivers: [managers-email]}
)");
    StartAlertd();
  }
  ~OnCallStack() {
    alertd.Stop();
    sink.Stop();
    RemoveTree(dir);
  }

  void StartAlertd() {
    alertd = Process::Start({kAlertdBinary, "--config", dir + "/alertd.yml"}, dir + "/alertd.log");
    REQUIRE_MESSAGE(WaitHttpReady(url + "/-/ready", 20s), alertd.Log());
  }

  void Fire(const std::string& alertname) {
    auto r = HttpPostJson(url + "/api/v2/alerts", R"([{"labels":{"alertname":")" + alertname +
                                                      R"(","severity":"critical"}}])");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  // The first email to `to` whose subject names `alertname`, waited for up to `deadline`.
  std::optional<SinkRecord> WaitEmail(const std::string& to, const std::string& alertname,
                                      std::chrono::milliseconds deadline) {
    std::optional<SinkRecord> found;
    WaitFor(
        [&] {
          for (const auto& r : ReadSinkRecords(records)) {
            if (r.kind != "email" || r.body["to"][0] != to) continue;
            if (r.body["subject"].get<std::string>().find(alertname) == std::string::npos) continue;
            found = r;
            return true;
          }
          return false;
        },
        deadline);
    return found;
  }

  json Escalation(const std::string& alertname) {
    auto r = HttpGet(url + "/api/v2/alerts/groups");
    REQUIRE(r.status == 200);
    for (const auto& g : json::parse(r.body)) {
      if (g["labels"].value("alertname", "") == alertname && g.contains("escalation"))
        return g["escalation"];
    }
    return json();
  }

  std::string Fingerprint(const std::string& alertname) {
    auto r = HttpGet(url + "/api/v2/alerts");
    REQUIRE(r.status == 200);
    for (const auto& a : json::parse(r.body))
      if (a["labels"]["alertname"] == alertname) return a["fingerprint"];
    return "";
  }
};

std::string Iso(std::chrono::system_clock::time_point t) {
  const auto s = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(s);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(s - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

}  // namespace

TEST_CASE("escalation steps page whoever is on call; overrides move the page; acks stop it") {
  OnCallStack s;

  // alice is on call: the first step emails her, through `to: '{{ .OnCall.Email }}'`.
  s.Fire("DiskFull");
  auto alice = s.WaitEmail("alice@example.com", "DiskFull", 20s);
  REQUIRE_MESSAGE(alice.has_value(),
                  (DescribeSinkRecords(ReadSinkRecords(s.records)) + s.alertd.Log()));
  const double disk_paged = alice->t;
  json esc = s.Escalation("DiskFull");
  REQUIRE(esc.contains("onCall"));
  REQUIRE(esc["onCall"].size() == 1);
  CHECK(esc["onCall"][0]["schedule"] == "primary");
  CHECK(esc["onCall"][0]["person"] == "alice");

  // alice acknowledges: DiskFull's managers step must never fire.
  const std::string fp = s.Fingerprint("DiskFull");
  REQUIRE(!fp.empty());
  auto ack = HttpPostJson(s.url + "/api/v1/alerts/" + fp + "/ack", R"({"by":"alice"})");
  REQUIRE_MESSAGE(ack.status == 200, ack.body);
  REQUIRE_MESSAGE(UnixNow() < disk_paged + kManagersAfter,
                  "the ack came after the managers step was due; the machine is too slow");

  // An override puts bob on call from now on.
  const auto now = std::chrono::system_clock::now();
  auto ov = HttpPostJson(s.url + "/api/v1/schedules/primary/overrides",
                         R"({"person":"bob","start":")" + Iso(now - 1min) + R"(","end":")" +
                             Iso(now + 1h) + R"(","comment":"alice is at the dentist"})");
  REQUIRE_MESSAGE(ov.status == 200, ov.body);
  auto oncall = json::parse(HttpGet(s.url + "/api/v1/oncall").body);
  CHECK(oncall["schedules"][0]["now"]["person"]["name"] == "bob");
  // The schedule's handoff_receivers hear of it; alice's shift at start was not announced.
  json handoff;
  CHECK(WaitFor(
      [&] {
        for (const auto& r : ReadSinkRecords(s.records)) {
          if (r.path != "/handoff") continue;
          CHECK(r.body["alerts"][0]["labels"]["person"] == "bob");
          handoff = r.body;
          return true;
        }
        return false;
      },
      20s));
  CHECK(handoff["alerts"][0]["labels"]["alertname"] == "OnCallHandoff");
  CHECK(handoff["alerts"][0]["annotations"]["summary"].get<std::string>().find(
            "bob is on call for primary until ") == 0);

  s.Fire("CPUHigh");
  auto bob = s.WaitEmail("bob@example.com", "CPUHigh", 20s);
  REQUIRE_MESSAGE(bob.has_value(),
                  (DescribeSinkRecords(ReadSinkRecords(s.records)) + s.alertd.Log()));
  CHECK_FALSE(s.WaitEmail("alice@example.com", "CPUHigh", 0ms).has_value());
  CHECK(s.Escalation("CPUHigh")["onCall"][0]["person"] == "bob");

  // CPUHigh is not acknowledged: its managers step fires. DiskFull's was due earlier, and
  // never came.
  auto managers = s.WaitEmail("managers@example.org", "CPUHigh", 30s);
  REQUIRE_MESSAGE(managers.has_value(),
                  (DescribeSinkRecords(ReadSinkRecords(s.records)) + s.alertd.Log()));
  CHECK(managers->t >= bob->t + kManagersAfter - 1);
  CHECK_FALSE(s.WaitEmail("managers@example.org", "DiskFull", 0ms).has_value());

  // Nobody is on call in `nights`: its step pages nobody and the managers' step, 10 minutes
  // later on paper, runs at once.
  s.Fire("Gap");
  auto gap = s.WaitEmail("managers@example.org", "Gap", 20s);
  REQUIRE_MESSAGE(gap.has_value(),
                  (DescribeSinkRecords(ReadSinkRecords(s.records)) + s.alertd.Log()));
  json gesc = s.Escalation("Gap");
  REQUIRE(gesc["onCall"].size() == 1);
  CHECK(gesc["onCall"][0]["schedule"] == "nights");
  CHECK(gesc["onCall"][0]["person"].is_null());
  CHECK(s.alertd.Log().find("nobody is on call in schedule nights") != std::string::npos);

  // The override is stored: after a restart bob is still on call, and it is listed with who
  // made it; the restart announces no handoff.
  s.alertd.Stop();
  s.StartAlertd();
  size_t handoffs = 0;
  for (const auto& r : ReadSinkRecords(s.records)) handoffs += r.path == "/handoff";
  CHECK(handoffs == 1);
  oncall = json::parse(HttpGet(s.url + "/api/v1/oncall").body);
  CHECK(oncall["schedules"][0]["now"]["person"]["name"] == "bob");
  CHECK(oncall["schedules"][0]["now"]["override"] == 1);
  auto list = json::parse(HttpGet(s.url + "/api/v1/schedules/primary/overrides").body);
  REQUIRE(list["overrides"].size() == 1);
  CHECK(list["overrides"][0]["comment"] == "alice is at the dentist");
  CHECK(list["overrides"][0]["createdBy"] == "anonymous");
}
