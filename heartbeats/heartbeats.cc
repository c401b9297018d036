#include "heartbeats/heartbeats.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/duration.h"
#include "core/metrics.h"

namespace alertd::heartbeats {

Monitor::Monitor(MonitorDeps deps) : deps_(std::move(deps)) {
  if (!deps_.work) {
    own_work_ = NewThreadPool(1);
    deps_.work = own_work_.get();
  }
}

Monitor::~Monitor() { Stop(); }

void Monitor::Stop() {
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (timer_) deps_.scheduler->Cancel(timer_);
    timer_ = 0;
  }
  // Checks queued on our own thread see stopped_ and return; the pool joins.
  own_work_.reset();
  std::lock_guard c(check_mu_);  // a check running on someone else's executor ends first
}

LabelSet Monitor::AlertLabels(const config::Heartbeat& hb) {
  LabelSet ls;
  for (const auto& [k, v] : hb.labels) ls.Set(k, v);
  ls.Set("alertname", std::string(kAlertName));
  ls.Set("heartbeat", hb.name);
  return ls;
}

bool Monitor::Owned(const std::string& name) const {
  return OwnsKey(deps_.ownership, "heartbeat/" + name);
}

Time Monitor::LateAt(const Entry& e) {
  const Time from = IsZero(e.st.last_ping) ? e.st.since : std::max(e.st.since, e.st.last_ping);
  return from + e.cfg.timeout;
}

Alert Monitor::MakeAlert(const Entry& e, Time now, bool firing) const {
  Alert a;
  a.labels = AlertLabels(e.cfg);
  if (e.cfg.annotations.empty()) {
    a.annotations.Set("summary", fmt::format("Heartbeat {} has had no ping for {}", e.cfg.name,
                                             FormatDuration(e.cfg.timeout)));
  } else {
    for (const auto& [k, v] : e.cfg.annotations) a.annotations.Set(k, v);
  }
  a.starts_at = LateAt(e);
  a.updated_at = now;
  // Kept alive by the refreshes while late; gone by itself a while after alertd stops.
  a.ends_at = firing ? now + 4 * kRefresh : now;
  return a;
}

void Monitor::TakeConfigLocked(const config::Config& cfg, Time now,
                               std::vector<HeartbeatState>* create, std::vector<Entry>* removed) {
  std::map<std::string, Entry> next;
  for (const auto& hb : cfg.heartbeats) {
    auto it = entries_.find(hb.name);
    Entry e;
    if (it != entries_.end()) {
      e = std::move(it->second);
      entries_.erase(it);
    } else {
      e.st.name = hb.name;
      e.st.since = now;
      create->push_back(e.st);
    }
    e.cfg = hb;
    next.emplace(hb.name, std::move(e));
  }
  for (auto& [name, e] : entries_) removed->push_back(std::move(e));
  entries_ = std::move(next);
}

void Monitor::Forget(const std::vector<Entry>& removed, Time now) {
  // Heartbeats no longer configured: their alert, if firing, resolves. (The alert store is
  // not asked under mu_: its listener, Observe, takes mu_.)
  std::vector<Alert> resolve;
  for (const auto& e : removed) {
    auto cur = deps_.lookup ? deps_.lookup(AlertLabels(e.cfg).Fingerprint()) : nullptr;
    if (cur && !cur->ResolvedAt(now) && Owned(e.cfg.name)) resolve.push_back(MakeAlert(e, now, false));
  }
  if (!resolve.empty() && deps_.put_alerts) deps_.put_alerts(std::move(resolve));
}

void Monitor::MergeStoredLocked(const std::vector<HeartbeatState>& rows) {
  for (const auto& r : rows) {
    auto it = entries_.find(r.name);
    if (it == entries_.end()) continue;
    HeartbeatState& st = it->second.st;
    if (!IsZero(r.since) && (IsZero(st.since) || r.since < st.since)) st.since = r.since;
    if (r.last_ping > st.last_ping) {
      st.last_ping = r.last_ping;
      st.message = r.message;
      st.source = r.source;
    }
    it->second.persisted_ping = std::max(it->second.persisted_ping, r.last_ping);
  }
}

