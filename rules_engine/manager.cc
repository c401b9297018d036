#include "rules_engine/manager.h"

#include "core/secret_text.h"

#include "core/metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace alertd::rules_engine {
namespace {

// Loading thousands of rules (YAML trees, PromQL and template parsing) and decoding query
// answers on several threads leave many free but partly used pages in glibc's heaps, which it
// does not give back by itself; with 5,000 rules that is tens of MiB of RSS. malloc_trim
// returns every free page of every arena to the kernel; it takes a few milliseconds, so it
// runs after (re)loading the rules and then once a minute.
constexpr Duration kTrimInterval = std::chrono::minutes(1);
void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

ManagerOptions ManagerOptionsFromConfig(const config::Config& cfg) {
  ManagerOptions o;
  o.default_interval = cfg.evaluation.interval;
  o.external_labels = cfg.evaluation.external_labels;
  o.external_url = cfg.evaluation.external_url;
  // Unset: the datasource, whose /graph the generatorURL opens (alertd serves no /graph).
  // Its user:password, if any, stays out of the link.
  if (o.external_url.empty()) o.external_url = StripUrlUserinfo(cfg.datasource.url);
  if (o.external_url.empty()) o.external_url = "http://" + cfg.server.listen;
  o.resend_delay = cfg.evaluation.resend_delay;
  o.alert_relabel_configs = cfg.evaluation.alert_relabel_configs;
  o.for_grace_period = cfg.evaluation.for_grace_period;
  o.for_outage_tolerance = cfg.evaluation.for_outage_tolerance;
  // Enough workers to keep every query slot busy; more would only wait on the client.
  o.workers = std::max(1, std::min(cfg.datasource.max_concurrent_queries, 64));
  return o;
}

Result<std::vector<std::shared_ptr<Group>>> RuleManager::Build(
    const std::vector<config::RuleGroup>& groups, Duration default_interval) {
  std::vector<std::shared_ptr<Group>> out;
  for (const auto& gc : groups) {
    auto g = Group::Create(gc, default_interval);
    if (!g.ok()) return g.status();
    out.push_back(std::shared_ptr<Group>(std::move(*g)));
  }
  return out;
}

Result<std::unique_ptr<RuleManager>> RuleManager::Create(
    const std::vector<config::RuleGroup>& groups, const ManagerOptions& opts, ManagerDeps deps) {
  if (!deps.query || !deps.clock) {
    return Status::InvalidArgument("rule manager needs a query client and a clock");
  }
  auto built = Build(groups, opts.default_interval);
  if (!built.ok()) return built.status();
  std::unique_ptr<RuleManager> m(new RuleManager(opts, deps));
  const Time now = deps.clock->Now();
  for (auto& g : *built) {
    Slot s;
    s.next = EvalTimestamp(now, g->interval(), g->hash()) + g->interval();
    s.group = std::move(g);
    m->slots_.push_back(std::move(s));
  }
  return m;
}

RuleManager::~RuleManager() { Stop(); }

Status RuleManager::Restore() {
  if (!deps_.state) return Status::Ok();
  auto records = deps_.state->LoadAll();
  if (!records.ok()) return records.status().WithPrefix("loading rule state");
  auto evaluated = deps_.state->LoadGroupEvaluations();
  if (!evaluated.ok()) return evaluated.status().WithPrefix("loading rule state");
  std::map<std::string, Group::RecordsByRule> by_group;
  for (auto& r : *records) {
    auto& v = by_group[r.group_key][r.rule_key];
    v.push_back(std::move(r));
  }
  records->clear();
  std::vector<std::string> keys;
  std::lock_guard l(mu_);
  RestoreParams params;
  params.now = deps_.clock->Now();
  params.for_grace_period = opts_.for_grace_period;
  params.for_outage_tolerance = opts_.for_outage_tolerance;
  auto down_at = [&](const std::string& key) {
    auto it = evaluated->find(key);
    return it == evaluated->end() ? kZeroTime : it->second;
  };
  size_t n = 0;
  for (auto& s : slots_) {
    s.group->ResetMatching();
    keys.push_back(s.group->key());
    auto it = by_group.find(s.group->key());
    if (it == by_group.end()) continue;
    params.down_at = down_at(it->first);
    n += s.group->Restore(&it->second, params, /*legacy_keys=*/true);
    by_group.erase(it);
  }
  // What is left belongs to groups that are gone: a rule of a renamed or moved group takes
  // its alerts back by name and labels, and they are written under its new group before
  // the old group's state is dropped.
  Status st = Status::Ok();
  for (auto& s : slots_) {
    size_t taken = 0;
    Time moved_down_at = kZeroTime;
    for (auto& [key, by_rule] : by_group) {
      params.down_at = down_at(key);
      const size_t k = s.group->Restore(&by_rule, params, /*legacy_keys=*/false);
      if (k > 0 && params.down_at > moved_down_at) moved_down_at = params.down_at;
      taken += k;
    }
    if (taken == 0) continue;
    spdlog::info("rules: group {:?} took over {} alerts of its rules from a group gone",
                 s.group->key(), taken);
    n += taken;
    Status ps = s.group->Persist(deps_.state);
    if (ps.ok() && !IsZero(moved_down_at)) {
      ps = deps_.state->SetGroupEvaluated(s.group->key(), moved_down_at);
    }
    if (!ps.ok() && st.ok()) st = ps;
  }
  spdlog::info("rules: restored {} alerts of {} groups", n, slots_.size());
  if (!st.ok()) return st.WithPrefix("persisting restored rule state");
  st = deps_.state->RetainGroups(keys);
  ReleaseFreeMemory();
  return st;
}

GroupDeps RuleManager::MakeGroupDeps() const {
  GroupDeps d;
  d.query = deps_.query;
  d.sink = deps_.sink;
  d.state = deps_.state;
  d.samples = deps_.samples;
  d.clock = deps_.clock;
  d.external_labels = opts_.external_labels;
  d.external_url = opts_.external_url;
  d.resend_delay = opts_.resend_delay;
  d.alert_relabel_configs = opts_.alert_relabel_configs;
  d.abandon = [this] { return abandon_.load(); };
  d.for_outage_tolerance = opts_.for_outage_tolerance;
  d.retry_sleep = deps_.retry_sleep;
  if (!d.retry_sleep) d.retry_sleep = [this](Duration wait) { return RetrySleep(wait); };
  return d;
}

bool RuleManager::RetrySleep(Duration d) const {
  std::unique_lock l(retry_mu_);
  return !retry_cv_.wait_for(l, d, [&] { return abandon_.load(); });
}

void RuleManager::WakeRetrySleepers() {
  { std::lock_guard l(retry_mu_); }  // a sleeper between its check and its wait sees it
  retry_cv_.notify_all();
}

Time RuleManager::RunDue(Time now) {
  std::vector<std::function<void()>> inline_work;
  Time earliest = Time::max();
  {
    std::lock_guard l(mu_);
    for (auto& s : slots_) {
      if (s.running || paused_ || stop_) continue;
      if (s.next <= now) {
        // Prometheus: on a tick, evaluate at the latest slot not after now and count the
        // slots in between as missed.
        const Time ts = EvalTimestamp(now, s.group->interval(), s.group->hash());
        if (!IsZero(s.last_ts) && ts > s.last_ts) {
          const int64_t steps = (ts - s.last_ts) / s.group->interval();
          if (steps > 1) s.group->AddMissed(static_cast<uint64_t>(steps - 1));
        }
        s.last_ts = ts;
        s.next = ts + s.group->interval();
        if (!OwnsKey(deps_.ownership, s.group->key())) {
          if (s.owned) s.group->Release();  // another replica evaluates it now
          s.owned = false;
          earliest = std::min(earliest, s.next);
          continue;
        }
        const bool adopt = deps_.ownership != nullptr && !s.owned && deps_.state != nullptr;
        s.owned = true;
        s.running = true;
        ++running_;
        auto g = s.group;
        auto work = [this, g, ts, adopt, deps = MakeGroupDeps()] {
          if (adopt) {
            if (Status st = g->Adopt(deps_.state, deps_.clock->Now()); !st.ok()) {
              // Evaluated anyway: an alert whose state could not be read starts its `for` over.
              spdlog::error("rules: group {:?}: taking over its state: {}", g->key(), st.message());
            }
          }
          g->Eval(ts, deps);
          Finished(g.get());
        };
        if (opts_.workers > 0 && started_) {
          queue_.push_back(std::move(work));
          work_cv_.notify_one();
        } else {
          inline_work.push_back(std::move(work));
        }
        continue;
      }
      earliest = std::min(earliest, s.next);
    }
  }
  for (auto& w : inline_work) w();
  if (!inline_work.empty()) {
    std::lock_guard l(mu_);
    for (const auto& s : slots_) {
      if (!s.running) earliest = std::min(earliest, s.next);
    }
  }
  return earliest;
}

void RuleManager::Finished(const Group* g) {
  std::lock_guard l(mu_);
  for (auto& s : slots_) {
    if (s.group.get() == g) s.running = false;
  }
  if (--running_ == 0) idle_cv_.notify_all();
  cv_.notify_all();
}

void RuleManager::WaitIdle() {
  std::unique_lock l(mu_);
  idle_cv_.wait(l, [&] { return running_ == 0; });
}

void RuleManager::Start() {
  std::lock_guard l(mu_);
  if (started_ || stop_) return;
  started_ = true;
  for (int i = 0; i < opts_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  loop_ = std::thread([this] { Loop(); });
}

void RuleManager::Stop() {
  {
    std::lock_guard l(mu_);
    if (stop_) return;
    stop_ = true;
  }
  abandon_ = true;  // evaluations in flight finish the rule they are at, not their group
  WakeRetrySleepers();
  cv_.notify_all();
  work_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  for (auto& t : workers_) t.join();  // evaluations in flight finish; queued ones are dropped
  workers_.clear();
}

void RuleManager::Loop() {
  ReleaseFreeMemory();
  auto next_trim = std::chrono::steady_clock::now() + kTrimInterval;
  while (true) {
    if (std::chrono::steady_clock::now() >= next_trim) {
      ReleaseFreeMemory();
      next_trim = std::chrono::steady_clock::now() + kTrimInterval;
    }
    Time next = RunDue(deps_.clock->Now());
    std::unique_lock l(mu_);
    if (stop_) return;
    // A group that finished since RunDue released the lock has already notified: take its
    // next slot from here, or its wakeup is lost and the loop sleeps for an hour.
    if (!paused_) {
      for (const auto& s : slots_) {
        if (!s.running) next = std::min(next, s.next);
      }
    }
    // Wake at the next slot, or when a group finishes (it may be overdue) or on Stop/Update.
    const auto deadline =
        next == Time::max()
            ? std::chrono::system_clock::now() + std::chrono::hours(1)
            : std::chrono::time_point_cast<std::chrono::system_clock::duration>(next);
    cv_.wait_until(l, deadline);
    if (stop_) return;
  }
}

void RuleManager::WorkerLoop() {
  while (true) {
    std::function<void()> work;
    {
      std::unique_lock l(mu_);
      work_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) {
        // Evaluations not started yet are dropped: a stop must not wait for a whole cycle.
        running_ -= static_cast<int>(queue_.size());
        queue_.clear();
        if (running_ == 0) idle_cv_.notify_all();
        return;
      }
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

Status RuleManager::Update(const std::vector<config::RuleGroup>& groups,
                           const ManagerOptions& opts) {
  std::lock_guard ul(update_mu_);
  auto built = Build(groups, opts.default_interval);
  if (!built.ok()) return built.status();
  // The groups replaced by an earlier Update that was never committed are dropped first, so
  // at most one set of old groups is ever kept.
  previous_groups_.clear();
  Status st = Swap(std::move(*built), opts, &previous_groups_, &previous_opts_);
  has_previous_ = true;
  return st;
}

Status RuleManager::RevertUpdate() {
  std::lock_guard ul(update_mu_);
  if (!has_previous_) return Status::Ok();
  has_previous_ = false;
  auto groups = std::move(previous_groups_);
  previous_groups_.clear();
  std::vector<std::shared_ptr<Group>> replaced;
  ManagerOptions replaced_opts;
  return Swap(std::move(groups), previous_opts_, &replaced, &replaced_opts);
}

void RuleManager::CommitUpdate() {
  std::vector<std::shared_ptr<Group>> drop;
  {
    std::lock_guard ul(update_mu_);
    has_previous_ = false;
    drop = std::move(previous_groups_);
    previous_groups_.clear();
  }
  drop.clear();
  ReleaseFreeMemory();
}

Status RuleManager::Swap(std::vector<std::shared_ptr<Group>> built, const ManagerOptions& opts,
                         std::vector<std::shared_ptr<Group>>* replaced,
                         ManagerOptions* replaced_opts) {
  std::unique_lock l(mu_);
  paused_ = true;
  abandon_ = true;  // the reload waits for one query at most, not for whole groups
  WakeRetrySleepers();
  idle_cv_.wait(l, [&] { return running_ == 0; });
  abandon_ = stop_;
  std::map<std::string, Slot*> old;
  for (auto& s : slots_) {
    s.group->ResetMatching();
    old[s.group->key()] = &s;
  }
  for (auto& g : built) g->ResetMatching();
  // The same group first; then what is left, from any old group (renamed or moved).
  for (auto& g : built) {
    auto it = old.find(g->key());
    if (it == old.end()) continue;
    g->CopyStateFrom(*it->second->group);
    g->CopyMetricsFrom(*it->second->group);
  }
  std::vector<Group*> moved;
  for (auto& g : built) {
    size_t n = 0;
    for (auto& s : slots_) n += g->CopyStateFrom(*s.group);
    if (n > 0) moved.push_back(g.get());
  }
  std::vector<Slot> next_slots;
  std::vector<std::string> keys;
  const Time now = deps_.clock->Now();
  for (auto& g : built) {
    Slot s;
    auto it = old.find(g->key());
    if (it != old.end()) s.last_ts = it->second->last_ts;
    s.next = EvalTimestamp(now, g->interval(), g->hash()) + g->interval();
    keys.push_back(g->key());
    s.group = std::move(g);
    next_slots.push_back(std::move(s));
  }
  replaced->clear();
  replaced->reserve(slots_.size());
  for (auto& s : slots_) replaced->push_back(std::move(s.group));
  *replaced_opts = opts_;
  slots_ = std::move(next_slots);
  opts_.default_interval = opts.default_interval;
  opts_.external_labels = opts.external_labels;
  opts_.external_url = opts.external_url;
  opts_.resend_delay = opts.resend_delay;
  opts_.alert_relabel_configs = opts.alert_relabel_configs;
  opts_.for_grace_period = opts.for_grace_period;
  opts_.for_outage_tolerance = opts.for_outage_tolerance;
  // Rules that moved to another group keep their alerts across a crash before that group's
  // next evaluation too: written now, before their old group's state is dropped. (Still
  // paused: no evaluation writes the same groups meanwhile.)
  Status st = Status::Ok();
  if (deps_.state) {
    for (Group* g : moved) {
      Status ps = g->Persist(deps_.state);
      if (!ps.ok() && st.ok()) st = ps.WithPrefix("persisting rule state of " + g->key());
    }
  }
  paused_ = false;
  l.unlock();
  cv_.notify_all();
  if (deps_.state && st.ok()) st = deps_.state->RetainGroups(keys);
  ReleaseFreeMemory();
  return st;
}

std::vector<GroupSnapshot> RuleManager::Snapshot() const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard l(mu_);
    for (const auto& s : slots_) groups.push_back(s.group);
  }
  std::vector<GroupSnapshot> out;
  out.reserve(groups.size());
  for (const auto& g : groups) out.push_back(g->Snapshot());
  return out;
}

AlertCounts RuleManager::CountAlerts() const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard l(mu_);
    for (const auto& s : slots_) groups.push_back(s.group);
  }
  AlertCounts counts;
  for (const auto& g : groups) g->CountAlerts(&counts);
  return counts;
}

