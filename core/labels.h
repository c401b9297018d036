// Label sets: the identity of an alert. A LabelSet keeps its labels sorted by name (byte-wise),
// names unique, so equality, hashing and the Alertmanager fingerprint need no extra sort.
// Value type; thread-compatible (const methods, including the cached Fingerprint(), may be
// called from several threads at once).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace alertd {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// A label name as Prometheus 2.x and Alertmanager 0.25 accept it: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);

// Go's strconv.Quote: double-quoted, with Go escapes for control characters and invalid UTF-8.
std::string GoQuote(std::string_view s);

// 64-bit Alertmanager fingerprint, printed as 16 lower-case hex digits.
std::string FingerprintHex(uint64_t fp);

class LabelSet {
 public:
  LabelSet() = default;
  LabelSet(std::initializer_list<Label> labels);
  LabelSet(const LabelSet& o) : labels_(o.labels_), fp_(o.fp_.load(std::memory_order_relaxed)) {}
  LabelSet(LabelSet&& o) noexcept
      : labels_(std::move(o.labels_)), fp_(o.fp_.exchange(0, std::memory_order_relaxed)) {}
  LabelSet& operator=(const LabelSet& o) {
    labels_ = o.labels_;
    fp_.store(o.fp_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  LabelSet& operator=(LabelSet&& o) noexcept {
    labels_ = std::move(o.labels_);
    fp_.store(o.fp_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  // From any map; names are unique already.
  static LabelSet FromMap(const std::map<std::string, std::string>& m);

  // The value of `name`, or "" if absent (a missing label equals the empty value).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Inserts or replaces.
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  // Removes every label with an empty value (Alertmanager does this on ingestion).
  void RemoveEmpty();
  void Reserve(size_t n) { labels_.reserve(n); }

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  const std::vector<Label>& labels() const { return labels_; }
  std::map<std::string, std::string> ToMap() const;

  // Alertmanager's model.LabelSet.Fingerprint(): FNV-1a 64 over "name 0xFF value 0xFF" for
  // each label in name order; the empty set gives the FNV offset basis. Computed once and
  // cached until the set changes: ingestion, the store and the router each need it.
  uint64_t Fingerprint() const {
    const uint64_t fp = fp_.load(std::memory_order_relaxed);
    return fp != 0 ? fp : ComputeFingerprint();
  }
  std::string FingerprintHex() const { return alertd::FingerprintHex(Fingerprint()); }

  // Go's model.LabelSet.String(): {a="x", b="y"} with strconv.Quote values.
  std::string String() const;

  // The first invalid label name, as an error naming it; OK when all are valid.
  Status Validate() const;

  bool operator==(const LabelSet& o) const { return labels_ == o.labels_; }
  bool operator<(const LabelSet& o) const;

 private:
  uint64_t ComputeFingerprint() const;

  std::vector<Label> labels_;  // sorted by name, unique names
  // The fingerprint of labels_, or 0 when not computed yet (a real fingerprint of 0 is
  // simply recomputed each time). Reset by every mutation.
  mutable std::atomic<uint64_t> fp_{0};
};

struct LabelSetHash {
  size_t operator()(const LabelSet& ls) const { return static_cast<size_t>(ls.Fingerprint()); }
};

}  // namespace alertd
