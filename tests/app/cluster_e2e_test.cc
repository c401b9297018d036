// Three alertd replicas (cluster:) on one real PostgreSQL, alerts posted to every node as
// Prometheus posts to an Alertmanager HA pair, and a webhook sink (tests/app/fixtures/
// e2e_sink.py): the shards split 22/21/21, each group is notified once by one node, `amtool
// cluster show` lists the nodes, a kill -9 of the busiest node loses no notification, a node
// paused for three leases sends nothing for the shards it lost, and SIGTERM hands shards over
// at once. The webhook payload's externalURL tells which node sent it. Rule groups against a
// real Prometheus: each is evaluated by one node at a time, and after the kill the survivors
// evaluate them all, their alerts firing since the same moment (`for` timers continue).
#include <doctest/doctest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/app/sink_records.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

using namespace alertd::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct Node {
  std::string name, url, config;
  int port = 0;
  Process proc;
  json Get(const std::string& path) const {
    auto r = HttpGet(url + path);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
};

struct Cluster {
  std::string dir = MakeTempDir("alertd-cluster");
  std::string dsn = SharedPostgres().NewDatabase();
  int sink_port = FreePort();
  int prom_port = FreePort();
  std::string records = dir + "/records.jsonl";
  Process sink, prom;
  std::vector<Node> nodes{3};

  Cluster() {
    sink = Process::Start(
        {"/usr/bin/python3", std::string(kSourceDir) + "/tests/app/fixtures/e2e_sink.py",
         std::to_string(sink_port), std::to_string(FreePort()), records},
        dir + "/sink.log");
    WriteFile(dir + "/prometheus.yml", "global:\n  scrape_interval: 1s\n");
    prom = Process::Start({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                           "--storage.tsdb.path=" + dir + "/prom-data",
                           "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                          dir + "/prom.log");
    // Rule groups R0..R<kRuleGroups-1>, one always-true alert each, routed to a receiver
    // that sends nothing (the webhook records only the posted alerts).
    std::string rules = "groups:\n";
    for (int i = 0; i < kRuleGroups; ++i) {
      rules += "  - name: R" + std::to_string(i) + "\n    rules:\n      - alert: R" +
               std::to_string(i) + "\n        expr: vector(1)\n        for: 3s\n" +
               "        labels: {source: rules}\n";
    }
    WriteFile(dir + "/rules.yml", rules);
    WriteFile(dir + "/pgpass", std::string(PostgresServer::kPassword) + "\n");
    for (size_t i = 0; i < nodes.size(); ++i) {
      Node& n = nodes[i];
      n.name = "node" + std::to_string(i);
      n.port = FreePort();
      n.url = "http://127.0.0.1:" + std::to_string(n.port);
      n.config = dir + "/" + n.name + ".yml";
      WriteFile(n.config, "datasource:\n  url: http://127.0.0.1:" + std::to_string(prom_port) +
                              "\nevaluation:\n  interval: 1s\nrule_files: [rules.yml]\n"
                              "route:\n  receiver: hook\n  group_by: [alertname]\n"
                          "  group_wait: 2s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                          "  routes:\n    - matchers: ['source=\"rules\"']\n      receiver: quiet\n"
                          "receivers:\n  - name: quiet\n  - name: hook\n    webhook_configs:\n"
                          "      - url: http://127.0.0.1:" +
                              std::to_string(sink_port) +
                              "/hook\n        send_resolved: false\n"
                              "server:\n  listen: 127.0.0.1:" +
                              std::to_string(n.port) + "\nstorage:\n  postgres:\n    dsn: \"" +
                              dsn + "\"\n    password_file: pgpass\ncluster:\n  node_name: " +
                              n.name + "\n  lease: 3s\n");
      Start(n);
    }
    for (auto& n : nodes) REQUIRE_MESSAGE(WaitHttpReady(n.url + "/-/ready", 30s), n.proc.Log());
    REQUIRE_MESSAGE(WaitHttpReady(PromUrl() + "/-/ready", 30s), prom.Log());
  }
  ~Cluster() {
    for (auto& n : nodes) n.proc.Stop();
    sink.Stop();
    prom.Stop();
    RemoveTree(dir);
  }
  void Start(Node& n) {
    n.proc = Process::Start({kAlertdBinary, "--config", n.config}, n.config + ".log");
  }

  // Shards per node name, as `from` sees them.
  std::map<std::string, size_t> Shards(const Node& from) const {
    std::map<std::string, size_t> out;
    const json cluster = from.Get("/api/v1/cluster");
    for (const auto& n : cluster["nodes"]) {
      if (n["live"].get<bool>()) out[n["name"]] = n["shards"].size();
    }
    return out;
  }
  // Waits until every running node works the shares `want` (by name) says.
  bool Balanced(const std::vector<const Node*>& running, std::map<std::string, size_t> want) {
    return WaitFor(
        [&] {
          for (const Node* n : running) {
            if (n->Get("/api/v1/cluster")["owned"].size() != want[n->name]) return false;
          }
          return true;
        },
        30s);
  }

  std::string PromUrl() const { return "http://127.0.0.1:" + std::to_string(prom_port); }

  // prometheus_rule_evaluations_total of each rule group on `n`, by group name (the
  // rule_group label is "<file>;<name>").
  static std::map<std::string, double> Iterations(const Node& n) {
    std::map<std::string, double> out;
    const std::string text = HttpGet(n.url + "/metrics").body;
    const std::string family = "prometheus_rule_evaluations_total{rule_group=\"";
    for (size_t p = text.find(family); p != std::string::npos; p = text.find(family, p + 1)) {
      const size_t start = p + family.size();
      const std::string value = text.substr(start, text.find('"', start) - start);
      out[value.substr(value.rfind(';') + 1)] =
          std::stod(text.substr(text.find("} ", start) + 2));
    }
    return out;
  }
  // Which of `running` evaluates each rule group now: the node whose iteration counter moves
  // by two while the others' stay. Fails the test when a group is
  // evaluated by no node or by two.
  std::map<std::string, std::string> RuleOwners(const std::vector<const Node*>& running) {
    std::map<std::string, std::map<std::string, double>> before;
    for (const Node* n : running) before[n->name] = Iterations(*n);
    std::map<std::string, std::string> owners;
    // Evaluated every second: a group moves at least twice on its owner within a few seconds.
    REQUIRE(WaitFor(
        [&] {
          owners.clear();
          std::map<std::string, int> moving;
          for (const Node* n : running) {
            for (const auto& [g, v] : Iterations(*n)) {
              if (v >= before[n->name][g] + 2) {
                ++moving[g];
                owners[g] = n->name;
              }
            }
          }
          return moving.size() == static_cast<size_t>(kRuleGroups);
        },
        20s));
    std::map<std::string, std::map<std::string, double>> after;
    for (const Node* n : running) after[n->name] = Iterations(*n);
    for (const auto& [g, owner] : owners) {
      for (const Node* n : running) {
        if (n->name == owner) continue;
        INFO(g << " owned by " << owner << ", also evaluated on " << n->name);
        CHECK(after[n->name][g] == before[n->name][g]);
      }
    }
    return owners;
  }
  // activeAt of the firing rule alerts on `n`, by alertname.
  static std::map<std::string, std::string> FiringRuleAlerts(const Node& n) {
    std::map<std::string, std::string> out;
    const json body = n.Get("/api/v1/alerts");
    for (const auto& a : body["data"]["alerts"]) {
      if (a["state"] == "firing") out[a["labels"]["alertname"]] = a["activeAt"];
    }
    return out;
  }

  static constexpr int kRuleGroups = 8;

  // Posts the alerts named `prefix`0 .. `prefix`<count-1> to every node in `to`.
  void Post(const std::vector<const Node*>& to, const std::string& prefix, int count) {
    json body = json::array();
    for (int i = 0; i < count; ++i) {
      body.push_back({{"labels", {{"alertname", prefix + std::to_string(i)}}}});
    }
    for (const Node* n : to) {
      auto r = HttpPostJson(n->url + "/api/v2/alerts", body.dump());
      REQUIRE_MESSAGE(r.status == 200, r.body);
    }
  }
  // Webhook notifications by alertname, each with the node (externalURL) that sent it.
  std::map<std::string, std::vector<std::string>> Delivered() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : ReadSinkRecords(records)) {
      if (r.kind != "webhook") continue;
      out[r.body["groupLabels"]["alertname"]].push_back(r.body["externalURL"]);
    }
    return out;
  }
  bool AllDelivered(const std::string& prefix, int count) const {
    return WaitFor(
        [&] {
          const auto d = Delivered();
          for (int i = 0; i < count; ++i) {
            if (!d.count(prefix + std::to_string(i))) return false;
          }
          return true;
        },
        60s);
  }
};

TEST_CASE("three replicas on PostgreSQL: one notification per group, failover, fencing") {
  Cluster c;
  Node &n0 = c.nodes[0], &n1 = c.nodes[1], &n2 = c.nodes[2];
  REQUIRE(c.Balanced({&n0, &n1, &n2}, {{"node0", 22}, {"node1", 21}, {"node2", 21}}));
  const json status = n1.Get("/api/v2/status");
  CHECK(status["cluster"]["status"] == "ready");
  CHECK(status["cluster"]["name"] == "node1");
  CHECK(status["cluster"]["peers"].size() == 3);
  std::string out;
  REQUIRE(RunCommand({"amtool", "cluster", "show", "-o", "extended", "--alertmanager.url=" + n0.url},
                    &out) == 0);
  CHECK(out.find("Node Name:") != std::string::npos);
  CHECK(out.find("ready") != std::string::npos);
  for (const char* name : {"node0", "node1", "node2"}) CHECK(out.find(name) != std::string::npos);

  // Alerts posted to every node: each group is notified once, by one node. The second batch
  // arriving means several group_interval ticks passed after the first.
  c.Post({&n0, &n1, &n2}, "A", 20);
  REQUIRE(c.AllDelivered("A", 20));
  c.Post({&n0, &n1, &n2}, "B", 5);
  REQUIRE(c.AllDelivered("B", 5));
  std::set<std::string> senders;
  for (const auto& [name, from] : c.Delivered()) {
    INFO(name);
    CHECK(from.size() == 1);
    senders.insert(from[0]);
  }
  CHECK(senders.size() == 3);  // 25 groups over 64 shards: every node had some

  // Rule groups: each evaluated by one node; every alert fires (for: 3s) on its owner.
  const auto owners = c.RuleOwners({&n0, &n1, &n2});
  std::map<std::string, std::string> active_at;  // by alertname, as its owner shows it
  REQUIRE(WaitFor(
      [&] {
        active_at.clear();
        for (const Node* n : {&n0, &n1, &n2}) {
          for (const auto& [name, at] : Cluster::FiringRuleAlerts(*n)) active_at[name] = at;
        }
        return active_at.size() == static_cast<size_t>(Cluster::kRuleGroups);
      },
      20s));
  size_t on_node0 = 0;
  for (const auto& [g, owner] : owners) on_node0 += owner == "node0";
  REQUIRE(on_node0 > 0);  // the kill below moves some of them

  // kill -9 of node0 (22 shards) during group_wait: the survivors take its shards once its
  // leases expire, and every group goes out, at most once more than once.
  c.Post({&n0, &n1, &n2}, "C", 20);
  n0.proc.Kill9();
  REQUIRE(c.Balanced({&n1, &n2}, {{"node1", 32}, {"node2", 32}}));
  // The survivors evaluate every rule group, one node each, and node0's alerts fire on their
  // new owner since the moment they did on node0: the `for` timers and active times continue.
  c.RuleOwners({&n1, &n2});
  REQUIRE(WaitFor(
      [&] {
        std::map<std::string, std::string> now;
        for (const Node* n : {&n1, &n2}) {
          for (const auto& [name, at] : Cluster::FiringRuleAlerts(*n)) now[name] = at;
        }
        return now == active_at;
      },
      20s));
  REQUIRE(c.AllDelivered("C", 20));
  size_t extra = 0;
  for (const auto& [name, from] : c.Delivered()) {
    if (name[0] == 'C') extra += from.size() - 1;
  }
  CHECK(extra <= 1);
  std::string metrics = HttpGet(n1.url + "/metrics").body + HttpGet(n2.url + "/metrics").body;
  CHECK(metrics.find("alertd_cluster_takeovers_total") != std::string::npos);

  // node0 comes back under its name: the nodes balance again.
  c.Start(n0);
  REQUIRE(WaitHttpReady(n0.url + "/-/ready", 30s));
  REQUIRE(c.Balanced({&n0, &n1, &n2}, {{"node0", 22}, {"node1", 21}, {"node2", 21}}));

  // SIGSTOP of node2 for three leases: node0 and node1 take its shards. After SIGCONT, node2
  // sends nothing for them: the D groups (posted to node0 and node1 while node2 sleeps, and to
  // node2 once it wakes) are each notified once, none by node2 before it owns shards again.
  n2.proc.Signal(SIGSTOP);
  REQUIRE(c.Balanced({&n0, &n1}, {{"node0", 32}, {"node1", 32}}));
  c.Post({&n0, &n1}, "D", 20);
  REQUIRE(c.AllDelivered("D", 20));
  n2.proc.Signal(SIGCONT);
  c.Post({&n2}, "D", 20);
  REQUIRE(c.Balanced({&n0, &n1, &n2}, {{"node0", 22}, {"node1", 21}, {"node2", 21}}));
  c.Post({&n0, &n1, &n2}, "E", 5);
  REQUIRE(c.AllDelivered("E", 5));
  for (const auto& [name, from] : c.Delivered()) {
    if (name[0] != 'D') continue;
    INFO(name);
    CHECK(from.size() == 1);
  }

  // SIGTERM of node1: its shards move at the others' next rounds, not after its lease.
  const auto stop = std::chrono::steady_clock::now();
  n1.proc.Signal(SIGTERM);
  REQUIRE(c.Balanced({&n0, &n2}, {{"node0", 32}, {"node2", 32}}));
  CHECK(std::chrono::steady_clock::now() - stop < 3s);
}

}  // namespace
