#include "router/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_set>

namespace alertd::router {

// Lets a scheduled maintenance task reach the router only while it exists: Stop() clears the
// pointer under the token's lock, so it also waits for a maintenance run in progress.
struct MaintenanceToken {
  std::mutex mu;
  Router* router = nullptr;
};

void Router::ArmMaintenance(std::shared_ptr<MaintenanceToken> token, Scheduler* s, Time when,
                            Duration every) {
  s->Schedule(when, [token, s, every] {
    std::lock_guard l(token->mu);
    if (!token->router) return;
    token->router->Maintenance();
    ArmMaintenance(token, s, token->router->deps_.clock->Now() + every, every);
  });
}

Router::Router(RouterDeps deps, RouterOptions opts) : deps_(std::move(deps)), opts_(std::move(opts)) {
  silences_ = std::make_unique<Silences>(deps_.clock, deps_.db);
  nflog_ = std::make_unique<NotificationLog>(deps_.db);
  if (!deps_.flush_executor) {
    own_flush_executor_ = NewThreadPool(opts_.flush_threads);
    deps_.flush_executor = own_flush_executor_.get();
  }
  if (!deps_.new_executor) {
    const int n = opts_.threads_per_integration;
    deps_.new_executor = [n](const std::string&) { return NewThreadPool(n); };
  }
  if (!deps_.sleep) deps_.sleep = [this](Duration d) { return Sleep(d); };
}

Result<std::unique_ptr<Router>> Router::Start(RouterDeps deps,
                                              std::shared_ptr<const config::Config> cfg,
                                              RouterOptions opts) {
  std::unique_ptr<Router> r(new Router(std::move(deps), std::move(opts)));
  const Time now = r->deps_.clock->Now();
  if (Status s = r->silences_->Load(); !s.ok()) return s.WithPrefix("loading silences");
  if (Status s = r->nflog_->Load(now); !s.ok()) return s.WithPrefix("loading notification log");
  if (r->deps_.alerts) {
    Router* raw = r.get();
    // Subscribed before the store is listed, so no change falls in between; Insert waits
    // for ApplyConfig below to have built the first dispatcher.
    r->ingest_mu_.lock();
    r->subscription_ = r->deps_.alerts->Subscribe(
        [raw](const std::vector<storage::AlertPtr>& changed) { raw->Insert(changed); });
    r->ingest_mu_.unlock();
  }
  if (Status s = r->ApplyConfig(std::move(cfg)); !s.ok()) {
    r->Stop();
    return s;
  }
  auto token = std::make_shared<MaintenanceToken>();
  token->router = r.get();
  r->maintenance_token_ = token;
  ArmMaintenance(token, r->deps_.scheduler, now + r->opts_.maintenance_interval,
                 r->opts_.maintenance_interval);
  return r;
}

Router::~Router() {
  Stop();
  // Drain the flushes, then the deliveries, on this thread (see Pipeline::Shutdown).
  own_flush_executor_.reset();
  std::vector<std::shared_ptr<Generation>> gens;
  {
    std::lock_guard l(mu_);
    gens = std::move(retired_);
    if (gen_) gens.push_back(gen_);
  }
  for (auto& g : gens) g->pipeline->Shutdown();
}

void Router::Stop() {
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_cv_.notify_all();
  if (subscription_ >= 0 && deps_.alerts) deps_.alerts->Unsubscribe(subscription_);
  if (maintenance_token_) {
    std::lock_guard l(maintenance_token_->mu);
    maintenance_token_->router = nullptr;
  }
  if (auto g = Current()) g->dispatcher->Stop();
}

bool Router::Sleep(Duration d) {
  std::unique_lock l(mu_);
  return !stop_cv_.wait_for(l, d, [this] { return stopped_; });
}

Result<std::shared_ptr<Router::Generation>> Router::Build(std::shared_ptr<const config::Config> cfg) {
  auto g = std::make_shared<Generation>();
  g->cfg = cfg;
  g->routes = std::make_shared<RouteTree>(cfg);
  g->inhibitor = std::make_shared<Inhibitor>(cfg->inhibit_rules);
  auto ti = TimeIntervals::Build(cfg->time_intervals);
  if (!ti.ok()) return ti.status();
  g->intervals = std::make_shared<const TimeIntervals>(std::move(*ti));

  std::map<std::string, std::vector<notifiers::Integration>> receivers;
  for (const auto& rc : cfg->receivers) {
    if (!deps_.integrations) {
      receivers[rc.name];
      continue;
    }
    auto ints = deps_.integrations(rc, *cfg);
    if (!ints.ok()) return ints.status().WithPrefix("receiver " + rc.name);
    receivers[rc.name] = std::move(*ints);
  }
  PipelineDeps pd;
  pd.clock = deps_.clock;
  pd.inhibitor = g->inhibitor;
  pd.silences = silences_.get();
  pd.time_intervals = g->intervals;
  pd.nflog = nflog_.get();
  pd.nflog_retention = opts_.nflog_retention;
  pd.retry = opts_.retry;
  pd.retry.sleep = deps_.sleep;
  if (pd.retry.external_url.empty()) pd.retry.external_url = opts_.external_url;
  pd.new_executor = deps_.new_executor;
  g->pipeline = std::make_shared<Pipeline>(std::move(pd), std::move(receivers));
  g->dispatcher = std::make_shared<Dispatcher>(g->routes, g->pipeline, deps_.clock,
                                               deps_.scheduler, deps_.flush_executor, deps_.db);
  return g;
}

Status Router::ApplyConfig(std::shared_ptr<const config::Config> cfg) {
  auto built = Build(std::move(cfg));
  if (!built.ok()) return built.status();
  auto next = std::move(*built);

  std::lock_guard ingest(ingest_mu_);
  auto prev = Current();
  if (prev) prev->dispatcher->Stop();
  // Read after the stopped dispatcher's queued timer writes: they are ahead in the queue.
  auto timers = LoadGroupTimers(deps_.db);
  if (!timers.ok()) return timers.status().WithPrefix("loading aggregation groups");
  std::vector<storage::AlertPtr> alerts;
  if (deps_.alerts) alerts = deps_.alerts->List();
  next->inhibitor->Update(alerts);
  next->dispatcher->Start(alerts, *timers, nflog_->FiringByGroup());
  std::lock_guard l(mu_);
  if (prev) retired_.push_back(prev);
  gen_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<Router::Generation> Router::Current() const {
  std::lock_guard l(mu_);
  return gen_;
}

void Router::Insert(const std::vector<storage::AlertPtr>& alerts) {
  std::lock_guard ingest(ingest_mu_);
  auto g = Current();
  if (!g) return;
  g->inhibitor->Update(alerts);
  g->dispatcher->Insert(alerts);
}

void Router::Maintenance() {
  const Time now = deps_.clock->Now();
  silences_->CollectGarbage(opts_.silence_retention);
  nflog_->CollectGarbage(now);
  if (auto g = Current()) g->inhibitor->CollectGarbage(now - opts_.inhibit_source_retention);
}

std::vector<GroupView> Router::Groups() const {
  auto g = Current();
  return g ? g->dispatcher->Groups() : std::vector<GroupView>{};
}

AlertState Router::StateOf(const Alert& alert) const {
  AlertState st;
  auto g = Current();
  if (!g) return st;
  const Time now = deps_.clock->Now();
  const auto routes = g->routes->Match(alert.labels);
  for (const auto* r : routes) st.receivers.push_back(r->config->receiver);
  st.silenced_by = silences_->Mutes(alert.labels, now);
  if (auto by = g->inhibitor->InhibitedBy(alert.labels, now)) st.inhibited_by.push_back(FingerprintHex(*by));
  for (const auto* r : routes) {
    for (auto& name : g->intervals->Active(r->config->mute_time_intervals, now)) {
      if (std::find(st.muted_by.begin(), st.muted_by.end(), name) == st.muted_by.end()) {
        st.muted_by.push_back(std::move(name));
      }
    }
  }
  if (!st.silenced_by.empty() || !st.inhibited_by.empty() || !st.muted_by.empty()) {
    st.state = "suppressed";
  }
  return st;
}

std::vector<AlertGroupView> Router::Groups(
    const std::vector<std::shared_ptr<const Alert>>& alerts) const {
  auto g = Current();
  if (!g) return {};
  std::map<std::pair<const RouteNode*, LabelSet>, AlertGroupView> groups;
  for (const auto& a : alerts) {
    for (const auto* r : g->routes->Match(a->labels)) {
      LabelSet gl = GroupLabels(*r->config, a->labels);
      auto& v = groups[{r, gl}];
      if (v.alerts.empty()) {
        v.labels = std::move(gl);
        v.receiver = r->config->receiver;
      }
      v.alerts.push_back(a);
    }
  }
  std::vector<AlertGroupView> out;
  out.reserve(groups.size());
  for (auto& [k, v] : groups) {
    std::sort(v.alerts.begin(), v.alerts.end(),
              [](const auto& x, const auto& y) { return x->Fingerprint() < y->Fingerprint(); });
    out.push_back(std::move(v));
  }
  std::stable_sort(out.begin(), out.end(), [](const AlertGroupView& x, const AlertGroupView& y) {
    if (x.labels != y.labels) return x.labels < y.labels;
    return x.receiver < y.receiver;
  });
  return out;
}

}  // namespace alertd::router
