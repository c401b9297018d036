// Acknowledgements and escalation policies on a fake clock: ack rules (replace, take back,
// expiry, resolve, re-fire), their effects on notifications (repeats left out, resolves still
// delivered, PagerDuty acknowledge events, send_acknowledged notices) and escalation timing
// (steps counted from the first notification, repeat rounds, acks stopping and resuming it,
// resolves, re-fires, and a restart on the same stores).
#include <doctest/doctest.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "notifiers/webhook/webhook.h"
#include "router/acks.h"
#include "router/escalation.h"
#include "router/router.h"
#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::testing;
using namespace std::chrono_literals;

namespace {

// One delivery as the fake integrations saw it.
struct Delivery {
  Duration at;  // since the harness's start
  std::string receiver;
  std::string integration;
  std::string kind;  // "alerts" or "acknowledge"
  std::string by;
  std::vector<std::string> firing;
  std::vector<std::string> resolved;
  std::string reason;
  // What the webhook payload of this notification says (status of the group, alerts left
  // out of the list).
  std::string status;
  int truncated = 0;
  bool failed = false;  // the integration answered with an error (not delivered)
  // With the reason, the payload status and truncatedAlerts.
  std::string Detail() const {
    return String() + " [" + reason + "] " + status + " truncated=" + std::to_string(truncated) +
           (failed ? " (failed)" : "");
  }
  std::string String() const {
    std::string s = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(at).count()) +
                    "s " + receiver + "/" + integration + " " + kind;
    for (const auto& f : firing) s += " +" + f;
    for (const auto& r : resolved) s += " -" + r;
    return s;
  }
};

struct Log {
  std::mutex mu;
  std::vector<Delivery> got;
  std::set<std::string> failing;  // receivers whose integrations answer 400 (not retried)
  std::vector<Delivery> Take() {
    std::lock_guard l(mu);
    auto out = std::move(got);
    got.clear();
    return out;
  }
};

class RecordingNotifier final : public notifiers::Notifier {
 public:
  RecordingNotifier(Log* log, const FakeClock* clock, Time start, std::string integration,
                    bool send_resolved, bool wants_ack)
      : log_(log),
        clock_(clock),
        start_(start),
        integration_(std::move(integration)),
        send_resolved_(send_resolved),
        wants_ack_(wants_ack) {}
  std::string_view integration() const override { return integration_; }
  bool send_resolved() const override { return send_resolved_; }
  bool wants_acknowledge() const override { return wants_ack_; }
  notifiers::NotifyResult Notify(const notifiers::Notification& n) override {
    Delivery d;
    d.at = clock_->Now() - start_;
    d.receiver = n.receiver;
    d.integration = integration_;
    d.kind = n.kind == notifiers::EventKind::kAcknowledge ? "acknowledge" : "alerts";
    d.by = n.acknowledged_by;
    for (const auto& a : n.alerts) {
      std::string name(a->labels.Get("name"));
      (a->ResolvedAt(n.now) ? d.resolved : d.firing).push_back(name);
    }
    d.reason = n.notification_reason;
    const auto payload = nlohmann::json::parse(notifiers::WebhookPayload(n, 0));
    d.status = payload["status"].get<std::string>();
    d.truncated = payload["truncatedAlerts"].get<int>();
    std::lock_guard l(log_->mu);
    d.failed = log_->failing.count(n.receiver) > 0;
    log_->got.push_back(d);
    if (d.failed) {
      notifiers::NotifyResult r;
      r.status = Status::InvalidArgument("unexpected status code 400");
      r.http_status = 400;
      return r;
    }
    return {};
  }

 private:
  Log* log_;
  const FakeClock* clock_;
  Time start_;
  std::string integration_;
  bool send_resolved_;
  bool wants_ack_;
};

// A Router on a fake clock whose receivers' webhook, slack and pagerduty configs become
// recording integrations.
class Harness {
 public:
  // Relative times count from `start`; the router starts at `now` (default: `start`).
  explicit Harness(const std::string& yaml, RouterStores stores = {}, Time start = T0(),
                   std::optional<Time> now = std::nullopt)
      : start_(start), clock(now.value_or(start)), scheduler(&clock) {
    router::RouterDeps deps;
    deps.clock = &clock;
    deps.scheduler = &scheduler;
    deps.stores = stores;
    deps.flush_executor = &inline_;
    deps.new_executor = [](const std::string&) { return std::make_unique<InlineExecutor>(); };
    deps.sleep = [this](Duration d) {
      clock.Add(d);
      return true;
    };
    deps.integrations = [this](
                            const config::Receiver& rc,
                            const config::Config&) -> Result<std::vector<notifiers::Integration>> {
      std::vector<notifiers::Integration> out;
      auto add = [&](const char* kind, int i, bool send_resolved, bool wants_ack) {
        out.push_back(
            notifiers::Integration{rc.name, i,
                                   std::make_unique<RecordingNotifier>(&log, &clock, start_, kind,
                                                                       send_resolved, wants_ack)});
      };
      // The fakes in the order the expectations list them: webhook, slack, pagerduty.
      for (const char* kind : {"webhook", "slack", "pagerduty"}) {
        int i = 0;
        for (const auto& nc : rc.notifiers) {
          if (nc->kind() == kind) add(kind, i++, nc->resolved(), nc->acknowledged());
        }
      }
      return out;
    };
    auto r = router::Router::Start(std::move(deps), ParseConfig(yaml));
    INFO(r.status().message());
    REQUIRE(r.ok());
    router = std::move(*r);
  }

