#include "storage/codec.h"

#include <vector>

namespace alertd::storage {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetString(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

void EncodeLabelSet(const LabelSet& ls, std::string* out) {
  PutVarint(out, ls.size());
  for (const auto& l : ls) {
    PutVarint(out, l.name.size());
    out->append(l.name);
    PutVarint(out, l.value.size());
    out->append(l.value);
  }
}

std::string EncodeLabelSet(const LabelSet& ls) {
  std::string out;
  EncodeLabelSet(ls, &out);
  return out;
}

Result<LabelSet> DecodeLabelSet(std::string_view in) {
  uint64_t n;
  if (!GetVarint(&in, &n) || n > in.size()) return Status::Internal("corrupt label set: bad count");
  LabelSet ls;
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetString(&in, &name) || !GetString(&in, &value)) {
      return Status::Internal("corrupt label set: truncated");
    }
    pairs.emplace_back(name, value);
  }
  if (!in.empty()) return Status::Internal("corrupt label set: trailing bytes");
  // Written sorted, so each Set() appends; unsorted input would still decode correctly.
  for (const auto& [name, value] : pairs) ls.Set(name, value);
  return ls;
}

}  // namespace alertd::storage
