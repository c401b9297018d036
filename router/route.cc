#include "router/route.h"

#include <functional>

namespace alertd::router {
namespace {

std::unique_ptr<RouteNode> Build(const config::Route& r, const RouteNode* parent, int index) {
  auto n = std::make_unique<RouteNode>();
  n->config = &r;
  n->parent = parent;
  const std::string ms = MatchersString(r.matchers);
  n->key = parent ? parent->key + "/" + ms : ms;
  n->id = parent ? parent->id + "/" + ms + "/" + std::to_string(index) : ms;
  for (size_t i = 0; i < r.routes.size(); ++i) {
    n->children.push_back(Build(r.routes[i], n.get(), static_cast<int>(i)));
  }
  return n;
}

template <typename Node, typename Children, typename Cfg>
void MatchInto(const Node* n, const LabelSet& labels, std::vector<const Node*>* out,
               Children children, Cfg cfg) {
  if (!MatchesAll(cfg(n)->matchers, labels)) return;
  const size_t before = out->size();
  for (const Node* child : children(n)) {
    const size_t k = out->size();
    MatchInto(child, labels, out, children, cfg);
    if (out->size() > k && !cfg(child)->continue_) break;
  }
  if (out->size() == before) out->push_back(n);
}

}  // namespace

RouteTree::RouteTree(std::shared_ptr<const config::Config> cfg)
    : cfg_(std::move(cfg)), root_(Build(cfg_->route, nullptr, 0)) {}

std::vector<const RouteNode*> RouteTree::Match(const LabelSet& labels) const {
  std::vector<const RouteNode*> out;
  auto children = [](const RouteNode* n) {
    std::vector<const RouteNode*> c;
    c.reserve(n->children.size());
    for (const auto& ch : n->children) c.push_back(ch.get());
    return c;
  };
  MatchInto<RouteNode>(root_.get(), labels, &out, children,
                       [](const RouteNode* n) { return n->config; });
  return out;
}

std::vector<const RouteNode*> RouteTree::Nodes() const {
  std::vector<const RouteNode*> out;
  std::function<void(const RouteNode*)> walk = [&](const RouteNode* n) {
    out.push_back(n);
    for (const auto& c : n->children) walk(c.get());
  };
  walk(root_.get());
  return out;
}

LabelSet GroupLabels(const config::Route& route, const LabelSet& labels) {
  if (route.group_by_all) return labels;
  LabelSet g;
  for (const auto& name : route.group_by) {
    if (labels.Has(name)) g.Set(name, labels.Get(name));
  }
  return g;
}

std::string GroupKey(const RouteNode& route, const LabelSet& group_labels) {
  return route.key + ":" + group_labels.String();
}

std::vector<const config::Route*> MatchRoutes(const config::Route& root, const LabelSet& labels) {
  std::vector<const config::Route*> out;
  auto children = [](const config::Route* r) {
    std::vector<const config::Route*> c;
    c.reserve(r->routes.size());
    for (const auto& ch : r->routes) c.push_back(&ch);
    return c;
  };
  MatchInto<config::Route>(&root, labels, &out, children, [](const config::Route* r) { return r; });
  return out;
}

}  // namespace alertd::router
