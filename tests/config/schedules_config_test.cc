#include <doctest/doctest.h>

#include <string>

#include "config/config.h"

using namespace alertd;
using namespace alertd::config;
using namespace std::chrono_literals;

namespace {

LoadResult Load(const std::string& yaml) {
  return LoadConfigString(yaml, "/tmp/alertd-test/alertd.yml");
}

// Lines 1-9; a test's rows start at line 10.
const char* kBase =
    "route: {receiver: a}\n"
    "receivers: [{name: a}, {name: b}]\n"
    "time_intervals:\n"
    "  - name: business-hours\n"
    "    time_intervals: [{weekdays: ['monday:friday']}]\n"
    "people:\n"
    "  - {name: alice, email: alice@example.com, slack: U024BE7LH, phone: '+4930123456'}\n"
    "  - {name: bob}\n"
    "schedules:\n";

}  // namespace

TEST_CASE("people and schedules load; an escalation step names a schedule") {
  auto res = Load(std::string(kBase) +
                  "  - name: primary\n"
                  "    time_zone: Europe/Berlin\n"
                  "    handoff_receivers: [b]\n"
                  "    rotations:\n"
                  "      - name: weekly\n"
                  "        start: 2026-01-05T09:00\n"
                  "        shift: 1w\n"
                  "        participants: [alice, bob]\n"
                  "      - name: days\n"
                  "        start: '2026-01-05T08:30:15'\n"
                  "        shift: 12h\n"
                  "        participants: [bob]\n"
                  "        active_time_intervals: [business-hours]\n"
                  "escalation_policies:\n"
                  "  - name: critical\n"
                  "    steps:\n"
                  "      - {after: 0s, schedule: primary, receivers: [a]}\n"
                  "      - {after: 15m, receivers: [b]}\n");
  REQUIRE_MESSAGE(res.ok(), res.ErrorText());
  const Config& c = *res.config;
  REQUIRE(c.people.size() == 2);
  const Person* alice = c.FindPerson("alice");
  REQUIRE(alice != nullptr);
  CHECK(alice->email == "alice@example.com");
  CHECK(alice->slack == "U024BE7LH");
  CHECK(alice->phone == "+4930123456");
  const Schedule* s = c.FindSchedule("primary");
  REQUIRE(s != nullptr);
  CHECK(s->time_zone == "Europe/Berlin");
  CHECK(s->handoff_receivers == std::vector<std::string>{"b"});
  REQUIRE(s->rotations.size() == 2);
  CHECK(s->rotations[0].shift == std::chrono::hours(24 * 7));
  CHECK(s->rotations[0].participants == std::vector<std::string>{"alice", "bob"});
  CHECK(s->rotations[0].start.time_since_epoch() ==
        std::chrono::seconds(1767603600));  // 2026-01-05 09:00 as UTC digits
  CHECK(s->rotations[1].start.time_since_epoch() == std::chrono::seconds(1767601815));
  CHECK(s->rotations[1].shift == 12h);
  CHECK(s->rotations[1].active_time_intervals == std::vector<std::string>{"business-hours"});
  CHECK(c.escalation_policies[0].steps[0].schedule == "primary");
  CHECK(c.escalation_policies[0].steps[1].schedule.empty());
  CHECK(ParseRole("schedule") == Role::kSchedule);
}

