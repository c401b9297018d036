// Heartbeats (config `heartbeats`): dead man's switches. Something that should keep happening
// (a nightly backup, Prometheus's always-firing Watchdog alert) pings its heartbeat, through
// POST /api/v1/heartbeats/{name} or by an alert that matches the heartbeat's alert_matchers.
// When no ping came for `timeout`, the heartbeat is late and the Monitor raises
// HeartbeatMissing{heartbeat="<name>", <labels>} with its annotations into the alert store,
// where it is routed, inhibited, silenced, acknowledged and escalated like any other alert; the
// next ping resolves it.
//
// The last ping of each heartbeat is persisted (a HeartbeatStore, core/router_state.h), so a
// restart does not reset its clock: the time alertd was down counts. A heartbeat that was
// never pinged counts from when alertd first knew of it. While late, the alert is sent again
// every kRefresh with endsAt four refreshes ahead, as Prometheus keeps its alerts alive, so
// it resolves by itself if alertd stops.
//
// Replicas (core/cluster.h): a heartbeat belongs to the shard of "heartbeat/<name>"; only its
// owner raises and resolves the alert (and persists pings by alert, which every node sees).
// A ping through the API is persisted by the node it reaches, which also resolves the alert
// at once; the owner reads the stored pings before every decision.
//
// Thread-safe. Timers run on the Scheduler and hand the work to `work` (store reads and alert
// writes never run on the scheduler's thread); Observe runs on the alert store's writer
// thread and only updates memory and queues writes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "core/clock.h"
#include "core/cluster.h"
#include "core/router_state.h"
#include "core/scheduler.h"

namespace alertd::heartbeats {

inline constexpr std::string_view kAlertName = "HeartbeatMissing";
// How often a late heartbeat's alert is sent again (its endsAt is 4 of these ahead).
inline constexpr Duration kRefresh = std::chrono::seconds(30);
// Pings by alert are persisted at most this often per heartbeat (the time in memory is always
// the latest): a crash forgets at most this much of a heartbeat's age.
inline constexpr Duration kPersistEvery = std::chrono::seconds(1);

struct MonitorDeps {
  const Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;
  // Where checks run (they read the store and write alerts); null: a thread of the Monitor's
  // own, joined by Stop.
  Executor* work = nullptr;
  HeartbeatStore* store = nullptr;   // null: pings are kept in memory only
  // Writes HeartbeatMissing alerts (firing or resolved) into the alert store, without waiting.
  std::function<void(std::vector<Alert>)> put_alerts;
  // The stored alert with this fingerprint, or null (whether HeartbeatMissing is firing).
  std::function<std::shared_ptr<const Alert>(uint64_t fingerprint)> lookup;
  const ShardOwnership* ownership = nullptr;  // replicas; null: this node does everything
};

// One heartbeat as GET /api/v1/heartbeats lists it.
struct HeartbeatView {
  std::string name;
  Duration timeout{};
  Time since = kZeroTime;
  Time last_ping = kZeroTime;  // zero: never
  std::string message;
  std::string source;  // "api", or the fingerprint of the alert that pinged
  Time late_at = kZeroTime;
  bool late = false;
  std::vector<std::string> alert_matchers;
};

class Monitor {
 public:
  // Every pointer in `deps` must outlive the Monitor.
  explicit Monitor(MonitorDeps deps);
  ~Monitor();  // Stop()

  // Loads the stored pings, takes `cfg`'s heartbeats (a heartbeat never seen before starts its
  // clock now, persisted) and arms the first check. Call once. Fails when the store cannot be
  // read.
  Status Start(const config::Config& cfg);
  // A reload: new heartbeats start their clock now, removed ones are forgotten (their alert
  // resolved), changed ones take their new timeout, labels and matchers at once.
  void ApplyConfig(const config::Config& cfg);

  // A ping through the API. NotFound: no such heartbeat. Persisted when it returns Ok;
  // Unavailable when the store failed (the ping still counts in memory). A late heartbeat's
  // alert is resolved before it returns.
  Status Ping(const std::string& name, std::string message);
  // The alert store's listener: every firing alert that matches a heartbeat's alert_matchers
  // pings it (HeartbeatMissing alerts never do).
  void Observe(const std::vector<std::shared_ptr<const Alert>>& changed);

  // Checks every heartbeat soon (replicas: this node just gained shards).
  void CheckSoon();

  std::vector<HeartbeatView> List();
  // alertd_heartbeat_last_ping_timestamp_seconds, alertd_heartbeat_late,
  // alertd_heartbeat_pings_total.
  void AppendMetrics(std::string* out) const;
  // The HeartbeatMissing alert's labels for `hb` (what GET /api/v2/alerts shows).
  static LabelSet AlertLabels(const config::Heartbeat& hb);

  // Cancels the timer; later calls do nothing. Idempotent.
  void Stop();

 private:
  struct Entry {
    config::Heartbeat cfg;
    HeartbeatState st;
    Time persisted_ping = kZeroTime;  // the last_ping last written to the store
    uint64_t api_pings = 0, alert_pings = 0;
  };
  // When the heartbeat is (or was) late: its last ping, or `since`, plus the timeout.
  static Time LateAt(const Entry& e);
  // Takes `cfg`'s heartbeats: `create` gets the states of new ones (to persist), `removed` the
  // entries no longer configured.
  void TakeConfigLocked(const config::Config& cfg, Time now, std::vector<HeartbeatState>* create,
                        std::vector<Entry>* removed);
  // Resolves the alerts of `removed` heartbeats that fire. Not under mu_.
  void Forget(const std::vector<Entry>& removed, Time now);
  // Takes what other processes stored (their pings), keeping the later of two pings.
  void MergeStoredLocked(const std::vector<HeartbeatState>& rows);
  void Check();
  void ArmLocked(Time when);
  Alert MakeAlert(const Entry& e, Time now, bool firing) const;
  bool Owned(const std::string& name) const;

  MonitorDeps deps_;
  std::unique_ptr<Executor> own_work_;  // when deps.work is null
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by name
  Scheduler::TaskId timer_ = 0;
  Time timer_at_ = kZeroTime;
  bool stopped_ = false;
  // Checks hold this while they run, so two never overlap (a ping may ask for one while a
  // timer's runs).
  std::mutex check_mu_;
};

}  // namespace alertd::heartbeats
