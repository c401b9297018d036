#include "core/labels.h"

#include "core/utf8.h"

#include <algorithm>
#include <cstdio>

namespace alertd {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

inline uint64_t FnvAdd(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}
inline uint64_t FnvAddByte(uint64_t h, unsigned char c) {
  h ^= c;
  return h * kFnvPrime;
}

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    switch (cp) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          std::snprintf(buf, sizeof buf, "\\x%02x", cp);
          out += buf;
        } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0xAD || cp == 0xFEFF ||
                   (cp >= 0x2028 && cp <= 0x2029)) {
          // Not printable per Go's unicode.IsPrint (C1 controls, soft hyphen, BOM, separators).
          std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          out += buf;
        } else {
          out.append(s.substr(i, n));
        }
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string FingerprintHex(uint64_t fp) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fp));
  return std::string(buf, 16);
}

LabelSet::LabelSet(std::initializer_list<Label> labels) {
  for (const Label& l : labels) Set(l.name, l.value);
}

LabelSet LabelSet::FromMap(const std::map<std::string, std::string>& m) {
  LabelSet ls;
  ls.labels_.reserve(m.size());
  for (const auto& [k, v] : m) ls.labels_.push_back({k, v});  // std::map is sorted byte-wise
  return ls;
}

std::string_view LabelSet::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

bool LabelSet::Has(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  return it != labels_.end() && it->name == name;
}

void LabelSet::Set(std::string_view name, std::string_view value) {
  fp_.store(0, std::memory_order_relaxed);
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    it->value = value;
  } else {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
}

void LabelSet::Remove(std::string_view name) {
  fp_.store(0, std::memory_order_relaxed);
  std::erase_if(labels_, [&](const Label& l) { return l.name == name; });
}

void LabelSet::RemoveEmpty() {
  fp_.store(0, std::memory_order_relaxed);
  std::erase_if(labels_, [](const Label& l) { return l.value.empty(); });
}

std::map<std::string, std::string> LabelSet::ToMap() const {
  std::map<std::string, std::string> m;
  for (const Label& l : labels_) m.emplace(l.name, l.value);
  return m;
}

uint64_t LabelSet::ComputeFingerprint() const {
  uint64_t h = kFnvOffset;
  for (const Label& l : labels_) {
    h = FnvAdd(h, l.name);
    h = FnvAddByte(h, 0xFF);
    h = FnvAdd(h, l.value);
    h = FnvAddByte(h, 0xFF);
  }
  fp_.store(h, std::memory_order_relaxed);
  return h;
}

std::string LabelSet::String() const {
  std::string out = "{";
  bool first = true;
  for (const Label& l : labels_) {
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += '=';
    out += GoQuote(l.value);
  }
  out += '}';
  return out;
}

Status LabelSet::Validate() const {
  for (const Label& l : labels_) {
    if (!IsValidLabelName(l.name)) return Status::InvalidArgument("invalid label name \"" + l.name + "\"");
  }
  return Status::Ok();
}

bool LabelSet::operator<(const LabelSet& o) const {
  return std::lexicographical_compare(
      labels_.begin(), labels_.end(), o.labels_.begin(), o.labels_.end(),
      [](const Label& a, const Label& b) { return a.name != b.name ? a.name < b.name : a.value < b.value; });
}

}  // namespace alertd
