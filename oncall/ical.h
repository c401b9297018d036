// A schedule's shifts as an iCalendar document (RFC 5545), for GET /api/v1/schedules/{name}.ics:
// one VEVENT per shift with someone on call, times in UTC. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "oncall/oncall.h"

namespace alertd::oncall {

// The VCALENDAR for `schedule`'s `shifts` (gaps are left out). Each event's UID is derived
// from the schedule, the shift's start and its person, so a calendar that polls the feed
// updates an event rather than duplicating it. `now` is every event's DTSTAMP.
std::string WriteICalendar(std::string_view schedule, const std::vector<Shift>& shifts, Time now);

// RFC 5545 3.3.11 TEXT escaping: backslash, ';', ',' and newlines.
std::string EscapeText(std::string_view s);
// RFC 5545 3.1: one content line, CRLF-terminated, folded so no line exceeds 75 octets (a fold
// never splits a UTF-8 sequence).
std::string FoldLine(std::string_view line);

}  // namespace alertd::oncall
