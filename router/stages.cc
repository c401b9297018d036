#include "router/stages.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "router/acks.h"
#include "router/escalation.h"
#include "router/route.h"

namespace alertd::router {
namespace {

// A stage that keeps the alerts `muted` says no to.
template <typename Fn>
void Filter(Alerts& alerts, Fn muted) {
  alerts.erase(std::remove_if(alerts.begin(), alerts.end(), muted), alerts.end());
}

class InhibitStage final : public Stage {
 public:
  InhibitStage(const Inhibitor* ih, storage::HistoryRecorder* history)
      : ih_(ih), history_(history) {}
  std::string_view name() const override { return "inhibit"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    Filter(alerts, [&](const AlertPtr& a) {
      const auto by = ih_->InhibitedBy(a->labels, ctx.now);
      if (history_ && !a->ResolvedAt(ctx.now)) history_->Inhibited(a->Fingerprint(), by, ctx.now);
      return by.has_value();
    });
    return Status::Ok();
  }

 private:
  const Inhibitor* ih_;
  storage::HistoryRecorder* history_;
};

class TimeActiveStage final : public Stage {
 public:
  explicit TimeActiveStage(const TimeIntervals* ti) : ti_(ti) {}
  std::string_view name() const override { return "time_active"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    const auto& names = ctx.route->config->active_time_intervals;
    if (names.empty()) return Status::Ok();
    if (ti_->Active(names, ctx.now).empty()) alerts.clear();
    return Status::Ok();
  }

 private:
  const TimeIntervals* ti_;
};

class TimeMuteStage final : public Stage {
 public:
  explicit TimeMuteStage(const TimeIntervals* ti) : ti_(ti) {}
  std::string_view name() const override { return "time_mute"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    const auto& names = ctx.route->config->mute_time_intervals;
    if (!names.empty() && !ti_->Active(names, ctx.now).empty()) alerts.clear();
    return Status::Ok();
  }

 private:
  const TimeIntervals* ti_;
};

class SilenceStage final : public Stage {
 public:
  SilenceStage(const Silences* s, storage::HistoryRecorder* history) : s_(s), history_(history) {}
  std::string_view name() const override { return "silence"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    Filter(alerts, [&](const AlertPtr& a) {
      std::vector<std::string> ids = s_->Mutes(a->labels, ctx.now);
      if (history_ && !a->ResolvedAt(ctx.now)) {
        std::sort(ids.begin(), ids.end());
        history_->Silenced(a->Fingerprint(), ids, ctx.now, [this](const std::string& id) {
          std::optional<storage::HistoryRecorder::SilenceInfo> info;
          if (auto sil = s_->Get(id)) {
            info = storage::HistoryRecorder::SilenceInfo{sil->created_by, sil->comment};
          }
          return info;
        });
      }
      return !ids.empty();
    });
    return Status::Ok();
  }

 private:
  const Silences* s_;
  storage::HistoryRecorder* history_;
};

class AcknowledgedStage final : public Stage {
 public:
  explicit AcknowledgedStage(const Acknowledgements* acks) : acks_(acks) {}
  std::string_view name() const override { return "acknowledged"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    ctx.acknowledged.clear();
    ctx.acknowledged_alerts.clear();
    Filter(alerts, [&](const AlertPtr& a) {
      if (a->ResolvedAt(ctx.now) || !acks_->CoveringAck(*a, ctx.now)) return false;
      ctx.acknowledged.push_back(a->Fingerprint());
      ctx.acknowledged_alerts.push_back(a);
      return true;
    });
    std::sort(ctx.acknowledged.begin(), ctx.acknowledged.end());
    return Status::Ok();
  }

