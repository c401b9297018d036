#include "oncall/oncall.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "core/time.h"
#include "oncall/ical.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace std::chrono_literals;
namespace t = alertd::testing;

namespace {

Time T(const char* rfc3339) {
  auto r = ParseRFC3339(rfc3339);
  REQUIRE_MESSAGE(r.ok(), rfc3339);
  return *r;
}

const char* kPeople =
    "route: {receiver: a}\nreceivers: [{name: a}]\n"
    "people:\n  - {name: alice, email: alice@example.com}\n  - {name: bob}\n  - {name: carol}\n"
    "  - {name: dave}\n";

// A config with one schedule `s` in `zone` and the rotations given as YAML flow mappings.
config::Config Cfg(const std::string& zone, const std::vector<std::string>& rotations,
                   const std::string& extra = "") {
  std::string y = std::string(kPeople) + extra + "schedules:\n  - name: s\n    time_zone: " + zone +
                  "\n    rotations:\n";
  for (const auto& r : rotations) y += "      - " + r + "\n";
  auto res = config::LoadConfigString(y, "/tmp/alertd-test/alertd.yml");
  REQUIRE_MESSAGE(res.ok(), (res.ErrorText() + "\n" + y));
  return *res.config;
}

std::shared_ptr<const oncall::OnCall> Build(const config::Config& c) {
  auto oc = oncall::OnCall::Build(c);
  REQUIRE_MESSAGE(oc.ok(), oc.status().message());
  return *oc;
}

}  // namespace

