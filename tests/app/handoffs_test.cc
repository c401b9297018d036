// Handoff notifications (app/handoffs.h) on a fake clock, delivered for real to an HTTP sink
// (tests/app/fixtures/e2e_sink.py): who is on call at start is only remembered, and at the
// rotation's next handoff (09:00 Berlin time) the schedule's handoff_receivers hear who is on
// call until when.
#include "app/handoffs.h"

#include <doctest/doctest.h>

#include "tests/app/sink_records.h"
#include "tests/fakes/fake_scheduler.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::testing;
using namespace std::chrono_literals;

TEST_CASE("handoff receivers hear of each handoff, not of whoever was on call at start") {
  const std::string dir = MakeTempDir("alertd-handoffs");
  const int sink_port = FreePort(), smtp_port = FreePort();
  const std::string records = dir + "/records.jsonl";
  Process sink = Process::Start(
      {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
       std::to_string(sink_port), std::to_string(smtp_port), records},
      dir + "/sink.log");
  REQUIRE(WaitFor(
      [&] {
        return HttpPostJson("http://127.0.0.1:" + std::to_string(sink_port) + "/ready", "{}")
                   .status == 200;
      },
      20s));
  auto loaded = config::LoadConfigString(
      "route: {receiver: handoffs}\n"
      "receivers:\n  - name: handoffs\n    webhook_configs: [{url: 'http://127.0.0.1:" +
          std::to_string(sink_port) +
          "/handoff'}]\n"
          "people: [{name: alice}, {name: bob}]\n"
          "schedules:\n  - name: primary\n    time_zone: Europe/Berlin\n"
          "    handoff_receivers: [handoffs]\n"
          "    rotations: [{name: daily, start: 2026-03-02T09:00, shift: 1d, participants: [alice, "
          "bob]}]\n",
      dir + "/alertd.yml");
  REQUIRE_MESSAGE(loaded.ok(), loaded.ErrorText());
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));

  FakeClock clock(*ParseRFC3339("2026-03-02T09:00:00Z"));  // alice's day
  FakeScheduler scheduler(&clock);
  app::HandoffDeps deps;
  deps.clock = &clock;
  deps.scheduler = &scheduler;
  deps.config = [cfg] { return cfg; };
  auto handoffs = std::make_unique<app::HandoffNotifier>(std::move(deps));
  handoffs->Start();
  auto handoff_records = [&] {
    std::vector<SinkRecord> out;
    for (auto& r : ReadSinkRecords(records))
      if (r.path == "/handoff") out.push_back(std::move(r));
    return out;
  };
  // Up to a minute before bob's day (09:00 CET is 08:00Z): nothing to announce.
  scheduler.AdvanceTo(*ParseRFC3339("2026-03-03T07:59:00Z"));
  CHECK(handoff_records().empty());
  scheduler.AdvanceTo(*ParseRFC3339("2026-03-03T08:01:00Z"));
  REQUIRE_MESSAGE(WaitFor([&] { return !handoff_records().empty(); }, 20s), sink.Log());
  const auto got = handoff_records();
  REQUIRE(got.size() == 1);
  const auto& alert = got[0].body["alerts"][0];
  CHECK(alert["labels"]["alertname"] == "OnCallHandoff");
  CHECK(alert["labels"]["schedule"] == "primary");
  CHECK(alert["labels"]["person"] == "bob");
  CHECK(alert["annotations"]["summary"] == "bob is on call for primary until Wed 04 Mar 09:00 CET");
  handoffs.reset();
  sink.Stop();
  RemoveTree(dir);
}