  // An alert name=<name> (plus `extra` labels "k=v,..."), firing since `starts` (default: when
  // first posted) or resolved at `ends`.
  void Post(const std::string& name, std::optional<Time> ends = std::nullopt,
            std::optional<Time> starts = std::nullopt) {
    auto a = std::make_shared<Alert>();
    a->labels.Set("name", name);
    a->labels.Set("team", "ops");
    auto known = starts_.find(name);
    a->starts_at = starts.value_or(known != starts_.end() ? known->second : clock.Now());
    starts_[name] = a->starts_at;
    a->ends_at = ends.value_or(kZeroTime);
    a->updated_at = clock.Now();
    alerts_[name] = a;
    router->Insert({a});
  }
  void Resolve(const std::string& name) { Post(name, clock.Now()); }
  // A re-fire after a resolve: a new incident starting now.
  void Refire(const std::string& name) { Post(name, std::nullopt, clock.Now()); }
  uint64_t Fp(const std::string& name) const { return alerts_.at(name)->Fingerprint(); }

  Result<alertd::Ack> Ack(const std::string& name, Duration expires = Duration::zero()) {
    router::AckRequest req;
    req.by = "alice";
    req.comment = "looking";
    req.expires_in = expires;
    return router->Acknowledge(Fp(name), req);
  }

  void AdvanceTo(Duration since_start) { scheduler.AdvanceTo(start_ + since_start); }
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    for (const auto& d : log.Take()) {
      if (!d.failed) out.push_back(d.String());
    }
    return out;
  }
  // Every attempt, failed ones included, with Delivery::Detail.
  std::vector<std::string> TakeDetails() {
    std::vector<std::string> out;
    for (const auto& d : log.Take()) out.push_back(d.Detail());
    return out;
  }
  void Reload(const std::string& yaml) {
    Status s = router->ApplyConfig(ParseConfig(yaml));
    INFO(s.message());
    REQUIRE(s.ok());
  }

  Time start_;
  InlineExecutor inline_;
  FakeClock clock;
  FakeScheduler scheduler;
  Log log;
  std::unique_ptr<router::Router> router;

 private:
  std::map<std::string, Time> starts_;
  std::map<std::string, std::shared_ptr<Alert>> alerts_;
};

// group_wait 10s, group_interval 1m, repeat 5m; the page route escalates with `policy`.
std::string Config(const std::string& policy) {
  return R"(
route:
  receiver: primary
  group_by: [team]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 5m
  escalation: esc
receivers:
  - name: primary
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
    pagerduty_configs: [{routing_key: k, url: 'http://x/'}]
    slack_configs: [{api_url: 'http://x/', send_resolved: true, send_acknowledged: true}]
  - name: leads
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
  - name: managers
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
escalation_policies:
  - name: esc
)" + policy;
}

const std::string kTwoSteps = R"(    steps:
      - after: 2m
        receivers: [leads]
      - after: 5m
        receivers: [managers]
)";

// Joined, so a failed CHECK prints the deliveries.
std::string J(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += x + "\n";
  return out;
}

// A policy whose only step never falls due within a test.
const std::string kNeverSteps = R"(    steps:
      - after: 24h
        receivers: [leads]
)";

