// The standard process_* metrics every Prometheus client exposes (client_golang's process
// collector: CPU seconds, resident and virtual memory, open and maximum file descriptors,
// start time), read from /proc/self at scrape time, plus alertd_heap_* from glibc's malloc
// statistics, so an operator (and the benchmarks) can tell memory the daemon uses from memory
// its allocator holds.
//
// Thread-safety: the collector may run on any thread; it reads /proc and mallinfo2 only.
#pragma once

#include <string>

#include "core/metrics.h"
#include "core/result.h"

namespace alertd {

struct ProcessStats {
  double cpu_seconds = 0;       // user + system
  double resident_bytes = 0;    // VmRSS
  double virtual_bytes = 0;     // VmSize
  double start_time_seconds = 0;  // since the Unix epoch
  double open_fds = 0;
  double max_fds = 0;           // soft RLIMIT_NOFILE
  // glibc's malloc statistics (mallinfo2); all zero elsewhere.
  double heap_in_use_bytes = 0;  // handed out by malloc, mmapped chunks included
  double heap_free_bytes = 0;    // held by malloc in its arenas but free
};

// Reads the calling process's figures. Fails when /proc/self/stat cannot be read or parsed.
Result<ProcessStats> ReadProcessStats();

// Appends the process_* and alertd_heap_* families. A family whose source cannot be read is
// left out rather than reported as zero.
void AppendProcessMetrics(std::string* out);

}  // namespace alertd
