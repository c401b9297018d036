// Parsing of Alertmanager time_interval specs (weekdays, times, days_of_month, months,
// years, location). Internal to config/.
#pragma once

#include "config/yaml_reader.h"

namespace alertd::config::internal {

TimeIntervalSpec ReadTimeIntervalSpec(const Ctx& c, const YAML::Node& n);

}  // namespace alertd::config::internal
