#include "oncall/oncall.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <map>
#include <set>

#include "router/time_intervals.h"

namespace alertd::oncall {
namespace {

using std::chrono::floor;
using std::chrono::seconds;
using LocalTime = Time;  // a wall-clock time carried as a sys_time, as config::Rotation::start

// Fewer handoffs than this per rotation and window: a 1m shift over 8 weeks is 80,640.
constexpr int64_t kMaxHandoffs = 200000;

const date::time_zone* Zone(const std::string& name) {
  if (name.empty() || name == "UTC") return nullptr;
  return name == "Local" ? date::current_zone() : date::locate_zone(name);
}

LocalTime ToLocal(Time t, const date::time_zone* zone) {
  if (!zone) return t;
  return t + zone->get_info(floor<seconds>(t)).offset;
}

// The instant a wall-clock time names: a skipped one (spring forward) is the change itself,
// a repeated one (fall back) its first occurrence.
Time ToSys(LocalTime local, const date::time_zone* zone) {
  if (!zone) return local;
  const date::local_seconds ls{floor<seconds>(local).time_since_epoch()};
  const date::local_info info = zone->get_info(ls);
  switch (info.result) {
    case date::local_info::nonexistent:
      return info.second.begin;
    case date::local_info::ambiguous:
    case date::local_info::unique:
    default:
      return local - info.first.offset;
  }
}

struct ResolvedSpec {
  config::TimeIntervalSpec spec;
  const date::time_zone* zone = nullptr;
};

struct ResolvedRotation {
  std::string name;
  LocalTime start;
  Duration shift;
  std::vector<std::string> participants;
  std::vector<ResolvedSpec> active;  // empty: always active
};

struct ResolvedSchedule {
  std::string name;
  const date::time_zone* zone = nullptr;
  std::vector<ResolvedRotation> rotations;
};

Time Handoff(const ResolvedSchedule& s, const ResolvedRotation& r, int64_t k) {
  return ToSys(r.start + r.shift * k, s.zone);
}

// The shift index at `t` (handoff k <= t < handoff k+1), or -1 before the first handoff.
int64_t ShiftIndex(const ResolvedSchedule& s, const ResolvedRotation& r, Time t) {
  if (t < Handoff(s, r, 0)) return -1;
  int64_t k = (ToLocal(t, s.zone) - r.start) / r.shift;
  // The wall-clock estimate is off by one at most near a daylight-saving change.
  while (k > 0 && Handoff(s, r, k) > t) --k;
  while (Handoff(s, r, k + 1) <= t) ++k;
  return k;
}

bool Active(const ResolvedRotation& r, Time t) {
  if (r.active.empty()) return true;
  return std::any_of(r.active.begin(), r.active.end(), [t](const ResolvedSpec& s) {
    return router::SpecContains(s.spec, s.zone, t);
  });
}

// Every instant in (from, to) where a spec's answer may change: local midnights, the starts
// and ends of its time ranges on each local day, and the zone's offset changes. SpecContains
// depends only on the local day and minute, so it is constant between these.
void SpecBoundaries(const ResolvedSpec& s, Time from, Time to, std::vector<Time>* out) {
  auto add = [&](Time t) {
    if (t > from && t < to) out->push_back(t);
  };
  const date::sys_days first = floor<date::days>(ToLocal(from, s.zone)) - date::days(1);
  const date::sys_days last = floor<date::days>(ToLocal(to, s.zone)) + date::days(1);
  for (date::sys_days d = first; d <= last; d += date::days(1)) {
    const LocalTime midnight = LocalTime(d);
    add(ToSys(midnight, s.zone));
    for (const auto& r : s.spec.times) {
      add(ToSys(midnight + std::chrono::minutes(r.start_minute), s.zone));
      add(ToSys(midnight + std::chrono::minutes(r.end_minute), s.zone));
    }
  }
  if (s.zone) {
    Time t = from;
    while (t < to) {
      const date::sys_info info = s.zone->get_info(floor<seconds>(t));
      if (info.end <= t || info.end >= to) break;
      add(info.end);
      t = info.end;
    }
  }
}

bool SameSource(const Shift& a, const Shift& b) {
  return a.person == b.person && a.rotation == b.rotation && a.override_id == b.override_id;
}

}  // namespace

struct OnCall::Impl {
  std::vector<ResolvedSchedule> schedules;
  std::set<std::string> people;

  const ResolvedSchedule* Find(const std::string& name) const {
    for (const auto& s : schedules)
      if (s.name == name) return &s;
    return nullptr;
  }

