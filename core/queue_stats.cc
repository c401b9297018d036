#include "core/queue_stats.h"

#include "core/metrics.h"

namespace alertd {

void AppendQueueMetrics(std::string* out,
                        const std::vector<std::pair<std::string, const QueueStats*>>& queues) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const QueueStats&);
  };
  static const Family kFamilies[] = {
      {"alertd_queue_length", "gauge", "Items waiting in a bounded work queue.",
       [](const QueueStats& q) { return static_cast<double>(q.length.load()); }},
      {"alertd_queue_capacity", "gauge", "The bound of a work queue.",
       [](const QueueStats& q) { return static_cast<double>(q.capacity.load()); }},
      {"alertd_queue_delayed_total", "counter",
       "Producers that waited for room in a full work queue.",
       [](const QueueStats& q) { return static_cast<double>(q.delayed.load()); }},
      {"alertd_queue_dropped_total", "counter",
       "Items a full work queue refused (only work that is redone later).",
       [](const QueueStats& q) { return static_cast<double>(q.dropped.load()); }},
  };
  for (const auto& f : kFamilies) {
    AppendFamilyHeader(out, f.name, f.type, f.help);
    for (const auto& [name, stats] : queues)
      AppendSample(out, f.name, {{"queue", name}}, f.value(*stats));
  }
}

}  // namespace alertd
