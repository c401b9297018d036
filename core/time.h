// Time points and RFC 3339 text, as Go's time package prints and parses them.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace alertd {

using Duration = std::chrono::nanoseconds;
using Time = std::chrono::sys_time<std::chrono::nanoseconds>;

// Go's zero time.Time (0001-01-01T00:00:00Z): "not set". Alertmanager sends firing alerts
// with this endsAt. Time cannot represent year 1, so the minimum value stands for it.
inline constexpr Time kZeroTime = Time::min();
inline bool IsZero(Time t) { return t == kZeroTime; }

// RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed, always UTC "Z" (Go's
// time.RFC3339Nano on a UTC time). The zero time prints as "0001-01-01T00:00:00Z".
std::string FormatRFC3339(Time t);

// Parses RFC 3339 with optional fraction (up to 9 digits) and "Z" or "+hh:mm" offset (hours
// 00..23, minutes 00..59, as Go's time.Parse). "0001-01-01T00:00:00Z" parses to kZeroTime.
// Any other instant outside what Time represents (int64 nanoseconds: 1677-09-21T00:12:43Z to
// 2262-04-11T23:47:16Z, offsets applied) is an error, never a wrapped value.
Result<Time> ParseRFC3339(std::string_view s);

// t + d, or nullopt when the sum is outside what Time represents (Time::min(), kZeroTime, is
// not a result either).
std::optional<Time> CheckedAdd(Time t, Duration d);
// t + d, clamped to [Time::min() + 1ns, Time::max()] when the sum is outside them.
Time SaturatingAdd(Time t, Duration d);

double ToUnixSeconds(Time t);
// Rounds to the nanosecond; a value outside Time's range (or NaN) clamps to its nearest end
// (NaN: the Unix epoch).
Time FromUnixSeconds(double seconds);
int64_t ToUnixMillis(Time t);
Time FromUnixMillis(int64_t ms);

}  // namespace alertd
