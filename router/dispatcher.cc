#include "router/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace alertd::router {
Dispatcher::Dispatcher(std::shared_ptr<const RouteTree> routes, std::shared_ptr<Pipeline> pipeline,
                       const Clock* clock, Scheduler* scheduler, Executor* flush_executor,
                       GroupTimerStore* timers, DispatcherOptions opts)
    : routes_(std::move(routes)),
      pipeline_(std::move(pipeline)),
      clock_(clock),
      scheduler_(scheduler),
      flush_executor_(flush_executor),
      timers_(timers),
      opts_(opts) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start(
    const std::vector<AlertPtr>& alerts, const std::vector<GroupTimer>& persisted,
    const std::unordered_map<std::string, std::unordered_set<uint64_t>>& notified_firing) {
  std::map<std::pair<std::string, std::string>, GroupTimer> timers;
  for (const auto& t : persisted) timers[{t.route_id, t.group_key}] = t;
  MutexLock l(mu_);
  const Time now = clock_->Now();
  for (const auto& a : alerts) {
    if (a->ResolvedAt(now)) {
      // Only resolved alerts a receiver was told are firing still have news to give.
      bool wanted = false;
      for (const auto* r : routes_->Match(a->labels)) {
        auto it = notified_firing.find(GroupKey(*r, GroupLabels(*r->config, a->labels)));
        if (it != notified_firing.end() && it->second.count(a->Fingerprint())) wanted = true;
      }
      if (!wanted) continue;
    }
    InsertLocked(a, now, &timers);
  }
  for (const auto& [id, g] : groups_) timers.erase({g->route()->id, g->key()});
  for (const auto& [k, t] : timers) {
    if (OwnsKey(opts_.ownership, t.group_key)) Unpersist(t.route_id, t.group_key);
  }
  std::weak_ptr<Dispatcher> weak = weak_from_this();
  maintenance_ = scheduler_->Schedule(now + opts_.maintenance_interval, [weak] {
    if (auto self = weak.lock()) self->Maintenance();
  });
}

void Dispatcher::Insert(const std::vector<AlertPtr>& alerts) {
  MutexLock l(mu_);
  if (stopped_) return;
  const Time now = clock_->Now();
  for (const auto& a : alerts) InsertLocked(a, now, nullptr);
}

void Dispatcher::InsertLocked(
    const AlertPtr& a, Time now,
    const std::map<std::pair<std::string, std::string>, GroupTimer>* persisted) {
  for (const auto* route : routes_->Match(a->labels)) {
    LabelSet gl = GroupLabels(*route->config, a->labels);
    const GroupId id{route, gl.Fingerprint()};
    auto it = groups_.find(id);
    if (it == groups_.end()) {
      auto g = std::make_shared<AggregationGroup>(route, std::move(gl));
      Time when = now + route->config->group_wait;
      if (persisted) {
        auto pt = persisted->find({route->id, g->key()});
        if (pt != persisted->end()) {
          g->has_flushed = pt->second.has_flushed;
          when = ResumeAt(pt->second, *route, now);
        }
      }
      it = groups_.emplace(id, std::move(g)).first;
      ArmLocked(it->second, when, /*persist=*/true);
    }
    const GroupPtr& g = it->second;
    if (!g->Has(a->Fingerprint())) by_alert_[a->Fingerprint()].push_back(id);
    if (g->Insert(a, now) && g->next_flush > now) ArmLocked(g, now, /*persist=*/true);
  }
}

Time Dispatcher::ResumeAt(const GroupTimer& t, const RouteNode& route, Time now) {
  Time when = t.next_flush;
  if (when < now) {
    // Only the first tick is persisted; later ticks follow it every group_interval.
    const Duration every = route.config->group_interval;
    when = t.has_flushed && every > Duration::zero() ? when + ((now - when) / every + 1) * every
                                                     : now;
  }
  return when;
}

void Dispatcher::Adopt(const std::function<bool(const std::string& group_key)>& owned,
                       const std::vector<GroupTimer>& persisted) {
  std::map<std::pair<std::string, std::string>, const GroupTimer*> timers;
  for (const auto& t : persisted) timers[{t.route_id, t.group_key}] = &t;
  MutexLock l(mu_);
  if (stopped_) return;
  const Time now = clock_->Now();
  for (const auto& [id, g] : groups_) {
    if (!owned(g->key())) continue;
    auto it = timers.find({g->route()->id, g->key()});
    if (it == timers.end()) continue;
    g->has_flushed = it->second->has_flushed;
    // A group that has notified flushes at once: what fell due while its shard had no owner
    // goes out now, and the notification log (taken over too) keeps it from repeating what
    // was sent. Its ticks then go on every group_interval from here.
    ArmLocked(g, g->has_flushed ? now : ResumeAt(*it->second, *g->route(), now),
              /*persist=*/false);
  }
}

void Dispatcher::ArmLocked(const GroupPtr& g, Time when, bool persist) {
  if (g->timer) scheduler_->Cancel(g->timer);
  g->next_flush = when;
  std::weak_ptr<Dispatcher> weak = weak_from_this();
  g->timer = scheduler_->Schedule(when, [weak, g] {
    if (auto self = weak.lock()) self->Tick(g);
  });
  if (persist) PersistLocked(*g);
}

