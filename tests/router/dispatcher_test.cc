// Aggregation groups, their timers and the dedup reasons, on a fake clock.
#include <doctest/doctest.h>

#include "tests/router/harness.h"

namespace alertd::testing {
namespace {

using Names = std::vector<std::string>;

const char* kConfig = R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
    - matchers: ['quiet="true"']
      receiver: quiet
receivers:
  - name: r
    webhook_configs: [{url: 'http://127.0.0.1:1/'}]
  - name: quiet
    webhook_configs: [{url: 'http://127.0.0.1:1/', send_resolved: false}]
)";

TEST_CASE("group timers: group_wait, group_interval ticks, repeat_interval, resolve") {
  RouterHarness h(kConfig);
  h.Post("alertname=A,name=a1");
  h.Advance(29s);
  CHECK(h.Take().empty());
  h.Advance(1s);  // t = 30s
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].at == T0() + 30s);
  CHECK(s[0].reason == "first notification");
  CHECK(s[0].firing == Names{"a1"});
  CHECK(s[0].group_key == "{}:{alertname=\"A\"}");

  // A new alert in an existing group waits for the next group_interval tick.
  h.Advance(10s);
  h.Post("alertname=A,name=a2");
  h.Advance(4min + 49s);  // t = 5m29s
  CHECK(h.Take().empty());
  h.Advance(1s);  // t = 5m30s
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "new alerts added");
  CHECK(s[0].firing == Names{"a1", "a2"});

  // Nothing changes: ticks send nothing until the repeat interval has passed; the repeat is
  // only noticed at a tick (logged at 5m30s, repeat 1h: the tick at 1h10m30s).
  h.Advance(1h + 4min + 59s);  // t = 1h10m29s
  CHECK(h.Take().empty());
  h.Advance(1s);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].at == T0() + 1h + 10min + 30s);
  CHECK(s[0].reason == "repeat interval elapsed");

  // A partial resolve (send_resolved true) goes out at the next tick...
  h.Resolve("alertname=A,name=a1");
  h.Advance(5min);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "some alerts resolved");
  CHECK(s[0].firing == Names{"a2"});
  CHECK(s[0].resolved == Names{"a1"});
  // ...after which the resolved alert has left the group.
  h.Resolve("alertname=A,name=a2");
  h.Advance(5min);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "all alerts resolved");
  CHECK(s[0].firing.empty());
  CHECK(s[0].resolved == Names{"a2"});
  // The group is now empty; maintenance (every 30s) removes it.
  h.Advance(30s);
  CHECK(h.router->Groups().empty());
  h.Advance(1h);
  CHECK(h.Take().empty());
}

TEST_CASE("a flush refused by a full queue is redone at the group's next interval") {
  RouterHarness h(kConfig);
  h.refuse_flushes = 1;
  h.Post("alertname=A,name=a1");
  h.Advance(30s);  // the first flush is dropped
  CHECK(h.Take().empty());
  CHECK(h.refuse_flushes == 0);
  h.Advance(5min - 1s);
  CHECK(h.Take().empty());
  h.Advance(1s);  // t = 5m30s: the next tick flushes, and nothing was lost
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "first notification");
  CHECK(s[0].firing == Names{"a1"});
}

TEST_CASE("a new group flushes at once when startsAt + group_wait has passed") {
  RouterHarness h(kConfig);
  h.Post("alertname=Old,name=o1", T0() - 31s);
  h.scheduler.RunDue();
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].at == T0());
  // Only before the first flush: a later old alert waits for the tick.
  h.Advance(1min);
  h.Post("alertname=Old,name=o2", T0() - 1h);
  h.scheduler.RunDue();
  CHECK(h.Take().empty());
  h.Advance(4min);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].at == T0() + 5min);
  CHECK(s[0].firing == Names{"o1", "o2"});
}

TEST_CASE("an alert that fires and resolves within group_wait sends nothing") {
  RouterHarness h(kConfig);
  h.Post("alertname=Blip,name=b");
  h.Advance(10s);
  h.Resolve("alertname=Blip,name=b");
  h.Advance(1h);
  CHECK(h.Take().empty());
  CHECK(h.router->Groups().empty());
}

TEST_CASE("send_resolved false: a partial resolve sends nothing, a full resolve is logged") {
  RouterHarness h(kConfig);
  h.Post("alertname=Q,quiet=true,name=q1");
  h.Post("alertname=Q,quiet=true,name=q2");
  h.Advance(30s);
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].receiver == "quiet");
  CHECK(s[0].firing == Names{"q1", "q2"});
  h.Resolve("alertname=Q,quiet=true,name=q1");
  h.Advance(5min);
  CHECK(h.Take().empty());
  h.Resolve("alertname=Q,quiet=true,name=q2");
  h.Advance(5min);
  CHECK(h.Take().empty());
  // Re-firing is news: the log knows nothing is firing.
  h.Post("alertname=Q,quiet=true,name=q1", h.clock.Now());
  h.Advance(5min);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "new alerts added");
  CHECK(s[0].firing == Names{"q1"});
}

TEST_CASE("alerts are sent in Alertmanager's payload order: job, instance, labels") {
  RouterHarness h(kConfig);
  h.Post("alertname=O,name=n3,job=b,instance=1");
  h.Post("alertname=O,name=n1,job=a,instance=2");
  h.Post("alertname=O,name=n2,job=a,instance=10");
  h.Post("alertname=O,name=n5");
  h.Post("alertname=O,name=n4,instance=0");
  h.Advance(30s);
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].firing == Names{"n2", "n1", "n3", "n4", "n5"});
}

TEST_CASE("delivery failures: 5xx retried within the flush, 4xx sent again at the next tick") {
  RouterHarness h(kConfig);
  int attempts = 0;
  h.rec.answer = [&](const notifiers::Notification&) {
    ++attempts;
    notifiers::NotifyResult r;
    if (attempts <= 2) {
      r.status = Status::Unavailable("503");
      r.retryable = true;
    }
    return r;
  };
  h.Post("alertname=R,name=r1");
  h.Advance(30s);
  auto s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(attempts == 3);
  CHECK(s[0].at > T0() + 30s);  // after two back-off waits
  CHECK(s[0].at < T0() + 30s + 5s);

  attempts = 0;
  h.rec.answer = [&](const notifiers::Notification&) {
    ++attempts;
    notifiers::NotifyResult r;
    if (attempts == 1) r.status = Status::InvalidArgument("400");
    return r;
  };
  h.Post("alertname=R,name=r2");
  h.Advance(5min);
  CHECK(h.Take().empty());
  CHECK(attempts == 1);
  h.Advance(5min);
  s = h.Take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == "new alerts added");
  CHECK(attempts == 2);
}

TEST_CASE("retries stop at the flush deadline") {
  RouterHarness h(kConfig);
  int attempts = 0;
  h.rec.answer = [&](const notifiers::Notification&) {
    ++attempts;
    return notifiers::NotifyResult{Status::Unavailable("down"), true};
  };
  h.Post("alertname=D,name=d");
  h.Advance(30s);
  CHECK(attempts > 3);
  // The deadline is group_interval (5m) after the flush; the back-off never goes past it.
  CHECK(h.clock.Now() <= T0() + 30s + 5min);
  CHECK(h.Take().empty());
}

}  // namespace
}  // namespace alertd::testing
