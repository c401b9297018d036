// libFuzzer target: random text into ParseDuration and ParseRFC3339. Neither may crash or
// overflow (UBSan aborts on signed overflow); every accepted value must print to a text that
// parses back to the same value, and adding it to a time must never wrap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/duration.h"
#include "core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto d = ParseDuration(in); d.ok()) {
    if (d->count() < 0) std::abort();
    auto again = ParseDuration(FormatDuration(*d));
    if (!again.ok() || *again != *d) std::abort();
    const Time now = *ParseRFC3339("2026-01-01T00:00:00Z");
    if (auto sum = CheckedAdd(now, *d); sum && *sum < now) std::abort();
    if (SaturatingAdd(now, *d) < now || SaturatingAdd(now, -*d) > now) std::abort();
  }
  if (auto t = ParseRFC3339(in); t.ok()) {
    auto again = ParseRFC3339(FormatRFC3339(*t));
    if (!again.ok() || *again != *t) std::abort();
    (void)ToUnixSeconds(*t);
    (void)ToUnixMillis(*t);
  }
  if (size == sizeof(double)) {
    double s;
    std::memcpy(&s, data, sizeof s);
    (void)FromUnixSeconds(s);
  }
  if (size == sizeof(int64_t)) {
    int64_t ms;
    std::memcpy(&ms, data, sizeof ms);
    if (ms > -9223372036854LL && ms < 9223372036854LL) (void)FromUnixMillis(ms);
  }
  return 0;
}
