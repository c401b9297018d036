// kill -9 of the real alertd in the middle of group_wait and of repeat_interval: after the
// restart the notifications come once, on time (group timers and the notification log are
// in the state database).
#include <doctest/doctest.h>
#include <signal.h>

#include <thread>

#include "tests/router/peers.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Arrival times of the notifications for `receiver`, seconds since the epoch.
std::vector<double> Arrivals(const Peer& sink, const std::string& receiver) {
  std::vector<double> out;
  for (const auto& r : SinkRecords(sink)) {
    if (r["body"].is_object() && r["body"]["receiver"] == receiver) out.push_back(r["t"]);
  }
  return out;
}

std::string Config(const std::string& sink) {
  return R"(
route:
  receiver: wait
  group_by: [alertname]
  group_wait: 4s
  group_interval: 10m
  repeat_interval: 1h
  routes:
    - matchers: [kind="repeat"]
      receiver: repeat
      group_wait: 1s
      group_interval: 1s
      repeat_interval: 6s
receivers:
  - name: wait
    webhook_configs: [{url: ')" +
         sink + R"(/wait'}]
  - name: repeat
    webhook_configs: [{url: ')" +
         sink + R"(/repeat'}]
)";
}

TEST_CASE("restart after kill -9 during group_wait and during repeat_interval") {
  const std::string dir = MakeTempDir("router-restart");
  Peer sink = StartSink(dir);
  WriteFile(dir + "/alertd.yml", Config(sink.url));
  const int port = FreePort();
  Peer ad = StartAlertd(dir, dir + "/alertd.yml", port, "alertd-1.log");

  SUBCASE("during group_wait") {
    const double t0 = WallNow();
    PostAlerts({&ad}, json::array({AlertJson({{"alertname", "W"}, {"name", "w1"}})}));
    std::this_thread::sleep_for(1500ms);
    ad.proc.Kill9();
    CHECK(Arrivals(sink, "wait").empty());
    ad = StartAlertd(dir, dir + "/alertd.yml", port, "alertd-2.log");
    REQUIRE(WaitFor([&] { return !Arrivals(sink, "wait").empty(); }, 10s));
    std::this_thread::sleep_for(2s);  // nothing more may come
    auto at = Arrivals(sink, "wait");
    INFO(ad.proc.Log());
    REQUIRE(at.size() == 1);
    CHECK(at[0] - t0 >= 3.9);  // group_wait measured from before the crash...
    CHECK(at[0] - t0 < 5.0);   // ...not restarted by it
  }
  SUBCASE("during repeat_interval") {
    const double t0 = WallNow();
    PostAlerts({&ad},
               json::array({AlertJson({{"alertname", "R"}, {"kind", "repeat"}, {"name", "r1"}})}));
    REQUIRE(WaitFor([&] { return Arrivals(sink, "repeat").size() == 1; }, 5s));
    std::this_thread::sleep_for(1500ms);
    ad.proc.Kill9();
    ad = StartAlertd(dir, dir + "/alertd.yml", port, "alertd-2.log");
    // No re-send at restart; the repeat comes at the first 1 s tick more than 6 s after the
    // first notification (about t0 + 8 s).
    REQUIRE(WaitFor([&] { return Arrivals(sink, "repeat").size() >= 2; }, 12s));
    std::this_thread::sleep_for(500ms);
    auto at = Arrivals(sink, "repeat");
    INFO(ad.proc.Log());
    REQUIRE(at.size() == 2);
    CHECK(at[0] - t0 < 1.8);
    CHECK(at[1] - at[0] > 6.0);
    CHECK(at[1] - at[0] < 7.9);
  }
  ad.proc.Stop();
  sink.proc.Stop();
  RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::testing
