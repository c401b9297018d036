// Two routers on the same stores play two replicas (core/cluster.h): only the owner of a
// group's shard flushes, notifies, escalates and writes its timer; a node that gains the shard
// takes the timers, the notification log and escalations over from the stores; the fence
// before each attempt stops a node whose lease is gone.
#include <doctest/doctest.h>

#include "tests/fakes/ownership.h"
#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

const char* kConfig = R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 1m
  repeat_interval: 1h
receivers: [{name: r, webhook_configs: [{url: 'http://127.0.0.1:1/', send_resolved: true}]}]
)";

struct TwoNodes {
  explicit TwoNodes(const std::string& cfg = kConfig)
      : a(cfg, stores.stores(), T0(), &own_a), b(cfg, stores.stores(), T0(), &own_b) {}
  // Both nodes get every alert (the store's change feed, or Prometheus posting to both).
  void Post(const std::string& labels) {
    a.Post(labels);
    b.Post(labels);
  }
  void Advance(Duration d) {
    a.Advance(d);
    b.Advance(d);
  }
  MemoryRouterStores stores;
  FakeOwnership own_a, own_b;
  RouterHarness a, b;
};

TEST_CASE("only the owner of a group's shard notifies; a takeover neither repeats nor skips") {
  TwoNodes n;
  n.own_a.GainAll();
  n.Post("alertname=A,name=a1");
  n.Advance(30s);
  auto sent = n.a.Take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].firing == std::vector<std::string>{"a1"});
  CHECK(n.b.Take().empty());
  // Only the owner wrote the group's timer.
  auto timers = n.stores.LoadGroupTimers();
  REQUIRE(timers.ok());
  REQUIRE(timers->size() == 1);
  CHECK((*timers)[0].has_flushed);

  // a dies; b takes the shards over and reads a's notification log and timer: the next tick
  // sends nothing (a1 was delivered), a new alert goes out at the next tick, once.
  n.own_a.LoseAll();
  n.own_b.GainAll();
  n.Advance(1min);
  CHECK(n.a.Take().empty());
  CHECK(n.b.Take().empty());
  n.Post("alertname=A,name=a2");
  n.Advance(1min);
  CHECK(n.a.Take().empty());
  sent = n.b.Take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == "new alerts added");
  CHECK(sent[0].firing == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE("a refused fence sends nothing and leaves the notification log to the owner") {
  TwoNodes n;
  n.own_a.GainAll();
  n.own_a.RefuseFences(true);  // its lease went to another node it has not heard of yet
  n.Post("alertname=A,name=a1");
  n.Advance(30s);
  CHECK(n.a.Take().empty());
  CHECK(n.own_a.fences() == 1);
  auto log = n.stores.LoadNflog(T0() + 30s);
  REQUIRE(log.ok());
  CHECK(log->empty());
}

const char* kEscalating = R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  escalation: esc
receivers:
  - {name: r, webhook_configs: [{url: 'http://127.0.0.1:1/'}]}
  - {name: leads, webhook_configs: [{url: 'http://127.0.0.1:1/'}]}
escalation_policies:
  - name: esc
    steps:
      - after: 5m
        receivers: [leads]
)";

TEST_CASE("an escalation started by one node fires its step on the node that took over") {
  TwoNodes n(kEscalating);
  n.own_a.GainAll();
  n.Post("alertname=A,name=a1");
  n.Advance(10s);
  REQUIRE(n.a.Take().size() == 1);
  n.Advance(2min);
  // a dies before the step; b takes over and reads the escalation from the store.
  n.own_a.LoseAll();
  n.own_b.GainAll();
  n.Advance(2min);
  CHECK(n.b.Take().empty());
  n.Advance(1min + 10s);  // 5 min after the first notification
  // The step goes out once its state is committed (on the store's thread).
  bool leads = false;
  CHECK(WaitFor(
      [&] {
        for (const auto& s : n.b.Take()) leads |= s.receiver == "leads";
        return leads;
      },
      10s));
  for (const auto& s : n.a.Take()) CHECK(s.receiver != "leads");
}

// Two nodes that also hear each other's acks through the store's change feed.
struct FeedNodes : TwoNodes {
  FeedNodes() {
    stores.Subscribe(a.router.get());
    stores.Subscribe(b.router.get());
    a.rec.wants_acknowledge = true;
    b.rec.wants_acknowledge = true;
  }
  ~FeedNodes() {
    stores.Unsubscribe(a.router.get());
    stores.Unsubscribe(b.router.get());
  }
};

TEST_CASE("an ack made or taken back on a node that does not own the group: the owner tells") {
  FeedNodes n;
  n.own_a.GainAll();
  n.Post("alertname=A,name=a1");
  n.Advance(30s);
  REQUIRE(n.a.Take().size() == 1);
  Alert a1;
  a1.labels.Set("alertname", "A");
  a1.labels.Set("name", "a1");
  router::AckRequest by;
  by.by = "bob";
  // b acknowledges (a person clicked on the page it serves): a, the owner, sends the
  // acknowledge event once the ack reaches it; b sends nothing.
  REQUIRE(n.b.router->Acknowledge(a1.labels.Fingerprint(), by).ok());
  std::vector<Sent> from_a;
  CHECK(WaitFor(
      [&] {
        for (auto& s : n.a.Take()) from_a.push_back(std::move(s));
        return !from_a.empty();
      },
      10s));
  REQUIRE(from_a.size() == 1);
  CHECK(from_a[0].acknowledge);
  CHECK(from_a[0].firing == std::vector<std::string>{"a1"});
  // The ack is in a's memory too: its repeat is held back.
  CHECK(n.a.router->AckOf(a1).has_value());
  // b takes it back: a re-notifies at once, with the reason.
  REQUIRE(n.b.router->Unacknowledge(a1.labels.Fingerprint()).ok());
  from_a.clear();
  CHECK(WaitFor(
      [&] {
        for (auto& s : n.a.Take()) from_a.push_back(std::move(s));
        return !from_a.empty();
      },
      10s));
  REQUIRE(from_a.size() == 1);
  CHECK_FALSE(from_a[0].acknowledge);
  CHECK(from_a[0].reason == "acknowledgement taken back");
  CHECK(from_a[0].firing == std::vector<std::string>{"a1"});
  CHECK(n.b.Take().empty());
}

}  // namespace
}  // namespace alertd::testing