 private:
  const Acknowledgements* acks_;
};

// Whether sorted `a` and sorted `b` share an element.
bool Intersects(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

// Merges sorted `extra` into sorted `v`.
void MergeSorted(std::vector<uint64_t>& v, const std::vector<uint64_t>& extra) {
  if (extra.empty()) return;
  std::vector<uint64_t> out;
  out.reserve(v.size() + extra.size());
  std::set_union(v.begin(), v.end(), extra.begin(), extra.end(), std::back_inserter(out));
  v = std::move(out);
}

class DedupStage final : public Stage {
 public:
  DedupStage(const NotificationLog* nflog, const Clock* clock) : nflog_(nflog), clock_(clock) {}
  std::string_view name() const override { return "dedup"; }

  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    ctx.firing.clear();
    ctx.resolved.clear();
    for (const auto& a : alerts) {
      (a->ResolvedAt(ctx.now) ? ctx.resolved : ctx.firing).push_back(a->Fingerprint());
    }
    std::sort(ctx.firing.begin(), ctx.firing.end());
    std::sort(ctx.resolved.begin(), ctx.resolved.end());
    // Acknowledged alerts are not sent, but the log keeps them firing until they resolve.
    MergeSorted(ctx.firing, ctx.acknowledged);
    const auto entry = nflog_->Query(ctx.nflog_key);
    const bool send_resolved = ctx.integration->notifier->send_resolved();
    const Duration repeat = ctx.route->config->repeat_interval;
    std::string reason;
    if (!entry) {
      if (!ctx.firing.empty()) reason = "first notification";
    } else if (!entry->IsFiringSubset(ctx.firing)) {
      reason = "new alerts added";
    } else if (ctx.firing.empty()) {
      // Sent even without send_resolved, so the log forgets the firing alerts.
      if (!entry->firing.empty()) reason = "all alerts resolved";
    } else if (send_resolved && !entry->IsResolvedSubset(ctx.resolved)) {
      reason = "some alerts resolved";
    } else if (entry->logged_at < clock_->Now() - repeat) {
      // Against the time the stage runs, as Alertmanager's DedupStage (n.now()), not the
      // flush time: a flush that waited behind others still repeats when it is due.
      reason = "repeat interval elapsed";
    }
    // An acknowledgement of an alert this integration was told of ended while it fires:
    // the receiver hears it again now (PagerDuty gets a new trigger).
    if (!ctx.forced_reason.empty() && entry && !ctx.firing.empty() &&
        Intersects(entry->firing, ctx.forced)) {
      reason = ctx.forced_reason;
    }
    if (reason.empty()) {
      alerts.clear();
    } else {
      ctx.notification_reason = std::move(reason);
    }
    return Status::Ok();
  }

 private:
  const NotificationLog* nflog_;
  const Clock* clock_;
};

class RetryStage final : public Stage {
 public:
  explicit RetryStage(RetryOptions o) : o_(std::move(o)) {}
  std::string_view name() const override { return "retry"; }

  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    auto* notifier = ctx.integration->notifier.get();
    notifiers::Notification n;
    if (ctx.kind != notifiers::EventKind::kAlerts || notifier->send_resolved()) {
      n.alerts = alerts;
    } else {
      if (ctx.firing.empty()) return Status::Ok();  // logged, not sent
      for (const auto& a : alerts) {
        if (!a->ResolvedAt(ctx.now)) n.alerts.push_back(a);
      }
    }
    // Only acknowledged alerts still fire: nothing to say (the log is still written).
    if (n.alerts.empty()) return Status::Ok();
    // The acknowledged alerts this receiver was told of still fire: they are left out of
    // the list, not out of the group's status.
    for (const auto& a : ctx.acknowledged_alerts) {
      if (std::binary_search(ctx.firing.begin(), ctx.firing.end(), a->Fingerprint())) {
        n.acknowledged.push_back(a);
      }
    }
    n.kind = ctx.kind;
    n.acknowledged_by = ctx.acknowledged_by;
    n.ack_comment = ctx.ack_comment;
    n.receiver = ctx.receiver;
    n.group_key = ctx.group_key;
    n.group_labels = ctx.group_labels;
    n.now = ctx.now;
    n.notification_reason = ctx.notification_reason;
    n.external_url = o_.external_url;
    n.on_call = ctx.on_call;
    // The flush deadline on the clock requests are timed with: an attempt in flight is cut
    // off then, as Alertmanager's notify context is cancelled.
    n.deadline = std::chrono::steady_clock::now() + (ctx.deadline - o_.clock->Now());

