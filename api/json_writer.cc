#include "api/json_writer.h"

#include <chrono>
#include <cstdio>

namespace alertd::api {
namespace {

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace


void AppendLabelSetJson(std::string* out, const LabelSet& ls) {
  out->push_back('{');
  bool first = true;
  for (const auto& l : ls) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

void AppendDateTimeJson(std::string* out, Time t) {
  if (IsZero(t)) {
    out->append("\"0001-01-01T00:00:00.000Z\"");
    return;
  }
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd(day);
  const hh_mm_ss hms(ms - day);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "\"%04d-%02u-%02uT", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  out->append(buf, n);
  Append2(out, static_cast<int>(hms.hours().count()));
  out->push_back(':');
  Append2(out, static_cast<int>(hms.minutes().count()));
  out->push_back(':');
  Append2(out, static_cast<int>(hms.seconds().count()));
  out->push_back('.');
  const int frac = static_cast<int>(hms.subseconds().count());
  out->push_back(static_cast<char>('0' + frac / 100));
  Append2(out, frac % 100);
  out->append("Z\"");
}

void AppendTimeOrNull(std::string* out, Time t) {
  if (IsZero(t)) {
    out->append("null");
  } else {
    AppendDateTimeJson(out, t);
  }
}

}  // namespace alertd::api
