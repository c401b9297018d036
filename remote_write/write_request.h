// Prometheus remote write 1.0 wire format: the protobuf messages of prompb (WriteRequest,
// TimeSeries, Label, Sample) and snappy block compression, plus the headers a request carries.
//
// The messages are hand-encoded: remote write needs four tiny messages with six fields in
// all, written and never parsed; generated protobuf code would add protoc to the build and
// libprotobuf (several MB mapped) to a daemon that has no other use for it. The encoding is
// checked by a real decoder: the receiving Prometheus in tests/remote_write/.
//
// Thread-safe: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "core/sample_sink.h"

namespace alertd::remote_write {

// One prompb.TimeSeries message (not length-prefixed) holding `s`'s labels, in name order,
// and its one sample (timestamp in milliseconds).
std::string EncodeTimeSeries(const Sample& s);

// Appends `series` (an EncodeTimeSeries result) to a WriteRequest under construction in
// `request` as its field 1 (timeseries).
void AppendToWriteRequest(std::string_view series, std::string* request);

// Snappy block compression (not the framed format), as remote write requires.
std::string SnappyCompress(std::string_view raw);
// The inverse, for tests; false when `compressed` is not a valid snappy block.
bool SnappyUncompress(std::string_view compressed, std::string* raw);

inline constexpr const char* kContentType = "application/x-protobuf";
inline constexpr const char* kContentEncoding = "snappy";
inline constexpr const char* kRemoteWriteVersion = "0.1.0";

}  // namespace alertd::remote_write