Status Monitor::Start(const config::Config& cfg) {
  std::vector<HeartbeatState> rows;
  if (deps_.store) {
    auto loaded = deps_.store->LoadHeartbeats();
    if (!loaded.ok()) return loaded.status().WithPrefix("loading heartbeats");
    rows = std::move(*loaded);
  }
  std::vector<HeartbeatState> create;
  std::vector<Entry> removed;
  Time now;
  {
    std::lock_guard l(mu_);
    now = deps_.clock->Now();
    // Stored heartbeats keep their clock: known before the configuration is taken.
    for (const auto& r : rows) {
      Entry e;
      e.st = r;
      e.persisted_ping = r.last_ping;
      entries_.emplace(r.name, std::move(e));
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      // A stored heartbeat no longer configured is left alone (its row is kept, so putting it
      // back later keeps its clock); only configured ones are watched.
      if (!cfg.FindHeartbeat(it->first)) {
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    TakeConfigLocked(cfg, now, &create, &removed);
    ArmLocked(now);  // what became late while alertd was down is raised at once
  }
  for (auto& st : create) {
    if (deps_.store) deps_.store->PutHeartbeat(std::move(st));
  }
  Forget(removed, now);
  return Status::Ok();
}

void Monitor::ApplyConfig(const config::Config& cfg) {
  std::vector<HeartbeatState> create;
  std::vector<Entry> removed;
  Time now;
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
    now = deps_.clock->Now();
    TakeConfigLocked(cfg, now, &create, &removed);
    ArmLocked(now);
  }
  for (auto& st : create) {
    if (deps_.store) deps_.store->PutHeartbeat(std::move(st));
  }
  Forget(removed, now);
}

Status Monitor::Ping(const std::string& name, std::string message) {
  HeartbeatState st;
  Entry copy;
  Time now;
  {
    std::lock_guard l(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return Status::NotFound("no heartbeat named \"" + name + "\"");
    now = deps_.clock->Now();
    Entry& e = it->second;
    e.st.last_ping = std::max(e.st.last_ping, now);
    e.st.message = std::move(message);
    e.st.source = "api";
    ++e.api_pings;
    st = e.st;
    copy = e;
  }
  Status persisted = Status::Ok();
  if (deps_.store) {
    persisted = AwaitStore([&](StoreDone d) { deps_.store->PutHeartbeat(st, std::move(d)); });
    if (persisted.ok()) {
      std::lock_guard l(mu_);
      if (auto it = entries_.find(name); it != entries_.end()) {
        it->second.persisted_ping = std::max(it->second.persisted_ping, st.last_ping);
      }
    }
  }
  // Resolved here at once, whichever node owns the heartbeat (the owner reads this ping before
  // it decides again).
  auto cur = deps_.lookup ? deps_.lookup(AlertLabels(copy.cfg).Fingerprint()) : nullptr;
  if (cur && !cur->ResolvedAt(now) && deps_.put_alerts) {
    spdlog::info("heartbeat {}: pinged, HeartbeatMissing resolved", name);
    deps_.put_alerts({MakeAlert(copy, now, false)});
  }
  if (!persisted.ok()) {
    return Status::Unavailable("the ping counts, but could not be stored: " + persisted.message());
  }
  return Status::Ok();
}

void Monitor::Observe(const std::vector<std::shared_ptr<const Alert>>& changed) {
  std::vector<HeartbeatState> persist;
  bool resolve = false;
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
    bool any = false;
    for (const auto& [name, e] : entries_) any |= !e.cfg.alert_matchers.empty();
    if (!any) return;
    const Time now = deps_.clock->Now();
    for (const auto& a : changed) {
      if (a->ResolvedAt(now)) continue;
      if (a->labels.Get("alertname") == kAlertName && !a->labels.Get("heartbeat").empty()) continue;
      for (auto& [name, e] : entries_) {
        if (e.cfg.alert_matchers.empty() || !MatchesAll(e.cfg.alert_matchers, a->labels)) continue;
        if (LateAt(e) <= now) resolve = true;
        e.st.last_ping = std::max(e.st.last_ping, now);
        e.st.source = a->labels.FingerprintHex();
        e.st.message.clear();
        ++e.alert_pings;
        if (deps_.store && Owned(name) &&
            (IsZero(e.persisted_ping) || e.st.last_ping - e.persisted_ping >= kPersistEvery)) {
          e.persisted_ping = e.st.last_ping;
          persist.push_back(e.st);
        }
      }
    }
    // A late heartbeat pinged: the check resolves its alert (not from here: this runs on the
    // alert store's writer, which the alert write would wait for).
    if (resolve) ArmLocked(now);
  }
  for (auto& st : persist) deps_.store->PutHeartbeat(std::move(st));
}

void Monitor::CheckSoon() {
  std::lock_guard l(mu_);
  ArmLocked(deps_.clock->Now());
}

void Monitor::ArmLocked(Time when) {
  if (stopped_) return;
  if (timer_ && timer_at_ <= when) return;  // an earlier check arms the next one
  if (timer_) deps_.scheduler->Cancel(timer_);
  timer_at_ = when;
  timer_ = deps_.scheduler->Schedule(when, [this] {
    {
      std::lock_guard l(mu_);
      timer_ = 0;
      if (stopped_) return;
    }
    deps_.work->Post([this] { Check(); });
  });
}

void Monitor::Check() {
  std::lock_guard c(check_mu_);
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
  }
  // Replicas: pings through the API may have reached another node.
  if (deps_.ownership && deps_.store) {
    auto rows = deps_.store->LoadHeartbeats();
    if (rows.ok()) {
      std::lock_guard l(mu_);
      MergeStoredLocked(*rows);
    } else {
      spdlog::warn("heartbeats: reading the stored pings: {}", rows.status().message());
    }
  }
  std::vector<Entry> owned;
  Time now;
  {
    std::lock_guard l(mu_);
    if (stopped_) return;
    now = deps_.clock->Now();
    for (const auto& [name, e] : entries_) {
      if (Owned(name)) owned.push_back(e);
    }
  }
  // The alert store is asked outside mu_ (its listener, Observe, takes mu_).
  std::vector<Alert> out;
  Time next = Time::max();
  for (const auto& e : owned) {
    const Time late_at = LateAt(e);
    const auto cur = deps_.lookup ? deps_.lookup(AlertLabels(e.cfg).Fingerprint()) : nullptr;
    const bool firing = cur && !cur->ResolvedAt(now);
    if (late_at <= now) {
      if (!firing) {
        spdlog::warn("heartbeat {}: no ping for {}: HeartbeatMissing raised", e.cfg.name,
                     FormatDuration(e.cfg.timeout));
      }
      out.push_back(MakeAlert(e, now, true));
      next = std::min(next, now + kRefresh);
    } else {
      if (firing) out.push_back(MakeAlert(e, now, false));
      next = std::min(next, late_at);
    }
  }
  // Replicas: shards move; look again at least every refresh.
  if (deps_.ownership) next = std::min(next, now + kRefresh);
  if (next != Time::max()) {
    std::lock_guard l(mu_);
    ArmLocked(next);
  }
  if (!out.empty() && deps_.put_alerts) deps_.put_alerts(std::move(out));
}

