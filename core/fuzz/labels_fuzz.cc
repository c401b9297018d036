// libFuzzer target: label sets built from random operations (what ingestion does with the names
// and values a sender chooses), checked against a std::map model: Set/Remove/Get agree with
// it, iteration is sorted and unique, the fingerprint does not depend on insertion order, and
// Validate, String and the label name check never crash on any bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd;
  // Input: records of [op byte][name length byte][name][value length byte][value].
  LabelSet ls;
  std::map<std::string, std::string> model;
  size_t pos = 0;
  auto take = [&](std::string_view* out) {
    if (pos >= size) return false;
    const size_t n = data[pos++];
    if (size - pos < n) return false;
    *out = std::string_view(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return true;
  };
  while (pos < size) {
    const uint8_t op = data[pos++];
    std::string_view name, value;
    if (!take(&name)) break;
    if (op % 4 == 3) {
      ls.Remove(name);
      model.erase(std::string(name));
    } else {
      if (!take(&value)) break;
      ls.Set(name, value);
      model[std::string(name)] = std::string(value);
    }
    (void)IsValidLabelName(name);
    if (ls.Get(name) != (model.count(std::string(name)) ? model[std::string(name)] : "")) {
      std::abort();
    }
  }
  if (ls.ToMap() != model || ls.size() != model.size()) std::abort();
  const LabelSet rebuilt = LabelSet::FromMap(model);
  if (!(rebuilt == ls) || rebuilt.Fingerprint() != ls.Fingerprint()) std::abort();
  LabelSet reversed;
  for (auto it = model.rbegin(); it != model.rend(); ++it) reversed.Set(it->first, it->second);
  if (!(reversed == ls) || reversed.Fingerprint() != ls.Fingerprint()) std::abort();
  (void)ls.Validate();
  (void)ls.String();
  LabelSet copy = ls;
  copy.RemoveEmpty();
  for (const auto& l : copy) {
    if (l.value.empty()) std::abort();
  }
  return 0;
}