std::vector<std::string> Only(const std::vector<std::string>& v, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (s.find(needle) != std::string::npos) out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("ack rules: errors, replace, take back, expiry, resolve and re-fire") {
  Harness h(Config(kTwoSteps));
  h.Post("a");
  h.Post("b");
  h.AdvanceTo(10s);
  h.Take();

  SUBCASE("unknown fingerprint and resolved alert are refused, changing nothing") {
    auto unknown = h.router->Acknowledge(12345, {"x", "", {}});
    CHECK(unknown.status().code() == Status::Code::kNotFound);
    h.Resolve("b");
    auto resolved = h.Ack("b");
    CHECK(resolved.status().code() == Status::Code::kConflict);
    CHECK(h.router->ListAcks(true).empty());
    CHECK(h.router->Unacknowledge(h.Fp("a")).status().code() == Status::Code::kNotFound);
  }
  SUBCASE("a second ack replaces the first; DELETE takes it back into the history") {
    REQUIRE(h.Ack("a").ok());
    router::AckRequest req{"bob", "mine now", {}};
    auto second = h.router->Acknowledge(h.Fp("a"), req);
    REQUIRE(second.ok());
    auto current = h.router->ListAcks(false);
    REQUIRE(current.size() == 1);
    CHECK(current[0].by == "bob");
    auto all = h.router->ListAcks(true);
    REQUIRE(all.size() == 2);
    CHECK(all[1].by == "alice");
    CHECK(all[1].end_reason == "replaced");
    auto back = h.router->Unacknowledge(h.Fp("a"));
    REQUIRE(back.ok());
    CHECK(back->end_reason == "deleted");
    CHECK(h.router->ListAcks(false).empty());
    CHECK(h.router->Unacknowledge(h.Fp("a")).status().code() == Status::Code::kNotFound);
  }
  SUBCASE("expiry, resolve and re-fire end an ack") {
    struct Row {
      const char* name;
      Duration expires_in;
      std::function<void(Harness&)> act;
      const char* reason;
    };
    const std::vector<Row> rows = {
        {"expires", 2min, [](Harness& x) { x.AdvanceTo(10s + 2min); }, "expired"},
        {"resolves", Duration::zero(), [](Harness& x) { x.Resolve("a"); }, "resolved"},
        {"re-fires as a new incident", Duration::zero(),
         [](Harness& x) {
           x.AdvanceTo(20s);
           x.Refire("a");
         },
         "resolved"},
    };
    for (const auto& row : rows) {
      INFO(row.name);
      Harness x(Config(kTwoSteps));
      x.Post("a");
      x.AdvanceTo(10s);
      auto ack = x.Ack("a", row.expires_in);
      REQUIRE(ack.ok());
      CHECK(x.router->ListAcks(false).size() == 1);
      row.act(x);
      auto all = x.router->ListAcks(true);
      REQUIRE(all.size() == 1);
      CHECK(all[0].ended());
      CHECK(all[0].end_reason == row.reason);
      CHECK(x.router->ListAcks(false).empty());
    }
  }
}

TEST_CASE("acknowledged alerts: no repeats, PagerDuty acknowledge, notices, resolve delivered") {
  Harness h(Config(kNeverSteps));
  h.Post("a");
  h.AdvanceTo(10s);
  CHECK(J(h.Take()) ==
        J(std::vector<std::string>{"10s primary/webhook alerts +a", "10s primary/slack alerts +a",
                                   "10s primary/pagerduty alerts +a"}));
  h.AdvanceTo(1min);
  REQUIRE(h.Ack("a").ok());
  // PagerDuty acknowledges the incident; Slack (send_acknowledged) gets a notice; the plain
  // webhook hears nothing.
  CHECK(J(h.Take()) == J(std::vector<std::string>{"60s primary/slack acknowledge +a",
                                                  "60s primary/pagerduty acknowledge +a"}));
  // repeat_interval (5m) passes: nothing is repeated about the acknowledged alert.
  h.AdvanceTo(12min);
  CHECK(h.Take().empty());
  // A new alert in the group is sent alone.
  h.Post("b");
  h.AdvanceTo(13min);
  CHECK(J(h.Take()) ==
        J(std::vector<std::string>{"730s primary/webhook alerts +b", "730s primary/slack alerts +b",
                                   "730s primary/pagerduty alerts +b"}));
  // The acknowledged alert resolves: its resolve is delivered.
  h.Resolve("a");
  h.AdvanceTo(14min);
  CHECK(J(h.Take()) == J(std::vector<std::string>{"790s primary/webhook alerts +b -a",
                                                  "790s primary/slack alerts +b -a",
                                                  "790s primary/pagerduty alerts +b -a"}));
  CHECK(h.router->ListAcks(false).empty());
}

TEST_CASE("acking one of two alerts: PagerDuty waits for the whole group, resolve still sent") {
  Harness h(Config(kNeverSteps));
  h.Post("a");
  h.Post("b");
  h.AdvanceTo(10s);
  h.Take();
  REQUIRE(h.Ack("a").ok());
  CHECK(J(h.Take()) == J(std::vector<std::string>{"10s primary/slack acknowledge +a"}));
  REQUIRE(h.Ack("b").ok());
  CHECK(J(h.Take()) == J(std::vector<std::string>{"10s primary/slack acknowledge +b",
                                                  "10s primary/pagerduty acknowledge +b"}));
  // b resolves while a stays acknowledged and firing; later a resolves too: both resolves
  // are delivered (a is not lost although the log's last notification left it out).
  h.AdvanceTo(30s);
  h.Resolve("b");
  h.AdvanceTo(70s);
  CHECK(J(Only(h.Take(), "webhook")) ==
        J(std::vector<std::string>{"70s primary/webhook alerts -b"}));
  h.Resolve("a");
  h.AdvanceTo(130s);
  CHECK(J(Only(h.Take(), "webhook")) ==
        J(std::vector<std::string>{"130s primary/webhook alerts -a"}));
}

TEST_CASE("escalation timing") {
  // The group's first notification is at 10s (group_wait); group ticks every minute after.
  struct Row {
    const char* name;
    std::string policy;
    std::function<void(Harness&)> script;  // runs to 20min
    std::vector<std::string> want;         // deliveries to leads and managers
  };
  std::vector<Row> rows = {
      {"each after counts from the first notification",
       kTwoSteps,
       [](Harness& h) { h.AdvanceTo(20min); },
       {"130s leads/webhook alerts +a", "310s managers/webhook alerts +a"}},
      {"repeat: 1 runs the list again from the end of the first round",
       kTwoSteps + "    repeat: 1\n",
       [](Harness& h) { h.AdvanceTo(20min); },
       {"130s leads/webhook alerts +a", "310s managers/webhook alerts +a",
        "430s leads/webhook alerts +a", "610s managers/webhook alerts +a"}},
      {"acknowledging every firing alert stops it",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         REQUIRE(h.Ack("a").ok());
         h.AdvanceTo(20min);
       },
       {}},
      {"an ack taken back after a step's time fires that step at once",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         REQUIRE(h.Ack("a").ok());
         h.AdvanceTo(4min);
         REQUIRE(h.router->Unacknowledge(h.Fp("a")).ok());
         h.AdvanceTo(20min);
       },
       {"240s leads/webhook alerts +a", "310s managers/webhook alerts +a"}},
      {"an ack that expires after a step's time fires it at once",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         REQUIRE(h.Ack("a", 3min).ok());
         h.AdvanceTo(20min);
       },
       {"240s leads/webhook alerts +a", "310s managers/webhook alerts +a"}},
      {"an ack that ends before the step's time changes nothing",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         REQUIRE(h.Ack("a", 30s).ok());
         h.AdvanceTo(20min);
       },
       {"130s leads/webhook alerts +a", "310s managers/webhook alerts +a"}},
      {"a new unacknowledged alert in the group lets a waiting step fire",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         REQUIRE(h.Ack("a").ok());
         h.AdvanceTo(3min);
         h.Post("b");
         h.AdvanceTo(20min);
       },
       {"180s leads/webhook alerts +b", "310s managers/webhook alerts +b"}},
      {"resolving before the first step stops it; resolves go only to the primary",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(1min);
         h.Resolve("a");
         h.AdvanceTo(20min);
       },
       {}},
      {"resolves go to every step receiver notified",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(3min);
         h.Resolve("a");
         h.AdvanceTo(20min);
       },
       {"130s leads/webhook alerts +a", "190s leads/webhook alerts -a"}},
      {"after a full resolve a re-fire starts a new escalation",
       kTwoSteps,
       [](Harness& h) {
         h.AdvanceTo(3min);
         h.Resolve("a");
         h.AdvanceTo(6min);
         h.Refire("a");  // flushed at the 6m10s tick: the new first notification
         h.AdvanceTo(20min);
       },
       {"130s leads/webhook alerts +a", "190s leads/webhook alerts -a",
        "490s leads/webhook alerts +a", "670s managers/webhook alerts +a"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    Harness h(Config(row.policy));
    h.Post("a");
    row.script(h);
    auto got = h.Take();
    std::vector<std::string> steps;
    for (const auto& s : got) {
      if (s.find(" leads/") != std::string::npos || s.find(" managers/") != std::string::npos) {
        steps.push_back(s);
      }
    }
    CHECK(J(steps) == J(row.want));
  }
}

