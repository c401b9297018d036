#include "router/escalation.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace alertd::router {

// The pages a group's escalation view lists (the latest ones; `repeat` may add many).
constexpr size_t kMaxOnCallPages = 50;

// Lets timer tasks and commit callbacks reach the Escalations only while it runs: Stop()
// clears the pointer under the lock, so it also waits for a task in progress.
struct EscalationToken {
  Mutex mu;
  Escalations* self GUARDED_BY(mu) = nullptr;
};

Escalations::Escalations(const Clock* clock, Scheduler* scheduler, EscalationStore* store,
                         Host* host)
    : clock_(clock), scheduler_(scheduler), store_(store), host_(host) {
  token_ = std::make_shared<EscalationToken>();
  MutexLock t(token_->mu);
  token_->self = this;
}

Escalations::~Escalations() { Stop(); }

Status Escalations::Load() {
  if (!store_) return Status::Ok();
  auto loaded = store_->LoadEscalations();
  if (!loaded.ok()) return loaded.status();
  std::vector<EscalationState> rows = std::move(*loaded);
  MutexLock l(mu_);
  for (auto& e : rows) {
    Key k{e.route_key, e.group_key};
    Entry& entry = entries_[k];
    entry.st = std::move(e);
    entry.incarnation = next_incarnation_++;
  }
  return Status::Ok();
}

void Escalations::Resume() {
  MutexLock l(mu_);
  if (stopped_) return;
  resumed_ = true;
  const Time now = clock_->Now();
  for (auto& [k, e] : entries_) EvaluateLocked(e, now);
}

Status Escalations::Adopt(const std::function<bool(const std::string& group_key)>& owned) {
  if (!store_) return Status::Ok();
  auto loaded = store_->LoadEscalations();
  if (!loaded.ok()) return loaded.status();
  MutexLock l(mu_);
  if (stopped_) return Status::Ok();
  // What this node held of those groups is stale: the previous owner went on with them.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (owned(it->first.second)) {
      if (it->second.timer) scheduler_->Cancel(it->second.timer);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  const Time now = clock_->Now();
  for (auto& st : *loaded) {
    if (!owned(st.group_key)) continue;
    Key k{st.route_key, st.group_key};
    Entry& e = entries_[k];
    e.st = std::move(st);
    e.incarnation = next_incarnation_++;
    if (resumed_) EvaluateLocked(e, now);
  }
  return Status::Ok();
}

void Escalations::Start(const std::string& route_key, const std::string& group_key,
                        const std::string& policy, Time at) {
  MutexLock l(mu_);
  if (stopped_) return;
  Key k{route_key, group_key};
  if (entries_.count(k)) return;
  Entry& e = entries_[k];
  e.incarnation = next_incarnation_++;
  e.st.route_key = route_key;
  e.st.group_key = group_key;
  e.st.policy = policy;
  e.st.started_at = at;
  e.st.round_start = at;
  spdlog::info("escalation: {} started policy {} (first notification at {})", group_key, policy,
               FormatRFC3339(at));
  PersistLocked(e.st, nullptr);
  EvaluateLocked(e, clock_->Now());
}

void Escalations::Check(const std::string& route_key, const std::string& group_key) {
  MutexLock l(mu_);
  if (stopped_) return;
  auto it = entries_.find({route_key, group_key});
  if (it != entries_.end()) EvaluateLocked(it->second, clock_->Now());
}

void Escalations::CheckAll() {
  MutexLock l(mu_);
  if (stopped_) return;
  const Time now = clock_->Now();
  for (auto& [k, e] : entries_) EvaluateLocked(e, now);
}

Escalations::FlushView Escalations::ForFlush(const std::string& route_key,
                                             const std::string& group_key) const {
  MutexLock l(mu_);
  auto it = entries_.find({route_key, group_key});
  if (it == entries_.end()) return {};
  return FlushView{it->second.st.notified, it->second.paged, it->second.deliveries_done->load()};
}

std::vector<std::string> Escalations::Notified(const std::string& route_key,
                                               const std::string& group_key) const {
  MutexLock l(mu_);
  auto it = entries_.find({route_key, group_key});
  return it == entries_.end() ? std::vector<std::string>{} : it->second.st.notified;
}

std::vector<OnCallPage> Escalations::OnCallPages(const std::string& route_key,
                                                 const std::string& group_key) const {
  MutexLock l(mu_);
  auto it = entries_.find({route_key, group_key});
  return it == entries_.end() ? std::vector<OnCallPage>{} : it->second.on_call;
}

bool Escalations::End(const std::string& route_key, const std::string& group_key,
                      const FlushView& seen) {
  MutexLock l(mu_);
  auto it = entries_.find({route_key, group_key});
  if (it == entries_.end()) return true;
  if (it->second.deliveries_started != seen.deliveries_done) {
    spdlog::info(
        "escalation: {}: a step was delivered while the resolves went out; they are "
        "sent again at the next flush",
        group_key);
    return false;
  }
  EndLocked(it, "every alert resolved");
  return true;
}