  Shift WhoAt(const ResolvedSchedule& s, const std::vector<ScheduleOverride>& overrides,
              Time t) const {
    Shift out;
    const ScheduleOverride* best = nullptr;
    for (const auto& o : overrides) {
      if (o.schedule != s.name || t < o.start || t >= o.end || !people.count(o.person)) continue;
      if (!best || o.id > best->id) best = &o;
    }
    if (best) {
      out.person = best->person;
      out.override_id = best->id;
      return out;
    }
    for (auto r = s.rotations.rbegin(); r != s.rotations.rend(); ++r) {
      const int64_t k = ShiftIndex(s, *r, t);
      if (k < 0 || !Active(*r, t)) continue;
      out.person =
          r->participants[static_cast<size_t>(k % static_cast<int64_t>(r->participants.size()))];
      out.rotation = r->name;
      return out;
    }
    return out;
  }
};

Result<std::shared_ptr<const OnCall>> OnCall::Build(const config::Config& cfg) {
  auto impl = std::make_shared<Impl>();
  for (const auto& p : cfg.people) impl->people.insert(p.name);
  for (const auto& s : cfg.schedules) {
    ResolvedSchedule rs;
    rs.name = s.name;
    try {
      rs.zone = Zone(s.time_zone);
    } catch (const std::exception&) {
      return Status::InvalidArgument("schedule " + s.name + ": unknown time zone " + s.time_zone);
    }
    for (const auto& r : s.rotations) {
      if (r.shift <= Duration::zero() || r.participants.empty())
        return Status::InvalidArgument("schedule " + s.name + ": rotation " + r.name +
                                       " needs a positive shift and a participant");
      ResolvedRotation rr;
      rr.name = r.name;
      rr.start = LocalTime(r.start);
      rr.shift = r.shift;
      rr.participants = r.participants;
      for (const auto& name : r.active_time_intervals) {
        const config::TimeInterval* ti = cfg.FindTimeInterval(name);
        if (!ti)
          return Status::InvalidArgument("schedule " + s.name + ": rotation " + r.name +
                                         ": undefined time interval " + name);
        for (const auto& spec : ti->intervals) {
          ResolvedSpec sp;
          sp.spec = spec;
          try {
            sp.zone = Zone(spec.location);
          } catch (const std::exception&) {
            return Status::InvalidArgument("time interval " + name + ": unknown location " +
                                           spec.location);
          }
          rr.active.push_back(std::move(sp));
        }
        // An interval with no specs contains nothing: keep the rotation restricted.
        if (ti->intervals.empty()) {
          ResolvedSpec never;
          never.spec.years.push_back({0, -1});
          rr.active.push_back(std::move(never));
        }
      }
      rs.rotations.push_back(std::move(rr));
    }
    impl->schedules.push_back(std::move(rs));
  }
  return std::shared_ptr<const OnCall>(new OnCall(std::move(impl)));
}

bool OnCall::HasSchedule(const std::string& schedule) const {
  return impl_->Find(schedule) != nullptr;
}

std::vector<std::string> OnCall::ScheduleNames() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->schedules) out.push_back(s.name);
  return out;
}

Shift OnCall::Who(const std::string& schedule, const std::vector<ScheduleOverride>& overrides,
                  Time t) const {
  const ResolvedSchedule* s = impl_->Find(schedule);
  if (!s) return {};
  return impl_->WhoAt(*s, overrides, t);
}

std::vector<Shift> OnCall::Timeline(const std::string& schedule,
                                    const std::vector<ScheduleOverride>& overrides, Time from,
                                    Time to) const {
  std::vector<Shift> out;
  const ResolvedSchedule* s = impl_->Find(schedule);
  if (!s || from >= to) return out;
  // Every instant where the answer may change; between two of them it cannot.
  std::vector<Time> cuts{from};
  for (const auto& r : s->rotations) {
    int64_t k = std::max<int64_t>(0, ShiftIndex(*s, r, from) + 1);
    for (int64_t n = 0; n < kMaxHandoffs; ++n, ++k) {
      const Time h = Handoff(*s, r, k);
      if (h >= to) break;
      if (h > from) cuts.push_back(h);
    }
    for (const auto& spec : r.active) SpecBoundaries(spec, from, to, &cuts);
  }
  for (const auto& o : overrides) {
    if (o.schedule != schedule) continue;
    if (o.start > from && o.start < to) cuts.push_back(o.start);
    if (o.end > from && o.end < to) cuts.push_back(o.end);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (size_t i = 0; i < cuts.size(); ++i) {
    Shift sh = impl_->WhoAt(*s, overrides, cuts[i]);
    sh.start = cuts[i];
    sh.end = i + 1 < cuts.size() ? cuts[i + 1] : to;
    if (!out.empty() && SameSource(out.back(), sh)) {
      out.back().end = sh.end;
    } else {
      out.push_back(std::move(sh));
    }
  }
  return out;
}

std::vector<Shift> OnCall::NowAndNext(const std::string& schedule,
                                      const std::vector<ScheduleOverride>& overrides, Time t,
                                      size_t next, Duration horizon) const {
  std::vector<Shift> out;
  // From `horizon` back, so the shift in progress has its real start.
  auto all = Timeline(schedule, overrides, SaturatingAdd(t, -horizon), SaturatingAdd(t, horizon));
  for (auto& sh : all) {
    if (out.empty()) {
      if (sh.end <= t) continue;
      out.push_back(std::move(sh));
      continue;
    }
    if (out.size() > next) break;
    if (!sh.person.empty()) out.push_back(std::move(sh));
  }
  return out;
}

}  // namespace alertd::oncall