    thread_local std::mt19937_64 rng{std::random_device{}()};
    Duration wait = o_.initial_interval;
    Status last;
    for (int attempt = 1;; ++attempt) {
      if (o_.clock->Now() >= ctx.deadline) {
        return Status::Timeout(fmt::format("{}: notify retry canceled after {} attempts: {}",
                                           ctx.nflog_key.String(), attempt - 1,
                                           last.ok() ? "deadline exceeded" : last.message()));
      }
      if (o_.ownership && !o_.ownership->FenceSend(ShardOf(ctx.group_key))) {
        spdlog::info("{}: not sent: this node no longer owns the group", ctx.nflog_key.String());
        alerts.clear();  // nothing is logged: the notification log stays the owner's
        return Status::Ok();
      }
      const Time started = o_.clock->Now();
      const auto t0 = std::chrono::steady_clock::now();
      auto r = notifier->Notify(n);
      const auto took = std::chrono::steady_clock::now() - t0;
      if (r.status.ok()) {
        Record(ctx, n, attempt, started, took, r, "sent");
        return Status::Ok();
      }
      last = r.status;
      if (!r.retryable) {
        Record(ctx, n, attempt, started, took, r, "gave_up");
        return r.status.WithPrefix(
            fmt::format("{}: notify retry canceled due to unrecoverable error after {} attempts",
                        ctx.nflog_key.String(), attempt));
      }
      std::uniform_real_distribution<double> jitter(1 - o_.randomization, 1 + o_.randomization);
      Duration d = std::chrono::duration_cast<Duration>(wait * jitter(rng));
      const Duration left = ctx.deadline - o_.clock->Now();
      // No attempt fits before the deadline: this one was the last.
      Record(ctx, n, attempt, started, took, r, d < left ? "failed" : "gave_up");
      spdlog::debug("{}: attempt {} failed, will retry: {}", ctx.nflog_key.String(), attempt,
                    r.status.message());
      if (d > left) d = left;
      if (d > Duration::zero() && !o_.sleep(d)) {
        return Status::Unavailable(ctx.nflog_key.String() + ": shutting down");
      }
      wait = std::min(std::chrono::duration_cast<Duration>(wait * o_.multiplier), o_.max_interval);
    }
  }

 private:
  // One attempt into the history; `outcome` "gave_up" when no attempt follows (not retryable,
  // or no back-off fits before the flush's deadline).
  void Record(const FlushContext& ctx, const notifiers::Notification& n, int attempt, Time started,
              std::chrono::steady_clock::duration took, const notifiers::NotifyResult& r,
              const char* outcome) const {
    if (o_.history == nullptr) return;
    NotificationRecord rec;
    rec.at = started;
    rec.receiver = ctx.receiver;
    rec.integration = ctx.nflog_key.integration;
    rec.index = ctx.nflog_key.index;
    rec.group_key = ctx.group_key;
    rec.kind = ctx.kind == notifiers::EventKind::kAcknowledge ? "acknowledge"
               : ctx.escalation_step >= 0                     ? "step"
                                                              : "alerts";
    rec.reason = ctx.escalation_step >= 0
                     ? fmt::format("escalation step {}", ctx.escalation_step + 1)
                     : ctx.notification_reason;
    rec.alerts.reserve(n.alerts.size());
    for (const auto& a : n.alerts) {
      rec.alerts.push_back(NotifiedAlert{a->Fingerprint(), !a->ResolvedAt(ctx.now)});
    }
    std::sort(rec.alerts.begin(), rec.alerts.end(),
              [](const NotifiedAlert& a, const NotifiedAlert& b) {
                return a.fingerprint < b.fingerprint;
              });
    rec.attempt = attempt;
    rec.code = r.http_status;
    rec.outcome = outcome;
    if (!r.status.ok()) rec.error = r.status.message();
    rec.latency = std::chrono::duration_cast<Duration>(took);
    o_.history->Notification(std::move(rec));
  }

