#include "app/migrate.h"

#include <fmt/format.h>

#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <vector>

#include "core/clock.h"

namespace alertd::app {
namespace {

// Collects the outcomes of many asynchronous store writes: Add() gives each write its `done`,
// Wait() returns once all have run, with the first error.
class Outcomes {
 public:
  StoreDone Add() {
    std::lock_guard l(mu_);
    ++outstanding_;
    return [this](Status s) {
      std::lock_guard l(mu_);
      if (!s.ok() && first_error_.ok()) first_error_ = std::move(s);
      if (--outstanding_ == 0) cv_.notify_all();
    };
  }
  Status Wait() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return outstanding_ == 0; });
    return first_error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t outstanding_ = 0;
  Status first_error_ = Status::Ok();
};

// Alerts per Put: the store's pending queue stays far below its bound.
constexpr size_t kAlertsPerPut = 10000;

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

bool IsPostgres(const std::string& where) {
  return where.starts_with("postgres://") || where.starts_with("postgresql://") ||
         where.find('=') != std::string::npos;
}

// Opens one end, under the lock a running alertd holds.
Result<State> OpenEnd(const std::string& where, const std::string& password_file,
                      const Clock* clock) {
  config::StorageConfig storage;
  if (IsPostgres(where)) {
    storage.postgres.dsn = where;
    storage.postgres.password_file = password_file;
  } else {
    storage.path = where;
  }
  // Resolved alerts are kept whatever their age: the daemon applies its own retention later.
  storage.retention = std::chrono::hours(24 * 365 * 100);
  return OpenState(storage, clock, nullptr);
}

}  // namespace

bool StateCounts::empty() const { return *this == StateCounts{}; }

std::string StateCounts::Summary() const {
  return fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {}", Plural(alerts, "alert", "alerts"),
                     Plural(rule_alerts, "rule alert", "rule alerts"),
                     Plural(silences, "silence", "silences"),
                     Plural(nflog, "notification log entry", "notification log entries"),
                     Plural(acks, "ack", "acks"), Plural(escalations, "escalation", "escalations"),
                     Plural(group_timers, "group timer", "group timers"),
                     Plural(heartbeats, "heartbeat", "heartbeats"),
                     Plural(overrides, "schedule override", "schedule overrides"));
}

Result<StateCounts> CountState(State& state, Time now) {
  StateCounts c;
  c.alerts = state.alerts->Size();
  auto rules = state.open_rule_state();
  if (!rules.ok()) return rules.status();
  auto rule_alerts = (*rules)->LoadAll();
  if (!rule_alerts.ok()) return rule_alerts.status();
  c.rule_alerts = rule_alerts->size();
  auto& r = *state.router;
  auto silences = r.LoadSilences();
  if (!silences.ok()) return silences.status();
  c.silences = silences->size();
  auto nflog = r.LoadNflog(now);
  if (!nflog.ok()) return nflog.status();
  c.nflog = nflog->size();
  auto acks = r.LoadAcks();
  if (!acks.ok()) return acks.status();
  c.acks = acks->size();
  auto escalations = r.LoadEscalations();
  if (!escalations.ok()) return escalations.status();
  c.escalations = escalations->size();
  auto timers = r.LoadGroupTimers();
  if (!timers.ok()) return timers.status();
  c.group_timers = timers->size();
  auto heartbeats = r.LoadHeartbeats();
  if (!heartbeats.ok()) return heartbeats.status();
  c.heartbeats = heartbeats->size();
  auto overrides = r.LoadOverrides();
  if (!overrides.ok()) return overrides.status();
  c.overrides = overrides->size();
  return c;
}

