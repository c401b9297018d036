#include "remote_write/write_request.h"

#include <snappy.h>

#include <bit>
#include <chrono>
#include <cstdint>

namespace alertd::remote_write {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Field key: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
void PutKey(int field, int wire_type, std::string* out) {
  PutVarint(static_cast<uint64_t>(field << 3 | wire_type), out);
}

void PutBytes(int field, std::string_view b, std::string* out) {
  PutKey(field, 2, out);
  PutVarint(b.size(), out);
  out->append(b);
}

}  // namespace

std::string EncodeTimeSeries(const Sample& s) {
  std::string out;
  std::string label;
  // LabelSet iterates in name order, which remote write requires.
  for (const auto& l : s.labels) {
    label.clear();
    PutBytes(1, l.name, &label);   // Label.name
    PutBytes(2, l.value, &label);  // Label.value
    PutBytes(1, label, &out);      // TimeSeries.labels
  }
  std::string sample;
  PutKey(1, 1, &sample);  // Sample.value: double
  const uint64_t bits = std::bit_cast<uint64_t>(s.value);
  for (int i = 0; i < 8; ++i) sample.push_back(static_cast<char>(bits >> (8 * i)));
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(s.ts.time_since_epoch()).count();
  PutKey(2, 0, &sample);  // Sample.timestamp: int64 (two's complement varint)
  PutVarint(static_cast<uint64_t>(ms), &sample);
  PutBytes(2, sample, &out);  // TimeSeries.samples
  return out;
}

void AppendToWriteRequest(std::string_view series, std::string* request) {
  PutBytes(1, series, request);  // WriteRequest.timeseries
}

std::string SnappyCompress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

bool SnappyUncompress(std::string_view compressed, std::string* raw) {
  return snappy::Uncompress(compressed.data(), compressed.size(), raw);
}

}  // namespace alertd::remote_write