TEST_CASE("handoffs stay at the same local time across daylight-saving changes") {
  struct Row {
    const char* name;
    const char* zone;
    const char* rotation;
    const char* at;
    const char* person;
    const char* start;
    const char* end;
  };
  const char* berlin =
      "{name: w, start: 2026-01-05T09:00, shift: 1w, participants: [alice, bob, carol]}";
  const char* ny12 = "{name: h, start: 2026-03-07T09:00, shift: 12h, participants: [alice, bob]}";
  const char* ny0230 =
      "{name: d, start: 2026-03-06T02:30, shift: 1d, participants: [alice, bob, carol]}";
  const char* nyfall = "{name: d, start: 2026-10-31T01:30, shift: 1d, participants: [alice, bob]}";
  const char* syd = "{name: w, start: 2026-03-29T09:00, shift: 1w, participants: [alice, bob]}";
  const char* sydoct = "{name: w, start: 2026-09-27T09:00, shift: 1w, participants: [alice, bob]}";
  const char* utc8h =
      "{name: e, start: 2026-01-01T00:00, shift: 8h, participants: [alice, bob, carol]}";
  const Row rows[] = {
      // Berlin: CET (+1) until 2026-03-29 01:00Z, CEST (+2) until 2026-10-25 01:00Z. Shift 11
      // (carol) is the week of the change: 09:00 CET to 09:00 CEST, 167 hours.
      {"Berlin, the last winter shift", "Europe/Berlin", berlin, "2026-03-20T08:00:00Z", "bob",
       "2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z"},
      {"Berlin, the week with the spring change", "Europe/Berlin", berlin, "2026-03-29T12:00:00Z",
       "carol", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
      {"Berlin, one second before the summer handoff", "Europe/Berlin", berlin,
       "2026-03-30T06:59:59Z", "carol", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
      {"Berlin, the first summer handoff at 09:00 CEST", "Europe/Berlin", berlin,
       "2026-03-30T07:00:00Z", "alice", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"},
      {"Berlin, the week with the autumn change is 169 hours", "Europe/Berlin", berlin,
       "2026-10-25T12:00:00Z", "carol", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"},
      {"Berlin, before the first handoff nobody", "Europe/Berlin", berlin, "2026-01-05T07:59:59Z",
       "", "", ""},
      // New York: EST (-5) until 2026-03-08 07:00Z. 12h shifts at 09:00 and 21:00 local: the
      // night of the change is 11 hours.
      {"New York, 12h night shift over the spring change", "America/New_York", ny12,
       "2026-03-08T06:00:00Z", "bob", "2026-03-08T02:00:00Z", "2026-03-08T13:00:00Z"},
      {"New York, 12h day shift after the change", "America/New_York", ny12, "2026-03-08T13:00:00Z",
       "alice", "2026-03-08T13:00:00Z", "2026-03-09T01:00:00Z"},
      // 02:30 does not exist on 2026-03-08 in New York: that handoff is the change itself.
      {"New York, a skipped local handoff time hands off at the change", "America/New_York", ny0230,
       "2026-03-08T07:00:00Z", "carol", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
      {"New York, before the skipped handoff", "America/New_York", ny0230, "2026-03-08T06:59:59Z",
       "bob", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"},
      // 01:30 happens twice on 2026-11-01: the first one (EDT, 05:30Z) is the handoff.
      {"New York, a repeated local handoff time hands off at its first occurrence",
       "America/New_York", nyfall, "2026-11-01T05:30:00Z", "bob", "2026-11-01T05:30:00Z",
       "2026-11-02T06:30:00Z"},
      // Sydney: AEDT (+11) until 2026-04-04 16:00Z, AEST (+10) until 2026-10-03 16:00Z.
      {"Sydney, Sunday 09:00 AEDT to Sunday 09:00 AEST", "Australia/Sydney", syd,
       "2026-04-04T22:30:00Z", "alice", "2026-03-28T22:00:00Z", "2026-04-04T23:00:00Z"},
      {"Sydney, after the April change", "Australia/Sydney", syd, "2026-04-04T23:00:00Z", "bob",
       "2026-04-04T23:00:00Z", "2026-04-11T23:00:00Z"},
      {"Sydney, the first shift after the October change", "Australia/Sydney", sydoct,
       "2026-10-03T22:00:00Z", "bob", "2026-10-03T22:00:00Z", "2026-10-10T22:00:00Z"},
      {"Sydney, the week with the October change is 167 hours", "Australia/Sydney", sydoct,
       "2026-10-03T21:59:59Z", "alice", "2026-09-26T23:00:00Z", "2026-10-03T22:00:00Z"},
      // Shifts that are not whole days.
      {"UTC, 8h shifts, the ninth", "UTC", utc8h, "2026-01-03T23:59:59Z", "carol",
       "2026-01-03T16:00:00Z", "2026-01-04T00:00:00Z"},
      {"UTC, 8h shifts, a month on", "UTC", utc8h, "2026-02-01T09:00:00Z", "bob",
       "2026-02-01T08:00:00Z", "2026-02-01T16:00:00Z"},
  };
  for (const auto& r : rows) {
    INFO(std::string(r.name));
    auto oc = Build(Cfg(r.zone, {r.rotation}));
    const Time at = T(r.at);
    CHECK(oc->Who("s", {}, at).person == r.person);
    auto now = oc->NowAndNext("s", {}, at, 2);
    REQUIRE(!now.empty());
    CHECK(now[0].person == r.person);
    if (*r.person) {
      CHECK(FormatRFC3339(now[0].start) == std::string(r.start));
      CHECK(FormatRFC3339(now[0].end) == std::string(r.end));
      // The next shift starts where this one ends, with the next participant.
      REQUIRE(now.size() == 3);
      CHECK(now[1].start == now[0].end);
      CHECK(now[1].person != now[0].person);
    } else {
      CHECK(now[0].start < at);
      CHECK(now[0].end > at);
    }
  }
}

TEST_CASE(
    "a rotation restricted to time intervals has gaps; a later rotation wins where it has "
    "someone") {
  const std::string intervals =
      "time_intervals:\n  - name: business-hours\n    time_intervals:\n"
      "      - {weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}],"
      " location: Europe/Berlin}\n";
  const char* day =
      "{name: day, start: 2026-03-02T09:00, shift: 1d, participants: [carol, dave],"
      " active_time_intervals: [business-hours]}";
  const char* week = "{name: week, start: 2026-03-02T09:00, shift: 1w, participants: [alice, bob]}";

  SUBCASE("alone, nobody outside business hours") {
    auto oc = Build(Cfg("Europe/Berlin", {day}, intervals));
    struct Row {
      const char* name;
      const char* at;
      const char* person;
    };
    const Row rows[] = {
        {"Monday 10:00 CET", "2026-03-02T09:00:00Z", "carol"},
        {"Monday 17:00 CET, the interval ended", "2026-03-02T16:00:00Z", ""},
        {"Tuesday 08:59 CET", "2026-03-03T07:59:00Z", ""},
        {"Tuesday 09:00 CET", "2026-03-03T08:00:00Z", "dave"},
        {"Saturday noon", "2026-03-07T11:00:00Z", ""},
        {"Monday after the spring change, 09:00 CEST", "2026-03-30T07:00:00Z", "carol"},
    };
    for (const auto& r : rows) {
      INFO(std::string(r.name));
      CHECK(oc->Who("s", {}, T(r.at)).person == r.person);
    }
    auto tl = oc->Timeline("s", {}, T("2026-03-02T00:00:00Z"), T("2026-03-04T00:00:00Z"));
    std::vector<std::string> got;
    for (const auto& sh : tl)
      got.push_back((sh.person.empty() ? "-" : sh.person) + "@" + FormatRFC3339(sh.start));
    CHECK(got == std::vector<std::string>{"-@2026-03-02T00:00:00Z", "carol@2026-03-02T08:00:00Z",
                                          "-@2026-03-02T16:00:00Z", "dave@2026-03-03T08:00:00Z",
                                          "-@2026-03-03T16:00:00Z"});
    // The gap at Friday evening reaches Monday 09:00; the next shift with someone is then.
    auto now = oc->NowAndNext("s", {}, T("2026-03-06T18:00:00Z"), 1);
    REQUIRE(now.size() == 2);
    CHECK(now[0].person.empty());
    CHECK(FormatRFC3339(now[0].end) == "2026-03-09T08:00:00Z");
    CHECK(now[1].person == "dave");
  }

  SUBCASE("layered over a weekly rotation") {
    auto oc = Build(Cfg("Europe/Berlin", {week, day}, intervals));
    auto w = oc->Who("s", {}, T("2026-03-02T10:00:00Z"));
    CHECK(w.person == "carol");
    CHECK(w.rotation == "day");
    w = oc->Who("s", {}, T("2026-03-02T20:00:00Z"));
    CHECK(w.person == "alice");
    CHECK(w.rotation == "week");
    // In the timeline, alice's week is interrupted by the daytime layer.
    auto tl = oc->Timeline("s", {}, T("2026-03-02T08:00:00Z"), T("2026-03-03T08:00:00Z"));
    REQUIRE(tl.size() == 2);
    CHECK(tl[0].person == "carol");
    CHECK(tl[1].person == "alice");
    CHECK(FormatRFC3339(tl[1].start) == "2026-03-02T16:00:00Z");
  }
}

TEST_CASE("overrides win over rotations; the newest wins; an unknown person is ignored") {
  auto oc = Build(
      Cfg("UTC", {"{name: w, start: 2026-01-05T09:00, shift: 1w, participants: [alice, bob]}"}));
  ScheduleOverride o1{1,  "s", "dave",   T("2026-01-06T00:00:00Z"), T("2026-01-07T00:00:00Z"),
                      "", "x", kZeroTime};
  ScheduleOverride o2{2,  "s", "carol",  T("2026-01-06T12:00:00Z"), T("2026-01-06T13:00:00Z"),
                      "", "x", kZeroTime};
  ScheduleOverride gone{3,  "s", "mallory", T("2026-01-06T00:00:00Z"), T("2026-01-08T00:00:00Z"),
                        "", "x", kZeroTime};
  ScheduleOverride other{
      4, "other", "bob", T("2026-01-06T00:00:00Z"), T("2026-01-08T00:00:00Z"), "", "x", kZeroTime};
  const std::vector<ScheduleOverride> os{o1, o2, gone, other};
  struct Row {
    const char* name;
    const char* at;
    const char* person;
    int64_t override_id;
  };
  const Row rows[] = {
      {"before the override", "2026-01-05T23:59:59Z", "alice", 0},
      {"in the override", "2026-01-06T00:00:00Z", "dave", 1},
      {"in the newer, nested one", "2026-01-06T12:30:00Z", "carol", 2},
      {"back in the first", "2026-01-06T13:00:00Z", "dave", 1},
      {"after both (the unknown person's is ignored)", "2026-01-07T00:00:00Z", "alice", 0},
  };
  for (const auto& r : rows) {
    INFO(std::string(r.name));
    auto w = oc->Who("s", os, T(r.at));
    CHECK(w.person == r.person);
    CHECK(w.override_id == r.override_id);
  }
  auto tl = oc->Timeline("s", os, T("2026-01-05T12:00:00Z"), T("2026-01-07T12:00:00Z"));
  std::vector<std::string> got;
  for (const auto& sh : tl) got.push_back(sh.person + "@" + FormatRFC3339(sh.start));
  CHECK(got == std::vector<std::string>{"alice@2026-01-05T12:00:00Z", "dave@2026-01-06T00:00:00Z",
                                        "carol@2026-01-06T12:00:00Z", "dave@2026-01-06T13:00:00Z",
                                        "alice@2026-01-07T00:00:00Z"});
  CHECK(oc->Who("nope", os, T("2026-01-06T00:00:00Z")).person.empty());
}

TEST_CASE("iCalendar: escaping, folding at 75 octets, CRLF, one event per shift") {
  CHECK(oncall::EscapeText("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne");
  const std::string long_line =
      "DESCRIPTION:" + std::string(70, 'x') + "\xc3\xa9" + std::string(80, 'y');
  const std::string folded = oncall::FoldLine(long_line);
  size_t pos = 0;
  while (pos < folded.size()) {
    const size_t eol = folded.find("\r\n", pos);
    REQUIRE(eol != std::string::npos);
    CHECK(eol - pos <= 75);
    // No fold splits the two octets of "é".
    if (eol > pos) CHECK((static_cast<unsigned char>(folded[eol - 1]) & 0xC0) != 0xC0);
    pos = eol + 2;
  }
  std::string unfolded;
  for (size_t i = 0; i < folded.size(); ++i) {
    if (folded.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded += folded[i];
  }
  CHECK(unfolded == long_line + "\r\n");

  auto oc = Build(Cfg("Europe/Berlin", {"{name: w, start: 2026-01-05T09:00, shift: 1w, "
                                        "participants: [alice, bob, carol]}"}));
  const Time now = T("2026-03-20T10:00:00Z");
  auto shifts = oc->Timeline("s", {}, now, now + oncall::kDefaultHorizon);
  const std::string ics = oncall::WriteICalendar("s", shifts, now);
  size_t events = 0;
  for (size_t p = ics.find("BEGIN:VEVENT"); p != std::string::npos;
       p = ics.find("BEGIN:VEVENT", p + 1))
    ++events;
  CHECK(events == shifts.size());
  CHECK(events == 9);  // 8 weeks from mid-week: the current shift and 8 more
  for (size_t i = 0; i < ics.size(); ++i)
    if (ics[i] == '\n') CHECK((i > 0 && ics[i - 1] == '\r'));
  CHECK(ics.find("DTSTART:20260323T080000Z\r\n") != std::string::npos);
  CHECK(ics.find("DTEND:20260330T070000Z\r\n") != std::string::npos);

  // A real parser reads it back: Debian's python3-icalendar.
  const std::string dir = t::MakeTempDir("oncall-ics");
  t::WriteFile(dir + "/s.ics", ics);
  t::WriteFile(
      dir + "/check.py",
      "import sys, icalendar\n"
      "cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n"
      "for e in cal.walk('VEVENT'):\n"
      "    print(e['UID'], e.decoded('DTSTART').isoformat(), e.decoded('DTEND').isoformat(),"
      " str(e['SUMMARY']))\n");
  std::string out;
  const int rc = t::RunCommand({"/usr/bin/python3", dir + "/check.py", dir + "/s.ics"}, &out);
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(out.find("2026-03-23T08:00:00+00:00 2026-03-30T07:00:00+00:00 carol on call for s") !=
        std::string::npos);
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  CHECK(lines == 9);
  t::RemoveTree(dir);
}