  RetryOptions o_;
};

class SetNotifiesStage final : public Stage {
 public:
  SetNotifiesStage(NotificationLog* nflog, const Clock* clock, Duration retention)
      : nflog_(nflog), clock_(clock), retention_(retention) {}
  std::string_view name() const override { return "set_notifies"; }
  Status Exec(FlushContext& ctx, Alerts&) override {
    nflog_->Log(ctx.nflog_key, ctx.firing, ctx.resolved, clock_->Now(), retention_);
    return Status::Ok();
  }

 private:
  NotificationLog* nflog_;
  const Clock* clock_;
  Duration retention_;
};

class EscalationStage final : public Stage {
 public:
  explicit EscalationStage(Escalations* e) : e_(e) {}
  std::string_view name() const override { return "escalation"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    const std::string& policy = ctx.route->config->escalation;
    if (policy.empty()) return Status::Ok();
    const bool firing = std::any_of(alerts.begin(), alerts.end(),
                                    [&](const AlertPtr& a) { return !a->ResolvedAt(ctx.now); });
    if (firing) e_->Start(ctx.route->key, ctx.group_key, policy, ctx.now);
    return Status::Ok();
  }

 private:
  Escalations* e_;
};

class EscalationResolveStage final : public Stage {
 public:
  explicit EscalationResolveStage(const NotificationLog* nflog) : nflog_(nflog) {}
  std::string_view name() const override { return "escalation_resolve"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    const auto entry = nflog_->Query(ctx.nflog_key);
    if (!entry || entry->firing.empty()) {
      alerts.clear();
      return Status::Ok();
    }
    ctx.firing.clear();
    ctx.resolved.clear();
    Filter(alerts, [&](const AlertPtr& a) {
      const uint64_t fp = a->Fingerprint();
      if (!std::binary_search(entry->firing.begin(), entry->firing.end(), fp)) return true;
      (a->ResolvedAt(ctx.now) ? ctx.resolved : ctx.firing).push_back(fp);
      return false;
    });
    for (uint64_t fp : ctx.acknowledged) {
      if (std::binary_search(entry->firing.begin(), entry->firing.end(), fp)) {
        ctx.firing.push_back(fp);
      }
    }
    std::sort(ctx.firing.begin(), ctx.firing.end());
    std::sort(ctx.resolved.begin(), ctx.resolved.end());
    // A step told this receiver of an alert whose acknowledgement just ended: it hears again.
    if (!ctx.forced_reason.empty() && !ctx.firing.empty() &&
        Intersects(entry->firing, ctx.forced)) {
      ctx.notification_reason = ctx.forced_reason;
      return Status::Ok();
    }
    if (ctx.resolved.empty()) {
      alerts.clear();
      return Status::Ok();
    }
    ctx.notification_reason = ctx.firing.empty() ? "all alerts resolved" : "some alerts resolved";
    // Without send_resolved there is nothing to tell: the step receiver is not repeated the
    // alerts still firing.
    if (!ctx.integration->notifier->send_resolved()) alerts.clear();
    return Status::Ok();
  }

