// The on-disk queue of remote write: encoded series samples waiting to be sent, per
// remote_write entry (by name), in one SQLite file beside alertd's database. Commits survive a
// crash of the process (kill -9; WAL with synchronous=NORMAL, not a power loss), so samples
// not yet acknowledged by the receiver are sent after a restart. Each entry holds at most its
// `capacity`; beyond it the oldest samples are dropped and reported.
//
// Thread-safe (one connection behind an internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/db.h"

namespace alertd::remote_write {

struct QueuedSample {
  int64_t seq = 0;     // increasing in append order across the file
  int64_t ts_ms = 0;   // the sample's timestamp, for highest-sent-timestamp
  std::string series;  // an EncodeTimeSeries message
};

class DurableQueue {
 public:
  // Opens or creates the queue file at `path`. Fails when it cannot be opened or is not a
  // queue file of this alertd version.
  static Result<std::unique_ptr<DurableQueue>> Open(const std::string& path);

  // Adds `samples` (seq is assigned) to `queue`, then drops its oldest samples beyond
  // `capacity`. Returns the number dropped.
  Result<uint64_t> Append(const std::string& queue, const std::vector<QueuedSample>& samples,
                          size_t capacity);
  // The oldest `n` samples of `queue` (fewer when fewer are queued), leaving them queued.
  Result<std::vector<QueuedSample>> Peek(const std::string& queue, size_t n);
  // Removes the samples of `queue` with seq <= `last_seq` (those sent or given up on).
  Status RemoveThrough(const std::string& queue, int64_t last_seq);
  // Samples queued in `queue`.
  size_t Pending(const std::string& queue);

 private:
  explicit DurableQueue(std::unique_ptr<storage::Database> db) : db_(std::move(db)) {}
  Result<int64_t> Changes();                        // REQUIRES: mu_ held
  Result<int64_t> Count(const std::string& queue);  // REQUIRES: mu_ held

  std::mutex mu_;
  std::unique_ptr<storage::Database> db_;  // GUARDED_BY(mu_)
  std::map<std::string, size_t> pending_;  // GUARDED_BY(mu_): a cache of Count
};

}  // namespace alertd::remote_write
