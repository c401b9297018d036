// A Router on a fake clock for unit tests: alerts go in through Insert, time moves with
// Advance, and every delivery lands in `sent` (each receiver's webhook_configs become fake
// integrations that record what they are given and answer as `fail` says).
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/scheduler.h"
#include "notifiers/notifier.h"
#include "notifiers/webhook/webhook.h"
#include "router/router.h"
#include "tests/fakes/fake_scheduler.h"

namespace alertd::testing {

using namespace std::chrono_literals;

inline Time T0() { return Time(std::chrono::seconds(1'700'000'000)); }  // 2023-11-14T22:13:20Z

struct Sent {
  Time at;
  std::string receiver;
  int index = 0;
  std::string group_key;
  std::string reason;
  std::vector<std::string> firing;  // alertname or "name" label values, payload order
  std::vector<std::string> resolved;
  bool acknowledge = false;  // an acknowledge event (EventKind::kAcknowledge)
  std::string on_call;       // the person a schedule step paged (Notification::on_call)
};

struct Recorder {
  std::mutex mu;
  std::vector<Sent> sent;
  // Decides each attempt's result; default: success.
  std::function<notifiers::NotifyResult(const notifiers::Notification&)> answer;
  // Whether the integrations take acknowledge events (as PagerDuty and Slack do).
  std::atomic<bool> wants_acknowledge{false};
  std::vector<Sent> Take() {
    std::lock_guard l(mu);
    auto out = std::move(sent);
    sent.clear();
    return out;
  }
};

class FakeNotifier final : public notifiers::Notifier {
 public:
  FakeNotifier(Recorder* rec, const FakeClock* clock, bool send_resolved, int index)
      : rec_(rec), clock_(clock), send_resolved_(send_resolved), index_(index) {}
  std::string_view integration() const override { return "webhook"; }
  bool send_resolved() const override { return send_resolved_; }
  bool wants_acknowledge() const override { return rec_->wants_acknowledge.load(); }
  notifiers::NotifyResult Notify(const notifiers::Notification& n) override {
    notifiers::NotifyResult r;
    if (rec_->answer) r = rec_->answer(n);
    if (!r.status.ok()) return r;
    Sent s{clock_->Now(), n.receiver, index_, n.group_key, n.notification_reason, {}, {},
           n.kind == notifiers::EventKind::kAcknowledge, n.on_call.name};
    for (const auto& a : n.alerts) {
      std::string name(a->labels.Get("name"));
      if (name.empty()) name = std::string(a->labels.Get("alertname"));
      (a->ResolvedAt(n.now) ? s.resolved : s.firing).push_back(name);
    }
    std::lock_guard l(rec_->mu);
    rec_->sent.push_back(std::move(s));
    return r;
  }

 private:
  Recorder* rec_;
  const FakeClock* clock_;
  bool send_resolved_;
  int index_;
};

inline std::shared_ptr<const config::Config> ParseConfig(const std::string& yaml) {
  auto r = config::LoadConfigString(yaml, "test.yml");
  INFO(r.ErrorText());
  REQUIRE(r.ok());
  return std::make_shared<const config::Config>(std::move(*r.config));
}

// Runs work inline, as InlineExecutor does; TryPost refuses while *refuse > 0 (counting it
// down), as a full queue does.
class RefusingExecutor final : public Executor {
 public:
  explicit RefusingExecutor(std::atomic<int>* refuse) : refuse_(refuse) {}
  void Post(std::function<void()> work) override { work(); }
  bool TryPost(std::function<void()>& work) override {
    if (refuse_->load() > 0) {
      --*refuse_;
      return false;
    }
    work();
    return true;
  }

 private:
  std::atomic<int>* refuse_;
};

class RouterHarness {
 public:
  explicit RouterHarness(const std::string& yaml, RouterStores stores = {}, Time start = T0(),
                         ShardOwnership* ownership = nullptr,
                         storage::HistoryRecorder* history = nullptr)
      : clock(start), scheduler(&clock) {
    router::RouterDeps deps;
    deps.ownership = ownership;
    deps.history = history;
    deps.clock = &clock;
    deps.scheduler = &scheduler;
    deps.stores = stores;
    deps.flush_executor = &inline_;
    deps.new_executor = [this](const std::string&) {
      return std::make_unique<RefusingExecutor>(&refuse_flushes);
    };
    deps.sleep = [this](Duration d) {
      clock.Add(d);
      return true;
    };
    deps.integrations = [this](
                            const config::Receiver& rc,
                            const config::Config&) -> Result<std::vector<notifiers::Integration>> {
      std::vector<notifiers::Integration> out;
      const auto webhooks = rc.Of<notifiers::WebhookConfig>();
      for (size_t i = 0; i < webhooks.size(); ++i) {
        out.push_back(notifiers::Integration{
            rc.name, static_cast<int>(i),
            std::make_unique<FakeNotifier>(&rec, &clock, webhooks[i]->send_resolved,
                                           static_cast<int>(i))});
      }
      return out;
    };
    router::RouterOptions opts;
    opts.maintenance_interval = 30s;
    auto r = router::Router::Start(std::move(deps), ParseConfig(yaml), opts);
    INFO(r.status().message());
    REQUIRE(r.ok());
    router = std::move(*r);
  }

  // Hands the router an alert as the store would: labels "k=v,k=v", starting at `starts`
  // (default: when these labels were first posted, else now), ending at `ends` (default:
  // never).
  void Post(const std::string& labels, std::optional<Time> starts = std::nullopt,
            std::optional<Time> ends = std::nullopt) {
    auto a = std::make_shared<Alert>();
    size_t pos = 0;
    while (pos < labels.size()) {
      size_t comma = labels.find(',', pos);
      if (comma == std::string::npos) comma = labels.size();
      std::string kv = labels.substr(pos, comma - pos);
      auto eq = kv.find('=');
      a->labels.Set(kv.substr(0, eq), kv.substr(eq + 1));
      pos = comma + 1;
    }
    auto known = starts_.find(labels);
    a->starts_at = starts.value_or(known != starts_.end() ? known->second : clock.Now());
    starts_[labels] = a->starts_at;
    a->ends_at = ends.value_or(kZeroTime);
    a->updated_at = clock.Now();
    router->Insert({a});
  }
  void Resolve(const std::string& labels) { Post(labels, std::nullopt, clock.Now()); }

  void Advance(Duration d) { scheduler.Advance(d); }
  std::vector<Sent> Take() { return rec.Take(); }

  // Flushes to refuse, as a full flush queue does (both the flush and integration executors).
  std::atomic<int> refuse_flushes{0};
  RefusingExecutor inline_{&refuse_flushes};  // before `router`, which uses it until destroyed
  FakeClock clock;
  FakeScheduler scheduler;
  Recorder rec;
  std::unique_ptr<router::Router> router;

 private:
  std::map<std::string, Time> starts_;
};

}  // namespace alertd::testing