 private:
  const NotificationLog* nflog_;
};

class EscalationStepStage final : public Stage {
 public:
  std::string_view name() const override { return "escalation_step"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    ctx.firing.clear();
    ctx.resolved.clear();
    for (const auto& a : alerts) ctx.firing.push_back(a->Fingerprint());
    std::sort(ctx.firing.begin(), ctx.firing.end());
    return Status::Ok();
  }
};

class AcknowledgeEventStage final : public Stage {
 public:
  explicit AcknowledgeEventStage(const NotificationLog* nflog) : nflog_(nflog) {}
  std::string_view name() const override { return "acknowledge_event"; }
  Status Exec(FlushContext& ctx, Alerts& alerts) override {
    const auto* notifier = ctx.integration->notifier.get();
    const bool pagerduty = notifier->integration() == "pagerduty";
    if (!notifier->wants_acknowledge() || (pagerduty && !ctx.group_acknowledged)) {
      alerts.clear();
      return Status::Ok();
    }
    const auto entry = nflog_->Query(ctx.nflog_key);
    const bool told =
        entry && std::any_of(alerts.begin(), alerts.end(), [&](const AlertPtr& a) {
          return std::binary_search(entry->firing.begin(), entry->firing.end(), a->Fingerprint());
        });
    if (!told) alerts.clear();
    return Status::Ok();
  }

 private:
  const NotificationLog* nflog_;
};

}  // namespace

bool LabelSetBefore(const LabelSet& a, const LabelSet& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  std::vector<std::string_view> names;
  for (const auto& l : a) names.push_back(l.name);
  for (const auto& l : b) names.push_back(l.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (auto n : names) {
    if (!a.Has(n)) return true;
    if (!b.Has(n)) return false;
    auto av = a.Get(n), bv = b.Get(n);
    if (av != bv) return av < bv;
  }
  return false;
}

void SortAlertsForPayload(Alerts& alerts) {
  std::stable_sort(alerts.begin(), alerts.end(), [](const AlertPtr& x, const AlertPtr& y) {
    for (std::string_view key : {"job", "instance"}) {
      const bool xo = x->labels.Has(key), yo = y->labels.Has(key);
      if (!xo && !yo) continue;
      if (!xo) return false;
      if (!yo) return true;
      auto xv = x->labels.Get(key), yv = y->labels.Get(key);
      if (xv != yv) return xv < yv;
    }
    return LabelSetBefore(x->labels, y->labels);
  });
}

StagePtr NewInhibitStage(const Inhibitor* inhibitor, storage::HistoryRecorder* history) {
  return std::make_unique<InhibitStage>(inhibitor, history);
}
StagePtr NewTimeActiveStage(const TimeIntervals* ti) {
  return std::make_unique<TimeActiveStage>(ti);
}
StagePtr NewTimeMuteStage(const TimeIntervals* ti) { return std::make_unique<TimeMuteStage>(ti); }
StagePtr NewSilenceStage(const Silences* s, storage::HistoryRecorder* history) {
  return std::make_unique<SilenceStage>(s, history);
}
StagePtr NewDedupStage(const NotificationLog* nflog, const Clock* clock) {
  return std::make_unique<DedupStage>(nflog, clock);
}
StagePtr NewRetryStage(RetryOptions opts) { return std::make_unique<RetryStage>(std::move(opts)); }
StagePtr NewSetNotifiesStage(NotificationLog* nflog, const Clock* clock, Duration retention) {
  return std::make_unique<SetNotifiesStage>(nflog, clock, retention);
}
StagePtr NewAcknowledgedStage(const Acknowledgements* acks) {
  return std::make_unique<AcknowledgedStage>(acks);
}
StagePtr NewEscalationStage(Escalations* escalations) {
  return std::make_unique<EscalationStage>(escalations);
}
StagePtr NewEscalationResolveStage(const NotificationLog* nflog) {
  return std::make_unique<EscalationResolveStage>(nflog);
}
StagePtr NewEscalationStepStage() { return std::make_unique<EscalationStepStage>(); }
StagePtr NewAcknowledgeEventStage(const NotificationLog* nflog) {
  return std::make_unique<AcknowledgeEventStage>(nflog);
}

}  // namespace alertd::router
