// Wires the daemon together and owns every component's lifetime: config, SQLite database,
// alert store, HTTP API, metrics registry, reload path. Signals are handled synchronously on
// the main thread with sigwait (every other thread starts with them blocked), so no handler
// runs on an arbitrary thread.
#include "app/daemon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "api/api.h"
#include "api/auth.h"
#include "api/server.h"
#include "app/logging.h"
#include "app/cluster_node.h"
#include "app/handoffs.h"
#include "app/reloader.h"
#include "heartbeats/heartbeats.h"
#include "app/state.h"
#include "app/test_receiver.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/process_metrics.h"
#include "core/rule_state_store.h"
#include "core/scheduler.h"
#include "core/secret_text.h"
#include "notifiers/metrics.h"
#include "notifiers/registry.h"
#include "remote_write/remote_writer.h"
#include "router/router.h"
#include "rules_engine/manager.h"
#include "rules_engine/query_client.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "storage/pg_stores.h"
#include "storage/router_stores.h"

namespace alertd::app {
namespace {

// The rule groups of the configuration being loaded or applied. The daemon takes them out of
// the Config as soon as it is loaded: the rule manager compiles them into rules of its own,
// and the Config is held for as long as it is in force (by the router, the API and the
// reloader), so leaving them there would keep a second, larger copy of every rule (about
// 1 KB a rule). Loads and reloads are serialised; the lock only guards against misuse.
class PendingRuleGroups {
 public:
  void Put(const config::Config* from, std::vector<config::RuleGroup> groups) {
    std::lock_guard l(mu_);
    from_ = from;
    groups_ = std::move(groups);
  }
  // The groups taken out of `from`; empty when they came from another configuration.
  std::vector<config::RuleGroup> Take(const config::Config* from) {
    std::lock_guard l(mu_);
    std::vector<config::RuleGroup> out;
    if (from_ == from) out = std::move(groups_);
    Clear();
    return out;
  }
  bool Empty(const config::Config* from) {
    std::lock_guard l(mu_);
    return from_ != from || groups_.empty();
  }
  void Drop() {
    std::lock_guard l(mu_);
    Clear();
  }

 private:
  void Clear() {  // REQUIRES: mu_ held
    from_ = nullptr;
    groups_.clear();
    groups_.shrink_to_fit();
  }
  std::mutex mu_;
  const config::Config* from_ = nullptr;   // GUARDED_BY(mu_)
  std::vector<config::RuleGroup> groups_;  // GUARDED_BY(mu_)
};

// The load-time warnings of rules (config::Rule::warnings), one line each, at every load.
void LogRuleWarnings(const std::vector<config::RuleGroup>& groups) {
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      for (const auto& w : r.warnings) {
        spdlog::warn("rules: {}: group {:?}, rule {:?}: {}", r.pos.String(), g.name,
                     r.alert.empty() ? r.record : r.alert, w);
      }
    }
  }
}

// Loads the config file and applies the command-line overrides; its rule groups go to
// `rules`. InvalidArgument listing every problem (file:line:col) when it does not load or
// validate.
Result<ConfigPtr> Load(const DaemonOptions& opts, PendingRuleGroups* rules) {
  // Parsing runs on a thread of its own, so that glibc gives it an arena of its own: the YAML
  // trees of large rule files take tens of MB (about 9 KB a rule) and are freed right away,
  // and in the main arena the holes they leave would be filled by the long-lived rule objects
  // built next, spreading them over all of those pages so that none could be given back.
  config::LoadResult res;
  std::thread([&] { res = config::LoadConfigFile(opts.config_path); }).join();
  if (!res.ok()) {
    std::string msg;
    for (const auto& e : res.errors) {
      if (!msg.empty()) msg += "; ";
      msg += e.String();
    }
    if (msg.empty()) msg = opts.config_path + " could not be loaded";
    return Status::InvalidArgument(msg);
  }
  auto cfg = std::make_shared<config::Config>(std::move(*res.config));
  if (!opts.listen.empty()) cfg->server.listen = opts.listen;
  if (!opts.storage_path.empty()) cfg->storage.path = opts.storage_path;
  std::vector<config::RuleGroup> groups = std::move(cfg->rule_groups);
  cfg->rule_groups.clear();
  LogRuleWarnings(groups);
  rules->Put(cfg.get(), std::move(groups));
  return ConfigPtr(std::move(cfg));
}

