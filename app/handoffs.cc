#include "app/handoffs.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/test_receiver.h"
#include "notifiers/registry.h"
#include "notifiers/test_notification.h"
#include "oncall/oncall.h"

namespace alertd::app {
namespace {

constexpr Duration kMaxWait = std::chrono::minutes(1);

// "Mon 07 Dec 09:00 CET" in the schedule's zone.
std::string LocalText(Time t, const std::string& zone) {
  const auto s = std::chrono::floor<std::chrono::seconds>(t);
  try {
    if (!zone.empty() && zone != "UTC") {
      return date::format("%a %d %b %H:%M %Z", date::make_zoned(date::locate_zone(zone), s));
    }
  } catch (const std::exception&) {
  }
  return date::format("%a %d %b %H:%M UTC", s);
}

void Announce(const config::Config& cfg, const config::Schedule& s, const config::Person& p,
              const oncall::Shift& shift, Time now) {
  const std::string summary = fmt::format("{} is on call for {} until {}", p.name, s.name,
                                          LocalText(shift.end, s.time_zone));
  spdlog::info("oncall: {}", summary);
  notifiers::TestAlert alert;
  alert.labels = LabelSet{{"alertname", "OnCallHandoff"}, {"schedule", s.name}, {"person", p.name}};
  alert.annotations = LabelSet{{"summary", summary}};
  auto templates = notifiers::LoadTemplates(cfg);
  if (!templates.ok()) {
    spdlog::error("oncall: handoff of {}: {}", s.name, templates.status().message());
    return;
  }
  for (const auto& name : s.handoff_receivers) {
    const config::Receiver* r = cfg.FindReceiver(name);
    if (!r) continue;
    notifiers::Deps deps;
    deps.templates = *templates;
    auto integrations = notifiers::BuildIntegrations(*r, deps);
    if (!integrations.ok()) {
      spdlog::error("oncall: handoff of {} to {}: {}", s.name, name,
                    integrations.status().message());
      continue;
    }
    notifiers::Notification n =
        notifiers::TestNotification(name, alert, now, NotificationExternalUrl(cfg));
    n.notification_reason = "on-call handoff";
    n.on_call = {p.name, p.email, p.slack, p.phone};
    for (const auto& o : notifiers::SendTestNotification(*integrations, n)) {
      if (!o.status.ok()) {
        spdlog::error("oncall: handoff of {} to {} ({}[{}]) failed: {}", s.name, name,
                      o.integration, o.index, o.status.message());
      }
    }
  }
}

}  // namespace

HandoffNotifier::HandoffNotifier(HandoffDeps deps)
    : deps_(std::move(deps)), token_(std::make_shared<Token>()) {
  ThreadPoolOptions opts;
  opts.threads = 1;
  sender_ = NewThreadPool(opts);
  MutexLock t(token_->mu);
  token_->self = this;
}

HandoffNotifier::~HandoffNotifier() {
  Stop();
  sender_.reset();  // waits for a send in progress
}

void HandoffNotifier::Start() { Check(); }

void HandoffNotifier::CheckSoon() {
  MutexLock l(mu_);
  if (stopped_) return;
  if (timer_) deps_.scheduler->Cancel(timer_);
  timer_ = deps_.scheduler->Schedule(deps_.clock->Now(), [token = token_] {
    MutexLock t(token->mu);
    if (token->self) token->self->Check();
  });
}

void HandoffNotifier::Stop() {
  {
    MutexLock t(token_->mu);
    token_->self = nullptr;
  }
  MutexLock l(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (timer_) deps_.scheduler->Cancel(timer_);
  timer_ = 0;
}

void HandoffNotifier::Check() {
  const auto cfg = deps_.config();
  const Time now = deps_.clock->Now();
  Time next = now + kMaxWait;
  std::vector<std::pair<const config::Schedule*, oncall::Shift>> announce;
  auto oc = oncall::OnCall::Build(*cfg);
  const auto overrides =
      deps_.overrides ? deps_.overrides->List() : std::vector<ScheduleOverride>{};
  MutexLock l(mu_);
  if (stopped_) return;
  if (oc.ok()) {
    for (const auto& s : cfg->schedules) {
      if (s.handoff_receivers.empty()) continue;
      auto shifts = (*oc)->NowAndNext(s.name, overrides, now, 0, kMaxWait * 2);
      if (shifts.empty()) continue;
      const oncall::Shift& sh = shifts.front();
      next = std::min(next, sh.end);
      const std::string who = sh.person;
      auto it = last_.find(s.name);
      const bool first = it == last_.end();
      if (!first && it->second != who && !who.empty() &&
          OwnsKey(deps_.ownership, "oncall/" + s.name)) {
        // The shift's real end, beyond the 2-minute look-ahead used for the timer.
        auto full = (*oc)->NowAndNext(s.name, overrides, now, 0);
        announce.emplace_back(&s, full.empty() ? sh : full.front());
      }
      last_[s.name] = who;
    }
  } else {
    spdlog::error("oncall: {}", oc.status().message());
  }
  for (auto& [s, sh] : announce) {
    const config::Person* p = cfg->FindPerson(sh.person);
    if (!p) continue;
    sender_->Post([cfg, s = s, p, sh = sh, now] { Announce(*cfg, *s, *p, sh, now); });
  }
  if (next <= now) next = now + std::chrono::seconds(1);
  if (timer_) deps_.scheduler->Cancel(timer_);
  timer_ = deps_.scheduler->Schedule(next, [token = token_] {
    MutexLock t(token->mu);
    if (token->self) token->self->Check();
  });
}

}  // namespace alertd::app
