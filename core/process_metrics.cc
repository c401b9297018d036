#include "core/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace alertd {
namespace {

Result<std::string> ReadWhole(const char* path) {
  std::ifstream in(path);
  if (!in) return Status::Unavailable(std::string("cannot read ") + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Seconds since the epoch at which the machine booted (/proc/stat's btime).
double BootTime() {
  auto stat = ReadWhole("/proc/stat");
  if (!stat.ok()) return 0;
  std::istringstream in(*stat);
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double CountOpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  double n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

Result<ProcessStats> ReadProcessStats() {
  auto stat = ReadWhole("/proc/self/stat");
  if (!stat.ok()) return stat.status();
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself:
  // the fields that follow start after the last ')'.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return Status::Internal("/proc/self/stat: no command name");
  std::istringstream in(stat->substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string w; in >> w;) f.push_back(std::move(w));
  if (f.size() < 22) return Status::Internal("/proc/self/stat: too few fields");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats s;
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
    static const double boot_time = BootTime();  // fixed while the machine runs
    s.start_time_seconds = boot_time + std::stod(f[19]) / ticks;    // starttime
    s.virtual_bytes = std::stod(f[20]);                              // vsize
    s.resident_bytes = std::stod(f[21]) * page;                      // rss
  } catch (const std::exception&) {
    return Status::Internal("/proc/self/stat: malformed field");
  }
  s.open_fds = CountOpenFds();
  rlimit rl{};
  s.max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<double>(rl.rlim_cur) : -1;
#if defined(__GLIBC__)
  const struct mallinfo2 mi = mallinfo2();
  s.heap_in_use_bytes = static_cast<double>(mi.uordblks + mi.hblkhd);
  s.heap_free_bytes = static_cast<double>(mi.fordblks);
#endif
  return s;
}

void AppendProcessMetrics(std::string* out) {
  auto s = ReadProcessStats();
  if (!s.ok()) return;
  auto one = [out](std::string_view name, std::string_view type, std::string_view help,
                   double v) {
    if (v < 0) return;
    AppendFamilyHeader(out, name, type, help);
    AppendSample(out, name, {}, v);
  };
  one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
      s->cpu_seconds);
  one("process_open_fds", "gauge", "Number of open file descriptors.", s->open_fds);
  one("process_max_fds", "gauge", "Maximum number of open file descriptors.", s->max_fds);
  one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
      s->virtual_bytes);
  one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
      s->resident_bytes);
  one("process_start_time_seconds", "gauge",
      "Start time of the process since unix epoch in seconds.", s->start_time_seconds);
#if defined(__GLIBC__)
  one("alertd_heap_in_use_bytes", "gauge", "Bytes handed out by the memory allocator.",
      s->heap_in_use_bytes);
  one("alertd_heap_free_bytes", "gauge",
      "Bytes the memory allocator holds free in its arenas (resident or not).",
      s->heap_free_bytes);
#endif
}

}  // namespace alertd
