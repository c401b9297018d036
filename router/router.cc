#include "router/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "oncall/oncall.h"
#include "router/lock_order.h"
#include "router/stages.h"

namespace alertd::router {

// Lets a scheduled maintenance task reach the router only while it exists: Stop() clears the
// pointer under the token's lock, so it also waits for a maintenance run in progress.
struct MaintenanceToken {
  Mutex mu;
  Router* router GUARDED_BY(mu) = nullptr;
};

void Router::ArmMaintenance(std::shared_ptr<MaintenanceToken> token, Scheduler* s, Time when,
                            Duration every) {
  s->Schedule(when, [token, s, every] {
    MutexLock l(token->mu);
    if (!token->router) return;
    token->router->Maintenance();
    ArmMaintenance(token, s, token->router->deps_.clock->Now() + every, every);
  });
}

Router::Router(RouterDeps deps, RouterOptions opts)
    : deps_(std::move(deps)), opts_(std::move(opts)) {
  silences_ = std::make_unique<Silences>(deps_.clock, deps_.stores.silences);
  nflog_ = std::make_unique<NotificationLog>(deps_.stores.nflog);
  acks_ = std::make_unique<Acknowledgements>(deps_.stores.acks);
  Escalations::Host* host = this;  // a private base: converted here, where it is accessible
  escalations_.reset(new Escalations(deps_.clock, deps_.scheduler, deps_.stores.escalations, host));
  if (!deps_.flush_executor) {
    ThreadPoolOptions po;
    po.threads = opts_.flush_threads;
    po.max_queued = opts_.flush_queue_capacity;
    po.stats = &flush_queue_;
    own_flush_executor_ = NewThreadPool(po);
    deps_.flush_executor = own_flush_executor_.get();
  }
  if (!deps_.new_executor) {
    ThreadPoolOptions po;
    po.threads = opts_.threads_per_integration;
    po.max_queued = opts_.integration_queue_capacity;
    po.stats = &integration_queue_;
    deps_.new_executor = [po](const std::string&) { return NewThreadPool(po); };
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
  if (Status s = r->acks_->Load(); !s.ok()) return s.WithPrefix("loading acknowledgements");
  if (Status s = r->escalations_->Load(); !s.ok()) return s.WithPrefix("loading escalations");
  auto token = std::make_shared<MaintenanceToken>();
  {
    MutexLock t(token->mu);
    token->router = r.get();
  }
  r->maintenance_token_ = token;
  if (r->deps_.alerts) {
    Router* raw = r.get();
    // Subscribed before the store is listed, so no change falls in between; Insert waits
    // for ApplyConfig below to have built the first dispatcher.
    MutexLock ingest(r->ingest_mu_);
    r->subscription_ = r->deps_.alerts->Subscribe(
        [raw](const std::vector<storage::AlertPtr>& changed) { raw->Insert(changed); });
  }
  if (Status s = r->ApplyConfig(std::move(cfg)); !s.ok()) {
    r->Stop();
    return s;
  }
  // Escalation timers and ack expiries continue where they were (a step or an expiry that
  // fell due meanwhile happens now).
  r->escalations_->Resume();
  if (r->deps_.ownership) {
    Router* raw = r.get();
    r->deps_.ownership->OnGained(
        [raw](const std::vector<uint32_t>& shards) { raw->ShardsGained(shards); });
    r->deps_.ownership->OnOwned(
        [raw](const std::vector<uint32_t>& shards) { raw->ShardsOwned(shards); });
  }
  for (const auto& a : r->acks_->List(false)) r->ScheduleAckExpiry(a);
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
    MutexLock l(mu_);
    gens = std::move(retired_);
    if (gen_) gens.push_back(gen_);
  }
  for (auto& g : gens) g->pipeline->Shutdown();
}

void Router::Stop() {
  {
    MutexLock l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_cv_.NotifyAll();
  if (subscription_ >= 0 && deps_.alerts) deps_.alerts->Unsubscribe(subscription_);
  escalations_->Stop();
  if (maintenance_token_) {
    MutexLock l(maintenance_token_->mu);
    maintenance_token_->router = nullptr;
  }
  if (auto g = Current()) g->dispatcher->Stop();
}

bool Router::Sleep(Duration d) {
  MutexLock l(mu_);
  return !stop_cv_.WaitFor(mu_, d, [this] {
    mu_.AssertHeld();
    return stopped_;
  });
}

Result<std::shared_ptr<Router::Generation>> Router::Build(
    std::shared_ptr<const config::Config> cfg) {
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
  pd.acks = acks_.get();
  pd.escalations = escalations_.get();
  pd.nflog_retention = opts_.nflog_retention;
  pd.retry = opts_.retry;
  pd.retry.sleep = deps_.sleep;
  pd.retry.ownership = deps_.ownership;
  pd.retry.history = deps_.history;
  pd.history = deps_.history;
  if (pd.retry.external_url.empty()) pd.retry.external_url = opts_.external_url;
  pd.new_executor = deps_.new_executor;
  g->pipeline = std::make_shared<Pipeline>(std::move(pd), std::move(receivers));
  DispatcherOptions dopts;
  dopts.ownership = deps_.ownership;
  g->dispatcher =
      std::make_shared<Dispatcher>(g->routes, g->pipeline, deps_.clock, deps_.scheduler,
                                   deps_.flush_executor, deps_.stores.group_timers, dopts);
  return g;
}

Status Router::ApplyConfig(std::shared_ptr<const config::Config> cfg) {
  auto built = Build(std::move(cfg));
  if (!built.ok()) return built.status();
  auto next = std::move(*built);

  MutexLock ingest(ingest_mu_);
  auto prev = Current();
  if (prev) prev->dispatcher->Stop();
  // Read after the stopped dispatcher's queued timer writes: they are ahead in the queue.
  std::vector<GroupTimer> timers;
  if (deps_.stores.group_timers) {
    auto loaded = deps_.stores.group_timers->LoadGroupTimers();
    if (!loaded.ok()) return loaded.status().WithPrefix("loading aggregation groups");
    timers = std::move(*loaded);
  }
  std::vector<storage::AlertPtr> alerts;
  if (deps_.alerts) alerts = deps_.alerts->List();
  next->inhibitor->Update(alerts);
  next->dispatcher->Start(alerts, timers, nflog_->FiringByGroup());
  auto routes = next->routes;
  {
    MutexLock l(mu_);
    if (prev) retired_.push_back(prev);
    gen_ = std::move(next);
  }
  // Against the new tree (and its groups): escalations of routes that are gone or changed
  // policy end, the others go on.
  escalations_->Reconcile(*routes);
  return Status::Ok();
}

std::shared_ptr<Router::Generation> Router::Current() const {
  MutexLock l(mu_);
  return gen_;
}

void Router::Insert(const std::vector<storage::AlertPtr>& alerts) {
  MutexLock ingest(ingest_mu_);
  auto g = Current();
  if (!g) return;
  g->inhibitor->Update(alerts);
  g->dispatcher->Insert(alerts);
  // Acks of alerts that resolved (or re-fired as a new incident) end now.
  std::unordered_map<uint64_t, storage::AlertPtr> by_fp;
  for (const auto& a : alerts) by_fp[a->Fingerprint()] = a;
  ReconcileAcks([&by_fp](uint64_t fp) -> std::optional<std::shared_ptr<const Alert>> {
    auto it = by_fp.find(fp);
    if (it == by_fp.end()) return std::nullopt;
    return it->second;
  });
  // A new alert in a group whose escalation waits (everything acknowledged) lets it go on.
  if (escalations_->size() == 0) return;
  std::set<std::pair<std::string, std::string>> groups;
  for (const auto& a : alerts) {
    for (const auto* r : g->routes->Match(a->labels)) {
      if (r->config->escalation.empty()) continue;
      groups.emplace(r->key, GroupKey(*r, GroupLabels(*r->config, a->labels)));
    }
  }
  for (const auto& [route_key, key] : groups) escalations_->Check(route_key, key);
}

void Router::Maintenance() {
  const Time now = deps_.clock->Now();
  silences_->CollectGarbage(opts_.silence_retention);
  nflog_->CollectGarbage(now);
  auto g = Current();
  if (g) g->inhibitor->CollectGarbage(now - opts_.inhibit_source_retention);
  ReconcileAcks([this](uint64_t fp) -> std::optional<std::shared_ptr<const Alert>> {
    return LookupAlert(fp);
  });
  // Ended acks are part of alerts' timelines (GET /api/v1/alerts/{fp}/history): kept as long.
  acks_->CollectGarbage(
      now, g ? std::max(opts_.ack_retention, g->cfg->storage.history_retention) : opts_.ack_retention);
  if (deps_.history) deps_.history->MaybePrune(now);
  // Steps that waited on a silence or a mute time interval that has ended.
  escalations_->CheckAll();
}

// ---------------------------------------------------------------- acknowledgements

std::shared_ptr<const Alert> Router::LookupAlert(uint64_t fingerprint) const {
  if (deps_.alerts) return deps_.alerts->Get(fingerprint);
  auto g = Current();
  if (!g) return nullptr;
  for (const auto& view : g->dispatcher->GroupsWith(fingerprint)) {
    for (const auto& a : view.alerts) {
      if (a->Fingerprint() == fingerprint) return a;
    }
  }
  return nullptr;
}

Result<Ack> Router::Acknowledge(uint64_t fingerprint, const AckRequest& req) {
  const Time now = deps_.clock->Now();
  auto alert = LookupAlert(fingerprint);
  if (!alert) return Status::NotFound("alert " + FingerprintHex(fingerprint) + " not found");
  if (alert->ResolvedAt(now)) {
    return Status::Conflict("alert " + FingerprintHex(fingerprint) + " is resolved");
  }
  auto made = AcknowledgeAlerts({alert}, req, now);
  if (!made.ok()) return made.status();
  return made->front();
}

Result<Ack> Router::Unacknowledge(uint64_t fingerprint) {
  const Time now = deps_.clock->Now();
  auto alert = LookupAlert(fingerprint);
  auto current = acks_->Current(fingerprint);
  if (current && (!alert || !current->Covers(*alert, now))) {
    // It ended already (resolved or expired) without being noticed yet.
    ReconcileAcks([&](uint64_t fp) -> std::optional<std::shared_ptr<const Alert>> {
      if (fp != fingerprint) return std::nullopt;
      return alert;
    });
    current.reset();
  }
  if (!current) {
    return Status::NotFound("alert " + FingerprintHex(fingerprint) + " is not acknowledged");
  }
  auto ended = acks_->End(fingerprint, "deleted", now);
  if (!ended.ok()) return ended.status();
  spdlog::info("ack: {} ({}) acknowledgement by {} taken back", alert->labels.Get("alertname"),
               FingerprintHex(fingerprint), ended->by);
  AfterAcksEnded({*ended});
  return ended;
}

Result<std::vector<Ack>> Router::AcknowledgeMatching(const Matchers& matchers,
                                                     const AckRequest& req) {
  const Time now = deps_.clock->Now();
  std::vector<std::shared_ptr<const Alert>> candidates;
  if (deps_.alerts) {
    candidates = deps_.alerts->List();
  } else if (auto g = Current()) {
    std::map<uint64_t, std::shared_ptr<const Alert>> seen;
    for (const auto& view : g->dispatcher->Groups()) {
      for (const auto& a : view.alerts) seen.emplace(a->Fingerprint(), a);
    }
    for (auto& [fp, a] : seen) candidates.push_back(std::move(a));
  }
  std::vector<std::shared_ptr<const Alert>> matched;
  for (auto& a : candidates) {
    if (!a->ResolvedAt(now) && MatchesAll(matchers, a->labels)) matched.push_back(std::move(a));
  }
  return AcknowledgeAlerts(std::move(matched), req, now);
}

Result<std::vector<Ack>> Router::AcknowledgeAll(const std::vector<uint64_t>& fingerprints,
                                                const AckRequest& req) {
  const Time now = deps_.clock->Now();
  std::set<uint64_t> seen;
  std::vector<std::shared_ptr<const Alert>> firing;
  for (uint64_t fp : fingerprints) {
    if (!seen.insert(fp).second) continue;
    auto a = LookupAlert(fp);
    if (a && !a->ResolvedAt(now)) firing.push_back(std::move(a));
  }
  return AcknowledgeAlerts(std::move(firing), req, now);
}

Result<std::vector<Ack>> Router::AcknowledgeAlerts(
    std::vector<std::shared_ptr<const Alert>> alerts, const AckRequest& req, Time now) {
  if (alerts.empty()) return std::vector<Ack>{};
  auto made = acks_->Add(alerts, req, now);
  if (!made.ok()) return made.status();
  AfterAcknowledged(*made, now);
  return made;
}

std::vector<Ack> Router::ListAcks(bool history) {
  ReconcileAcks([this](uint64_t fp) -> std::optional<std::shared_ptr<const Alert>> {
    return LookupAlert(fp);
  });
  return acks_->List(history);
}

std::optional<Ack> Router::AckOf(const Alert& alert) const {
  return acks_->CoveringAck(alert, deps_.clock->Now());
}

void Router::AfterAcknowledged(const std::vector<Ack>& acks, Time now) {
  std::unordered_set<uint64_t> acked;
  std::vector<uint64_t> fps;
  acked.reserve(acks.size());
  fps.reserve(acks.size());
  for (const auto& a : acks) {
    if (acked.insert(a.fingerprint).second) fps.push_back(a.fingerprint);
    ScheduleAckExpiry(a);
    spdlog::info("ack: {} ({}) acknowledged by {}{}{}", a.labels.Get("alertname"),
                 FingerprintHex(a.fingerprint), a.by, a.comment.empty() ? "" : ": ", a.comment);
  }
  auto g = Current();
  if (!g) return;
  // Each group holding an acknowledged alert tells the receivers it notified. Only those
  // groups are looked at (the dispatcher indexes alerts by fingerprint).
  for (auto& view : g->dispatcher->GroupsWith(fps)) {
    if (!OwnsKey(deps_.ownership, view.key)) continue;  // its owner tells them
    Alerts firing_acked;
    bool all_acked = true;
    for (const auto& a : view.alerts) {
      if (a->ResolvedAt(now)) continue;
      if (acked.count(a->Fingerprint())) {
        firing_acked.push_back(a);
      } else if (!acks_->CoveringAck(*a, now)) {
        all_acked = false;
      }
    }
    if (firing_acked.empty()) continue;
    SortAlertsForPayload(firing_acked);
    FlushContext ctx;
    ctx.group_key = view.key;
    ctx.group_labels = view.labels;
    ctx.route = view.route;
    ctx.receiver = view.route->config->receiver;
    ctx.now = now;
    ctx.deadline =
        now + std::max(view.route->config->group_interval, Duration(std::chrono::seconds(10)));
    ctx.kind = notifiers::EventKind::kAcknowledge;
    ctx.acknowledged_by = acks.front().by;
    ctx.ack_comment = acks.front().comment;
    ctx.group_acknowledged = all_acked;
    std::vector<std::string> receivers{ctx.receiver};
    for (auto& r : escalations_->Notified(view.route->key, view.key)) {
      if (r != ctx.receiver) receivers.push_back(std::move(r));
    }
    g->pipeline->NotifyAcknowledged(
        std::move(ctx), std::move(firing_acked), receivers, [key = view.key](bool ok) {
          if (!ok) spdlog::warn("ack: {}: acknowledge event not delivered", key);
        });
  }
}

void Router::AfterAcksEnded(const std::vector<Ack>& ended) {
  auto g = Current();
  if (!g) return;
  // An ack that expired or was taken back while its alert fires: the receivers told of the
  // alert hear of it again now (PagerDuty gets a new trigger), with the reason.
  std::map<std::string, std::vector<uint64_t>> renotify;  // reason -> fingerprints
  std::vector<uint64_t> fps;
  for (const auto& a : ended) {
    fps.push_back(a.fingerprint);
    if (a.end_reason == "expired") renotify["acknowledgement expired"].push_back(a.fingerprint);
    if (a.end_reason == "deleted") {
      renotify["acknowledgement taken back"].push_back(a.fingerprint);
    }
  }
  const Time now = deps_.clock->Now();
  std::set<std::pair<std::string, std::string>> groups;
  for (const auto& view : g->dispatcher->GroupsWith(fps)) {
    if (!OwnsKey(deps_.ownership, view.key)) continue;  // its owner tells them
    groups.emplace(view.route->key, view.key);
    for (const auto& [reason, reason_fps] : renotify) {
      std::vector<uint64_t> firing;
      for (const auto& a : view.alerts) {
        const uint64_t fp = a->Fingerprint();
        if (!a->ResolvedAt(now) &&
            std::find(reason_fps.begin(), reason_fps.end(), fp) != reason_fps.end()) {
          firing.push_back(fp);
        }
      }
      if (!firing.empty()) {
        g->dispatcher->Notify(view.route, view.key, reason, std::move(firing));
      }
    }
  }
  // A step whose time passed while the alerts were acknowledged fires now.
  for (const auto& [route_key, key] : groups) escalations_->Check(route_key, key);
}

void Router::ReconcileAcks(const Acknowledgements::Lookup& lookup) {
  auto ended = acks_->Reconcile(lookup, deps_.clock->Now());
  if (ended.empty()) return;
  for (const auto& a : ended) {
    spdlog::info("ack: {} ({}) acknowledgement by {} ended: {}", a.labels.Get("alertname"),
                 FingerprintHex(a.fingerprint), a.by, a.end_reason);
  }
  AfterAcksEnded(ended);
}

void Router::ScheduleAckExpiry(const Ack& a) {
  if (IsZero(a.expires_at)) return;
  deps_.scheduler->Schedule(a.expires_at, [token = maintenance_token_] {
    MutexLock l(token->mu);
    if (!token->router) return;
    Router* self = token->router;
    self->ReconcileAcks([self](uint64_t fp) -> std::optional<std::shared_ptr<const Alert>> {
      return self->LookupAlert(fp);
    });
  });
}

// ---------------------------------------------------------------- other processes' changes

void Router::SilencesCommitted(std::vector<Silence> rows) {
  silences_->ApplyCommitted(std::move(rows));
}
void Router::AcksCommitted(std::vector<Ack> rows) {
  AfterRemoteAcks(acks_->ApplyCommitted(std::move(rows)));
}
Status Router::ResyncSilences(const Load<Silence>& load) { return silences_->Resync(load); }
Status Router::ResyncAcks(const Load<Ack>& load) {
  auto applied = acks_->Resync(load);
  if (!applied.ok()) return applied.status();
  AfterRemoteAcks(*applied);
  return Status::Ok();
}

void Router::AfterRemoteAcks(const Acknowledgements::Applied& news) {
  // Another process made or ended these acks; it told the receivers of the groups it owns,
  // this one tells those of the groups it owns (each group has one owner, so each receiver
  // hears once).
  if (!news.made.empty()) AfterAcknowledged(news.made, deps_.clock->Now());
  if (!news.ended.empty()) AfterAcksEnded(news.ended);
}

// ---------------------------------------------------------------- group acks (callbacks)

std::vector<GroupView> Router::GroupsByDedupKey(std::string_view dedup_key) const {
  std::vector<GroupView> out;
  auto g = Current();
  if (!g) return out;
  // A hash per live group per callback: callbacks come at the pace people click, and a map
  // kept beside the dispatcher's groups would have to follow every group's creation and
  // removal.
  for (auto& view : g->dispatcher->Groups()) {
    if (notifiers::GroupKeyHash(view.key) == dedup_key) out.push_back(std::move(view));
  }
  return out;
}

Result<GroupAckOutcome> Router::AcknowledgeGroup(std::string_view dedup_key,
                                                 const AckRequest& req) {
  const Time now = deps_.clock->Now();
  const auto views = GroupsByDedupKey(dedup_key);
  if (views.empty()) return Status::NotFound("no group has dedup key " + std::string(dedup_key));
  GroupAckOutcome out;
  out.group_key = views.front().key;
  std::map<uint64_t, std::shared_ptr<const Alert>> todo;
  for (const auto& view : views) {
    for (const auto& a : view.alerts) {
      if (a->ResolvedAt(now) || acks_->CoveringAck(*a, now)) continue;
      todo.emplace(a->Fingerprint(), a);
    }
  }
  if (todo.empty()) return out;
  std::vector<std::shared_ptr<const Alert>> alerts;
  for (auto& [fp, a] : todo) alerts.push_back(std::move(a));
  auto made = acks_->Add(alerts, req, now);
  if (!made.ok()) return made.status();
  AfterAcknowledged(*made, now);
  out.acks = std::move(*made);
  return out;
}

Result<GroupAckOutcome> Router::UnacknowledgeGroup(std::string_view dedup_key) {
  const Time now = deps_.clock->Now();
  const auto views = GroupsByDedupKey(dedup_key);
  if (views.empty()) return Status::NotFound("no group has dedup key " + std::string(dedup_key));
  GroupAckOutcome out;
  out.group_key = views.front().key;
  std::set<uint64_t> acked;
  for (const auto& view : views) {
    for (const auto& a : view.alerts) {
      if (!a->ResolvedAt(now) && acks_->CoveringAck(*a, now)) acked.insert(a->Fingerprint());
    }
  }
  std::vector<Ack> ended;
  for (uint64_t fp : acked) {
    auto a = acks_->End(fp, "deleted", now);
    if (!a.ok()) {
      if (a.status().code() == Status::Code::kNotFound) continue;  // ended meanwhile
      if (!ended.empty()) AfterAcksEnded(ended);
      return a.status();
    }
    spdlog::info("ack: {} ({}) acknowledgement by {} taken back", a->labels.Get("alertname"),
                 FingerprintHex(fp), a->by);
    ended.push_back(*a);
    out.acks.push_back(std::move(*a));
  }
  if (!ended.empty()) AfterAcksEnded(ended);
  return out;
}

Result<GroupAckOutcome> Router::EndEscalation(std::string_view dedup_key, std::string_view reason) {
  const auto views = GroupsByDedupKey(dedup_key);
  if (views.empty()) return Status::NotFound("no group has dedup key " + std::string(dedup_key));
  GroupAckOutcome out;
  out.group_key = views.front().key;
  for (const auto& view : views) {
    if (escalations_->Finish(view.route->key, view.key, reason)) ++out.escalations_ended;
  }
  return out;
}

// ---------------------------------------------------------------- escalations

std::optional<EscalationView> Router::EscalationOf(const config::Config& cfg,
                                                  const std::string& route_key,
                                                  const std::string& group_key) const {
  auto st = escalations_->Get(route_key, group_key);
  if (!st) return std::nullopt;
  EscalationView v;
  v.policy = st->policy;
  v.started_at = st->started_at;
  v.round = st->round;
  v.next_step = st->next_step;
  v.notified = st->notified;
  v.on_call = escalations_->OnCallPages(route_key, group_key);
  const config::EscalationPolicy* policy = cfg.FindEscalationPolicy(st->policy);
  if (!policy || policy->steps.empty()) {
    v.finished = true;
    return v;
  }
  v.rounds = policy->repeat + 1;
  v.steps = static_cast<int>(policy->steps.size());
  // As Escalations::EvaluateLocked reads it: past the last step (a reload shortened the
  // policy) the next round begins; past the last round nothing more fires.
  int step = st->next_step, round = st->round;
  Time round_start = st->round_start;
  if (step >= v.steps) {
    step = 0;
    ++round;
    round_start = deps_.clock->Now();
  }
  if (round > policy->repeat) {
    v.finished = true;
    return v;
  }
  v.next_step = step;
  v.round = round;
  v.next_at = round_start + policy->steps[step].after;
  v.next_receivers = policy->steps[step].receivers;
  return v;
}

const config::EscalationPolicy* Router::Policy(const std::string& name) const {
  auto g = Current();
  return g ? g->cfg->FindEscalationPolicy(name) : nullptr;
}

namespace {

// Whether a group key falls in one of `shards`.
std::function<bool(const std::string&)> InShards(const std::vector<uint32_t>& shards) {
  auto in = std::make_shared<std::vector<bool>>(kClusterShards, false);
  for (uint32_t s : shards) in->at(s) = true;
  return [in](const std::string& group_key) { return (*in)[ShardOf(group_key)]; };
}

}  // namespace

void Router::ShardsGained(const std::vector<uint32_t>& shards) {
  const auto owned = InShards(shards);
  if (Status s = nflog_->Adopt(owned, deps_.clock->Now()); !s.ok()) {
    spdlog::error("cluster: taking over the notification log: {}", s.message());
  }
  if (Status s = escalations_->Adopt(owned); !s.ok()) {
    spdlog::error("cluster: taking over escalations: {}", s.message());
  }
}

void Router::ShardsOwned(const std::vector<uint32_t>& shards) {
  const auto owned = InShards(shards);
  if (deps_.stores.group_timers) {
    auto timers = deps_.stores.group_timers->LoadGroupTimers();
    if (!timers.ok()) {
      spdlog::error("cluster: taking over aggregation groups: {}", timers.status().message());
    } else if (auto g = Current()) {
      g->dispatcher->Adopt(owned, *timers);
    }
  }
  escalations_->CheckAll();  // steps that fell due while the groups had no owner
}

std::optional<Alerts> Router::Escalatable(const std::string& route_key,
                                          const std::string& group_key, Time now) {
  // Another node escalates the groups it owns; a step that falls due here waits, and is
  // taken up again from the store if this node gains the group (ShardsGained).
  if (!OwnsKey(deps_.ownership, group_key)) return std::nullopt;
  auto g = Current();
  if (!g) return std::nullopt;
  auto view = g->dispatcher->Group(route_key, group_key);
  if (!view) return std::nullopt;
  Alerts alerts;
  for (const auto& a : view->alerts) {
    if (a->ResolvedAt(now)) continue;
    if (IsZero(a->ends_at)) {
      alerts.push_back(a);
    } else {
      // As a flush sends them: firing alerts without their planned endsAt.
      auto copy = std::make_shared<Alert>(*a);
      copy->ends_at = kZeroTime;
      alerts.push_back(std::move(copy));
    }
  }
  FlushContext ctx;
  ctx.group_key = view->key;
  ctx.group_labels = view->labels;
  ctx.route = view->route;
  ctx.receiver = view->route->config->receiver;
  ctx.now = now;
  if (Status s = g->pipeline->Filter(ctx, alerts); !s.ok()) {
    spdlog::error("escalation: {}: {}", group_key, s.message());
    return Alerts{};
  }
  SortAlertsForPayload(alerts);
  return alerts;
}

notifiers::OnCallPerson Router::WhoIsOnCall(const std::string& schedule, Time now) {
  auto g = Current();
  if (!g) return {};
  auto oc = oncall::OnCall::Build(*g->cfg);
  if (!oc.ok()) {
    spdlog::error("escalation: schedule {}: {}", schedule, oc.status().message());
    return {};
  }
  const auto overrides =
      deps_.overrides ? deps_.overrides->List() : std::vector<ScheduleOverride>{};
  const oncall::Shift sh = (*oc)->Who(schedule, overrides, now);
  const config::Person* p = sh.person.empty() ? nullptr : g->cfg->FindPerson(sh.person);
  if (!p) return {};
  return notifiers::OnCallPerson{p->name, p->email, p->slack, p->phone};
}

void Router::NotifyStep(const EscalationState& st, const std::string& receiver, Alerts alerts,
                        int step, std::function<void()> done) {
  NotifyStepOnCall(st, receiver, std::move(alerts), step, {}, std::move(done));
}

void Router::NotifyStepOnCall(const EscalationState& st, const std::string& receiver,
                              Alerts alerts, int step, const notifiers::OnCallPerson& person,
                              std::function<void()> done) {
  auto g = Current();
  auto view = g ? g->dispatcher->Group(st.route_key, st.group_key) : std::nullopt;
  if (!view) return done();
  const Time now = deps_.clock->Now();
  FlushContext ctx;
  ctx.group_key = view->key;
  ctx.group_labels = view->labels;
  ctx.route = view->route;
  ctx.receiver = receiver;
  ctx.now = now;
  ctx.escalation_step = step;
  ctx.deadline =
      now + std::max(view->route->config->group_interval, Duration(std::chrono::seconds(10)));
  ctx.on_call = person;
  g->pipeline->NotifyStep(std::move(ctx), std::move(alerts),
                          [key = st.group_key, receiver, step, done = std::move(done)](bool ok) {
                            if (!ok) {
                              spdlog::error("escalation: {}: step {} to {} not delivered", key,
                                            step + 1, receiver);
                            }
                            done();
                          });
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
  if (auto by = g->inhibitor->InhibitedBy(alert.labels, now))
    st.inhibited_by.push_back(FingerprintHex(*by));
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

AlertGroups Router::Groups(const std::function<bool(const std::string& receiver)>& route_filter,
                           const std::function<bool(const Alert&)>& alert_filter) const {
  AlertGroups out;
  auto g = Current();
  if (!g) return out;
  // Copies of the groups: the filters run outside the dispatcher's lock.
  for (auto& v : g->dispatcher->Groups()) {
    const std::string& receiver = v.route->config->receiver;
    if (route_filter && !route_filter(receiver)) continue;
    AlertGroupView view;
    for (auto& a : v.alerts) {
      if (alert_filter && !alert_filter(*a)) continue;
      out.receivers[a->Fingerprint()].push_back(receiver);
      view.alerts.push_back(std::move(a));
    }
    if (view.alerts.empty()) continue;
    view.labels = std::move(v.labels);
    view.receiver = receiver;
    view.escalation = EscalationOf(*g->cfg, v.route->key, v.key);
    SortAlertsForPayload(view.alerts);
    out.groups.push_back(std::move(view));
  }
  SortAlertGroups(out);
  return out;
}

}  // namespace alertd::router
