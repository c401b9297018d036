// This process as a node of a cluster of replicas (`cluster:`): its name and advertised URL
// with their defaults filled in, a new random instance id, and its membership joined.
#pragma once

#include <memory>
#include <string>

#include "cluster/membership.h"
#include "config/config.h"
#include "core/result.h"

namespace alertd::app {

// The node as `cfg` describes it on a server listening on `listen` ("host:port"):
// node_name defaults to "<hostname>:<port>", advertise_url to "http://<hostname>:<port>".
ClusterNode ClusterNodeFor(const config::ClusterConfig& cfg, const std::string& listen);

// Builds the membership over `store` and joins (Conflict: another live process has the name).
Result<std::unique_ptr<cluster::Membership>> NewMembership(const config::ClusterConfig& cfg,
                                                           const std::string& listen,
                                                           ClusterStore* store);

}  // namespace alertd::app
