// The router: everything between the alert store and the notifiers. It owns the silences, the
// notification log, the acknowledgements (it is the API's AckService), the escalations and
// the router's SQLite state, and per configuration the route tree, the
// inhibitor, the time intervals, the receivers' integrations, the pipeline and the
// dispatcher. It takes in the store's changed alerts, answers the API's questions about
// alerts (AlertStatusProvider) and rebuilds its per-configuration parts on reload (groups keep
// their timers, the notification log keeps what was sent, escalations of routes that still
// exist go on).
//
// Thread-safe. The order in which its locks and those of its parts are taken is in
// router/lock_order.h.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/cluster.h"
#include "core/result.h"
#include "core/scheduler.h"
#include "core/thread_annotations.h"
#include "notifiers/notifier.h"
#include "router/acks.h"
#include "router/alert_status.h"
#include "router/dispatcher.h"
#include "router/escalation.h"
#include "router/group_acks.h"
#include "router/inhibit.h"
#include "router/nflog.h"
#include "router/pipeline.h"
#include "router/route.h"
#include "router/schedule_overrides.h"
#include "router/silences.h"
#include "router/time_intervals.h"
#include "storage/alert_store.h"

namespace alertd::router {

// Builds a receiver's integrations (notifiers/ provides the real one; tests pass fakes).
using IntegrationFactory = std::function<Result<std::vector<notifiers::Integration>>(
    const config::Receiver& receiver, const config::Config& config)>;

struct RouterOptions {
  std::string external_url;  // the payloads' externalURL
  Duration maintenance_interval = std::chrono::seconds(30);
  Duration silence_retention = std::chrono::hours(120);  // Alertmanager's --data.retention
  Duration nflog_retention = std::chrono::hours(120);
  Duration inhibit_source_retention = std::chrono::minutes(15);  // resolved sources kept
  Duration ack_retention = std::chrono::hours(120);              // ended acks kept in the history
  int flush_threads = 2;                                         // group stages of flushes
  int threads_per_integration = 8;  // concurrent deliveries per integration
  // Flushes waiting for a flush thread, and for each integration's delivery threads, at most.
  // A flush beyond is dropped and redone at the group's next group_interval tick (a flush is
  // work that is redone; core/queue_stats.h); deliveries of a flush under way wait for room.
  size_t flush_queue_capacity = 50000;
  size_t integration_queue_capacity = 10000;
  RetryOptions retry;  // back-off; clock and sleep are filled in
};

struct RouterDeps {
  const Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;
  RouterStores stores;                    // null members: that state is not persisted
  storage::AlertStore* alerts = nullptr;  // null: alerts come only through Insert
  IntegrationFactory integrations;
  // Executors; unset: thread pools of the sizes in RouterOptions. Tests pass inline ones.
  Executor* flush_executor = nullptr;
  std::function<std::unique_ptr<Executor>(const std::string& integration)> new_executor;
  // Retry back-off waits; unset: a real sleep that Stop() interrupts.
  std::function<bool(Duration)> sleep;
  // Replicas (core/cluster.h): which aggregation groups this node flushes, notifies and
  // escalates; every send is fenced through it. On each gain the router reads the gained
  // groups' timers, notification log and escalations back from the stores. Null: all of them.
  ShardOwnership* ownership = nullptr;
  // Schedules' overrides, for escalation steps with `schedule:`; null: the rotations alone.
  ScheduleOverrides* overrides = nullptr;
  // Where delivery attempts and what muted an alert at a flush are recorded; null: nowhere.
  storage::HistoryRecorder* history = nullptr;
};

struct MaintenanceToken;

class Router final : public AlertStatusProvider,
                     public AckService,
                     public GroupAckService,
                     public RemoteChanges,
                     private Escalations::Host {
 public:
  // Loads silences, the notification log and group timers, builds everything for `cfg`,
  // subscribes to the store and groups its alerts. Every pointer in `deps` must outlive the
  // router.
  static Result<std::unique_ptr<Router>> Start(RouterDeps deps,
                                               std::shared_ptr<const config::Config> cfg,
                                               RouterOptions opts = {});
  ~Router() override;

  // Swaps in a new configuration. On error nothing changes.
  Status ApplyConfig(std::shared_ptr<const config::Config> cfg);
  // Takes in changed alerts (the store subscription calls this).
  void Insert(const std::vector<storage::AlertPtr>& alerts);
  // Unsubscribes, stops timers, interrupts retries. Idempotent.
  void Stop();

  Silences& silences() { return *silences_; }
  NotificationLog& nflog() { return *nflog_; }
  Escalations& escalations() { return *escalations_; }
  const Acknowledgements& acknowledgements() const { return *acks_; }
  std::vector<GroupView> Groups() const;
  // The notification work queues (when the router made its own executors; zero otherwise).
  const QueueStats& flush_queue() const { return flush_queue_; }
  const QueueStats& integration_queue() const { return integration_queue_; }

  // AlertStatusProvider.
  AlertState StateOf(const Alert& alert) const override;
  // From the live aggregation groups, as Alertmanager's Dispatcher.Groups.
  AlertGroups Groups(const std::function<bool(const std::string& receiver)>& route_filter,
                     const std::function<bool(const Alert&)>& alert_filter) const override;

  // AckService. An ack sends an acknowledge event to the receivers of the alert's groups that
  // were notified of it and want one; an ack that expires or is taken back while its alert
  // fires makes its groups notify the receivers told of it at once (notification_reason
  // "acknowledgement expired" / "acknowledgement taken back"; PagerDuty gets a new trigger)
  // and lets their escalation go on.
  Result<Ack> Acknowledge(uint64_t fingerprint, const AckRequest& req) override;
  Result<Ack> Unacknowledge(uint64_t fingerprint) override;
  Result<std::vector<Ack>> AcknowledgeMatching(const Matchers& matchers,
                                               const AckRequest& req) override;
  Result<std::vector<Ack>> AcknowledgeAll(const std::vector<uint64_t>& fingerprints,
                                          const AckRequest& req) override;
  std::vector<Ack> ListAcks(bool history) override;
  std::optional<Ack> AckOf(const Alert& alert) const override;

  // RemoteChanges (core/router_state.h): what other alertd processes sharing the database
  // committed goes into the silences and the acknowledgements. Remote acks stop escalation and
  // repeats here as local ones do, and their acknowledge events and the renotifications when
  // they end go out from here for the groups this process owns (with replicas each group has
  // one owner: whichever process made or ended the ack, each receiver hears once).
  void SilencesCommitted(std::vector<Silence> rows) override;
  void AcksCommitted(std::vector<Ack> rows) override;
  Status ResyncSilences(const Load<Silence>& load) override;
  Status ResyncAcks(const Load<Ack>& load) override;

  // GroupAckService (router/group_acks.h): acks from PagerDuty webhooks and Slack buttons.
  Result<GroupAckOutcome> AcknowledgeGroup(std::string_view dedup_key,
                                           const AckRequest& req) override;
  Result<GroupAckOutcome> UnacknowledgeGroup(std::string_view dedup_key) override;
  Result<GroupAckOutcome> EndEscalation(std::string_view dedup_key,
                                        std::string_view reason) override;

 private:
  // Everything built from one configuration.
  struct Generation {
    std::shared_ptr<const config::Config> cfg;
    std::shared_ptr<const RouteTree> routes;
    std::shared_ptr<Inhibitor> inhibitor;
    std::shared_ptr<const TimeIntervals> intervals;
    std::shared_ptr<Pipeline> pipeline;
    std::shared_ptr<Dispatcher> dispatcher;
  };

  Router(RouterDeps deps, RouterOptions opts);
  Result<std::shared_ptr<Generation>> Build(std::shared_ptr<const config::Config> cfg);
  std::shared_ptr<Generation> Current() const;
  void Maintenance();
  // The membership gained `shards` (before this node works them): takes over the
  // notification log and escalations their previous owner left in the stores.
  void ShardsGained(const std::vector<uint32_t>& shards);
  // ... and now owns them: takes over the groups' timers (a group that had notified flushes
  // now) and fires escalation steps that fell due.
  void ShardsOwned(const std::vector<uint32_t>& shards);
  static void ArmMaintenance(std::shared_ptr<MaintenanceToken> token, Scheduler* s, Time when,
                             Duration every);
  bool Sleep(Duration d);
  std::shared_ptr<const Alert> LookupAlert(uint64_t fingerprint) const;
  void AfterAcknowledged(const std::vector<Ack>& acks, Time now);
  // Acknowledges `alerts` (firing at `now`) in one write, then AfterAcknowledged.
  Result<std::vector<Ack>> AcknowledgeAlerts(std::vector<std::shared_ptr<const Alert>> alerts,
                                             const AckRequest& req, Time now);
  void AfterAcksEnded(const std::vector<Ack>& ended);
  // AfterAcknowledged and AfterAcksEnded for what another process committed.
  void AfterRemoteAcks(const Acknowledgements::Applied& news);
  // Ends acks whose alert resolved or which expired; `lookup` as Acknowledgements::Reconcile.
  void ReconcileAcks(const Acknowledgements::Lookup& lookup);
  void ScheduleAckExpiry(const Ack& a);
  // The live groups whose dedup key (notifiers::GroupKeyHash of the group key) is `dedup_key`:
  // usually one; routes with the same matchers share group keys, as in Alertmanager.
  std::vector<GroupView> GroupsByDedupKey(std::string_view dedup_key) const;

  // Where the group's escalation stands under `cfg`'s policies; nullopt: none runs.
  std::optional<EscalationView> EscalationOf(const config::Config& cfg, const std::string& route_key,
                                             const std::string& group_key) const;

  // Escalations::Host.
  const config::EscalationPolicy* Policy(const std::string& name) const override;
  std::optional<Alerts> Escalatable(const std::string& route_key, const std::string& group_key,
                                    Time now) override;
  void NotifyStep(const EscalationState& st, const std::string& receiver, Alerts alerts, int step,
                  std::function<void()> done) override;
  notifiers::OnCallPerson WhoIsOnCall(const std::string& schedule, Time now) override;
  void NotifyStepOnCall(const EscalationState& st, const std::string& receiver, Alerts alerts,
                        int step, const notifiers::OnCallPerson& person,
                        std::function<void()> done) override;

  // First: they outlive the executors that report into them.
  QueueStats flush_queue_;        // own_flush_executor_'s
  QueueStats integration_queue_;  // every integration executor's, added up
  RouterDeps deps_;
  RouterOptions opts_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<NotificationLog> nflog_;
  std::unique_ptr<Acknowledgements> acks_;
  std::unique_ptr<Escalations> escalations_;
  std::unique_ptr<Executor> own_flush_executor_;
  int subscription_ = -1;

  // Serializes Insert with generation swaps, so no alert falls between two dispatchers.
  Mutex ingest_mu_;
  mutable Mutex mu_;
  std::shared_ptr<Generation> gen_ GUARDED_BY(mu_);
  // Generations replaced by reloads: kept until the destructor shuts their pipelines down,
  // so no delivery thread ever drops the last reference to its own pipeline.
  std::vector<std::shared_ptr<Generation>> retired_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
  CondVar stop_cv_;
  std::shared_ptr<MaintenanceToken> maintenance_token_;
};

}  // namespace alertd::router