void Dispatcher::Tick(const GroupPtr& g) {
  MutexLock l(mu_);
  if (stopped_ || g->removed) return;
  const Time now = clock_->Now();
  if (!Owned(*g)) {
    // Another node flushes this group; this one keeps its schedule, for a takeover.
    g->timer = 0;
    Time next = g->next_flush + g->route()->config->group_interval;
    if (next <= now) next = now + g->route()->config->group_interval;
    ArmLocked(g, next, /*persist=*/false);
    return;
  }
  const bool first = !g->has_flushed;
  g->has_flushed = true;
  g->timer = 0;
  // Ticks keep to their schedule (scheduled time + group_interval, not firing time +
  // group_interval), so the first tick, persisted once, tells a restart when all later ones
  // fall.
  Time next = g->next_flush + g->route()->config->group_interval;
  if (next <= now) next = now + g->route()->config->group_interval;
  ArmLocked(g, next, /*persist=*/first);
  if (g->flushing) {
    g->flush_pending = true;
    return;
  }
  FlushLocked(g);
}

void Dispatcher::Notify(const RouteNode* route, const std::string& group_key,
                        const std::string& reason, std::vector<uint64_t> fingerprints) {
  MutexLock l(mu_);
  if (stopped_) return;
  for (const auto& [id, group] : groups_) {
    if (group->route() != route || group->key() != group_key) continue;
    const GroupPtr g = group;  // FlushLocked lets go of mu_: the map may change meanwhile
    if (!g->has_flushed || g->removed || !Owned(*g)) return;
    g->forced_reason = reason;
    std::vector<uint64_t> merged;
    std::sort(fingerprints.begin(), fingerprints.end());
    std::set_union(g->forced.begin(), g->forced.end(), fingerprints.begin(), fingerprints.end(),
                   std::back_inserter(merged));
    g->forced = std::move(merged);
    if (g->flushing) {
      g->flush_pending = true;
    } else {
      FlushLocked(g);
    }
    return;
  }
}

void Dispatcher::FlushLocked(const GroupPtr& g) {
  if (g->empty()) return;
  const Time now = clock_->Now();
  std::vector<AlertPtr> originals;
  Alerts alerts = g->Snapshot(&originals);
  g->flushing = true;
  FlushContext ctx;
  ctx.group_key = g->key();
  ctx.group_labels = g->labels();
  ctx.route = g->route();
  ctx.receiver = g->route()->config->receiver;
  ctx.now = now;
  ctx.deadline = now + std::max(g->route()->config->group_interval, opts_.min_flush_timeout);
  ctx.forced_reason = std::move(g->forced_reason);
  ctx.forced = std::move(g->forced);
  g->forced_reason.clear();
  g->forced.clear();
  mu_.unlock();
  auto self = shared_from_this();
  pipeline_->Submit(flush_executor_, std::move(ctx), std::move(alerts),
                    [self, g, originals = std::move(originals), now](bool ok) mutable {
                      self->FlushDone(g, std::move(originals), now, ok);
                    });
  mu_.lock();
}

void Dispatcher::FlushDone(const GroupPtr& g, std::vector<AlertPtr> originals, Time now, bool ok) {
  MutexLock l(mu_);
  if (ok) {
    const GroupId id{g->route(), g->labels().Fingerprint()};
    for (uint64_t fp : g->DeleteResolved(originals, now)) {
      auto it = by_alert_.find(fp);
      if (it == by_alert_.end()) continue;
      std::erase(it->second, id);
      if (it->second.empty()) by_alert_.erase(it);
    }
  }
  g->flushing = false;
  if (g->flush_pending && !stopped_ && !g->removed) {
    g->flush_pending = false;
    FlushLocked(g);
  }
}

void Dispatcher::Maintenance() {
  MutexLock l(mu_);
  if (stopped_) return;
  for (auto it = groups_.begin(); it != groups_.end();) {
    const GroupPtr& g = it->second;
    if (g->empty() && !g->flushing) {
      g->removed = true;
      if (g->timer) scheduler_->Cancel(g->timer);
      if (Owned(*g)) Unpersist(g->route()->id, g->key());
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  std::weak_ptr<Dispatcher> weak = weak_from_this();
  maintenance_ = scheduler_->Schedule(clock_->Now() + opts_.maintenance_interval, [weak] {
    if (auto self = weak.lock()) self->Maintenance();
  });
}

void Dispatcher::Stop() {
  MutexLock l(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (maintenance_) scheduler_->Cancel(maintenance_);
  for (auto& [id, g] : groups_) {
    if (g->timer) scheduler_->Cancel(g->timer);
    g->timer = 0;
  }
}

GroupView Dispatcher::ViewOf(const AggregationGroup& g) {
  return GroupView{g.route(), g.key(), g.labels(), g.alerts(), g.next_flush};
}

std::vector<GroupView> Dispatcher::Groups() const {
  MutexLock l(mu_);
  std::vector<GroupView> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) out.push_back(ViewOf(*g));
  return out;
}

std::optional<GroupView> Dispatcher::Group(const std::string& route_key,
                                           const std::string& group_key) const {
  MutexLock l(mu_);
  for (const auto& [id, g] : groups_) {
    if (g->key() == group_key && g->route()->key == route_key) return ViewOf(*g);
  }
  return std::nullopt;
}

std::vector<GroupView> Dispatcher::GroupsWith(const std::vector<uint64_t>& fingerprints) const {
  MutexLock l(mu_);
  std::set<GroupId> ids;
  for (uint64_t fp : fingerprints) {
    auto it = by_alert_.find(fp);
    if (it != by_alert_.end()) ids.insert(it->second.begin(), it->second.end());
  }
  std::vector<GroupView> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto it = groups_.find(id);
    if (it != groups_.end()) out.push_back(ViewOf(*it->second));
  }
  return out;
}

void Dispatcher::PersistLocked(const AggregationGroup& g) {
  if (timers_ && Owned(g))
    timers_->PutGroupTimer(GroupTimer{g.route()->id, g.key(), g.next_flush, g.has_flushed});
}

void Dispatcher::Unpersist(const std::string& route_id, const std::string& group_key) {
  if (timers_) timers_->DeleteGroupTimer(route_id, group_key);
}

}  // namespace alertd::router
