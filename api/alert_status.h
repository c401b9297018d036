// What the API shows about an alert beyond the alert itself: its receivers, whether it is
// silenced, inhibited or muted, and the aggregation groups it is in. The daemon wires in the
// router (router/router.h), which implements AlertStatusProvider; NewRouteTreeStatusProvider
// answers from the configured route tree alone (every alert "active", nothing silenced or
// inhibited), for tools and tests without a router.
//
// Implementations must be thread-safe: the HTTP server's threads call them concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "router/alert_status.h"

namespace alertd::api {

using AlertPtr = std::shared_ptr<const Alert>;

// The interface and its types live in router/ (the Router implements them); the API names
// them here.
using router::AlertGroups;
using router::AlertGroupView;
using router::AlertState;
using router::AlertStatusProvider;

// Answers from the route tree of the current config (`config` is called per request, so a
// reload takes effect at once): receivers by Alertmanager's route matching (depth first,
// `continue`), groups by each matched route's group_by over `alerts` (the store's alerts,
// called per request; there are no live aggregation groups without a router); state
// "active", nothing silenced, inhibited or muted.
std::shared_ptr<AlertStatusProvider> NewRouteTreeStatusProvider(
    std::function<std::shared_ptr<const config::Config>()> config,
    std::function<std::vector<AlertPtr>()> alerts);

// The routes an alert with `labels` matches (dispatch/route.go Match).
std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels);

}  // namespace alertd::api
