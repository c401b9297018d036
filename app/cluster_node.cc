#include "app/cluster_node.h"

#include <fmt/format.h>
#include <unistd.h>

#include <random>

namespace alertd::app {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// 128 random bits in hex: a new id for every start of the process.
std::string NewInstanceId() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

}  // namespace

ClusterNode ClusterNodeFor(const config::ClusterConfig& cfg, const std::string& listen) {
  const auto colon = listen.rfind(':');
  const std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
  const std::string host = HostName();
  ClusterNode n;
  n.name = cfg.node_name.empty() ? host + ":" + port : cfg.node_name;
  n.advertise_url =
      cfg.advertise_url.empty() ? fmt::format("http://{}:{}", host, port) : cfg.advertise_url;
  n.instance = NewInstanceId();
  return n;
}

Result<std::unique_ptr<cluster::Membership>> NewMembership(const config::ClusterConfig& cfg,
                                                           const std::string& listen,
                                                           ClusterStore* store) {
  cluster::MembershipOptions opts;
  opts.self = ClusterNodeFor(cfg, listen);
  opts.lease = cfg.lease;
  auto m = std::make_unique<cluster::Membership>(store, std::move(opts));
  if (Status st = m->Join(); !st.ok()) return st;
  return m;
}

}  // namespace alertd::app
