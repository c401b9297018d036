#include "core/sample_sink.h"

#include <bit>
#include <cstdint>

namespace alertd {

namespace {
constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
}

double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

}  // namespace alertd
