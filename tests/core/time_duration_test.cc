#include <doctest/doctest.h>

#include "core/duration.h"
#include "core/time.h"

#include <limits>

using namespace alertd;
using namespace std::chrono_literals;

TEST_CASE("durations parse and print in Prometheus form") {
  struct Row {
    const char* in;
    Duration want;
    const char* printed;
  } rows[] = {
      {"0s", 0s, "0s"},
      {"0", 0s, "0s"},
      {"500ms", 500ms, "500ms"},
      {"1s", 1s, "1s"},
      {"90s", 90s, "1m30s"},
      {"1h30m", 90min, "1h30m"},
      {"2d", 48h, "2d"},
      {"1w", 168h, "1w"},
      {"14d", 336h, "2w"},
      {"1y", 8760h, "1y"},
      {"1y2w3d4h5m6s7ms", 8760h + 336h + 72h + 4h + 5min + 6s + 7ms, "1y2w3d4h5m6s7ms"},
      {"36h", 36h, "1d12h"},
      {"5m", 5min, "5m"},
      {"4h", 4h, "4h"},
  };
  for (const Row& r : rows) {
    INFO(r.in);
    auto d = ParseDuration(r.in);
    REQUIRE(d.ok());
    CHECK(*d == r.want);
    CHECK(FormatDuration(*d) == r.printed);
  }
}

TEST_CASE("invalid durations are refused with a message") {
  for (const char* in : {"", "1", "1x", "h", "1m1h", "1h1h", "-1s", "1.5h", "1 h", "ms", "1s500"}) {
    INFO(in);
    auto d = ParseDuration(in);
    CHECK_FALSE(d.ok());
    if (!d.ok()) CHECK(!d.status().message().empty());
  }
}

TEST_CASE("RFC 3339 round trips with fractional seconds") {
  struct Row {
    const char* in;
    const char* out;
  } rows[] = {
      {"2024-03-01T12:34:56Z", "2024-03-01T12:34:56Z"},
      {"2024-03-01T12:34:56.5Z", "2024-03-01T12:34:56.5Z"},
      {"2024-03-01T12:34:56.123456789Z", "2024-03-01T12:34:56.123456789Z"},
      {"2024-03-01T12:34:56.120Z", "2024-03-01T12:34:56.12Z"},
      {"2024-03-01T14:34:56+02:00", "2024-03-01T12:34:56Z"},
      {"2024-02-29T23:59:59-01:00", "2024-03-01T00:59:59Z"},
      {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
      {"1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.9Z"},
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
  };
  for (const Row& r : rows) {
    INFO(r.in);
    auto t = ParseRFC3339(r.in);
    REQUIRE(t.ok());
    CHECK(FormatRFC3339(*t) == r.out);
  }
  CHECK(IsZero(*ParseRFC3339("0001-01-01T00:00:00Z")));
  CHECK(ToUnixSeconds(*ParseRFC3339("1970-01-01T00:01:40.5Z")) == doctest::Approx(100.5));
  for (const char* bad : {"", "2024-03-01", "2024-13-01T00:00:00Z", "2024-03-01T12:34:56", "2024-03-01T12:34:56.Z",
                          "2024-03-01T12:34:56Zjunk", "yesterday"}) {
    INFO(bad);
    CHECK_FALSE(ParseRFC3339(bad).ok());
  }
}

TEST_CASE("RFC 3339 times outside the int64 nanosecond range are refused, never wrapped") {
  // The last and first instants Time represents parse exactly.
  auto last = ParseRFC3339("2262-04-11T23:47:16.854775807Z");
  REQUIRE(last.ok());
  CHECK(*last == Time::max());
  CHECK(FormatRFC3339(*last) == "2262-04-11T23:47:16.854775807Z");
  auto first = ParseRFC3339("1677-09-21T00:12:43.145224193Z");
  REQUIRE(first.ok());
  CHECK(first->time_since_epoch().count() == std::numeric_limits<int64_t>::min() + 1);
  struct Row {
    const char* name;
    const char* in;
  } rows[] = {
      {"one nanosecond after the last", "2262-04-11T23:47:16.854775808Z"},
      {"the day after the last", "2262-04-12T00:00:00Z"},
      {"a local time whose offset carries it past the end", "2262-04-10T23:59:59-23:59"},
      {"a negative offset on the last day", "2262-04-11T23:00:00-01:00"},
      {"the sentinel instant of the zero time", "1677-09-21T00:12:43.145224192Z"},
      {"before the first", "1677-09-21T00:12:43Z"},
      {"a positive offset carrying it before the first", "1677-09-21T10:00:00+23:59"},
      {"far future", "9999-12-31T23:59:59.999999999Z"},
      {"year zero", "0000-01-01T00:00:00Z"},
      {"offset hour out of range", "2024-03-01T12:00:00+24:00"},
      {"offset minute out of range", "2024-03-01T12:00:00+01:60"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto t = ParseRFC3339(r.in);
    CHECK_FALSE(t.ok());
  }
}

TEST_CASE("adding a duration to a time never wraps") {
  const Time now = *ParseRFC3339("2026-12-07T00:00:00Z");
  auto far = ParseDuration("290y");
  REQUIRE(far.ok());
  CHECK_FALSE(CheckedAdd(now, *far).has_value());
  CHECK(SaturatingAdd(now, *far) == Time::max());
  CHECK(SaturatingAdd(now, -*far) > Time::min());
  REQUIRE(CheckedAdd(now, std::chrono::hours(2)).has_value());
  CHECK(*CheckedAdd(now, std::chrono::hours(2)) == now + std::chrono::hours(2));
  CHECK(FromUnixSeconds(1e300) == Time::max());
  CHECK(FromUnixSeconds(-1e300) > Time::min());
  CHECK(FromUnixSeconds(std::numeric_limits<double>::quiet_NaN()).time_since_epoch().count() == 0);
}

TEST_CASE("durations whose nanoseconds overflow int64 are refused") {
  CHECK(ParseDuration("292y").ok());
  CHECK(ParseDuration("15250w").ok());
  for (const char* in : {"293y", "15251w", "106752d", "2562048h", "9223372036854775807ms",
                         "99999999999999999999s", "292y52w"}) {
    INFO(std::string(in));
    auto d = ParseDuration(in);
    CHECK_FALSE(d.ok());
  }
}
