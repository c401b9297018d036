// Alertmanager's time intervals (timeinterval/timeinterval.go): whether a moment falls in a
// named interval, evaluated in the interval's time zone (IANA names through date::tz, which
// reads the system's zoneinfo). Used by the pipeline's mute and active stages and by the API's
// mutedBy.
//
// Immutable once built; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/time.h"

namespace date {
class time_zone;
}

namespace alertd::router {

// ContainsTime of one spec: every non-empty field must contain the moment, in its zone.
// `zone` null means UTC.
bool SpecContains(const config::TimeIntervalSpec& spec, const date::time_zone* zone, Time t);

class TimeIntervals {
 public:
  // Resolves every interval's time zone. Fails naming an unknown zone.
  static Result<TimeIntervals> Build(const std::vector<config::TimeInterval>& intervals);

  // Whether `t` is in any spec of the interval named `name` (false for an unknown name).
  bool Contains(const std::string& name, Time t) const;
  // The names among `names` whose intervals contain `t`.
  std::vector<std::string> Active(const std::vector<std::string>& names, Time t) const;

 private:
  struct Resolved {
    config::TimeIntervalSpec spec;
    const date::time_zone* zone = nullptr;  // null: UTC
  };
  std::map<std::string, std::vector<Resolved>> by_name_;
};

}  // namespace alertd::router