// Steps are sent once their state is committed, on the store's writer thread: advance 10 s at
// a time and let the commits (and their deliveries) happen before the clock moves on (a Load
// runs after the writes queued before it and their callbacks).
void RunWithCommits(Harness& h, MemoryRouterStores& state, Duration until) {
  Duration d = std::chrono::duration_cast<std::chrono::seconds>(h.clock.Now() - h.start_);
  for (; d <= until; d += 10s) {
    h.AdvanceTo(d);
    REQUIRE(state.LoadSilences().ok());
  }
}

TEST_CASE("an escalation step due while the database is unreachable is still sent") {
  // Paging beats consistency: with the store refusing writes (its database down), the step goes
  // out unpersisted (after a crash before the database returns it may be sent once more).
  MemoryRouterStores state;
  Harness h(Config(kTwoSteps), state.stores());
  h.Post("a");
  state.FailWrites(true);
  for (Duration d = 0s; d <= 3min; d += 10s) {
    h.AdvanceTo(d);
    REQUIRE(state.LoadSilences().ok());  // after the writes queued so far and their callbacks
  }
  CHECK(J(Only(h.Take(), "leads")) == J(std::vector<std::string>{"130s leads/webhook alerts +a"}));
}

TEST_CASE("escalation state survives a restart on the same stores") {
  // What the stores committed outlives the router: the restart is a new router on them.
  MemoryRouterStores state;
  {
    Harness h(Config(kTwoSteps), state.stores());
    h.Post("a");
    RunWithCommits(h, state, 3min);
    auto got = h.Take();
    CHECK(J(Only(got, "leads")) == J(std::vector<std::string>{"130s leads/webhook alerts +a"}));
    CHECK(J(Only(got, "primary/webhook")) ==
          J(std::vector<std::string>{"10s primary/webhook alerts +a"}));
    h.router->Stop();
    h.router.reset();
  }
  {
    // The next process starts at 4m; the store hands the router the same alert again.
    Harness h(Config(kTwoSteps), state.stores(), T0(), T0() + 4min);
    auto st = h.router->escalations().Get("{}", "{}:{team=\"ops\"}");
    REQUIRE(st.has_value());
    CHECK(st->started_at == T0() + 10s);
    CHECK(st->next_step == 1);
    CHECK(J(st->notified) == J(std::vector<std::string>{"leads"}));
    h.Post("a", std::nullopt, T0());
    RunWithCommits(h, state, 20min);
    // Step 2 fires at its original time; step 1 is not sent again, and the primary hears
    // again only when repeat_interval (5m after its 10s notification) has passed.
    auto got = h.Take();
    CHECK(J(Only(got, "managers")) ==
          J(std::vector<std::string>{"310s managers/webhook alerts +a"}));
    CHECK(Only(got, "leads").empty());
    auto primary = Only(got, "primary/webhook");
    REQUIRE(!primary.empty());
    CHECK(primary.front() == "360s primary/webhook alerts +a");
    CHECK(h.router->escalations().Get("{}", "{}:{team=\"ops\"}")->next_step == 0);
    h.router->Stop();
    h.router.reset();
  }
}

