// Log set-up for the daemon: level and line format of spdlog's default logger.
//
// Formats:
//   text    (default) spdlog's human-readable lines: [time] [level] message
//   logfmt  ts=2024-05-01T12:00:00.123Z level=info component=router msg="..."
//   json    {"ts":"2024-05-01T12:00:00.123Z","level":"info","component":"router","msg":"..."}
// alertd's messages start with the component that logs them ("router: 3 groups restored");
// the structured formats lift that prefix into the `component` field. Times are UTC.
//
// Call once at start, before other threads log.
#pragma once

#include <string>

#include "core/result.h"

namespace alertd::app {

// `level`: debug, info, warn or error; `format`: text, logfmt or json. InvalidArgument for
// anything else (nothing changes then).
Status ConfigureLogging(const std::string& level, const std::string& format);

// One log line in `format` (logfmt or json), without the newline; exposed for tests.
std::string FormatStructuredLine(const std::string& format, std::string_view time,
                                 std::string_view level, std::string_view message);

}  // namespace alertd::app
