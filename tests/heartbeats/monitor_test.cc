// Heartbeats on a fake clock (heartbeats/heartbeats.h): a heartbeat with no ping for its
// timeout raises HeartbeatMissing with its labels and annotations, the next ping resolves it,
// matching firing alerts ping it, the clock survives a restart (the downtime counts), a reload
// adds and removes heartbeats, and with replicas only the owner raises.
#include "heartbeats/heartbeats.h"

#include <doctest/doctest.h>

#include <map>
#include <mutex>

#include "tests/fakes/fake_scheduler.h"
#include "tests/fakes/ownership.h"
#include "tests/fakes/router_stores.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;

Time T0() { return Time(std::chrono::seconds(1'700'000'000)); }

std::shared_ptr<const config::Config> Config(const std::string& heartbeats) {
  auto r = config::LoadConfigString("route: {receiver: r}\nreceivers: [{name: r}]\n" + heartbeats,
                                    "alertd.yml");
  INFO(r.ErrorText());
  REQUIRE(r.ok());
  return std::make_shared<const config::Config>(std::move(*r.config));
}

const char* kTwo = R"(
heartbeats:
  - name: nightly-backup
    timeout: 26h
    labels: {severity: warning, team: infra}
    annotations: {summary: "The nightly backup has not reported for 26h"}
  - name: prometheus-watchdog
    timeout: 5m
    alert_matchers: ['alertname="Watchdog"']
    labels: {severity: critical}
)";

// The alert store as the monitor sees it: alerts merged by fingerprint.
struct Alerts {
  std::mutex mu;
  std::map<uint64_t, Alert> by_fp;
  int puts = 0;
  void Put(std::vector<Alert> alerts) {
    std::lock_guard l(mu);
    for (auto& a : alerts) {
      ++puts;
      auto it = by_fp.find(a.Fingerprint());
      // As the store merges: a firing alert keeps its start; a resolved one is replaced.
      if (it != by_fp.end() && !it->second.ResolvedAt(a.updated_at)) {
        a.starts_at = std::min(a.starts_at, it->second.starts_at);
      }
      by_fp[a.Fingerprint()] = std::move(a);
    }
  }
  std::shared_ptr<const Alert> Get(uint64_t fp) {
    std::lock_guard l(mu);
    auto it = by_fp.find(fp);
    return it == by_fp.end() ? nullptr : std::make_shared<Alert>(it->second);
  }
  // The HeartbeatMissing alert of `name`, if any.
  std::optional<Alert> Missing(const std::string& name) {
    std::lock_guard l(mu);
    for (const auto& [fp, a] : by_fp) {
      if (a.labels.Get("heartbeat") == name) return a;
    }
    return std::nullopt;
  }
};

struct Node {
  Node(FakeClock* clock, FakeScheduler* scheduler, MemoryRouterStores* db, Alerts* alerts,
       const ShardOwnership* ownership = nullptr) {
    heartbeats::MonitorDeps d;
    d.clock = clock;
    d.scheduler = scheduler;
    d.work = &inline_;
    d.store = db;
    d.put_alerts = [alerts](std::vector<Alert> a) { alerts->Put(std::move(a)); };
    d.lookup = [alerts](uint64_t fp) { return alerts->Get(fp); };
    d.ownership = ownership;
    monitor = std::make_unique<heartbeats::Monitor>(std::move(d));
  }
  InlineExecutor inline_;
  std::unique_ptr<heartbeats::Monitor> monitor;
};

std::shared_ptr<const Alert> Firing(const std::string& alertname, Time now) {
  auto a = std::make_shared<Alert>();
  a->labels.Set("alertname", alertname);
  a->starts_at = now;
  a->updated_at = now;
  a->ends_at = now + 4min;
  return a;
}

bool IsFiring(const std::optional<Alert>& a, Time now) { return a && !a->ResolvedAt(now); }

}  // namespace

TEST_CASE("a late heartbeat raises HeartbeatMissing; a ping resolves it") {
  FakeClock clock(T0());
  FakeScheduler scheduler(&clock);
  MemoryRouterStores db;
  Alerts alerts;
  Node n(&clock, &scheduler, &db, &alerts);
  REQUIRE(n.monitor->Start(*Config(kTwo)).ok());
  scheduler.Advance(4min + 59s);
  CHECK_FALSE(alerts.Missing("prometheus-watchdog").has_value());
  scheduler.Advance(1s);  // 5m since alertd first knew of it, never pinged
  auto a = alerts.Missing("prometheus-watchdog");
  REQUIRE(IsFiring(a, clock.Now()));
  CHECK(a->labels.Get("alertname") == "HeartbeatMissing");
  CHECK(a->labels.Get("severity") == "critical");
  CHECK(a->starts_at == T0() + 5min);
  CHECK(a->annotations.Get("summary") == "Heartbeat prometheus-watchdog has had no ping for 5m");
  CHECK_FALSE(alerts.Missing("nightly-backup").has_value());
  // Kept alive while late: refreshed before its endsAt.
  scheduler.Advance(10min);
  a = alerts.Missing("prometheus-watchdog");
  REQUIRE(IsFiring(a, clock.Now()));
  CHECK(a->starts_at == T0() + 5min);

  // The API ping resolves it at once and restarts the clock.
  REQUIRE(n.monitor->Ping("prometheus-watchdog", "back").ok());
  CHECK_FALSE(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  CHECK(n.monitor->Ping("nope", "").code() == Status::Code::kNotFound);
  auto list = n.monitor->List();
  REQUIRE(list.size() == 2);
  const auto& w = list[1].name == "prometheus-watchdog" ? list[1] : list[0];
  CHECK(w.last_ping == clock.Now());
  CHECK(w.message == "back");
  CHECK(w.source == "api");
  CHECK_FALSE(w.late);
  CHECK(w.late_at == clock.Now() + 5min);
  scheduler.Advance(5min);
  CHECK(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));

  // The nightly backup with its own labels and annotations, 26h after alertd first knew of it.
  scheduler.AdvanceTo(T0() + 26h);
  a = alerts.Missing("nightly-backup");
  REQUIRE(IsFiring(a, clock.Now()));
  CHECK(a->labels.Get("team") == "infra");
  CHECK(a->annotations.Get("summary") == "The nightly backup has not reported for 26h");
  std::string metrics;
  n.monitor->AppendMetrics(&metrics);
  CHECK(metrics.find("alertd_heartbeat_late{heartbeat=\"nightly-backup\"} 1") != std::string::npos);
  CHECK(metrics.find("alertd_heartbeat_pings_total{heartbeat=\"prometheus-watchdog\",source=\"api\"} 1") !=
        std::string::npos);
}

TEST_CASE("a matching firing alert pings its heartbeat; HeartbeatMissing and resolved ones do not") {
  FakeClock clock(T0());
  FakeScheduler scheduler(&clock);
  MemoryRouterStores db;
  Alerts alerts;
  Node n(&clock, &scheduler, &db, &alerts);
  REQUIRE(n.monitor->Start(*Config(kTwo)).ok());
  for (int i = 0; i < 10; ++i) {  // Prometheus sends the Watchdog every minute
    scheduler.Advance(1min);
    n.monitor->Observe({Firing("Watchdog", clock.Now()), Firing("Other", clock.Now())});
  }
  CHECK_FALSE(alerts.Missing("prometheus-watchdog").has_value());
  // Prometheus stops: 5 minutes after the last Watchdog the heartbeat is late.
  const Time last = clock.Now();
  scheduler.Advance(4min);
  auto resolved = Firing("Watchdog", clock.Now());
  std::const_pointer_cast<Alert>(resolved)->ends_at = clock.Now() - 1s;
  n.monitor->Observe({resolved, Firing("Other", clock.Now())});
  scheduler.AdvanceTo(last + 5min);
  REQUIRE(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  // The HeartbeatMissing alert itself coming back from the store pings nothing.
  n.monitor->Observe({std::make_shared<Alert>(*alerts.Missing("prometheus-watchdog"))});
  scheduler.Advance(1min);
  CHECK(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  // Prometheus is back: the next Watchdog resolves it (the check runs off the store's thread).
  n.monitor->Observe({Firing("Watchdog", clock.Now())});
  scheduler.RunDue();
  CHECK_FALSE(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  auto stored = db.LoadHeartbeats();
  REQUIRE(stored.ok());
  bool found = false;
  for (const auto& h : *stored) {
    if (h.name != "prometheus-watchdog") continue;
    found = true;
    CHECK(h.last_ping == clock.Now());
    CHECK(h.source.size() == 16);  // the Watchdog's fingerprint
  }
  CHECK(found);
}

TEST_CASE("a restart keeps the clock: the time alertd was down counts") {
  FakeClock clock(T0());
  FakeScheduler scheduler(&clock);
  MemoryRouterStores db;
  Alerts alerts;
  {
    Node n(&clock, &scheduler, &db, &alerts);
    REQUIRE(n.monitor->Start(*Config(kTwo)).ok());
    scheduler.Advance(1h);
    REQUIRE(n.monitor->Ping("nightly-backup", "").ok());
    REQUIRE(n.monitor->Ping("prometheus-watchdog", "").ok());
  }
  // Down for 25h59m: the backup is late one minute after the restart, the watchdog at once,
  // counted from the pings before the restart.
  clock.Add(25h + 59min);
  Node n(&clock, &scheduler, &db, &alerts);
  REQUIRE(n.monitor->Start(*Config(kTwo)).ok());
  scheduler.RunDue();
  auto w = alerts.Missing("prometheus-watchdog");
  REQUIRE(IsFiring(w, clock.Now()));
  CHECK(w->starts_at == T0() + 1h + 5min);
  CHECK_FALSE(alerts.Missing("nightly-backup").has_value());
  scheduler.Advance(1min);
  CHECK(IsFiring(alerts.Missing("nightly-backup"), clock.Now()));
}

TEST_CASE("a reload adds a heartbeat with a fresh clock and resolves a removed one's alert") {
  FakeClock clock(T0());
  FakeScheduler scheduler(&clock);
  MemoryRouterStores db;
  Alerts alerts;
  Node n(&clock, &scheduler, &db, &alerts);
  REQUIRE(n.monitor->Start(*Config(kTwo)).ok());
  scheduler.Advance(6min);
  REQUIRE(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  n.monitor->ApplyConfig(*Config(R"(
heartbeats:
  - name: nightly-backup
    timeout: 26h
  - name: queue
    timeout: 10m
)"));
  CHECK_FALSE(IsFiring(alerts.Missing("prometheus-watchdog"), clock.Now()));
  scheduler.Advance(9min);
  CHECK_FALSE(alerts.Missing("queue").has_value());
  scheduler.Advance(1min);
  CHECK(IsFiring(alerts.Missing("queue"), clock.Now()));
  CHECK(n.monitor->List().size() == 2);
}

TEST_CASE("replicas: only the owner raises; a ping on another node is read before deciding") {
  FakeClock clock(T0());
  FakeScheduler scheduler(&clock);
  MemoryRouterStores db;
  Alerts alerts;
  FakeOwnership own_a, own_b;
  own_a.GainAll();
  Node a(&clock, &scheduler, &db, &alerts, &own_a);
  Node b(&clock, &scheduler, &db, &alerts, &own_b);
  const auto cfg = Config("heartbeats:\n  - {name: job, timeout: 5m}\n");
  REQUIRE(a.monitor->Start(*cfg).ok());
  REQUIRE(b.monitor->Start(*cfg).ok());
  // b (not the owner) gets the pings; a reads them from the store and raises nothing.
  for (int i = 0; i < 3; ++i) {
    scheduler.Advance(4min);
    REQUIRE(b.monitor->Ping("job", "").ok());
  }
  scheduler.Advance(4min);
  CHECK_FALSE(alerts.Missing("job").has_value());
  CHECK(alerts.puts == 0);
  scheduler.Advance(1min + 30s);  // 5 minutes after the last ping, a check later
  CHECK(IsFiring(alerts.Missing("job"), clock.Now()));
  // A ping on b resolves it at once.
  REQUIRE(b.monitor->Ping("job", "").ok());
  CHECK_FALSE(IsFiring(alerts.Missing("job"), clock.Now()));
  scheduler.Advance(1min);
  CHECK_FALSE(IsFiring(alerts.Missing("job"), clock.Now()));
}

}  // namespace alertd::testing
