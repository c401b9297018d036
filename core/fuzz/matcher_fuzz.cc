// libFuzzer target: random text into the matcher parser (routes, silences, amtool, the API's
// `filter`). It must never crash; every accepted matcher prints (Alertmanager's String()) to a
// text that parses back to an equal matcher, and matching never fails on any value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto ms = ParseMatchers(in);
  if (!ms.ok()) {
    if (ms.status().message().empty()) std::abort();
    return 0;
  }
  LabelSet ls;
  for (const Matcher& m : *ms) {
    auto again = ParseMatcher(m.String());
    if (!again.ok() || !(*again == m)) std::abort();
    ls.Set(m.name(), m.value());
    (void)m.Matches(m.value());
    (void)m.Matches(in);
  }
  (void)MatchesAll(*ms, ls);
  auto list = ParseMatchers(MatchersString(*ms));
  if (!list.ok() || list->size() != ms->size()) std::abort();
  return 0;
}
