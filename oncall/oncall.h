// Who is on call: a schedule's rotations, layered, with its overrides, evaluated at any moment
// (config::Schedule, core ScheduleOverride). Pure: no clock, no store, no I/O; the caller
// passes the time and the overrides it holds.
//
// A rotation's handoffs are wall-clock times in the schedule's zone: handoff k is
// start + k * shift in local time, turned into an instant (a local time skipped by a
// daylight-saving change hands off at the change; a repeated one at its first occurrence).
// So a weekly 09:00 handoff stays at 09:00 local, and a shift across the change is an hour
// shorter or longer. A rotation with active_time_intervals has someone only inside them.
// Where several rotations have someone, the later one in the config wins; an override wins
// over every rotation (of overlapping overrides, the newest, highest id). An override naming a
// person no longer in the config is ignored.
//
// Immutable once built; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/router_state.h"
#include "core/time.h"

namespace alertd::oncall {

using namespace std::chrono_literals;

// How far ahead "until when" and "the next shifts" look.
inline constexpr Duration kDefaultHorizon = std::chrono::hours(24 * 7 * 8);  // 8 weeks

// A stretch of time with one answer to "who is on call".
struct Shift {
  std::string person;       // empty: nobody (a gap)
  std::string rotation;     // the rotation's name; empty for an override or a gap
  int64_t override_id = 0;  // > 0: this override
  Time start = kZeroTime;
  Time end = kZeroTime;  // exclusive; the horizon's end when it reaches it
  bool operator==(const Shift&) const = default;
};

class OnCall {
 public:
  // Resolves every schedule's and time interval's zone. Fails naming an unknown zone or a
  // time interval the config does not define.
  static Result<std::shared_ptr<const OnCall>> Build(const config::Config& cfg);

  bool HasSchedule(const std::string& schedule) const;
  std::vector<std::string> ScheduleNames() const;  // config order

  // Who is on call in `schedule` at `t` (start/end not computed: both kZeroTime). `overrides`
  // may hold every schedule's; only `schedule`'s count. Unknown schedule: nobody.
  Shift Who(const std::string& schedule, const std::vector<ScheduleOverride>& overrides,
            Time t) const;

  // The schedule's shifts overlapping [from, to), in order, each clipped to [from, to):
  // adjacent stretches with the same person from the same source are one shift; gaps are
  // shifts with an empty person. REQUIRES: from < to.
  std::vector<Shift> Timeline(const std::string& schedule,
                              const std::vector<ScheduleOverride>& overrides, Time from,
                              Time to) const;

  // The shift at `t` (maybe a gap; its start looked for at most `horizon` back) followed by
  // the next `next` shifts that have someone, looking at most `horizon` ahead.
  std::vector<Shift> NowAndNext(const std::string& schedule,
                                const std::vector<ScheduleOverride>& overrides, Time t, size_t next,
                                Duration horizon = kDefaultHorizon) const;

 private:
  struct Impl;
  explicit OnCall(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace alertd::oncall
