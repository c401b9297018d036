#include "core/cluster.h"

#include "core/labels.h"

namespace alertd {

uint32_t ShardOf(std::string_view key) {
  return static_cast<uint32_t>(Fnv1a64(key) % kClusterShards);
}

}  // namespace alertd