namespace {

// The deliveries to step receivers (leads, managers), failed attempts included.
std::vector<std::string> StepAttempts(Harness& h) {
  std::vector<std::string> out;
  for (const auto& d : h.log.Take()) {
    if (d.receiver == "leads" || d.receiver == "managers") out.push_back(d.String());
  }
  return out;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

TEST_CASE("escalation starts at the first flush and its steps fire on time when deliveries fail") {
  struct Row {
    const char* name;
    std::set<std::string> failing;
  };
  const std::vector<Row> rows = {
      {"the primary receiver answers 400", {"primary"}},
      {"every receiver answers 400", {"primary", "leads", "managers"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    Harness h(Config(kTwoSteps));
    h.log.failing = row.failing;
    h.Post("a");
    h.AdvanceTo(20min);
    CHECK(J(StepAttempts(h)) == J(std::vector<std::string>{"130s leads/webhook alerts +a",
                                                           "310s managers/webhook alerts +a"}));
    CHECK(h.router->escalations().size() == 1);
  }
}

TEST_CASE("a reload that adds a policy to a group already notified starts it at the next flush") {
  std::string without = Config(kTwoSteps);
  const std::string route_line = "  escalation: esc\n";
  without.erase(without.find(route_line), route_line.size());
  Harness h(without);
  h.Post("a");
  h.AdvanceTo(30s);
  CHECK(J(Only(h.Take(), "webhook")) ==
        J(std::vector<std::string>{"10s primary/webhook alerts +a"}));
  // The rebuilt group flushes at once (its alert is older than group_wait); the notification
  // log suppresses the send, the policy starts anyway.
  h.Reload(Config(kTwoSteps));
  h.Post("a");  // the store hands the new dispatcher its alerts
  h.AdvanceTo(20min);
  auto got = h.Take();
  for (const auto& s : got) CHECK_FALSE(StartsWith(s, "30s "));
  std::vector<std::string> steps;
  for (const auto& s : got) {
    if (s.find(" leads/") != std::string::npos || s.find(" managers/") != std::string::npos) {
      steps.push_back(s);
    }
  }
  CHECK(J(steps) == J(std::vector<std::string>{"150s leads/webhook alerts +a",
                                               "330s managers/webhook alerts +a"}));
}

TEST_CASE("an acknowledged firing alert keeps the group firing when its sibling resolves") {
  Harness h(Config(kNeverSteps));
  h.Post("a");
  h.Post("b");
  h.AdvanceTo(10s);
  h.Take();
  REQUIRE(h.Ack("a").ok());
  h.Take();
  h.AdvanceTo(30s);
  h.Resolve("b");
  h.AdvanceTo(70s);
  // Every integration hears of b's resolve with the group still firing (PagerDuty: trigger,
  // never resolve); the acknowledged alert is counted as left out of the list.
  CHECK(J(h.TakeDetails()) ==
        J(std::vector<std::string>{
            "70s primary/webhook alerts -b [some alerts resolved] firing truncated=1",
            "70s primary/slack alerts -b [some alerts resolved] firing truncated=1",
            "70s primary/pagerduty alerts -b [some alerts resolved] firing truncated=1"}));
  // Repeats leave the acknowledged alert out: nothing is sent.
  h.AdvanceTo(12min);
  CHECK(h.TakeDetails().empty());
  h.Resolve("a");
  h.AdvanceTo(13min);
  CHECK(J(h.TakeDetails()) ==
        J(std::vector<std::string>{
            "730s primary/webhook alerts -a [all alerts resolved] resolved truncated=0",
            "730s primary/slack alerts -a [all alerts resolved] resolved truncated=0",
            "730s primary/pagerduty alerts -a [all alerts resolved] resolved truncated=0"}));
}

TEST_CASE("an ack that ends while its alert fires re-notifies the receivers at once") {
  struct Row {
    const char* name;
    Duration expires_in;
    std::function<void(Harness&)> end;  // ends the ack made at 60s
    const char* at;
    const char* reason;
  };
  const std::vector<Row> rows = {
      {"taken back", Duration::zero(),
       [](Harness& h) {
         h.AdvanceTo(100s);
         REQUIRE(h.router->Unacknowledge(h.Fp("a")).ok());
       },
       "100s", "acknowledgement taken back"},
      {"expires", 2min, [](Harness& h) { h.AdvanceTo(180s); }, "180s", "acknowledgement expired"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    Harness h(Config(kNeverSteps));
    h.Post("a");
    h.AdvanceTo(60s);
    h.Take();
    REQUIRE(h.Ack("a", row.expires_in).ok());
    h.Take();
    row.end(h);
    const std::string at = row.at, reason = row.reason;
    CHECK(J(h.TakeDetails()) ==
          J(std::vector<std::string>{
              at + " primary/webhook alerts +a [" + reason + "] firing truncated=0",
              at + " primary/slack alerts +a [" + reason + "] firing truncated=0",
              at + " primary/pagerduty alerts +a [" + reason + "] firing truncated=0"}));
    // Nothing more until repeat_interval counts from that notification.
    h.AdvanceTo(7min);
    CHECK(h.TakeDetails().empty());
  }
}

namespace {

// The page route is a child of the root, matching team="ops".
std::string RoutesConfig(const std::string& children) {
  return R"(
route:
  receiver: primary
  group_by: [team]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 5m
  routes:
)" + children +
         R"(
receivers:
  - name: primary
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
  - name: leads
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
  - name: managers
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
escalation_policies:
  - name: esc
)" + kTwoSteps +
         R"(  - name: other
    steps:
      - after: 1m
        receivers: [managers]
)";
}

const std::string kOps = "    - matchers: ['team=\"ops\"']\n      escalation: esc\n";
const std::string kDb = "    - matchers: ['team=\"db\"']\n      receiver: leads\n";
const std::string kOpsPlain = "    - matchers: ['team=\"ops\"']\n";
const std::string kOpsOther = "    - matchers: ['team=\"ops\"']\n      escalation: other\n";
const std::string kOpsRoute = "{}/{team=\"ops\"}";
const std::string kOpsGroup = "{}/{team=\"ops\"}:{team=\"ops\"}";

// How many escalations the stores hold (after the writes queued so far).
int64_t EscalationRows(MemoryRouterStores& state) {
  auto rows = state.LoadEscalations();
  REQUIRE(rows.ok());
  return static_cast<int64_t>(rows->size());
}

}  // namespace

TEST_CASE(
    "a reload keeps the escalations of routes that still exist, by route key, and ends others") {
  struct Row {
    const char* name;
    std::string children;  // after the reload at 60s
    std::vector<std::string> want;
    size_t running_after_reload;
    std::string final_policy;  // the group's escalation at the end ("": none)
    Duration final_start;
  };
  const std::vector<Row> rows = {
      {"a new sibling renumbers the route: the escalation goes on",
       kDb + kOps,
       {"130s leads/webhook alerts +a", "310s managers/webhook alerts +a"},
       1,
       "esc",
       10s},
      {"the route is gone", kDb, {}, 0, "", {}},
      {"the route no longer escalates", kOpsPlain, {}, 0, "", {}},
      // The old one ends; the new policy starts at the group's next flush (at once here: the
      // alert reaches the rebuilt group as a new one).
      {"the route escalates with another policy",
       kOpsOther,
       {"120s managers/webhook alerts +a"},
       0,
       "other",
       60s},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    MemoryRouterStores state;
    Harness h(RoutesConfig(kOps), state.stores());
    h.Post("a");
    RunWithCommits(h, state, 60s);
    auto st = h.router->escalations().Get(kOpsRoute, kOpsGroup);
    REQUIRE(st.has_value());
    CHECK(st->started_at == T0() + 10s);
    CHECK(EscalationRows(state) == 1);
    h.Reload(RoutesConfig(row.children));
    h.Post("a");  // the store hands the new dispatcher its alerts
    CHECK(h.router->escalations().size() == row.running_after_reload);
    RunWithCommits(h, state, 20min);
    std::vector<std::string> steps;
    for (const auto& s : h.Take()) {
      if (s.find(" leads/") != std::string::npos || s.find(" managers/") != std::string::npos) {
        steps.push_back(s);
      }
    }
    CHECK(J(steps) == J(row.want));
    auto after = h.router->escalations().Get(kOpsRoute, kOpsGroup);
    if (!row.final_policy.empty()) {
      REQUIRE(after.has_value());
      CHECK(after->policy == row.final_policy);
      CHECK(after->started_at == T0() + row.final_start);
      CHECK(EscalationRows(state) == 1);
    } else {
      // Ended in memory and in the stores.
      CHECK_FALSE(after.has_value());
      CHECK(h.router->escalations().size() == 0);
      CHECK(EscalationRows(state) == 0);
    }
    h.router->Stop();
    h.router.reset();
  }
}

TEST_CASE(
    "a step whose commit is pending when its group resolves is not sent without its resolve") {
  MemoryRouterStores state;
  Harness h(Config(kTwoSteps), state.stores());
  h.Post("a");
  RunWithCommits(h, state, 2min);
  {
    // The first step falls due at 130s; its commit waits behind the held writer while the
    // alert resolves and the group's resolve notification goes out at the 190s tick.
    state.Hold();
    h.AdvanceTo(130s);
    h.AdvanceTo(135s);
    h.Resolve("a");
    h.AdvanceTo(190s);
    state.Release();
  }
  REQUIRE(state.LoadSilences().ok());
  RunWithCommits(h, state, 20min);
  const auto got = h.Take();
  const auto leads = Only(got, " leads/");
  INFO(J(got));
  // Either the step was not sent, or leads heard the resolve after it.
  CHECK((leads.empty() || leads.back().find("-a") != std::string::npos));
  CHECK(h.router->escalations().size() == 0);
  h.router->Stop();
  h.router.reset();
}

TEST_CASE("an escalation persisted under its route's index-based id is moved to the route key") {
  MemoryRouterStores state;
  // As an earlier alertd wrote it: the route's id, its key and sibling index.
  EscalationState old;
  old.route_key = kOpsRoute + "/0";
  old.group_key = kOpsGroup;
  old.policy = "esc";
  old.started_at = T0() + 10s;
  old.round = 0;
  old.round_start = T0() + 10s;
  old.next_step = 0;
  REQUIRE(AwaitStore([&](StoreDone done) { state.PutEscalation(old, std::move(done)); }).ok());
  Harness h(RoutesConfig(kOps), state.stores(), T0(), T0() + 60s);
  auto st = h.router->escalations().Get(kOpsRoute, kOpsGroup);
  REQUIRE(st.has_value());
  CHECK(st->started_at == T0() + 10s);
  h.Post("a", std::nullopt, T0());
  RunWithCommits(h, state, 20min);
  std::vector<std::string> route_ids;
  auto stored = state.LoadEscalations();
  REQUIRE(stored.ok());
  for (const auto& e : *stored) route_ids.push_back(e.route_key);
  CHECK(route_ids == std::vector<std::string>{kOpsRoute});
  // Its steps keep their times (counted from 10s).
  CHECK(J(Only(h.Take(), " leads/")) ==
        J(std::vector<std::string>{"130s leads/webhook alerts +a"}));
  h.router->Stop();
  h.router.reset();
}

TEST_CASE("group acks by dedup key: every firing alert, existing acks kept, take back resumes") {
  Harness h(Config(kTwoSteps));
  h.Post("a");
  h.Post("b");
  h.AdvanceTo(1min);
  h.Take();
  const std::string dedup = notifiers::GroupKeyHash("{}:{team=\"ops\"}");
  router::AckRequest req;
  req.by = "Tenex Engineer";
  req.comment = "via PagerDuty";

  // An unknown dedup key changes nothing.
  auto unknown = h.router->AcknowledgeGroup(std::string(64, '0'), req);
  CHECK(unknown.status().code() == Status::Code::kNotFound);
  CHECK(h.router->UnacknowledgeGroup(std::string(64, '0')).status().code() ==
        Status::Code::kNotFound);
  CHECK(h.router->EndEscalation("nope", "test").status().code() == Status::Code::kNotFound);
  CHECK(h.router->ListAcks(false).empty());

  // a was acknowledged by a person already: that ack stays; b gets the group ack.
  REQUIRE(h.Ack("a").ok());
  h.Take();
  auto got = h.router->AcknowledgeGroup(dedup, req);
  REQUIRE_MESSAGE(got.ok(), got.status().message());
  CHECK(got->group_key == "{}:{team=\"ops\"}");
  REQUIRE(got->acks.size() == 1);
  CHECK(got->acks[0].fingerprint == h.Fp("b"));
  const auto acks = h.router->ListAcks(false);
  REQUIRE(acks.size() == 2);
  for (const auto& a : acks) {
    CHECK(a.by == (a.fingerprint == h.Fp("a") ? "alice" : "Tenex Engineer"));
  }
  // The whole group is acknowledged now: PagerDuty gets `acknowledge` by the group ack's author.
  auto events = h.log.Take();
  bool pd_ack = false;
  for (const auto& d : events) {
    pd_ack |= d.integration == "pagerduty" && d.kind == "acknowledge" && d.by == "Tenex Engineer";
  }
  CHECK(pd_ack);
  // Acknowledging again finds nothing left to acknowledge.
  auto again = h.router->AcknowledgeGroup(dedup, req);
  REQUIRE(again.ok());
  CHECK(again->acks.empty());
  // The escalation waits: the 2m step does not fire.
  h.AdvanceTo(3min);
  CHECK(Only(h.Take(), "leads").empty());

  // Un-acknowledged in PagerDuty: every ack of the group ends, and the overdue step fires now.
  auto back = h.router->UnacknowledgeGroup(dedup);
  REQUIRE(back.ok());
  CHECK(back->acks.size() == 2);
  CHECK(h.router->ListAcks(false).empty());
  CHECK(J(Only(h.Take(), "leads")) ==
        J(std::vector<std::string>{"180s leads/webhook alerts +a +b"}));
}

TEST_CASE(
    "ending a group's escalation: no more steps until it resolves, then a re-fire escalates") {
  MemoryRouterStores state;
  const std::string key = "{}:{team=\"ops\"}";
  const std::string dedup = notifiers::GroupKeyHash(key);
  {
    Harness h(Config(kTwoSteps), state.stores());
    h.Post("a");
    RunWithCommits(h, state, 3min);
    CHECK(J(Only(h.Take(), "leads")) ==
          J(std::vector<std::string>{"130s leads/webhook alerts +a"}));
    auto ended = h.router->EndEscalation(dedup, "resolved in PagerDuty");
    REQUIRE(ended.ok());
    CHECK(ended->escalations_ended == 1);
    // Ending it twice ends nothing more.
    CHECK(h.router->EndEscalation(dedup, "resolved in PagerDuty")->escalations_ended == 0);
    RunWithCommits(h, state, 4min);
    h.router->Stop();
    h.router.reset();
  }
  {
    // After a restart the escalation is still over: the 5m step never fires, while the alert
    // still fires and the primary receiver still gets its repeats.
    Harness h(Config(kTwoSteps), state.stores(), T0(), T0() + 4min);
    h.Post("a", std::nullopt, T0());
    RunWithCommits(h, state, 20min);
    auto got = h.Take();
    CHECK_MESSAGE(Only(got, "managers").empty(), J(got));
    CHECK(Only(got, "leads").empty());
    CHECK_FALSE(Only(got, "primary/webhook alerts +a").empty());
    // The alert resolves: the leads a step notified hear it, and the escalation is forgotten.
    h.Resolve("a");
    RunWithCommits(h, state, 22min);
    got = h.Take();
    CHECK_FALSE(Only(got, "leads/webhook alerts -a").empty());
    CHECK_FALSE(h.router->escalations().Get("{}", key).has_value());
    // A re-fire is a new incident with a new escalation: its first step fires 2m after the
    // new first notification.
    h.Refire("a");
    RunWithCommits(h, state, 26min);
    got = h.Take();
    CHECK_MESSAGE(Only(got, "leads/webhook alerts +a").size() == 1, J(got));
    h.router->Stop();
    h.router.reset();
  }
}

TEST_CASE("the groups' view shows where each escalation stands") {
  // Group wait 10s: the policy starts at 10s; step 1 at 2m10s, step 2 at 5m10s, then one
  // more round (repeat: 1) counted from 5m10s.
  Harness h(Config(kTwoSteps + "    repeat: 1\n"));
  auto view = [&]() -> std::optional<router::EscalationView> {
    auto groups = h.router->Groups(nullptr, nullptr);
    for (const auto& g : groups.groups) {
      if (g.escalation) return g.escalation;
    }
    return std::nullopt;
  };
  h.Post("a");
  h.AdvanceTo(5s);
  CHECK_FALSE(view().has_value());  // not notified yet: no escalation
  h.AdvanceTo(1min);
  auto v = view();
  REQUIRE(v.has_value());
  CHECK(v->policy == "esc");
  CHECK(v->started_at == h.start_ + 10s);
  CHECK(v->steps == 2);
  CHECK(v->rounds == 2);
  CHECK(v->round == 0);
  CHECK(v->next_step == 0);
  CHECK_FALSE(v->finished);
  REQUIRE(v->next_at.has_value());
  CHECK(*v->next_at == h.start_ + 130s);
  CHECK(v->next_receivers == std::vector<std::string>{"leads"});
  CHECK(v->notified.empty());
  h.AdvanceTo(3min);
  v = view();
  REQUIRE(v.has_value());
  CHECK(v->next_step == 1);
  CHECK(*v->next_at == h.start_ + 310s);
  CHECK(v->next_receivers == std::vector<std::string>{"managers"});
  CHECK(v->notified == std::vector<std::string>{"leads"});
  h.AdvanceTo(6min);
  v = view();
  REQUIRE(v.has_value());
  CHECK(v->round == 1);
  CHECK(v->next_step == 0);
  CHECK(*v->next_at == h.start_ + 310s + 2min);
  h.AdvanceTo(20min);
  v = view();
  REQUIRE(v.has_value());
  CHECK(v->finished);
  CHECK_FALSE(v->next_at.has_value());
  CHECK(v->notified == std::vector<std::string>{"leads", "managers"});
}
