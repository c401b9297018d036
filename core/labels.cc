#include "core/labels.h"

#include <charconv>

#include "core/utf8.h"

#include <algorithm>
#include <functional>
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

uint64_t Fnv1a64(std::string_view s) { return FnvAdd(kFnvOffset, s); }

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

std::optional<uint64_t> ParseFingerprintHex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  // Base 16 takes either case and no sign or "0x" prefix: exactly the digits, or nothing.
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

namespace {

// Lengths are LEB128 varints: one byte below 128, which almost every label name and value is.
// Writes n into buf (room for 10 bytes); returns the bytes written.
size_t EncodeVarint(size_t n, char* buf) {
  size_t k = 0;
  while (n >= 0x80) {
    buf[k++] = static_cast<char>((n & 0x7F) | 0x80);
    n >>= 7;
  }
  buf[k++] = static_cast<char>(n);
  return k;
}

size_t VarintLength(size_t n) {
  size_t k = 1;
  for (; n >= 0x80; n >>= 7) ++k;
  return k;
}

void PutVarint(std::string* out, size_t n) {
  char buf[10];
  out->append(buf, EncodeVarint(n, buf));
}

// Whether `s` points into `data` (a view of a label of the same set).
bool Inside(std::string_view s, const std::string& data) {
  const std::less<const char*> lt;
  return !lt(s.data(), data.data()) && lt(s.data(), data.data() + data.size());
}

// Reads a varint at *p (before end); the set's own encoding, so it is well formed.
size_t GetVarint(const char** p) {
  size_t n = 0;
  int shift = 0;
  for (;;) {
    const auto b = static_cast<unsigned char>(*(*p)++);
    n |= static_cast<size_t>(b & 0x7F) << shift;
    if (b < 0x80) return n;
    shift += 7;
  }
}

void PutLabel(std::string* out, std::string_view name, std::string_view value) {
  PutVarint(out, name.size());
  out->append(name);
  PutVarint(out, value.size());
  out->append(value);
}

}  // namespace

void LabelSet::const_iterator::Decode() {
  if (p_ == end_) {
    next_ = p_;
    cur_ = {};
    return;
  }
  const char* p = p_;
  const size_t nlen = GetVarint(&p);
  cur_.name = std::string_view(p, nlen);
  p += nlen;
  const size_t vlen = GetVarint(&p);
  cur_.value = std::string_view(p, vlen);
  next_ = p + vlen;
}

LabelSet::LabelSet(std::initializer_list<Label> labels) {
  LabelSetBuilder b;
  b.Reserve(labels.size());
  for (const Label& l : labels) b.Add(l.name, l.value);
  *this = b.Build();
}

LabelSet LabelSetBuilder::Build() {
  std::stable_sort(pairs_.begin(), pairs_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  LabelSet ls;
  size_t bytes = 0;
  for (size_t i = 0; i < pairs_.size(); ++i) {
    if (i + 1 < pairs_.size() && pairs_[i + 1].first == pairs_[i].first) continue;
    bytes += VarintLength(pairs_[i].first.size()) + pairs_[i].first.size() +
             VarintLength(pairs_[i].second.size()) + pairs_[i].second.size();
  }
  ls.data_.reserve(bytes);
  for (size_t i = 0; i < pairs_.size(); ++i) {
    // Of a run of equal names, only the last (the one added last: the sort is stable) counts.
    if (i + 1 < pairs_.size() && pairs_[i + 1].first == pairs_[i].first) continue;
    PutLabel(&ls.data_, pairs_[i].first, pairs_[i].second);
  }
  pairs_.clear();
  bytes_ = 0;
  return ls;
}

LabelSet LabelSet::FromMap(const std::map<std::string, std::string>& m) {
  LabelSet ls;
  size_t bytes = 0;
  for (const auto& [k, v] : m) bytes += k.size() + v.size() + 2;
  ls.data_.reserve(bytes);
  for (const auto& [k, v] : m) PutLabel(&ls.data_, k, v);  // std::map is sorted byte-wise
  return ls;
}

size_t LabelSet::Find(std::string_view name, bool* found, size_t* length) const {
  // A linear scan: label sets are small (alerts carry about ten labels), and the packed form
  // reads in one pass over contiguous memory.
  for (auto it = begin(); it != end(); ++it) {
    const int c = it->name.compare(name);
    if (c >= 0) {
      *found = c == 0;
      *length = it.next_ - it.p_;
      return it.p_ - data_.data();
    }
  }
  *found = false;
  *length = 0;
  return data_.size();
}

std::string_view LabelSet::Get(std::string_view name) const {
  for (const auto& l : *this) {
    const int c = l.name.compare(name);
    if (c == 0) return l.value;
    if (c > 0) break;
  }
  return {};
}

bool LabelSet::Has(std::string_view name) const {
  bool found;
  size_t len;
  Find(name, &found, &len);
  return found;
}

void LabelSet::Set(std::string_view name, std::string_view value) {
  fp_.store(0, std::memory_order_relaxed);
  bool found;
  size_t len;
  const size_t pos = Find(name, &found, &len);
  if (Inside(name, data_) || Inside(value, data_)) {
    // Views into this very set: encode into a copy first, as the replacement may move them.
    std::string enc;
    PutLabel(&enc, name, value);
    data_.replace(pos, found ? len : 0, enc);
    return;
  }
  // Encoded in place (Set is on the ingestion path, once per label of every alert).
  char nlen[10], vlen[10];
  const size_t nk = EncodeVarint(name.size(), nlen), vk = EncodeVarint(value.size(), vlen);
  const size_t total = nk + name.size() + vk + value.size();
  data_.replace(pos, found ? len : 0, total, '\0');
  char* p = data_.data() + pos;
  p = std::copy_n(nlen, nk, p);
  p = std::copy_n(name.data(), name.size(), p);
  p = std::copy_n(vlen, vk, p);
  std::copy_n(value.data(), value.size(), p);
}

void LabelSet::Remove(std::string_view name) {
  bool found;
  size_t len;
  const size_t pos = Find(name, &found, &len);
  if (!found) return;
  fp_.store(0, std::memory_order_relaxed);
  data_.erase(pos, len);
}

void LabelSet::RemoveEmpty() {
  std::string kept;
  bool removed = false;
  for (const auto& l : *this) {
    if (l.value.empty()) {
      removed = true;
    } else {
      PutLabel(&kept, l.name, l.value);
    }
  }
  if (!removed) return;
  fp_.store(0, std::memory_order_relaxed);
  data_ = std::move(kept);
}

size_t LabelSet::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::map<std::string, std::string> LabelSet::ToMap() const {
  std::map<std::string, std::string> m;
  for (const auto& l : *this) m.emplace(l.name, l.value);
  return m;
}

uint64_t LabelSet::ComputeFingerprint() const {
  uint64_t h = kFnvOffset;
  for (const auto& l : *this) {
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
  for (const auto& l : *this) {
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
  for (const auto& l : *this) {
    if (!IsValidLabelName(l.name)) {
      return Status::InvalidArgument("invalid label name \"" + std::string(l.name) + "\"");
    }
  }
  return Status::Ok();
}

bool LabelSet::operator<(const LabelSet& o) const {
  auto a = begin(), b = o.begin();
  for (; a != end() && b != o.end(); ++a, ++b) {
    if (a->name != b->name) return a->name < b->name;
    if (a->value != b->value) return a->value < b->value;
  }
  return a == end() && b != o.end();
}

}  // namespace alertd