// alertd_alerts{state}: the stored alerts that are not resolved, by the router's state
// (Alertmanager's alertmanager_alerts), and alertd_rule_alerts{state}: the rule engine's
// pending and firing alerts. Computed at scrape time.
MetricsRegistry::Collector AlertsByStateCollector(const storage::AlertStore* store,
                                                  const router::Router* router,
                                                  const rules_engine::RuleManager* rules,
                                                  const Clock* clock) {
  return [=](std::string* out) {
    std::map<std::string, double> by_state = {{"active", 0}, {"suppressed", 0}, {"unprocessed", 0}};
    const Time now = clock->Now();
    for (const auto& a : store->List()) {
      if (!IsZero(a->ends_at) && a->ends_at <= now) continue;
      by_state[router->StateOf(*a).state] += 1;
    }
    AppendFamilyHeader(out, "alertd_alerts", "gauge", "Unresolved alerts by state.");
    for (const auto& [state, n] : by_state) {
      AppendSample(out, "alertd_alerts", {{"state", state}}, n);
    }
    if (!rules) return;
    const rules_engine::AlertCounts counts = rules->CountAlerts();
    AppendFamilyHeader(out, "alertd_rule_alerts", "gauge",
                       "Alerts of alerting rules by state (pending or firing).");
    AppendSample(out, "alertd_rule_alerts", {{"state", "firing"}},
                 static_cast<double>(counts.firing));
    AppendSample(out, "alertd_rule_alerts", {{"state", "pending"}},
                 static_cast<double>(counts.pending));
  };
}

// The router's way to build a receiver's integrations with the real notifiers. Templates are
// loaded once per configuration (the router asks once per receiver).
router::IntegrationFactory MakeIntegrationFactory(notifiers::NotificationMetrics* metrics) {
  struct Cache {
    std::mutex mu;
    const config::Config* cfg = nullptr;
    std::shared_ptr<const templating::TemplateSet> templates;
  };
  auto cache = std::make_shared<Cache>();
  return
      [cache, metrics](const config::Receiver& receiver,
                       const config::Config& cfg) -> Result<std::vector<notifiers::Integration>> {
        notifiers::Deps deps;
        {
          std::lock_guard l(cache->mu);
          if (cache->cfg != &cfg || !cache->templates) {
            auto t = notifiers::LoadTemplates(cfg);
            if (!t.ok()) return t.status();
            cache->templates = std::move(*t);
            cache->cfg = &cfg;
          }
          deps.templates = cache->templates;
        }
        deps.metrics = metrics;
        return notifiers::BuildIntegrations(receiver, deps);
      };
}

// Recording rules without a remote_write have nowhere to write: said once at start, naming
// them (the rules themselves report it as their health error).
void WarnRecordingRulesWithoutRemoteWrite(const std::vector<config::RuleGroup>& groups) {
  std::vector<std::string> names;
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      if (!r.record.empty()) names.push_back(fmt::format("{}/{}", g.name, r.record));
    }
  }
  if (names.empty()) return;
  spdlog::warn(
      "rules: {} recording rules are not evaluated because no remote_write is "
      "configured: {}",
      names.size(), fmt::join(names, ", "));
}

}  // namespace

