// GET /api/v2/status and /api/v2/receivers as Alertmanager 0.25 answers them (api/v2/api.go
// getStatusHandler, getReceiversHandler), and the management endpoints /-/healthy and
// /-/ready (docs/management_api.md), which answer GET and HEAD. The configuration is shown as
// Alertmanager shows it, with every secret as `<secret>` (Config::redacted_yaml, computed
// once when the configuration loads). With replicas, the `cluster` block lists the live nodes
// as Alertmanager lists its gossip peers (so `amtool cluster show` works), and
// GET /api/v1/cluster shows every node, when it was last seen and the shards it owns.
#include <fmt/format.h>

#include "api/api.h"
#include "api/json_writer.h"

namespace alertd::api {

namespace {

// "host:port" of an advertise URL (Alertmanager's peer addresses have no scheme).
std::string_view PeerAddress(std::string_view url) {
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  if (auto p = url.find('/'); p != std::string_view::npos) url = url.substr(0, p);
  return url;
}

// Alertmanager's status: "ready" once the node has joined and reached the database,
// "settling" before.
const char* ClusterStatus(const cluster::ClusterView& v) {
  return v.joined && v.database_reachable ? "ready" : "settling";
}

void AppendClusterBlock(std::string* b, const cluster::Membership* m) {
  if (!m) {
    *b += "{\"peers\":[],\"status\":\"disabled\"}";
    return;
  }
  const cluster::ClusterView v = m->View();
  *b += "{\"name\":";
  AppendJsonString(b, v.self.name);
  *b += ",\"peers\":[";
  bool first = true;
  for (const auto& n : v.nodes) {
    if (!n.live && n.instance != v.self.instance) continue;
    if (!first) *b += ',';
    first = false;
    *b += "{\"address\":";
    AppendJsonString(b, PeerAddress(n.advertise_url));
    *b += ",\"name\":";
    AppendJsonString(b, n.name);
    *b += '}';
  }
  *b += "],\"status\":";
  AppendJsonString(b, ClusterStatus(v));
  *b += '}';
}

}  // namespace

void RegisterStatus(Router& router, const ApiContext& ctx) {
  router.HandleSync("GET", "/-/healthy", [](const Request&) { return Response::Text(200, "OK"); });
  router.HandleSync("GET", "/-/ready", [ctx](const Request&) {
    if (ctx.ready && !ctx.ready()) return Response::Text(503, "Service Unavailable");
    return Response::Text(200, "OK");
  });

  router.HandleSync("GET", "/api/v2/status", [ctx](const Request&) {
    const auto cfg = ctx.config();
    std::string b = "{\"cluster\":";
    AppendClusterBlock(&b, ctx.cluster);
    b += ",\"config\":{\"original\":";
    AppendJsonString(&b, cfg ? cfg->redacted_yaml : "");
    b += "},\"uptime\":";
    AppendDateTimeJson(&b, ctx.start_time);
    b += ",\"versionInfo\":{\"branch\":";
    AppendJsonString(&b, ctx.version.branch);
    b += ",\"buildDate\":";
    AppendJsonString(&b, ctx.version.build_date);
    b += ",\"buildUser\":";
    AppendJsonString(&b, ctx.version.build_user);
    b += ",\"goVersion\":";
    AppendJsonString(&b, ctx.version.go_version);
    b += ",\"revision\":";
    AppendJsonString(&b, ctx.version.revision);
    b += ",\"version\":";
    AppendJsonString(&b, ctx.version.version);
    b += "}}\n";
    return Response::Json(200, std::move(b));
  });

  router.HandleSync("GET", "/api/v1/cluster", [ctx](const Request&) {
    if (!ctx.cluster) return Response::Error(404, "this alertd runs alone (no cluster: section)");
    const cluster::ClusterView v = ctx.cluster->View();
    std::string b = "{\"node\":";
    AppendJsonString(&b, v.self.name);
    b += ",\"status\":";
    AppendJsonString(&b, ClusterStatus(v));
    b += ",\"database_reachable\":";
    b += v.database_reachable ? "true" : "false";
    b += ",\"lease_seconds\":";
    b += fmt::format("{}", std::chrono::duration<double>(ctx.cluster->options().lease).count());
    b += ",\"shards\":";
    b += std::to_string(kClusterShards);
    b += ",\"owned\":[";
    for (size_t i = 0; i < v.owned.size(); ++i) {
      if (i) b += ',';
      b += std::to_string(v.owned[i]);
    }
    b += "],\"nodes\":[";
    for (size_t i = 0; i < v.nodes.size(); ++i) {
      const auto& n = v.nodes[i];
      if (i) b += ',';
      b += "{\"name\":";
      AppendJsonString(&b, n.name);
      b += ",\"address\":";
      AppendJsonString(&b, n.advertise_url);
      b += ",\"self\":";
      b += n.instance == v.self.instance ? "true" : "false";
      b += ",\"live\":";
      b += n.live ? "true" : "false";
      b += ",\"started_at\":";
      AppendDateTimeJson(&b, n.started_at);
      b += ",\"last_seen\":";
      AppendDateTimeJson(&b, n.last_seen);
      // The shards whose lease the node holds (as the last round saw them).
      b += ",\"shards\":[";
      bool first = true;
      for (const auto& l : v.leases) {
        if (l.instance != n.instance || l.takeable) continue;
        if (!first) b += ',';
        first = false;
        b += std::to_string(l.shard);
      }
      b += "]}";
    }
    b += "]}\n";
    return Response::Json(200, std::move(b));
  });

  router.HandleSync("GET", "/api/v2/receivers", [ctx](const Request&) {
    const auto cfg = ctx.config();
    std::string b = "[";
    if (cfg) {
      for (size_t i = 0; i < cfg->receivers.size(); ++i) {
        if (i) b += ',';
        b += "{\"name\":";
        AppendJsonString(&b, cfg->receivers[i].name);
        b += '}';
      }
    }
    b += "]\n";
    return Response::Json(200, std::move(b));
  });
}

}  // namespace alertd::api
