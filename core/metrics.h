// A small metrics registry for alertd's own /metrics: counters, gauges and histograms with
// labels, written in the Prometheus text exposition format (version 0.0.4).
//
// Written by hand rather than using a client library: the only C++ Prometheus client,
// prometheus-cpp, is not packaged in Debian 12 (`apt-cache policy libprometheus-cpp-dev` finds
// nothing), and alertd depends on Debian packages only. What alertd needs is small: atomic
// counters, fixed-bucket histograms, label sets, and the text format.
//
// Components that already keep their own counters (the rule engine's prometheus_rule_*
// families, the notifiers' per-integration counters) register a Collector that appends whole
// families at scrape time; values that are cheaper to compute on demand (alerts by state) do
// the same.
//
// Thread-safety: everything is thread-safe. Registering families is meant for start-up;
// recording (Inc, Set, Observe) is lock-free once a labelled child exists, and WithLabels
// returns references that stay valid as long as the registry (children are never removed).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace alertd {

class Counter {
 public:
  // REQUIRES: v >= 0 (counters only go up).
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing, without +Inf.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  void ObserveDuration(Duration d) { Observe(std::chrono::duration<double>(d).count()); }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bound, then +Inf; not cumulative
  std::atomic<double> sum_{0};
};

// Buckets for request and commit latencies: 1 ms .. 10 s.
std::vector<double> DefaultLatencyBuckets();

// A metric family: one name and help, one child per distinct label values.
template <class M>
class Family {
 public:
  // REQUIRES: values.size() == label_names().size().
  M& WithLabels(const std::vector<std::string>& values);
  // The child without labels. REQUIRES: the family has no label names.
  M& Get() { return WithLabels({}); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}
  void Write(const char* type, std::string* out) const;

  const std::string name_, help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // GUARDED_BY(mu_)
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  // Appends one or more complete families (HELP, TYPE and samples) to `out`.
  using Collector = std::function<void(std::string* out)>;

  // Registers a family; the reference lives as long as the registry. `name` must be a valid
  // metric name and unique; counters' names end in _total by convention.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::vector<double> bounds = DefaultLatencyBuckets());
  void AddCollector(Collector c);

  // The whole exposition: families and collectors in the order they were registered.
  std::string Text() const;

 private:
  mutable std::mutex mu_;
  // Each entry writes one family; families themselves live in owned_.
  std::vector<std::function<void(std::string*)>> writers_;  // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<void>> owned_;                // GUARDED_BY(mu_)
};

// Text-format helpers for collectors.
// `"` `\` and newlines escaped as the exposition format requires.
std::string EscapeLabelValue(std::string_view v);
// A sample value as Prometheus writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatSampleValue(double v);
// "# HELP name help\n# TYPE name type\n" (help escaped).
void AppendFamilyHeader(std::string* out, std::string_view name, std::string_view type,
                        std::string_view help);
// name{l1="v1",...} value\n — labels given as (name, value) pairs.
void AppendSample(std::string* out, std::string_view name,
                  const std::vector<std::pair<std::string, std::string>>& labels, double value);

}  // namespace alertd
