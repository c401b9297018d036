// The routing tree as the dispatcher uses it: Alertmanager's route matching (depth first,
// first matching child unless `continue`, the node itself when no child matches), the route
// key and id, group labels (group_by, including '...') and the group key
// (dispatch/route.go, dispatch/dispatch.go; ../shared/COMPAT.md sections 1 and 6).
//
// A RouteTree is immutable once built and thread-safe to share. It points into the
// config::Config it was built from and keeps that config alive.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/labels.h"

namespace alertd::router {

struct RouteNode {
  const config::Route* config = nullptr;  // options already resolved by the config loader
  const RouteNode* parent = nullptr;
  // Route.Key(): the parent's key, "/", and the sorted matchers: {}/{severity="critical"}.
  std::string key;
  // Route.ID(): like the key, with "/<index among siblings>" after each non-root node, so
  // siblings with equal matchers differ. Identifies the route's groups across restarts.
  std::string id;
  std::vector<std::unique_ptr<RouteNode>> children;
};

class RouteTree {
 public:
  explicit RouteTree(std::shared_ptr<const config::Config> cfg);
  RouteTree(const RouteTree&) = delete;
  RouteTree& operator=(const RouteTree&) = delete;

  const RouteNode& root() const { return *root_; }
  const config::Config& config() const { return *cfg_; }
  // The routes an alert with `labels` goes to, in tree order (Route.Match).
  std::vector<const RouteNode*> Match(const LabelSet& labels) const;
  // Every node, depth first.
  std::vector<const RouteNode*> Nodes() const;

 private:
  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<RouteNode> root_;
};

// The labels an alert is grouped by on `route`: its group_by labels that the alert has
// (getGroupLabels), or all of its labels for group_by ['...'].
LabelSet GroupLabels(const config::Route& route, const LabelSet& labels);

// Alertmanager's group key: "<route key>:<group labels as LabelSet.String()>".
std::string GroupKey(const RouteNode& route, const LabelSet& group_labels);

// Route matching on a bare config tree, for callers that have no RouteTree.
std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels);

}  // namespace alertd::router
