// Escalation steps with `schedule:` on a fake clock: the step pages whoever is on call when it
// fires (the notification carries the person, for .OnCall), a handoff moves the next group's
// page, the resolve goes to the person paged, and a step whose schedule has nobody on call
// notifies nobody and lets the next step run at once, shown on the group's view.
#include <doctest/doctest.h>

#include "tests/router/harness.h"

using namespace alertd;
using namespace alertd::testing;
using namespace std::chrono_literals;

namespace {

// T0 is 2023-11-14T22:13:20Z: alice's hour runs 22:00-23:00 UTC, then bob's.
const char* kConfig = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  escalation: page
  routes:
    - matchers: ['alertname="Gap"']
      receiver: team
      escalation: gap
receivers:
  - name: team
    webhook_configs: [{url: 'http://127.0.0.1:1/team'}]
  - name: oncall
    webhook_configs: [{url: 'http://127.0.0.1:1/oncall', send_resolved: true}]
  - name: managers
    webhook_configs: [{url: 'http://127.0.0.1:1/managers'}]
time_intervals:
  - name: never
    time_intervals: [{years: ['2000']}]
people:
  - {name: alice, email: alice@example.com}
  - {name: bob, email: bob@example.com}
schedules:
  - name: primary
    rotations:
      - {name: hourly, start: 2023-11-14T22:00, shift: 1h, participants: [alice, bob]}
  - name: nights
    rotations:
      - {name: restricted, start: 2023-11-14T22:00, shift: 1h, participants: [bob],
         active_time_intervals: [never]}
escalation_policies:
  - name: page
    steps:
      - {after: 0s, schedule: primary, receivers: [oncall]}
      - {after: 30m, receivers: [managers]}
  - name: gap
    steps:
      - {after: 0s, schedule: nights, receivers: [oncall]}
      - {after: 30m, receivers: [managers]}
)";

std::vector<Sent> To(const std::vector<Sent>& all, const std::string& receiver) {
  std::vector<Sent> out;
  for (const auto& s : all)
    if (s.receiver == receiver) out.push_back(s);
  return out;
}

std::optional<router::EscalationView> ViewOf(RouterHarness& h, const std::string& alertname) {
  for (const auto& g : h.router->Groups(nullptr, nullptr).groups) {
    if (g.labels.Get("alertname") == alertname) return g.escalation;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("a schedule step pages whoever is on call when it fires, and the resolve follows") {
  RouterHarness h(kConfig);
  h.Post("alertname=Disk");
  h.Advance(10s);
  auto sent = To(h.Take(), "oncall");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].on_call == "alice");
  CHECK(sent[0].firing == std::vector<std::string>{"Disk"});
  auto v = ViewOf(h, "Disk");
  REQUIRE(v.has_value());
  REQUIRE(v->on_call.size() == 1);
  CHECK(v->on_call[0].person == "alice");
  CHECK(v->on_call[0].schedule == "primary");
  CHECK(v->notified == std::vector<std::string>{"oncall"});

  // 23:00: bob's hour. A new group's page goes to him.
  h.Advance(47min);
  h.Post("alertname=Cpu");
  h.Advance(10s);
  auto later = h.Take();
  auto cpu = To(later, "oncall");
  REQUIRE(cpu.size() == 1);
  CHECK(cpu[0].on_call == "bob");
  CHECK(cpu[0].firing == std::vector<std::string>{"Cpu"});

  // Disk resolves: its step receiver hears of it, addressed to alice, whom it paged.
  h.Resolve("alertname=Disk");
  h.Advance(1min);
  auto resolved = To(h.Take(), "oncall");
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].resolved == std::vector<std::string>{"Disk"});
  CHECK(resolved[0].on_call == "alice");
}

TEST_CASE("a schedule step with nobody on call falls through to the next step at once") {
  RouterHarness h(kConfig);
  h.Post("alertname=Gap");
  h.Advance(10s);
  const auto sent = h.Take();
  CHECK(To(sent, "oncall").empty());
  auto managers = To(sent, "managers");
  REQUIRE(managers.size() == 1);  // due at 30m on paper, sent at the first flush
  CHECK(managers[0].at == T0() + 10s);
  CHECK(managers[0].on_call.empty());
  auto v = ViewOf(h, "Gap");
  REQUIRE(v.has_value());
  REQUIRE(v->on_call.size() == 1);
  CHECK(v->on_call[0].schedule == "nights");
  CHECK(v->on_call[0].person.empty());
  CHECK(v->notified == std::vector<std::string>{"managers"});
  CHECK(v->finished);
}