void Escalations::EndLocked(std::map<Key, Entry>::iterator it, const std::string& reason) {
  if (it->second.timer) scheduler_->Cancel(it->second.timer);
  spdlog::info("escalation: {} ended: {}", it->first.second, reason);
  UnpersistLocked(it->first);
  entries_.erase(it);
}

void Escalations::Reconcile(const RouteTree& routes) {
  std::map<std::string, const RouteNode*> by_key, by_id;
  for (const RouteNode* n : routes.Nodes()) {
    by_key.emplace(n->key, n);  // siblings with equal matchers share a key: the first wins
    by_id.emplace(n->id, n);
  }
  MutexLock l(mu_);
  if (stopped_) return;
  const Time now = clock_->Now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto node = by_key.find(it->first.first);
    if (node == by_key.end()) {
      // A row written when escalations were keyed by the route's index-based id.
      if (auto old = by_id.find(it->first.first); old != by_id.end()) {
        Entry moved = std::move(it->second);
        UnpersistLocked(it->first);
        it = entries_.erase(it);
        if (moved.timer) scheduler_->Cancel(moved.timer);  // its task looks up the old key
        moved.timer = 0;
        moved.st.route_key = old->second->key;
        Key k{moved.st.route_key, moved.st.group_key};
        if (entries_.count(k)) continue;
        PersistLocked(moved.st, nullptr);
        Entry& e = entries_.emplace(k, std::move(moved)).first->second;
        if (resumed_) EvaluateLocked(e, now);
        continue;
      }
      const std::string reason = "route " + it->first.first + " no longer exists";
      EndLocked(it++, reason);
      continue;
    }
    const std::string& policy = node->second->config->escalation;
    const std::string& had = it->second.st.policy;
    std::string reason;
    if (policy != had) {
      reason = policy.empty() ? "route " + it->first.first + " no longer escalates"
                              : "route " + it->first.first + " escalates with policy " + policy +
                                    " instead of " + had;
    } else if (!host_->Policy(had)) {
      reason = "policy " + had + " no longer exists";
    }
    if (!reason.empty()) {
      EndLocked(it++, reason);
      continue;
    }
    // The policy's steps may have changed: its timer follows them.
    if (resumed_) EvaluateLocked(it->second, now);
    ++it;
  }
}

bool Escalations::Finish(const std::string& route_key, const std::string& group_key,
                         std::string_view reason) {
  MutexLock l(mu_);
  if (stopped_) return false;
  auto it = entries_.find({route_key, group_key});
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  const config::EscalationPolicy* policy = host_->Policy(e.st.policy);
  const int rounds_run = policy ? policy->repeat + 1 : 0;
  if (e.st.round >= rounds_run) return false;
  if (e.timer) scheduler_->Cancel(e.timer);
  e.timer = 0;
  // "Every round ran" is the state EvaluateLocked already stops at.
  e.st.round = rounds_run;
  e.st.next_step = 0;
  spdlog::info("escalation: {} ended: {}", group_key, reason);
  PersistLocked(e.st, nullptr);
  return true;
}

std::optional<EscalationState> Escalations::Get(const std::string& route_key,
                                                const std::string& group_key) const {
  MutexLock l(mu_);
  auto it = entries_.find({route_key, group_key});
  if (it == entries_.end()) return std::nullopt;
  return it->second.st;
}

size_t Escalations::size() const {
  MutexLock l(mu_);
  return entries_.size();
}

void Escalations::Stop() {
  {
    MutexLock t(token_->mu);
    token_->self = nullptr;
  }
  MutexLock l(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& [k, e] : entries_) {
    if (e.timer) scheduler_->Cancel(e.timer);
    e.timer = 0;
  }
}

void Escalations::ArmLocked(Entry& e, Time when) {
  if (e.timer) scheduler_->Cancel(e.timer);
  Key k{e.st.route_key, e.st.group_key};
  e.timer = scheduler_->Schedule(when, [token = token_, k] {
    MutexLock t(token->mu);
    Escalations* self = token->self;
    if (!self) return;
    MutexLock l(self->mu_);
    auto it = self->entries_.find(k);
    if (self->stopped_ || it == self->entries_.end()) return;
    it->second.timer = 0;
    self->EvaluateLocked(it->second, self->clock_->Now());
  });
}

