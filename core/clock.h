// Time as an interface, so timers (group_wait, `for:`, escalation steps) can be tested on a
// fake clock. The real clock reads the system clock; FakeClock in tests is advanced by hand.
#pragma once

#include <chrono>

#include "core/time.h"

namespace alertd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time Now() const override {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  }
};

}  // namespace alertd
