// Durations in Prometheus/Alertmanager text form (`1h30m`, `2d`, `1w`, `500ms`, `0s`), as
// prometheus/common model.ParseDuration and model.Duration.String define them:
// units y (365d), w, d, h, m, s, ms, each at most once, largest first; millisecond precision.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace alertd {

// "0" is accepted as zero; an empty string or a unit out of order is an error.
Result<Duration> ParseDuration(std::string_view s);

// The shortest text that parses back to the same value; "0s" for zero. Sub-millisecond parts
// are dropped, as Prometheus's model.Duration has millisecond resolution.
std::string FormatDuration(Duration d);

}  // namespace alertd
