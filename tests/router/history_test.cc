// What the router records into the history (storage/history.h): every delivery attempt with
// its outcome, and what silenced or inhibited an alert at a flush, on the in-memory stores.
#include <doctest/doctest.h>

#include <algorithm>

#include "storage/history.h"
#include "tests/fakes/router_stores.h"
#include "tests/router/harness.h"

namespace alertd::testing {
namespace {

constexpr const char* kConfig = R"(
route:
  receiver: pager
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: pager
    webhook_configs: [{url: 'http://127.0.0.1:1/'}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
)";

uint64_t Fp(const LabelSet& ls) { return ls.Fingerprint(); }

// What the router recorded up to now, as a read through the API sees it.
std::vector<NotificationRecord> Records(storage::HistoryRecorder& history) {
  history.Flush();
  auto got = history.store()->QueryNotifications(NotificationQuery{});
  REQUIRE(got.ok());
  return *got;
}

std::vector<AlertEvent> EventsOf(storage::HistoryRecorder& history, uint64_t fp) {
  history.Flush();
  auto e = history.store()->LoadAlertEvents(fp, 100);
  REQUIRE(e.ok());
  return *e;
}

std::vector<std::string> Kinds(const std::vector<AlertEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

TEST_CASE("every delivery attempt is recorded: failed and retried, sent, given up") {
  MemoryRouterStores stores;
  storage::HistoryRecorder history(&stores);
  RouterHarness h(kConfig, {}, T0(), nullptr, &history);
  int calls = 0;
  h.rec.answer = [&](const notifiers::Notification&) {
    notifiers::NotifyResult r;
    if (++calls == 1) {
      r.status = Status::Unavailable("unexpected status code 503");
      r.retryable = true;
      r.http_status = 503;
    } else {
      r.http_status = 200;
    }
    return r;
  };
  h.Post("alertname=Disk,instance=a");
  h.Advance(10s);
  REQUIRE(h.Take().size() == 1);
  auto got = Records(history);
  REQUIRE(got.size() == 2);
  const NotificationRecord& sent = got[0];  // newest first
  const NotificationRecord& failed = got[1];
  CHECK(failed.outcome == "failed");
  CHECK(failed.attempt == 1);
  CHECK(failed.code == 503);
  CHECK(failed.error == "unexpected status code 503");
  CHECK(sent.outcome == "sent");
  CHECK(sent.attempt == 2);
  CHECK(sent.code == 200);
  CHECK(sent.error.empty());
  CHECK(sent.receiver == "pager");
  CHECK(sent.integration == "webhook");
  CHECK(sent.index == 0);
  CHECK(sent.kind == "alerts");
  CHECK(sent.reason == "first notification");
  CHECK(sent.group_key == "{}:{alertname=\"Disk\"}");
  const uint64_t fp = Fp(LabelSet{{"alertname", "Disk"}, {"instance", "a"}});
  REQUIRE(sent.alerts.size() == 1);
  CHECK(sent.alerts[0] == NotifiedAlert{fp, true});
  CHECK(sent.at > failed.at);  // the back-off passed between them

  // A refusal that is not retryable ends the flush: given up after one attempt.
  h.rec.answer = [](const notifiers::Notification&) {
    notifiers::NotifyResult r;
    r.status = Status::InvalidArgument("unexpected status code 400");
    r.http_status = 400;
    return r;
  };
  h.Resolve("alertname=Disk,instance=a");
  h.Advance(1min);
  got = Records(history);
  REQUIRE(got.size() == 3);
  CHECK(got[0].outcome == "gave_up");
  CHECK(got[0].code == 400);
  REQUIRE(got[0].alerts.size() == 1);
  CHECK(got[0].alerts[0] == NotifiedAlert{fp, false});
  CHECK(got[0].reason == "all alerts resolved");
}

TEST_CASE("silences and inhibitions found at a flush are recorded when they change") {
  MemoryRouterStores stores;
  storage::HistoryRecorder history(&stores);
  RouterHarness h(kConfig, {}, T0(), nullptr, &history);
  const LabelSet warn{{"alertname", "Tgt"}, {"severity", "warning"}, {"cluster", "c1"}};
  const LabelSet crit{{"alertname", "Src"}, {"severity", "critical"}, {"cluster", "c1"}};

  Silence s;
  s.matchers = *ParseMatchers(R"({alertname="Tgt"})");
  s.starts_at = h.clock.Now();
  s.ends_at = h.clock.Now() + 5min;
  s.created_by = "alice";
  s.comment = "disk swap";
  auto id = h.router->silences().Set(s);
  REQUIRE(id.ok());
  h.Post("alertname=Tgt,severity=warning,cluster=c1");
  h.Advance(10s);
  CHECK(h.Take().empty());
  auto ev = EventsOf(history, Fp(warn));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == "silenced");
  CHECK(ev[0].ref == *id);
  CHECK(ev[0].by == "alice");
  CHECK(ev[0].text == "disk swap");
  // Flushes that find the same silence record nothing more.
  h.Advance(1min);
  CHECK(EventsOf(history, Fp(warn)).size() == 1);

  // The silence is expired: at the next flush it no longer mutes, and the alert goes out.
  REQUIRE(h.router->silences().Expire(*id).ok());
  h.Advance(1min);
  CHECK(h.Take().size() == 1);
  CHECK(Kinds(EventsOf(history, Fp(warn))) == std::vector<std::string>{"silenced", "unsilenced"});

  // An inhibiting alert arrives; then it resolves.
  h.Post("alertname=Src,severity=critical,cluster=c1");
  h.Advance(1min);
  ev = EventsOf(history, Fp(warn));
  REQUIRE(ev.size() == 3);
  CHECK(ev[2].kind == "inhibited");
  CHECK(ev[2].ref == crit.FingerprintHex());
  h.Resolve("alertname=Src,severity=critical,cluster=c1");
  h.Advance(1min);
  CHECK(Kinds(EventsOf(history, Fp(warn))) ==
        std::vector<std::string>{"silenced", "unsilenced", "inhibited", "uninhibited"});
  // Nothing muted the source.
  CHECK(EventsOf(history, Fp(crit)).empty());
}

TEST_CASE("with a retention of 0s nothing is recorded") {
  MemoryRouterStores stores;
  storage::HistoryRecorder history(&stores, Duration::zero());
  RouterHarness h(kConfig, {}, T0(), nullptr, &history);
  h.Post("alertname=Disk,instance=a");
  h.Advance(10s);
  REQUIRE(h.Take().size() == 1);
  CHECK(Records(history).empty());
}

}  // namespace
}  // namespace alertd::testing
