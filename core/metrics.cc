#include "core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace alertd {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double v) {
  // Bucket i counts observations in (bounds[i-1], bounds[i]]; the exposition sums them.
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);  // shortest representation that round-trips
}

void AppendFamilyHeader(std::string* out, std::string_view name, std::string_view type,
                        std::string_view help) {
  std::string h;
  for (char c : help) {
    if (c == '\\') {
      h += "\\\\";
    } else if (c == '\n') {
      h += "\\n";
    } else {
      h += c;
    }
  }
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void AppendSample(std::string* out, std::string_view name,
                  const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  *out += name;
  if (!labels.empty()) {
    *out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) *out += ',';
      *out += labels[i].first;
      *out += "=\"";
      *out += EscapeLabelValue(labels[i].second);
      *out += '"';
    }
    *out += '}';
  }
  *out += ' ';
  *out += FormatSampleValue(value);
  *out += '\n';
}

template <class M>
M& Family<M>::WithLabels(const std::vector<std::string>& values) {
  std::lock_guard l(mu_);
  auto& child = children_[values];
  if (!child) child = make_();
  return *child;
}

namespace {

std::vector<std::pair<std::string, std::string>> Zip(const std::vector<std::string>& names,
                                                     const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out.emplace_back(names[i], values[i]);
  }
  return out;
}

void WriteChild(std::string* out, const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels, const Counter& c) {
  AppendSample(out, name, labels, c.Value());
}

void WriteChild(std::string* out, const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels, const Gauge& g) {
  AppendSample(out, name, labels, g.Value());
}

void WriteChild(std::string* out, const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels,
                const Histogram& h) {
  const auto s = h.Read();
  auto with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    with_le.back().second = i < s.bounds.size() ? FormatSampleValue(s.bounds[i]) : "+Inf";
    AppendSample(out, name + "_bucket", with_le, static_cast<double>(s.cumulative[i]));
  }
  AppendSample(out, name + "_sum", labels, s.sum);
  AppendSample(out, name + "_count", labels, static_cast<double>(s.cumulative.back()));
}

}  // namespace

template <class M>
void Family<M>::Write(const char* type, std::string* out) const {
  AppendFamilyHeader(out, name_, type, help_);
  std::lock_guard l(mu_);
  for (const auto& [values, child] : children_) {
    WriteChild(out, name_, Zip(label_names_, values), *child);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  auto f = std::shared_ptr<CounterFamily>(
      new CounterFamily(std::move(name), std::move(help), std::move(label_names),
                        [] { return std::make_unique<Counter>(); }));
  std::lock_guard l(mu_);
  writers_.push_back([f](std::string* out) { f->Write("counter", out); });
  owned_.push_back(f);
  return *f;
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  auto f = std::shared_ptr<GaugeFamily>(new GaugeFamily(std::move(name), std::move(help),
                                                        std::move(label_names),
                                                        [] { return std::make_unique<Gauge>(); }));
  std::lock_guard l(mu_);
  writers_.push_back([f](std::string* out) { f->Write("gauge", out); });
  owned_.push_back(f);
  return *f;
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  auto f = std::shared_ptr<HistogramFamily>(
      new HistogramFamily(std::move(name), std::move(help), std::move(label_names),
                          [bounds] { return std::make_unique<Histogram>(bounds); }));
  std::lock_guard l(mu_);
  writers_.push_back([f](std::string* out) { f->Write("histogram", out); });
  owned_.push_back(f);
  return *f;
}

void MetricsRegistry::AddCollector(Collector c) {
  std::lock_guard l(mu_);
  writers_.push_back(std::move(c));
}

std::string MetricsRegistry::Text() const {
  std::vector<std::function<void(std::string*)>> writers;
  {
    std::lock_guard l(mu_);
    writers = writers_;
  }
  std::string out;
  for (const auto& w : writers) w(&out);
  return out;
}

}  // namespace alertd
