// The state of one bounded work queue, for /metrics: how deep it is, its bound, and what the
// bound did to producers. Each bounded queue in alertd decides in its own header what a full
// queue means:
//   - delay: the producer waits for room. For state that must not be lost: received and
//     evaluated alerts (the alert store's writer), acknowledgements, silences and the
//     notification log (the router's state writer), ingest requests.
//   - drop: the item is refused and its producer told so. Only for work that is redone
//     anyway: a notification flush, which the aggregation group repeats at its next tick.
// Families written by AppendQueueMetrics, labelled {queue="<name>"}: alertd_queue_length,
// alertd_queue_capacity, alertd_queue_delayed_total, alertd_queue_dropped_total.
//
// Thread-safe: atomics, written by the queue that owns them, read at scrape time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace alertd {

struct QueueStats {
  std::atomic<int64_t> length{0};    // items queued now
  std::atomic<int64_t> capacity{0};  // the bound
  std::atomic<uint64_t> delayed{0};  // producers that had to wait for room
  std::atomic<uint64_t> dropped{0};  // items refused for lack of room
};

// Appends the four families above, one sample per queue, in the Prometheus text format.
void AppendQueueMetrics(std::string* out,
                        const std::vector<std::pair<std::string, const QueueStats*>>& queues);

}  // namespace alertd
