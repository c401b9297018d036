#include "api/alert_status.h"

#include <algorithm>
#include <map>

#include "router/route.h"

namespace alertd::api {
namespace {

class RouteTreeStatusProvider final : public AlertStatusProvider {
 public:
  explicit RouteTreeStatusProvider(std::function<std::shared_ptr<const config::Config>()> config)
      : config_(std::move(config)) {}

  AlertState StateOf(const Alert& alert) const override {
    AlertState st;
    auto cfg = config_();
    if (!cfg) return st;
    for (const auto* r : MatchRoutes(cfg->route, alert.labels)) st.receivers.push_back(r->receiver);
    return st;
  }

  std::vector<AlertGroupView> Groups(const std::vector<AlertPtr>& alerts) const override {
    auto cfg = config_();
    if (!cfg) return {};
    // Keyed as the dispatcher keys aggregation groups: route, then group labels.
    std::map<std::pair<const config::Route*, LabelSet>, AlertGroupView> groups;
    for (const auto& a : alerts) {
      for (const auto* r : MatchRoutes(cfg->route, a->labels)) {
        LabelSet gl = router::GroupLabels(*r, a->labels);
        auto& g = groups[{r, gl}];
        if (g.alerts.empty()) {
          g.labels = std::move(gl);
          g.receiver = r->receiver;
        }
        g.alerts.push_back(a);
      }
    }
    std::vector<AlertGroupView> out;
    out.reserve(groups.size());
    for (auto& [k, g] : groups) {
      // The input is sorted by fingerprint already (AlertStore::List), and so is each group.
      out.push_back(std::move(g));
    }
    std::stable_sort(out.begin(), out.end(), [](const AlertGroupView& x, const AlertGroupView& y) {
      if (x.labels != y.labels) return x.labels < y.labels;
      return x.receiver < y.receiver;
    });
    return out;
  }

 private:
  std::function<std::shared_ptr<const config::Config>()> config_;
};

}  // namespace

std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels) {
  return router::MatchRoutes(root, labels);
}

std::shared_ptr<AlertStatusProvider> NewRouteTreeStatusProvider(
    std::function<std::shared_ptr<const config::Config>()> config) {
  return std::make_shared<RouteTreeStatusProvider>(std::move(config));
}

}  // namespace alertd::api
