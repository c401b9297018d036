#include "core/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <thread>

using namespace alertd;

TEST_CASE("sample values and label values are written as the text format requires") {
  struct Row {
    const char* name;
    double value;
    const char* want;
  };
  const Row rows[] = {
      {"zero", 0, "0"},
      {"integer", 42, "42"},
      {"negative", -3, "-3"},
      {"fraction", 0.25, "0.25"},
      {"large integer", 1e15, "1000000000000000"},
      {"+Inf", INFINITY, "+Inf"},
      {"-Inf", -INFINITY, "-Inf"},
      {"NaN", NAN, "NaN"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(FormatSampleValue(row.value) == row.want);
  }
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("registry writes counters, gauges and cumulative histograms with labels") {
  MetricsRegistry r;
  auto& c = r.AddCounter("x_requests_total", "Requests.", {"handler", "code"});
  auto& g = r.AddGauge("x_up", "Up.\nSecond line");
  auto& h = r.AddHistogram("x_latency_seconds", "Latency.", {"handler"}, {0.1, 1});
  r.AddCollector([](std::string* out) {
    AppendFamilyHeader(out, "x_collected", "gauge", "From a collector.");
    AppendSample(out, "x_collected", {{"k", "v\"q"}}, 2);
  });
  c.WithLabels({"/a", "200"}).Inc();
  c.WithLabels({"/a", "200"}).Inc(2);
  c.WithLabels({"/b", "404"}).Inc();
  g.Get().Set(1);
  h.WithLabels({"/a"}).Observe(0.05);
  h.WithLabels({"/a"}).Observe(0.1);  // on the bound: counts in that bucket
  h.WithLabels({"/a"}).Observe(0.5);
  h.WithLabels({"/a"}).Observe(7);
  CHECK(r.Text() ==
        "# HELP x_requests_total Requests.\n"
        "# TYPE x_requests_total counter\n"
        "x_requests_total{handler=\"/a\",code=\"200\"} 3\n"
        "x_requests_total{handler=\"/b\",code=\"404\"} 1\n"
        "# HELP x_up Up.\\nSecond line\n"
        "# TYPE x_up gauge\n"
        "x_up 1\n"
        "# HELP x_latency_seconds Latency.\n"
        "# TYPE x_latency_seconds histogram\n"
        "x_latency_seconds_bucket{handler=\"/a\",le=\"0.1\"} 2\n"
        "x_latency_seconds_bucket{handler=\"/a\",le=\"1\"} 3\n"
        "x_latency_seconds_bucket{handler=\"/a\",le=\"+Inf\"} 4\n"
        "x_latency_seconds_sum{handler=\"/a\"} 7.65\n"
        "x_latency_seconds_count{handler=\"/a\"} 4\n"
        "# HELP x_collected From a collector.\n"
        "# TYPE x_collected gauge\n"
        "x_collected{k=\"v\\\"q\"} 2\n");
}

TEST_CASE("counters are exact under concurrent increments") {
  MetricsRegistry r;
  auto& c = r.AddCounter("x_total", "X.", {"t"});
  auto& h = r.AddHistogram("x_seconds", "X.", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({"a"}).Inc();
        h.Get().Observe(0.002);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.WithLabels({"a"}).Value() == 40000);
  CHECK(h.Get().Read().cumulative.back() == 40000);
}