size_t RuleManager::group_count() const {
  std::lock_guard l(mu_);
  return slots_.size();
}

void RuleManager::AppendMetrics(std::string* out) const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard l(mu_);
    for (const auto& s : slots_) groups.push_back(s.group);
  }
  struct Row {
    std::string label;
    GroupMetrics m;
    Duration interval;
  };
  std::vector<Row> rows;
  uint64_t total_iterations = 0;
  double total_duration = 0;
  for (const auto& g : groups) {
    Row r{EscapeLabelValue(g->key()), g->Metrics(), g->interval()};
    total_iterations += r.m.iterations;
    total_duration += r.m.duration_sum_s;
    rows.push_back(std::move(r));
  }
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
    for (const auto& r : rows) {
      fmt::format_to(std::back_inserter(*out), "{}{{rule_group=\"{}\"}} {}\n", name, r.label,
                     FormatSampleValue(value(r)));
    }
  };
  family("prometheus_rule_evaluation_failures_total", "counter",
         "The total number of rule evaluation failures.",
         [](const Row& r) { return static_cast<double>(r.m.evaluation_failures); });
  family("prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations.",
         [](const Row& r) { return static_cast<double>(r.m.evaluations); });
  family("prometheus_rule_group_interval_seconds", "gauge",
         "The interval of a rule group.",
         [](const Row& r) { return std::chrono::duration<double>(r.interval).count(); });
  family("prometheus_rule_group_iterations_missed_total", "counter",
         "The total number of rule group evaluations missed due to slow rule group evaluation.",
         [](const Row& r) { return static_cast<double>(r.m.iterations_missed); });
  family("prometheus_rule_group_iterations_total", "counter",
         "The total number of scheduled rule group evaluations, whether executed or missed.",
         [](const Row& r) { return static_cast<double>(r.m.iterations + r.m.iterations_missed); });
  family("prometheus_rule_group_last_duration_seconds", "gauge",
         "The duration of the last rule group evaluation.",
         [](const Row& r) { return r.m.last_duration_s; });
  family("prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge",
         "The timestamp of the last rule group evaluation in seconds.",
         [](const Row& r) {
           return IsZero(r.m.last_evaluation_ts) ? 0.0 : ToUnixSeconds(r.m.last_evaluation_ts);
         });
  family("prometheus_rule_group_rules", "gauge", "The number of rules.",
         [](const Row& r) { return static_cast<double>(r.m.rules); });
  family("alertd_rule_query_retries_total", "counter",
         "Datasource queries of rule evaluations retried after a connection error, HTTP 5xx or "
         "429.",
         [](const Row& r) { return static_cast<double>(r.m.query_retries); });
  fmt::format_to(std::back_inserter(*out),
                 "# HELP prometheus_rule_group_duration_seconds The duration of rule group "
                 "evaluations.\n# TYPE prometheus_rule_group_duration_seconds summary\n"
                 "prometheus_rule_group_duration_seconds_sum {}\n"
                 "prometheus_rule_group_duration_seconds_count {}\n",
                 FormatSampleValue(total_duration), total_iterations);
}

}  // namespace alertd::rules_engine
