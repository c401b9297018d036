// Micro benchmark of the template engine: renders the default Slack notification (title,
// title_link, fallback, color, text, plus a pretext listing every alert with
// __text_alert_list) for one group of 100 alerts, and prints microseconds per render.
//
//   ./bench_templating [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "templating/defaults.h"
#include "templating/notification.h"
#include "templating/template.h"

using namespace alertd;
using namespace alertd::templating;

namespace {

NotificationData MakeGroup(int n) {
  NotificationData d;
  d.receiver = "team-x slack";
  d.external_url = "http://alertd.example:9095";
  d.group_labels = {{"alertname", "HighLatency"}, {"cluster", "eu1"}};
  for (int i = 0; i < n; ++i) {
    NotificationAlert a;
    a.status = i % 10 == 9 ? "resolved" : "firing";
    a.labels = {{"alertname", "HighLatency"},
                {"cluster", "eu1"},
                {"job", "api"},
                {"instance", "10.0.0." + std::to_string(i) + ":9100"},
                {"severity", "critical"}};
    a.annotations = {{"summary", "p99 latency above 1s on instance " + std::to_string(i)},
                     {"runbook_url", "https://runbooks.example/latency"}};
    a.starts_at = Time(std::chrono::seconds(1700000000 + i));
    a.generator_url = "http://prometheus:9090/graph?g0.expr=latency+%3E+1&g0.tab=1";
    a.fingerprint = "00000000000000" + std::to_string(10 + i % 90);
    d.alerts.push_back(std::move(a));
  }
  ComputeGroupFields(d);
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  TemplateSet set(Dialect::kAlertmanager);
  if (Status st = set.AddDefaults(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  const std::string_view fields[] = {
      kSlackDefaultTitle, kSlackDefaultTitleLink, kSlackDefaultFallback,
      kSlackDefaultColor, kSlackDefaultText,      R"({{ template "__text_alert_list" .Alerts }})"};
  std::vector<CompiledText> compiled;
  for (auto f : fields) {
    auto c = set.Compile("slack", f);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", c.status().message().c_str());
      return 1;
    }
    compiled.push_back(*c);
  }
  const NotificationData group = MakeGroup(100);
  const ExecOptions opts = NotificationExecOptions();

  size_t bytes = 0;
  auto render = [&] {
    const Value data = ToValue(group);
    for (const auto& c : compiled) {
      ExecResult r = c.Execute(data, opts);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status.message().c_str());
        std::exit(1);
      }
      bytes += r.output.size();
    }
  };
  for (int i = 0; i < 20; ++i) render();  // warm up
  bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) render();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double us = std::chrono::duration<double, std::micro>(elapsed).count() / iterations;

  // The same without the per-alert list: title, link, fallback, color and text only.
  const auto start2 = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    const Value data = ToValue(group);
    for (size_t k = 0; k + 1 < compiled.size(); ++k)
      bytes += compiled[k].Execute(data, opts).output.size();
  }
  const double us2 =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start2).count() /
      iterations;
  std::printf("slack notification, 100 alerts, default fields + alert list: %.1f us/render\n", us);
  std::printf("slack notification, 100 alerts, default fields only:         %.1f us/render\n", us2);
  std::printf("(%d iterations, %zu bytes rendered)\n", iterations, bytes);
  return 0;
}