int RunDaemon(const DaemonOptions& opts) {
  if (Status st = ConfigureLogging(opts.log_level, opts.log_format); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  // Block the signals we wait for before any thread starts, so threads inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  const Time start = clock.Now();
  PendingRuleGroups pending_rules;
  auto loaded = Load(opts, &pending_rules);
  if (!loaded.ok()) {
    spdlog::error("config: {}", loaded.status().message());
    return 1;
  }
  const ConfigPtr cfg = *loaded;
  ConfigHolder holder;
  holder.Set(cfg);
  // Every component records into this one registry; /metrics serves it.
  MetricsRegistry registry;
  auto& commit_latency = registry.AddHistogram(
      "alertd_storage_commit_duration_seconds",
      "Latency of SQLite transaction commits (including the fsync), by store.", {"store"});
  api::AuthHolder auth;
  {
    auto a = api::Authenticator::FromConfig(cfg->server);
    if (!a.ok()) {
      spdlog::error("config: {}", a.status().message());
      return 1;
    }
    auth.Set(*a);
    if ((*a)->enabled()) {
      spdlog::info("http: bearer-token auth on ({} tokens){}{}", (*a)->token_count(),
                   cfg->server.auth_reads ? ", reads protected" : "",
                   cfg->server.auth_alert_posts ? ", alert posts protected" : "");
    }
  }

  auto state = OpenState(cfg->storage, &clock, &commit_latency, cfg->cluster.enabled,
                         /*history=*/true);
  if (!state.ok()) {
    spdlog::error("storage: {}", state.status().message());
    return 1;
  }
  storage::AlertStore* const store = state->alerts.get();
  spdlog::info("storage: {} opened, {} alerts loaded", state->where, store->Size());

  // Replicas: this node's membership. It joins now (a second process under the same name is
  // refused) and starts its rounds once the router and the rule engine listen to its gains.
  std::unique_ptr<cluster::Membership> membership;
  if (cfg->cluster.enabled) {
    auto m = NewMembership(cfg->cluster, cfg->server.listen, state->cluster.get());
    if (!m.ok()) {
      spdlog::error("cluster: {}", m.status().message());
      return 1;
    }
    membership = std::move(*m);
    spdlog::info("cluster: joined as {:?} ({}), lease {}", membership->options().self.name,
                 membership->options().self.advertise_url,
                 FormatDuration(membership->options().lease));
    registry.AddCollector([m = membership.get()](std::string* out) { m->AppendMetrics(out); });
  }

  // Remote write: where recording rule results and ALERTS series go, through a durable queue
  // beside the SQLite database. The queue belongs to this process alone, so it stays in
  // storage.path's directory also when the stores are on PostgreSQL.
  std::unique_ptr<remote_write::RemoteWriter> remote_writer;
  if (!cfg->remote_write.empty()) {
    const std::string db_path = storage::DatabaseFile(cfg->storage.path);
    if (auto parent = std::filesystem::path(db_path).parent_path(); !parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);  // a failure shows when the queue opens
    }
    auto w =
        remote_write::RemoteWriter::Create(cfg->remote_write, remote_write::QueuePathFor(db_path),
                                           "alertd/0.1.0", cfg->evaluation.external_labels);
    if (!w.ok()) {
      spdlog::error("remote_write: {}", w.status().message());
      return 1;
    }
    remote_writer = std::move(*w);
    registry.AddCollector([w = remote_writer.get()](std::string* out) { w->AppendMetrics(out); });
  }

  // The rule engine: runs whenever a datasource is configured (a reload may add rules later).
  std::unique_ptr<rules_engine::QueryClient> query_client;
  std::unique_ptr<RuleStateStore> rule_state;
  std::unique_ptr<rules_engine::RuleManager> rules;
  if (!cfg->datasource.url.empty()) {
    auto qc = rules_engine::NewHttpQueryClient(cfg->datasource);
    if (!qc.ok()) {
      spdlog::error("datasource: {}", qc.status().message());
      return 1;
    }
    query_client = std::move(*qc);
    auto rs = state->open_rule_state();
    if (!rs.ok()) {
      spdlog::error("storage: {}", rs.status().message());
      return 1;
    }
    rule_state = std::move(*rs);
    auto groups = pending_rules.Take(cfg.get());
    if (!remote_writer) WarnRecordingRulesWithoutRemoteWrite(groups);
    auto m = rules_engine::RuleManager::Create(
        std::move(groups), rules_engine::ManagerOptionsFromConfig(*cfg),
        {query_client.get(), store, rule_state.get(), &clock, remote_writer.get(),
         membership.get(), nullptr});
    if (!m.ok()) {
      spdlog::error("rules: {}", m.status().message());
      return 1;
    }
    rules = std::move(*m);
    if (Status st = rules->Restore(); !st.ok()) {
      // Evaluation still starts; `for` timers of the lost alerts start over.
      spdlog::error("rules: {}", st.message());
    }
  } else if (!pending_rules.Empty(cfg.get())) {
    spdlog::error("rules: rule files are configured but datasource.url is not");
    return 1;
  }
  pending_rules.Drop();

  // The router: groups, silences, inhibition, the notification log, deliveries. Its state
  // lives in the same database, on its own connection.
  auto scheduler = NewThreadScheduler(&clock);
  storage::RouterStateBackend& router_state = *state->router;
  notifiers::NotificationMetrics notification_metrics;
  // Schedules' overrides, read before the router pages anyone on call.
  router::ScheduleOverrides overrides(&router_state, !cfg->storage.postgres.dsn.empty());
  if (Status s = overrides.Load(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }

  router::RouterDeps rdeps;
  rdeps.clock = &clock;
  rdeps.scheduler = scheduler.get();
  rdeps.stores = router_state.stores();
  rdeps.alerts = store;
  rdeps.integrations = MakeIntegrationFactory(&notification_metrics);
  rdeps.ownership = membership.get();
  rdeps.overrides = &overrides;
  rdeps.history = state->history.get();
  router::RouterOptions ropts;
  ropts.external_url = NotificationExternalUrl(*cfg);
  auto routing = router::Router::Start(std::move(rdeps), cfg, ropts);
  if (!routing.ok()) {
    spdlog::error("router: {}", routing.status().message());
    return 1;
  }
  std::unique_ptr<router::Router> router_ptr = std::move(*routing);
  // Replicas: what the other alertd processes on the same database commit comes into the
  // alert store and the router within a second. (A lone alertd holds the database alone.)
  std::unique_ptr<storage::PgChangeFeed> change_feed;
  if (state->postgres && cfg->cluster.enabled) {
    auto feed = storage::StartPgChangeFeed(*state->postgres, store, router_ptr.get());
    if (!feed.ok()) {
      spdlog::error("storage: {}", feed.status().message());
      return 1;
    }
    change_feed = std::move(*feed);
  }
  spdlog::info("router: {} silences, {} notification log entries, {} groups restored",
               router_ptr->silences().List().size(), router_ptr->nflog().size(),
               router_ptr->Groups().size());

  // Heartbeats: a late one raises HeartbeatMissing into the alert store, where the router
  // takes it like any other alert; matching alerts ping them as they are stored.
  heartbeats::MonitorDeps hdeps;
  hdeps.clock = &clock;
  hdeps.scheduler = scheduler.get();
  hdeps.store = &router_state;
  hdeps.put_alerts = [store](std::vector<Alert> alerts) {
    store->PutAsync(
        std::move(alerts),
        [](Status s) {
          if (!s.ok()) spdlog::error("heartbeats: storing HeartbeatMissing: {}", s.message());
        },
        storage::AlertSource::kHeartbeat);
  };
  hdeps.lookup = [store](uint64_t fp) { return store->Get(fp); };
  hdeps.ownership = membership.get();
  auto heartbeat_monitor = std::make_unique<heartbeats::Monitor>(std::move(hdeps));
  if (Status s = heartbeat_monitor->Start(*cfg); !s.ok()) {
    spdlog::error("heartbeats: {}", s.message());
    return 1;
  }
  if (membership) {
    membership->OnOwned(
        [m = heartbeat_monitor.get()](const std::vector<uint32_t>&) { m->CheckSoon(); });
  }
  const int heartbeat_subscription = store->Subscribe(
      [m = heartbeat_monitor.get()](const std::vector<std::shared_ptr<const Alert>>& changed) { m->Observe(changed); });
  registry.AddCollector(
      [m = heartbeat_monitor.get()](std::string* out) { m->AppendMetrics(out); });
  registry.AddCollector([h = state->history.get()](std::string* out) { h->AppendMetrics(out); });

  // Schedules' handoff_receivers, told at each handoff.
  HandoffDeps handoff_deps;
  handoff_deps.clock = &clock;
  handoff_deps.scheduler = scheduler.get();
  handoff_deps.config = [&holder] { return holder.Get(); };
  handoff_deps.overrides = &overrides;
  handoff_deps.ownership = membership.get();
  auto handoffs = std::make_unique<HandoffNotifier>(std::move(handoff_deps));
  handoffs->Start();
  overrides.OnChange([h = handoffs.get()] { h->CheckSoon(); });

  // The one reload path (SIGHUP and POST /-/reload). Steps run in this order, each all or
  // nothing; a failure reverts the ones before it. Auth goes first: re-reading token files
  // is the likeliest failure, and undoing it is cheap.
  std::vector<ReloadStep> steps;
  auto prev_auth = std::make_shared<std::shared_ptr<const api::Authenticator>>();
  steps.push_back(ReloadStep{"auth",
                             [&auth, prev_auth](const ConfigPtr& next, const ConfigPtr&) {
                               auto a = api::Authenticator::FromConfig(next->server);
                               if (!a.ok()) return a.status();
                               *prev_auth = auth.Get();
                               auth.Set(*a);
                               return Status::Ok();
                             },
                             [&auth, prev_auth](const ConfigPtr&, const ConfigPtr&) {
                               auth.Set(*prev_auth);
                               return Status::Ok();
                             },
                             nullptr});
  steps.push_back(ReloadStep{"router",
                             [&router_ptr](const ConfigPtr& next, const ConfigPtr&) {
                               return router_ptr->ApplyConfig(next);
                             },
                             [&router_ptr](const ConfigPtr& prev, const ConfigPtr&) {
                               return router_ptr->ApplyConfig(prev);
                             },
                             nullptr});
  steps.push_back(ReloadStep{"heartbeats",
                             [m = heartbeat_monitor.get()](const ConfigPtr& next, const ConfigPtr&) {
                               m->ApplyConfig(*next);
                               return Status::Ok();
                             },
                             [m = heartbeat_monitor.get()](const ConfigPtr& prev, const ConfigPtr&) {
                               m->ApplyConfig(*prev);
                               return Status::Ok();
                             },
                             nullptr});
  steps.push_back(ReloadStep{"history",
                             [h = state->history.get()](const ConfigPtr& next, const ConfigPtr&) {
                               h->SetRetention(next->storage.history_retention);
                               return Status::Ok();
                             },
                             [h = state->history.get()](const ConfigPtr& prev, const ConfigPtr&) {
                               h->SetRetention(prev->storage.history_retention);
                               return Status::Ok();
                             },
                             nullptr});
  steps.push_back(ReloadStep{
      "rules",
      [&rules, &pending_rules](const ConfigPtr& next, const ConfigPtr&) {
        if (!rules) {
          if (!pending_rules.Empty(next.get())) {
            spdlog::warn(
                "rules: rules need a datasource configured at start; restart to evaluate them");
          }
          return Status::Ok();
        }
        return rules->Update(pending_rules.Take(next.get()),
                             rules_engine::ManagerOptionsFromConfig(*next));
      },
      [&rules](const ConfigPtr&, const ConfigPtr&) {
        if (!rules) return Status::Ok();
        return rules->RevertUpdate();
      },
      [&rules, &pending_rules] {
        pending_rules.Drop();
        if (rules) rules->CommitUpdate();
      }});
  steps.push_back(ReloadStep{
      "restart-only settings",
      [](const ConfigPtr& next, const ConfigPtr& prev) {
        if (next->server.listen != prev->server.listen ||
            next->storage.path != prev->storage.path ||
            next->server.tls_cert_file != prev->server.tls_cert_file ||
            next->server.tls_key_file != prev->server.tls_key_file) {
          spdlog::warn(
              "config: server.listen, server.tls and storage.path changes take effect after a "
              "restart");
        }
        if (next->datasource.url != prev->datasource.url) {
          spdlog::warn("config: datasource changes take effect after a restart");
        }
        return Status::Ok();
      },
      nullptr, nullptr});
  Reloader reloader([&opts, &pending_rules] { return Load(opts, &pending_rules); },
                    std::move(steps), &holder, &clock, &registry);

  api::ApiContext ctx;
  ctx.registry = &registry;
  ctx.auth = &auth;
  ctx.reload = [&reloader] { return reloader.Reload("POST /-/reload"); };

  ctx.silences = &router_ptr->silences();
  ctx.acks = router_ptr.get();
  ctx.group_acks = router_ptr.get();
  ctx.heartbeats = heartbeat_monitor.get();
  ctx.overrides = &overrides;
  ctx.history = state->history.get();
  ctx.rules = rules.get();
  if (rules) {
    registry.AddCollector([m = rules.get()](std::string* out) { m->AppendMetrics(out); });
  }
  registry.AddCollector(
      [m = &notification_metrics](std::string* out) { m->WritePrometheusText(out); });
  registry.AddCollector(AlertsByStateCollector(store, router_ptr.get(), rules.get(), &clock));
  registry.AddCollector(AppendProcessMetrics);
  registry.AddCollector([](std::string* out) {
    AppendFamilyHeader(out, "alertd_sqlite_memory_bytes", "gauge",
                       "Heap bytes held by SQLite (page caches, schemas, statements).");
    AppendSample(out, "alertd_sqlite_memory_bytes", {},
                 static_cast<double>(storage::SqliteMemoryUsed()));
  });
  // Acknowledgements, escalations and the alert log: counts kept by their owners.
  registry.AddCollector([r = router_ptr.get(), s = store](std::string* out) {
    auto single = [out](const char* name, const char* type, const char* help, uint64_t v) {
      AppendFamilyHeader(out, name, type, help);
      *out += fmt::format("{} {}\n", name, v);
    };
    const auto acks = r->acknowledgements().GetCounts();
    single("alertd_acks", "gauge", "Current acknowledgements.", acks.current);
    single("alertd_acks_created_total", "counter", "Acknowledgements made since start.", acks.made);
    AppendFamilyHeader(out, "alertd_acks_ended_total", "counter",
                       "Acknowledgements ended since start, by reason.");
    for (const char* reason : {"replaced", "deleted", "resolved", "expired"}) {
      auto it = acks.ended.find(reason);
      *out += fmt::format("alertd_acks_ended_total{{reason=\"{}\"}} {}\n", reason,
                          it == acks.ended.end() ? 0 : it->second);
    }
    single("alertd_escalations", "gauge", "Aggregation groups with an escalation policy running.",
           r->escalations().size());
    single("alertd_escalation_steps_total", "counter", "Escalation steps fired since start.",
           r->escalations().steps_fired());

    const auto st = s->Stats();
    AppendFamilyHeader(out, "alertd_alert_log_records_total", "counter",
                       "Records appended to the alert log, by kind (full: a whole alert; ends: "
                       "an endsAt-only resend).");
    *out += fmt::format("alertd_alert_log_records_total{{kind=\"full\"}} {}\n", st.full_records);
    *out += fmt::format("alertd_alert_log_records_total{{kind=\"ends\"}} {}\n", st.ends_records);
    single("alertd_alert_log_commits_total", "counter", "Group commits of the alert store.",
           st.log_rows_written);
    single("alertd_alert_log_compactions_total", "counter",
           "Completed compactions of the alert log.", st.compactions);
    single("alertd_alert_log_compacted_alerts_total", "counter",
           "Alerts written to the alerts table by compaction.", st.compacted_alerts);
  });
  ctx.alerts = store;
  ctx.clock = &clock;
  ctx.cluster = membership.get();
  // Not ready while the database is unreachable (PostgreSQL down): writes would get 503.
  ctx.ready = [&router_state] { return router_state.reachable(); };
  ctx.config = [&holder] { return holder.Get(); };
  // The router outlives the server; the provider does not own it.
  ctx.status = std::shared_ptr<api::AlertStatusProvider>(router_ptr.get(), [](auto*) {});
  ctx.start_time = start;
  // Ingest bodies are parsed and stored here, not on the server's I/O threads. Finished
  // before the store closes. A connection has one request in flight, so with the bound at
  // max_connections a full queue (the I/O thread would wait) cannot happen.
  QueueStats ingest_queue;
  ThreadPoolOptions ingest_opts;
  ingest_opts.threads = 2;
  ingest_opts.max_queued = cfg->server.max_connections;
  ingest_opts.stats = &ingest_queue;
  auto ingest_pool = NewThreadPool(ingest_opts);
  ctx.ingest_executor = ingest_pool.get();
  // Receiver tests wait for their integrations: their own threads, never the ingest pool's.
  ThreadPoolOptions test_opts;
  test_opts.threads = 2;
  test_opts.max_queued = 2;
  auto test_pool = NewThreadPool(test_opts);
  ctx.test_executor = test_pool.get();
  ctx.test_receiver = [&holder](const std::string& receiver, const notifiers::TestAlert& alert) {
    const auto cfg = holder.Get();
    return TestReceiver(*cfg, receiver, alert, NotificationExternalUrl(*cfg));
  };
  registry.AddCollector(
      [&ingest_queue, r = router_ptr.get(), s = store, db = &router_state](std::string* out) {
        AppendQueueMetrics(out, {{"ingest", &ingest_queue},
                                 {"alert_store", &s->WriteQueue()},
                                 {"router_state", &db->queue()},
                                 {"notify_flush", &r->flush_queue()},
                                 {"notify_integration", &r->integration_queue()}});
      });
  auto router = std::make_shared<api::Router>();
  api::RegisterApi(*router, ctx);

  api::ServerOptions sopts;
  sopts.listen = cfg->server.listen;
  sopts.max_body_bytes = cfg->server.max_body_bytes;
  sopts.max_connections = cfg->server.max_connections;
  sopts.read_timeout = cfg->server.read_timeout;
  sopts.idle_timeout = cfg->server.idle_timeout;
  sopts.tls_cert_file = cfg->server.tls_cert_file;
  sopts.tls_key_file = cfg->server.tls_key_file;
  auto server = api::StartServer(sopts, router);
  if (!server.ok()) {
    spdlog::error("http: {}", server.status().message());
    return 1;
  }
  registry.AddCollector([srv = server->get()](std::string* out) {
    const auto st = srv->Stats();
    AppendFamilyHeader(out, "alertd_http_connections", "gauge", "HTTP connections open.");
    AppendSample(out, "alertd_http_connections", {}, static_cast<double>(st.connections));
    AppendFamilyHeader(out, "alertd_http_connections_refused_total", "counter",
                       "Connections closed at once because server.max_connections were open.");
    AppendSample(out, "alertd_http_connections_refused_total", {},
                 static_cast<double>(st.connections_refused));
    AppendFamilyHeader(out, "alertd_http_accept_errors_total", "counter",
                       "Failed accepts (such as EMFILE), each followed by a 100 ms back-off.");
    AppendSample(out, "alertd_http_accept_errors_total", {}, static_cast<double>(st.accept_errors));
  });
  spdlog::info("alertd listening on {} ({})", (*server)->address(),
               sopts.tls_cert_file.empty() ? "http" : "https");
  if (membership) membership->Start();
  if (rules) {
    rules->Start();
    spdlog::info("rules: evaluating {} groups against {}", rules->group_count(),
                 StripUrlUserinfo(cfg->datasource.url));
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)reloader.Reload("SIGHUP");  // logged and counted by the reloader
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  // First of all, the shards go to the other nodes, so nothing they own waits for this
  // node's leases to expire; from here this node sends nothing for them.
  if (membership) membership->Stop(/*leave=*/true);
  if (rules) rules->Stop();  // evaluations in flight finish, so their alerts are stored
  if (remote_writer) remote_writer->Stop();  // what is not sent yet stays queued on disk
  (*server)->Stop();  // finishes requests in flight, which may still be waiting on the store
  test_pool.reset();
  ingest_pool.reset();  // parses still queued (a request cut at the grace period) finish
  change_feed.reset();  // before what it applies to
  store->Unsubscribe(heartbeat_subscription);
  heartbeat_monitor.reset();
  handoffs.reset();
  router_ptr.reset();   // stops timers, finishes deliveries in flight
  scheduler.reset();
  store->Close();  // its last commit's changes go into the history, on router_state
  state->history->Stop();
  router_state.Close();
  spdlog::info("alertd stopped");
  return 0;
}

}  // namespace alertd::app
