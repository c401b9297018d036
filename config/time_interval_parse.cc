#include "config/time_interval_parse.h"

#include <date/tz.h>

#include <algorithm>
#include <charconv>

namespace alertd::config::internal {
namespace {

constexpr const char* kDays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
constexpr const char* kMonths[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};

std::string Lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::optional<int> ParseInt(std::string_view s) {
  int v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "a" or "a:b" where each side is converted by `one`.
template <typename F>
std::optional<IntRange> ParseRange(const std::string& s, F one) {
  auto colon = s.find(':');
  std::string a = colon == std::string::npos ? s : s.substr(0, colon);
  std::string b = colon == std::string::npos ? s : s.substr(colon + 1);
  auto x = one(a), y = one(b);
  if (!x || !y) return std::nullopt;
  return IntRange{*x, *y};
}

std::optional<int> ParseClock(const std::string& s) {
  if (s == "24:00") return 24 * 60;
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = ParseInt(std::string_view(s).substr(0, 2));
  auto m = ParseInt(std::string_view(s).substr(3, 2));
  if (!h || !m || *h < 0 || *h > 23 || *m < 0 || *m > 59) return std::nullopt;
  return *h * 60 + *m;
}

}  // namespace

TimeIntervalSpec ReadTimeIntervalSpec(const Ctx& c, const YAML::Node& n) {
  TimeIntervalSpec spec;
  MapReader m(c, n, "time_interval");
  m.Field("times", [&](const YAML::Node& v) {
    if (!v.IsSequence()) {
      c.Error(v, "times: expected a list");
      return;
    }
    for (const auto& t : v) {
      std::string st, et;
      MapReader tm(c, t, "times");
      tm.String("start_time", &st);
      tm.String("end_time", &et);
      tm.Finish();
      auto s = ParseClock(st), e = ParseClock(et);
      if (!s || !e) {
        c.Error(t, "couldn't parse timestamp " + (!s ? st : et) + ", invalid format");
        continue;
      }
      if (*s >= *e) {
        c.Error(t, "start time cannot be equal or greater than end time");
        continue;
      }
      spec.times.push_back({*s, *e});
    }
  });
  auto list = [&](const char* key, const std::function<std::optional<IntRange>(const std::string&, const YAML::Node&)>& fn,
                  std::vector<IntRange>* out) {
    m.Field(key, [&](const YAML::Node& v) {
      auto l = AsStringList(c, v, key);
      if (!l) return;
      for (size_t i = 0; i < l->size(); ++i) {
        if (auto r = fn((*l)[i], v[i])) out->push_back(*r);
      }
    });
  };
  list("weekdays", [&](const std::string& s, const YAML::Node& node) -> std::optional<IntRange> {
    auto r = ParseRange(Lower(s), [](const std::string& d) -> std::optional<int> {
      for (int i = 0; i < 7; ++i)
        if (d == kDays[i]) return i;
      return std::nullopt;
    });
    if (!r) {
      c.Error(node, "invalid weekday \"" + s + "\"");
      return std::nullopt;
    }
    if (r->begin > r->end) {
      c.Error(node, "start day cannot be before end day in \"" + s + "\"");
      return std::nullopt;
    }
    return r;
  }, &spec.weekdays);
  list("days_of_month", [&](const std::string& s, const YAML::Node& node) -> std::optional<IntRange> {
    auto r = ParseRange(s, [](const std::string& d) { return ParseInt(d); });
    if (!r) {
      c.Error(node, "invalid day of month \"" + s + "\"");
      return std::nullopt;
    }
    auto valid = [](int d) { return d != 0 && d >= -31 && d <= 31; };
    if (!valid(r->begin) || !valid(r->end)) {
      c.Error(node, "days of month must be between 1 and 31 or -31 and -1: \"" + s + "\"");
      return std::nullopt;
    }
    if ((r->begin > 0) == (r->end > 0) && r->begin > r->end) {
      c.Error(node, "end day must be greater than or equal to start day in \"" + s + "\"");
      return std::nullopt;
    }
    if (r->begin < 0 && r->end > 0) {
      c.Error(node, "end day must be negative if start day is negative in \"" + s + "\"");
      return std::nullopt;
    }
    return r;
  }, &spec.days_of_month);
  list("months", [&](const std::string& s, const YAML::Node& node) -> std::optional<IntRange> {
    auto r = ParseRange(Lower(s), [](const std::string& mo) -> std::optional<int> {
      for (int i = 0; i < 12; ++i)
        if (mo == kMonths[i]) return i + 1;
      auto v = ParseInt(mo);
      if (v && *v >= 1 && *v <= 12) return v;
      return std::nullopt;
    });
    if (!r) {
      c.Error(node, "invalid month \"" + s + "\"");
      return std::nullopt;
    }
    if (r->begin > r->end) {
      c.Error(node, "end month must be greater than or equal to start month in \"" + s + "\"");
      return std::nullopt;
    }
    return r;
  }, &spec.months);
  list("years", [&](const std::string& s, const YAML::Node& node) -> std::optional<IntRange> {
    auto r = ParseRange(s, [](const std::string& y) { return ParseInt(y); });
    if (!r || r->begin < 0) {
      c.Error(node, "invalid year \"" + s + "\"");
      return std::nullopt;
    }
    if (r->begin > r->end) {
      c.Error(node, "end year must be greater than or equal to start year in \"" + s + "\"");
      return std::nullopt;
    }
    return r;
  }, &spec.years);
  m.Field("location", [&](const YAML::Node& v) {
    auto s = AsString(c, v, "location");
    if (!s) return;
    if (*s != "Local" && *s != "UTC") {
      try {
        (void)date::locate_zone(*s);
      } catch (const std::exception&) {
        c.Error(v, "unknown time zone location \"" + *s + "\"");
        return;
      }
    }
    spec.location = *s;
  });
  m.Finish();
  return spec;
}

}  // namespace alertd::config::internal