void Escalations::EvaluateLocked(Entry& e, Time now) {
  EscalationState& st = e.st;
  const config::EscalationPolicy* policy = host_->Policy(st.policy);
  if (!policy || policy->steps.empty()) return;  // removed by a reload: nothing more to send
  const int steps = static_cast<int>(policy->steps.size());
  bool at_once = false;  // the previous step had nobody on call: this one runs now
  for (;;) {
    if (st.next_step >= steps) {  // a reload shortened the policy: this round is over
      st.next_step = 0;
      ++st.round;
      st.round_start = now;
    }
    if (st.round > policy->repeat) return;  // every round ran
    const config::EscalationStep& step = policy->steps[st.next_step];
    const Time due = at_once ? now : st.round_start + step.after;
    if (due > now) {
      ArmLocked(e, due);
      return;
    }
    auto alerts = host_->Escalatable(st.route_key, st.group_key, now);
    if (!alerts || alerts->empty()) {
      // Nothing to escalate now (acknowledged, silenced, or the group is gone): the step
      // waits for Check().
      if (e.timer) scheduler_->Cancel(e.timer);
      e.timer = 0;
      return;
    }
    const int fired = st.next_step;
    notifiers::OnCallPerson person;
    if (!step.schedule.empty()) {
      person = host_->WhoIsOnCall(step.schedule, now);
      e.on_call.push_back(OnCallPage{fired, st.round, step.schedule, person.name, now});
      if (e.on_call.size() > kMaxOnCallPages) e.on_call.erase(e.on_call.begin());
      if (person.name.empty()) {
        spdlog::warn(
            "escalation: {} step {} of policy {} (round {}): nobody is on call in schedule {}; "
            "the next step runs now",
            st.group_key, fired + 1, st.policy, st.round + 1, step.schedule);
        at_once = true;
        if (++st.next_step == steps) {
          st.next_step = 0;
          ++st.round;
          st.round_start = now;
          at_once = false;  // a new round keeps its own `after`s
        }
        PersistLocked(st, nullptr);
        continue;
      }
      spdlog::info("escalation: {} step {} of policy {} pages {}, on call in schedule {}",
                   st.group_key, fired + 1, st.policy, person.name, step.schedule);
      for (const auto& r : step.receivers) e.paged[r] = person;
    }
    at_once = false;
    steps_fired_.fetch_add(1, std::memory_order_relaxed);
    for (const auto& r : step.receivers) {
      auto pos = std::lower_bound(st.notified.begin(), st.notified.end(), r);
      if (pos == st.notified.end() || *pos != r) st.notified.insert(pos, r);
    }
    spdlog::info("escalation: {} step {} of policy {} (round {}) notifies {} with {} alerts",
                 st.group_key, fired + 1, st.policy, st.round + 1, fmt::join(step.receivers, ", "),
                 alerts->size());
    if (++st.next_step == steps) {
      st.next_step = 0;
      ++st.round;
      st.round_start = now;
    }
    // The step is recorded before it is sent: a crash in between loses it rather than
    // sending it twice. Until its deliveries finish, End() waits.
    e.deliveries_started += step.receivers.size();
    if (!store_) {
      SendStepLocked(e, fired, step.receivers, std::move(*alerts), person);
      continue;
    }
    Key k{st.route_key, st.group_key};
    PersistLocked(st, [token = token_, k, incarnation = e.incarnation, fired,
                       receivers = step.receivers, person](Status s) {
      MutexLock t(token->mu);
      if (token->self) token->self->StepCommitted(k, incarnation, fired, receivers, person, s);
    });
  }
}

void Escalations::SendStepLocked(Entry& e, int step, const std::vector<std::string>& receivers,
                                 Alerts alerts, const notifiers::OnCallPerson& person) {
  for (const auto& r : receivers) {
    auto done = [done = e.deliveries_done] { done->fetch_add(1); };
    if (person.name.empty()) {
      host_->NotifyStep(e.st, r, alerts, step, std::move(done));
    } else {
      host_->NotifyStepOnCall(e.st, r, alerts, step, person, std::move(done));
    }
  }
}

void Escalations::StepCommitted(const Key& k, uint64_t incarnation, int step,
                                const std::vector<std::string>& receivers,
                                const notifiers::OnCallPerson& person, const Status& s) {
  MutexLock l(mu_);
  auto it = entries_.find(k);
  if (stopped_ || it == entries_.end() || it->second.incarnation != incarnation) {
    spdlog::info("escalation: {}: step {} not sent: the escalation ended", k.second, step + 1);
    return;
  }
  Entry& e = it->second;
  auto dropped = [&](const std::string& why) {
    spdlog::log(s.ok() ? spdlog::level::info : spdlog::level::err,
                "escalation: {}: step {} not sent: {}", k.second, step + 1, why);
    e.deliveries_done->fetch_add(receivers.size());
  };
  // An unreachable database (PostgreSQL down) must not silence a page: the step goes out
  // unpersisted, and a crash before the database returns may send it once more. Any other
  // failure to persist drops it, as sending it could not be recorded anywhere.
  if (!s.ok() && s.code() != Status::Code::kUnavailable) {
    return dropped("not persisted: " + s.message());
  }
  if (!s.ok()) {
    spdlog::warn("escalation: {}: step {} sent without being persisted: {}", k.second, step + 1,
                 s.message());
  }
  // What needs a person now, not when the step fell due: alerts may have resolved or been
  // acknowledged while the commit waited.
  auto alerts = host_->Escalatable(k.first, k.second, clock_->Now());
  if (!alerts || alerts->empty()) return dropped("nothing left to escalate");
  SendStepLocked(e, step, receivers, std::move(*alerts), person);
}

void Escalations::PersistLocked(const EscalationState& st, StoreDone done) {
  if (store_) store_->PutEscalation(st, std::move(done));
}

void Escalations::UnpersistLocked(const Key& k) {
  if (store_) store_->DeleteEscalation(k.first, k.second);
}

}  // namespace alertd::router
