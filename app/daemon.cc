// Wires the daemon together and owns every component's lifetime: config, SQLite database,
// alert store, HTTP API. Signals are handled synchronously on the main thread with sigwait
// (every other thread starts with them blocked), so no handler runs on an arbitrary thread.
#include "app/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <mutex>

#include "api/api.h"
#include "api/server.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/scheduler.h"
#include "notifiers/metrics.h"
#include "notifiers/registry.h"
#include "router/router.h"
#include "router/state_db.h"
#include "core/rule_state_store.h"
#include "rules_engine/manager.h"
#include "rules_engine/query_client.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "storage/rule_state_store.h"

namespace alertd::app {
namespace {

// The current configuration; a reload swaps it. Thread-safe.
class ConfigHolder {
 public:
  std::shared_ptr<const config::Config> Get() const {
    std::lock_guard l(mu_);
    return cfg_;
  }
  void Set(std::shared_ptr<const config::Config> c) {
    std::lock_guard l(mu_);
    cfg_ = std::move(c);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> cfg_;  // GUARDED_BY(mu_)
};

// Loads the config file and applies the command-line overrides.
std::shared_ptr<const config::Config> Load(const DaemonOptions& opts) {
  auto res = config::LoadConfigFile(opts.config_path);
  if (!res.ok()) {
    for (const auto& e : res.errors) spdlog::error("config: {}", e.String());
    if (res.errors.empty()) spdlog::error("config: {} could not be loaded", opts.config_path);
    return nullptr;
  }
  auto cfg = std::make_shared<config::Config>(std::move(*res.config));
  if (!opts.listen.empty()) cfg->server.listen = opts.listen;
  if (!opts.storage_path.empty()) cfg->storage.path = opts.storage_path;
  return cfg;
}

void SetLogLevel(const std::string& level) {
  if (level == "debug") spdlog::set_level(spdlog::level::debug);
  else if (level == "warn") spdlog::set_level(spdlog::level::warn);
  else if (level == "error") spdlog::set_level(spdlog::level::err);
  else spdlog::set_level(spdlog::level::info);
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
  return [cache, metrics](const config::Receiver& receiver,
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

}  // namespace

int RunDaemon(const DaemonOptions& opts) {
  SetLogLevel(opts.log_level);
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
  auto cfg = Load(opts);
  if (!cfg) return 1;
  ConfigHolder holder;
  holder.Set(cfg);

  const std::string db_path = cfg->storage.path;
  if (auto parent = std::filesystem::path(db_path).parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      spdlog::error("storage: cannot create directory {}: {}", parent.string(), ec.message());
      return 1;
    }
  }
  auto db = storage::Database::Open(db_path);
  if (!db.ok()) {
    spdlog::error("storage: {}", db.status().message());
    return 1;
  }
  storage::AlertStoreOptions store_opts;
  store_opts.retention = cfg->storage.retention;
  auto store = storage::OpenAlertStore(std::move(*db), &clock, store_opts);
  if (!store.ok()) {
    spdlog::error("storage: {}", store.status().message());
    return 1;
  }
  spdlog::info("storage: {} opened, {} alerts loaded", db_path, (*store)->Size());

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
    auto state_db = storage::Database::Open(db_path);
    if (!state_db.ok()) {
      spdlog::error("storage: {}", state_db.status().message());
      return 1;
    }
    auto rs = storage::OpenRuleStateStore(std::move(*state_db));
    if (!rs.ok()) {
      spdlog::error("storage: {}", rs.status().message());
      return 1;
    }
    rule_state = std::move(*rs);
    auto m = rules_engine::RuleManager::Create(
        cfg->rule_groups, rules_engine::ManagerOptionsFromConfig(*cfg),
        {query_client.get(), store->get(), rule_state.get(), &clock});
    if (!m.ok()) {
      spdlog::error("rules: {}", m.status().message());
      return 1;
    }
    rules = std::move(*m);
    if (Status st = rules->Restore(); !st.ok()) {
      // Evaluation still starts; `for` timers of the lost alerts start over.
      spdlog::error("rules: {}", st.message());
    }
  } else if (!cfg->rule_groups.empty()) {
    spdlog::error("rules: rule files are configured but datasource.url is not");
    return 1;
  }