TEST_CASE("invalid people and schedules are refused with where and what") {
  struct Row {
    const char* name;
    const char* yaml;  // appended to kBase (line 10 on)
    const char* where;
    const char* message;
  };
  const char* rot =
      "    rotations: [{name: r, start: 2026-01-05T09:00, shift: 1d, participants: [alice]}]\n";
  const Row rows[] = {
      {"unknown person",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, shift: 1d, participants: "
       "[alice, zed]}]\n",
       "alertd.yml:11:85", "unknown person \"zed\""},
      {"unknown time zone", "  - name: s\n    time_zone: Mars/Olympus\n", "alertd.yml:11:16",
       "unknown time zone \"Mars/Olympus\""},
      {"unknown time interval",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, shift: 1d, participants: "
       "[alice], active_time_intervals: [nights]}]\n",
       "alertd.yml:11:110", "undefined time interval \"nights\""},
      {"shift zero",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, shift: 0s, participants: "
       "[alice]}]\n",
       "alertd.yml:11:59", "shift must be positive"},
      {"shift under a minute",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, shift: 30s, participants: "
       "[alice]}]\n",
       "alertd.yml:11:59", "shift must be at least 1m"},
      {"missing shift",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, participants: [alice]}]\n",
       "alertd.yml:11:17", "missing shift"},
      {"bad start",
       "  - name: s\n    rotations: [{name: r, start: 2026-13-05T09:00, shift: 1d, participants: "
       "[alice]}]\n",
       "alertd.yml:11:34", "is not a local date and time"},
      {"start with an offset",
       "  - name: s\n    rotations: [{name: r, start: '2026-01-05T09:00+01:00', shift: 1d, "
       "participants: [alice]}]\n",
       "alertd.yml:11:34", "is not a local date and time"},
      {"no participants",
       "  - name: s\n    rotations: [{name: r, start: 2026-01-05T09:00, shift: 1d, participants: "
       "[]}]\n",
       "alertd.yml:11:17", "needs at least one participant"},
      {"duplicate rotation",
       "  - name: s\n    rotations:\n      - {name: r, start: 2026-01-05T09:00, shift: 1d, "
       "participants: [alice]}\n      - {name: r, start: 2026-01-05T09:00, shift: 1d, "
       "participants: [bob]}\n",
       "alertd.yml:13:16", "rotation \"r\" is defined twice"},
      {"no rotations", "  - name: s\n", "alertd.yml:10:5", "needs at least one rotation"},
      {"bad name", "  - name: 'a/b'\n", "alertd.yml:10:11", "only letters, digits"},
      {"unknown handoff receiver", "  - name: s\n    handoff_receivers: [nobody]\n",
       "alertd.yml:11:25", "undefined receiver \"nobody\" used in schedule \"s\""},
      {"unknown key", "  - name: s\n    timezone: UTC\n", "alertd.yml:11:5", "timezone"},
  };
  for (const auto& r : rows) {
    INFO(std::string(r.name));
    auto res = Load(std::string(kBase) + r.yaml);
    REQUIRE_FALSE(res.ok());
    const std::string text = res.ErrorText();
    CHECK_MESSAGE(text.find(r.where) != std::string::npos, text);
    CHECK_MESSAGE(text.find(r.message) != std::string::npos, text);
  }

  SUBCASE("duplicate names") {
    const std::string two = std::string(kBase) + "  - name: s\n" + rot + "  - name: s\n" + rot;
    auto res = Load(two);
    REQUIRE_FALSE(res.ok());
    CHECK_MESSAGE(res.ErrorText().find("alertd.yml:12:11: schedule \"s\" is defined twice") !=
                      std::string::npos,
                  res.ErrorText());
    auto people = Load(
        "route: {receiver: a}\nreceivers: [{name: a}]\npeople:\n  - {name: x}\n  - {name: x}\n");
    REQUIRE_FALSE(people.ok());
    CHECK_MESSAGE(people.ErrorText().find("alertd.yml:5:12: person \"x\" is defined twice") !=
                      std::string::npos,
                  people.ErrorText());
  }

  SUBCASE("an escalation step naming an unknown schedule") {
    auto res = Load(std::string(kBase) + "  - name: s\n" + rot +
                    "escalation_policies:\n  - name: p\n    steps:\n"
                    "      - {after: 0s, schedule: nope, receivers: [a]}\n");
    REQUIRE_FALSE(res.ok());
    CHECK_MESSAGE(
        res.ErrorText().find("alertd.yml:15:31: escalation step: undefined schedule \"nope\"") !=
            std::string::npos,
        res.ErrorText());
  }

  SUBCASE("the schedule role") {
    auto res = Load(
        "route: {receiver: a}\nreceivers: [{name: a}]\n"
        "server: {auth: {tokens: [{name: t, token: x, roles: [schedule, read]}]}}\n");
    REQUIRE_MESSAGE(res.ok(), res.ErrorText());
    const auto roles = res.config->server.auth_tokens.at(0).roles;
    CHECK(HasRole(roles, Role::kSchedule));
    CHECK_FALSE(HasRole(roles, Role::kAdmin));
  }
}
