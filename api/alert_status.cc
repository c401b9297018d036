#include "api/alert_status.h"

#include <algorithm>
#include <map>

#include "router/route.h"
#include "router/stages.h"

namespace alertd::api {
namespace {

class RouteTreeStatusProvider final : public AlertStatusProvider {
 public:
  RouteTreeStatusProvider(std::function<std::shared_ptr<const config::Config>()> config,
                          std::function<std::vector<AlertPtr>()> alerts)
      : config_(std::move(config)), alerts_(std::move(alerts)) {}

  AlertState StateOf(const Alert& alert) const override {
    AlertState st;
    auto cfg = config_();
    if (!cfg) return st;
    for (const auto* r : MatchRoutes(cfg->route, alert.labels)) st.receivers.push_back(r->receiver);
    return st;
  }

  // The groups the store's alerts would form (`alerts` is called per request).
  AlertGroups Groups(const std::function<bool(const std::string& receiver)>& route_filter,
                     const std::function<bool(const Alert&)>& alert_filter) const override {
    AlertGroups out;
    auto cfg = config_();
    if (!cfg || !alerts_) return out;
    // Keyed as the dispatcher keys aggregation groups: route, then group labels.
    std::map<std::pair<const config::Route*, LabelSet>, AlertGroupView> groups;
    for (const auto& a : alerts_()) {
      if (alert_filter && !alert_filter(*a)) continue;
      for (const auto* r : MatchRoutes(cfg->route, a->labels)) {
        if (route_filter && !route_filter(r->receiver)) continue;
        LabelSet gl = router::GroupLabels(*r, a->labels);
        auto& g = groups[{r, gl}];
        if (g.alerts.empty()) {
          g.labels = std::move(gl);
          g.receiver = r->receiver;
        }
        g.alerts.push_back(a);
        out.receivers[a->Fingerprint()].push_back(r->receiver);
      }
    }
    out.groups.reserve(groups.size());
    for (auto& [k, g] : groups) {
      router::SortAlertsForPayload(g.alerts);
      out.groups.push_back(std::move(g));
    }
    router::SortAlertGroups(out);
    return out;
  }

 private:
  std::function<std::shared_ptr<const config::Config>()> config_;
  std::function<std::vector<AlertPtr>()> alerts_;
};

}  // namespace

std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels) {
  return router::MatchRoutes(root, labels);
}

std::shared_ptr<AlertStatusProvider> NewRouteTreeStatusProvider(
    std::function<std::shared_ptr<const config::Config>()> config,
    std::function<std::vector<AlertPtr>()> alerts) {
  return std::make_shared<RouteTreeStatusProvider>(std::move(config), std::move(alerts));
}

}  // namespace alertd::api