  // The router: groups, silences, inhibition, the notification log, deliveries. Its state
  // lives in the same database, on its own connection.
  auto scheduler = NewThreadScheduler(&clock);
  auto router_db = storage::Database::Open(db_path);
  if (!router_db.ok()) {
    spdlog::error("storage: {}", router_db.status().message());
    return 1;
  }
  router::StateDb router_state(std::move(*router_db));
  notifiers::NotificationMetrics notification_metrics;
  router::RouterDeps rdeps;
  rdeps.clock = &clock;
  rdeps.scheduler = scheduler.get();
  rdeps.db = &router_state;
  rdeps.alerts = store->get();
  rdeps.integrations = MakeIntegrationFactory(&notification_metrics);
  router::RouterOptions ropts;
  ropts.external_url = cfg->evaluation.external_url.empty() ? "http://" + cfg->server.listen
                                                            : cfg->evaluation.external_url;
  auto routing = router::Router::Start(std::move(rdeps), cfg, ropts);
  if (!routing.ok()) {
    spdlog::error("router: {}", routing.status().message());
    return 1;
  }
  std::unique_ptr<router::Router> router_ptr = std::move(*routing);
  spdlog::info("router: {} silences, {} notification log entries, {} groups restored",
               router_ptr->silences().List().size(), router_ptr->nflog().size(),
               router_ptr->Groups().size());

  api::ApiContext ctx;
  ctx.silences = &router_ptr->silences();
  ctx.rules = rules.get();
  if (rules) {
    ctx.metrics.push_back([m = rules.get()](std::string* out) { m->AppendMetrics(out); });
  }
  ctx.alerts = store->get();
  ctx.clock = &clock;
  ctx.config = [&holder] { return holder.Get(); };
  // The router outlives the server; the provider does not own it.
  ctx.status = std::shared_ptr<api::AlertStatusProvider>(router_ptr.get(), [](auto*) {});
  ctx.start_time = start;
  auto router = std::make_shared<api::Router>();
  api::RegisterApi(*router, ctx);

  api::ServerOptions sopts;
  sopts.listen = cfg->server.listen;
  sopts.max_body_bytes = cfg->server.max_body_bytes;
  sopts.read_timeout = cfg->server.read_timeout;
  sopts.idle_timeout = cfg->server.idle_timeout;
  auto server = api::StartServer(sopts, router);
  if (!server.ok()) {
    spdlog::error("http: {}", server.status().message());
    return 1;
  }
  spdlog::info("alertd listening on {}", (*server)->address());
  if (rules) {
    rules->Start();
    spdlog::info("rules: evaluating {} groups against {}", rules->group_count(),
                 cfg->datasource.url);
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("reloading {}", opts.config_path);
      auto next = Load(opts);
      if (!next) {
        spdlog::error("reload failed; keeping the running configuration");
        continue;
      }
      if (next->server.listen != cfg->server.listen || next->storage.path != cfg->storage.path) {
        spdlog::warn("server.listen and storage.path changes take effect after a restart");
      }
      if (rules) {
        if (next->datasource.url != cfg->datasource.url) {
          spdlog::warn("datasource changes take effect after a restart");
        }
        if (Status st = rules->Update(next->rule_groups,
                                      rules_engine::ManagerOptionsFromConfig(*next));
            !st.ok()) {
          spdlog::error("reload failed: rules: {}; keeping the running configuration",
                        st.message());
          continue;
        }
      } else if (!next->rule_groups.empty()) {
        spdlog::warn("rules need a datasource configured at start; restart to evaluate them");
      }
      if (Status st = router_ptr->ApplyConfig(next); !st.ok()) {
        spdlog::error("reload failed: router: {}; keeping the running configuration", st.message());
        continue;
      }
      holder.Set(next);
      spdlog::info("configuration reloaded");
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  if (rules) rules->Stop();  // evaluations in flight finish, so their alerts are stored
  (*server)->Stop();  // finishes requests in flight, which may still be waiting on the store
  router_ptr.reset();  // stops timers, finishes deliveries in flight
  scheduler.reset();
  router_state.Close();
  (*store)->Close();
  spdlog::info("alertd stopped");
  return 0;
}

}  // namespace alertd::app
