// Label sets: the identity of an alert. A LabelSet keeps its labels sorted by name (byte-wise),
// names unique, so equality, hashing and the Alertmanager fingerprint need no extra sort.
// Value type; thread-compatible (const methods, including the cached Fingerprint(), may be
// called from several threads at once).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace alertd {

// FNV-1a, 64 bit, of `s` (the hash behind label-set fingerprints).
uint64_t Fnv1a64(std::string_view s);

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
// A fingerprint as the API prints it (1 to 16 hex digits, either case); nullopt otherwise.
std::optional<uint64_t> ParseFingerprintHex(std::string_view s);

// A label as a LabelSet hands it out while iterating: views into the set, valid while the set
// is alive and unchanged.
struct LabelRef {
  std::string_view name;
  std::string_view value;
  bool operator==(const LabelRef&) const = default;
};

class LabelSetBuilder;

// The labels are kept packed in one string: for each label, in name order, the name's length
// (a varint), the name, the value's length and the value. Alerts hold two sets each and alertd
// holds one alert in its store for every alert it knows of, so this matters: 7 labels take one
// allocation of about the labels' text size, where a vector of string pairs takes 64 bytes per
// label plus an allocation for each string longer than 15 bytes.
class LabelSet {
 public:
  class const_iterator {
   public:
    using value_type = LabelRef;
    using difference_type = std::ptrdiff_t;
    using reference = LabelRef;
    using iterator_category = std::forward_iterator_tag;
    const_iterator() = default;
    LabelRef operator*() const { return cur_; }
    const LabelRef* operator->() const { return &cur_; }
    const_iterator& operator++() {
      p_ = next_;
      Decode();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const { return p_ == o.p_; }

   private:
    friend class LabelSet;
    const_iterator(const char* p, const char* end) : p_(p), end_(end) { Decode(); }
    void Decode();
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    const char* next_ = nullptr;
    LabelRef cur_;
  };
  using iterator = const_iterator;

  LabelSet() = default;
  LabelSet(std::initializer_list<Label> labels);
  LabelSet(const LabelSet& o) : data_(o.data_), fp_(o.fp_.load(std::memory_order_relaxed)) {}
  LabelSet(LabelSet&& o) noexcept
      : data_(std::move(o.data_)), fp_(o.fp_.exchange(0, std::memory_order_relaxed)) {
    o.data_.clear();
  }
  LabelSet& operator=(const LabelSet& o) {
    data_ = o.data_;
    fp_.store(o.fp_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  LabelSet& operator=(LabelSet&& o) noexcept {
    data_ = std::move(o.data_);
    o.data_.clear();
    fp_.store(o.fp_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  // From any map; names are unique already.
  static LabelSet FromMap(const std::map<std::string, std::string>& m);

  // The value of `name`, or "" if absent (a missing label equals the empty value).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Inserts or replaces. O(size of the set): to build a set of many labels, use
  // LabelSetBuilder, which is O(n log n) for n labels where n calls of Set are O(n^2).
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  // Removes every label with an empty value (Alertmanager does this on ingestion).
  void RemoveEmpty();
  // Room for about `n` labels, so that setting them one by one does not reallocate.
  void Reserve(size_t n) { data_.reserve(n * 24); }
  // Gives back unused capacity (after building a set that will be kept).
  void ShrinkToFit() { data_.shrink_to_fit(); }

  size_t size() const;  // counts: O(number of labels)
  bool empty() const { return data_.empty(); }
  const_iterator begin() const { return {data_.data(), data_.data() + data_.size()}; }
  const_iterator end() const {
    return {data_.data() + data_.size(), data_.data() + data_.size()};
  }
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

  // The packing is canonical (sorted, unique names), so equal sets have equal bytes.
  bool operator==(const LabelSet& o) const { return data_ == o.data_; }
  // Label by label, name then value, as a sorted vector of pairs would compare.
  bool operator<(const LabelSet& o) const;

 private:
  friend class LabelSetBuilder;
  uint64_t ComputeFingerprint() const;
  // Where the label named `name` starts, or where it would be inserted; *found says which.
  size_t Find(std::string_view name, bool* found, size_t* length) const;

  std::string data_;  // the packed labels, sorted by name, unique names
  // The fingerprint of data_, or 0 when not computed yet (a real fingerprint of 0 is
  // simply recomputed each time). Reset by every mutation.
  mutable std::atomic<uint64_t> fp_{0};
};

// Builds a LabelSet from labels given in any order, in O(n log n) for n labels: the pairs are
// collected, sorted by name once (stably, so of repeated names the one added last wins, as
// with repeated LabelSet::Set) and encoded once. Ingestion builds every received alert's
// labels this way, so a body of 300,000 labels costs a sort rather than 300,000 linear
// inserts. Thread-compatible.
class LabelSetBuilder {
 public:
  LabelSetBuilder() = default;
  // Room for `n` labels.
  void Reserve(size_t n) { pairs_.reserve(n); }
  // Adds a label. Only the views are kept: REQUIRES the text they point to stays unchanged
  // until Build (e.g. the parsed JSON document the names and values come from).
  void Add(std::string_view name, std::string_view value) {
    pairs_.emplace_back(name, value);
    bytes_ += name.size() + value.size();
  }
  // Labels added so far, repeated names counted each time.
  size_t size() const { return pairs_.size(); }
  // Bytes of names and values added so far (what `server.limits.max_label_set_bytes` caps).
  size_t bytes() const { return bytes_; }
  // The set of the labels added (last value of each name), shrunk to fit. The builder is
  // empty afterwards and may be reused.
  LabelSet Build();

 private:
  std::vector<std::pair<std::string_view, std::string_view>> pairs_;
  size_t bytes_ = 0;
};

struct LabelSetHash {
  size_t operator()(const LabelSet& ls) const { return static_cast<size_t>(ls.Fingerprint()); }
};

}  // namespace alertd
