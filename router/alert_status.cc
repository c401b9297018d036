#include "router/alert_status.h"

#include <algorithm>

#include "router/stages.h"

namespace alertd::router {

void SortAlertGroups(AlertGroups& g) {
  std::stable_sort(g.groups.begin(), g.groups.end(),
                   [](const AlertGroupView& x, const AlertGroupView& y) {
                     if (x.labels == y.labels) return x.receiver < y.receiver;
                     return LabelSetBefore(x.labels, y.labels);
                   });
  for (auto& [fp, names] : g.receivers) std::sort(names.begin(), names.end());
}

}  // namespace alertd::router
