// libical (Debian's libical-dev) parses, validates and manipulates every iCalendar component;
// this feed only writes VEVENTs with eight properties, which RFC 5545's escaping and folding
// rules below cover in a few lines, without a C library's component tree in between.
#include "oncall/ical.h"

#include <date/date.h>

#include <cctype>
#include <chrono>

namespace alertd::oncall {
namespace {

// RFC 5545 3.3.5 form 2: UTC date-time, "19980119T070000Z".
std::string UtcStamp(Time t) {
  return date::format("%Y%m%dT%H%M%SZ", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace

std::string EscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        if (i + 1 < s.size() && s[i + 1] == '\n') break;  // CRLF: one newline
        out += "\\n";
        break;
      default:
        // Other control characters are not allowed in TEXT (3.3.11).
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') break;
        out += c;
    }
  }
  return out;
}

std::string FoldLine(std::string_view line) {
  std::string out;
  size_t width = 0;  // octets on the current physical line
  size_t i = 0;
  while (i < line.size()) {
    // The whole UTF-8 sequence starting at i.
    size_t len = 1;
    while (i + len < line.size() && (static_cast<unsigned char>(line[i + len]) & 0xC0) == 0x80)
      ++len;
    if (width + len > 75) {
      out += "\r\n ";
      width = 1;  // the leading space counts
    }
    out.append(line.substr(i, len));
    width += len;
    i += len;
  }
  out += "\r\n";
  return out;
}

std::string WriteICalendar(std::string_view schedule, const std::vector<Shift>& shifts, Time now) {
  const std::string name = EscapeText(schedule);
  std::string out;
  out += FoldLine("BEGIN:VCALENDAR");
  out += FoldLine("VERSION:2.0");
  out += FoldLine("PRODID:-//alertd//on-call schedule//EN");
  out += FoldLine("CALSCALE:GREGORIAN");
  out += FoldLine("METHOD:PUBLISH");
  out += FoldLine("X-WR-CALNAME:" + std::string("on call: ") + name);
  const std::string stamp = UtcStamp(now);
  for (const auto& sh : shifts) {
    if (sh.person.empty()) continue;
    const int64_t start_s =
        std::chrono::duration_cast<std::chrono::seconds>(sh.start.time_since_epoch()).count();
    out += FoldLine("BEGIN:VEVENT");
    // UID: unique and stable (3.8.4.7); the characters of a name are kept out of its syntax.
    std::string uid_person;
    for (char c : sh.person) uid_person += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    std::string uid_sched;
    for (char c : schedule) uid_sched += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    out += FoldLine("UID:" + uid_sched + "-" + std::to_string(start_s) + "-" + uid_person +
                    (sh.override_id > 0 ? "-o" + std::to_string(sh.override_id) : "") + "@alertd");
    out += FoldLine("DTSTAMP:" + stamp);
    out += FoldLine("DTSTART:" + UtcStamp(sh.start));
    out += FoldLine("DTEND:" + UtcStamp(sh.end));
    out += FoldLine("SUMMARY:" + EscapeText(sh.person + " on call for " + std::string(schedule)));
    const std::string from = sh.override_id > 0 ? "override " + std::to_string(sh.override_id)
                                                : "rotation " + sh.rotation;
    out += FoldLine("DESCRIPTION:" + EscapeText(std::string(schedule) + ", " + from));
    out += FoldLine("TRANSP:TRANSPARENT");
    out += FoldLine("END:VEVENT");
  }
  out += FoldLine("END:VCALENDAR");
  return out;
}

}  // namespace alertd::oncall
