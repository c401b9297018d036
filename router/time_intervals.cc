#include "router/time_intervals.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>

namespace alertd::router {
namespace {

bool InAny(const std::vector<config::IntRange>& ranges, int v) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [v](const config::IntRange& r) { return v >= r.begin && v <= r.end; });
}

}  // namespace

bool SpecContains(const config::TimeIntervalSpec& spec, const date::time_zone* zone, Time t) {
  using namespace std::chrono;
  // Wall-clock time in the zone, carried as a sys_time so date's civil calendar applies.
  sys_seconds local = time_point_cast<seconds>(t);
  if (zone) local += zone->get_info(local).offset;
  const date::sys_days day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const int minute = static_cast<int>(duration_cast<minutes>(local - day).count());

  if (!spec.times.empty()) {
    bool in =
        std::any_of(spec.times.begin(), spec.times.end(), [minute](const config::TimeRange& r) {
          return minute >= r.start_minute && minute < r.end_minute;
        });
    if (!in) return false;
  }
  const int mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (!spec.days_of_month.empty()) {
    const int days_in_month = static_cast<int>(static_cast<unsigned>(
        date::year_month_day_last(ymd.year(), date::month_day_last(ymd.month())).day()));
    bool in = false;
    for (const auto& r : spec.days_of_month) {
      int begin = r.begin < 0 ? days_in_month + r.begin + 1 : r.begin;
      int end = r.end < 0 ? days_in_month + r.end + 1 : r.end;
      // As timeinterval.go: skip a range starting after the month's end, clamp the rest.
      if (begin > days_in_month) continue;
      begin = std::clamp(begin, -days_in_month, days_in_month);
      end = std::clamp(end, -days_in_month, days_in_month);
      if (mday >= begin && mday <= end) {
        in = true;
        break;
      }
    }
    if (!in) return false;
  }
  if (!spec.months.empty() &&
      !InAny(spec.months, static_cast<int>(static_cast<unsigned>(ymd.month())))) {
    return false;
  }
  if (!spec.weekdays.empty()) {
    const int wd = static_cast<int>(date::weekday(day).c_encoding());  // 0 = Sunday
    if (!InAny(spec.weekdays, wd)) return false;
  }
  if (!spec.years.empty() && !InAny(spec.years, static_cast<int>(ymd.year()))) return false;
  return true;
}

Result<TimeIntervals> TimeIntervals::Build(const std::vector<config::TimeInterval>& intervals) {
  TimeIntervals out;
  for (const auto& ti : intervals) {
    auto& list = out.by_name_[ti.name];
    for (const auto& spec : ti.intervals) {
      Resolved r;
      r.spec = spec;
      if (!spec.location.empty() && spec.location != "UTC") {
        try {
          r.zone =
              spec.location == "Local" ? date::current_zone() : date::locate_zone(spec.location);
        } catch (const std::exception& e) {
          return Status::InvalidArgument("time interval " + ti.name + ": unknown location " +
                                         spec.location + ": " + e.what());
        }
      }
      list.push_back(std::move(r));
    }
  }
  return out;
}

bool TimeIntervals::Contains(const std::string& name, Time t) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const Resolved& r) { return SpecContains(r.spec, r.zone, t); });
}

std::vector<std::string> TimeIntervals::Active(const std::vector<std::string>& names,
                                               Time t) const {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (Contains(n, t)) out.push_back(n);
  }
  return out;
}

}  // namespace alertd::router