std::vector<HeartbeatView> Monitor::List() {
  if (deps_.ownership && deps_.store) {
    if (auto rows = deps_.store->LoadHeartbeats(); rows.ok()) {
      std::lock_guard l(mu_);
      MergeStoredLocked(*rows);
    }
  }
  std::lock_guard l(mu_);
  const Time now = deps_.clock->Now();
  std::vector<HeartbeatView> out;
  for (const auto& [name, e] : entries_) {
    HeartbeatView v;
    v.name = name;
    v.timeout = e.cfg.timeout;
    v.since = e.st.since;
    v.last_ping = e.st.last_ping;
    v.message = e.st.message;
    v.source = e.st.source;
    v.late_at = LateAt(e);
    v.late = v.late_at <= now;
    for (const auto& m : e.cfg.alert_matchers) v.alert_matchers.push_back(m.String());
    out.push_back(std::move(v));
  }
  return out;
}

void Monitor::AppendMetrics(std::string* out) const {
  std::lock_guard l(mu_);
  if (entries_.empty()) return;
  const Time now = deps_.clock->Now();
  auto family = [&](const char* name, const char* type, const char* help, auto row) {
    fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
    for (const auto& [hb, e] : entries_) row(hb, e);
  };
  family("alertd_heartbeat_last_ping_timestamp_seconds", "gauge",
         "When the heartbeat was last pinged (0: never).",
         [&](const std::string& hb, const Entry& e) {
           fmt::format_to(std::back_inserter(*out), "alertd_heartbeat_last_ping_timestamp_seconds"
                          "{{heartbeat=\"{}\"}} {}\n", EscapeLabelValue(hb),
                          IsZero(e.st.last_ping) ? 0.0 : ToUnixSeconds(e.st.last_ping));
         });
  family("alertd_heartbeat_late", "gauge", "1 while the heartbeat is late, else 0.",
         [&](const std::string& hb, const Entry& e) {
           fmt::format_to(std::back_inserter(*out), "alertd_heartbeat_late{{heartbeat=\"{}\"}} {}\n",
                          EscapeLabelValue(hb), LateAt(e) <= now ? 1 : 0);
         });
  family("alertd_heartbeat_pings_total", "counter", "Pings received, by how they came.",
         [&](const std::string& hb, const Entry& e) {
           for (const auto& [how, n] : {std::pair<const char*, uint64_t>{"api", e.api_pings},
                                        std::pair<const char*, uint64_t>{"alert", e.alert_pings}}) {
             fmt::format_to(std::back_inserter(*out),
                            "alertd_heartbeat_pings_total{{heartbeat=\"{}\",source=\"{}\"}} {}\n",
                            EscapeLabelValue(hb), how, n);
           }
         });
}

}  // namespace alertd::heartbeats