Result<StateCounts> CopyState(State& from, State& to, Time now) {
  auto held = CountState(to, now);
  if (!held.ok()) return held.status().WithPrefix("target");
  if (!held->empty()) {
    return Status::Conflict(
        "the target already holds state (" + held->Summary() +
        "); migrate into an empty database");
  }
  StateCounts copied;

  // Alerts: stored as they are (merging into an empty store keeps each alert unchanged).
  const auto alerts = from.alerts->List();
  for (size_t start = 0; start < alerts.size(); start += kAlertsPerPut) {
    std::vector<Alert> batch;
    for (size_t i = start; i < std::min(alerts.size(), start + kAlertsPerPut); ++i) {
      batch.push_back(*alerts[i]);
    }
    if (Status s = to.alerts->Put(std::move(batch)); !s.ok()) return s.WithPrefix("alerts");
  }
  copied.alerts = alerts.size();

  // Rule state, one group per transaction.
  {
    auto src = from.open_rule_state();
    if (!src.ok()) return src.status();
    auto dst = to.open_rule_state();
    if (!dst.ok()) return dst.status();
    auto records = (*src)->LoadAll();
    if (!records.ok()) return records.status().WithPrefix("rule state");
    std::map<std::string, std::vector<RuleAlertRecord>> groups;
    for (auto& rec : *records) groups[rec.group_key].push_back(std::move(rec));
    for (const auto& [key, recs] : groups) {
      if (Status s = (*dst)->ReplaceGroup(key, recs); !s.ok()) return s.WithPrefix("rule state");
      copied.rule_alerts += recs.size();
    }
    // The groups' last evaluation times, which restoring `for` measures the downtime from.
    auto evaluated = (*src)->LoadGroupEvaluations();
    if (!evaluated.ok()) return evaluated.status().WithPrefix("rule state");
    for (const auto& [key, ts] : *evaluated) {
      if (Status s = (*dst)->SetGroupEvaluated(key, ts); !s.ok()) {
        return s.WithPrefix("rule state");
      }
    }
  }

  // The router's stores: every write queued, then waited for together (they commit in order).
  auto& src = *from.router;
  auto& dst = *to.router;
  auto silences = src.LoadSilences();
  if (!silences.ok()) return silences.status().WithPrefix("silences");
  auto nflog = src.LoadNflog(now);
  if (!nflog.ok()) return nflog.status().WithPrefix("notification log");
  auto acks = src.LoadAcks();
  if (!acks.ok()) return acks.status().WithPrefix("acks");
  auto escalations = src.LoadEscalations();
  if (!escalations.ok()) return escalations.status().WithPrefix("escalations");
  auto timers = src.LoadGroupTimers();
  if (!timers.ok()) return timers.status().WithPrefix("group timers");
  auto heartbeats = src.LoadHeartbeats();
  if (!heartbeats.ok()) return heartbeats.status().WithPrefix("heartbeats");
  auto overrides = src.LoadOverrides();
  if (!overrides.ok()) return overrides.status().WithPrefix("schedule overrides");
  copied.silences = silences->size();
  copied.nflog = nflog->size();
  copied.acks = acks->size();
  copied.escalations = escalations->size();
  copied.group_timers = timers->size();
  copied.heartbeats = heartbeats->size();
  copied.overrides = overrides->size();
  Outcomes outcomes;
  dst.PutSilences(std::move(*silences), outcomes.Add());
  for (auto& [key, entry] : *nflog) dst.PutNflog(std::move(key), std::move(entry), outcomes.Add());
  dst.PutAcks(std::move(*acks), outcomes.Add());
  for (auto& e : *escalations) dst.PutEscalation(std::move(e), outcomes.Add());
  for (auto& t : *timers) dst.PutGroupTimer(std::move(t), outcomes.Add());
  for (auto& h : *heartbeats) dst.PutHeartbeat(std::move(h), outcomes.Add());
  for (auto& o : *overrides) dst.PutOverride(std::move(o), outcomes.Add());
  if (Status s = outcomes.Wait(); !s.ok()) return s;

  auto now_held = CountState(to, now);
  if (!now_held.ok()) return now_held.status().WithPrefix("target");
  if (!(*now_held == copied)) {
    return Status::Internal("the target holds " + now_held->Summary() + " after copying " +
                            copied.Summary());
  }
  return copied;
}

int RunMigrate(const MigrateOptions& opts) {
  SystemClock clock;
  auto describe = [](const std::string& where) {
    return IsPostgres(where) ? std::string("PostgreSQL") : where;  // a DSN may hold a password
  };
  auto from = OpenEnd(opts.from, opts.from_password_file, &clock);
  if (!from.ok()) {
    std::cerr << "alertd migrate: --from " << describe(opts.from) << ": "
              << from.status().message() << "\n";
    return 1;
  }
  auto to = OpenEnd(opts.to, opts.to_password_file, &clock);
  if (!to.ok()) {
    std::cerr << "alertd migrate: --to " << describe(opts.to) << ": " << to.status().message()
              << "\n";
    return 1;
  }
  auto copied = CopyState(*from, *to, clock.Now());
  from->alerts->Close();
  from->router->Close();
  to->alerts->Close();
  to->router->Close();
  if (!copied.ok()) {
    std::cerr << "alertd migrate: " << copied.status().message() << "\n";
    return 1;
  }
  std::cout << "alertd migrate: copied " << copied->Summary() << " from " << describe(opts.from)
            << " to " << describe(opts.to) << "\n";
  return 0;
}

}  // namespace alertd::app
