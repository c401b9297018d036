#include "core/process_metrics.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <memory>

using namespace alertd;

TEST_CASE("process stats come from /proc/self and the allocator") {
  auto before = ReadProcessStats();
  REQUIRE(before.ok());
  CHECK(before->resident_bytes > 0);
  CHECK(before->virtual_bytes >= before->resident_bytes);
  CHECK(before->open_fds >= 3);  // at least stdin, stdout, stderr
  CHECK(before->max_fds >= before->open_fds);
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  // Started before now and (this being a test run) within the last day; /proc counts in
  // clock ticks, so allow a few of them.
  CHECK(before->start_time_seconds <= now + 1);
  CHECK(before->start_time_seconds > now - 86400);

  // 64 MiB allocated and touched shows in both the heap and the resident figures.
  constexpr size_t kSize = 64 << 20;
  auto block = std::make_unique<char[]>(kSize);
  std::memset(block.get(), 1, kSize);
  auto during = ReadProcessStats();
  REQUIRE(during.ok());
  CHECK(during->resident_bytes >= before->resident_bytes + kSize * 0.9);
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  // (AddressSanitizer replaces malloc, so glibc's statistics do not see the block there.)
  CHECK(during->heap_in_use_bytes >= before->heap_in_use_bytes + kSize);
#endif
  CHECK(during->cpu_seconds >= before->cpu_seconds);
}

TEST_CASE("process metrics are written in the text format") {
  std::string out;
  AppendProcessMetrics(&out);
  for (const char* family :
       {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_max_fds", "process_virtual_memory_bytes", "process_start_time_seconds"}) {
    INFO(family);
    CHECK(out.find(std::string("# TYPE ") + family + " ") != std::string::npos);
    CHECK(out.find(std::string("\n") + family + " ") != std::string::npos);
  }
  CHECK(out.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
}
