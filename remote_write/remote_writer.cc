#include "remote_write/remote_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/metrics.h"
#include "core/secret_text.h"
#include "notifiers/http_result.h"
#include "notifiers/notifier.h"
#include "remote_write/durable_queue.h"
#include "remote_write/write_request.h"

namespace alertd::remote_write {
namespace {

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void StoreMax(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v > cur && !a->compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// One remote_write entry: its queue in the shared file and its sender thread.
class QueueManager {
 public:
  QueueManager(config::RemoteWriteConfig cfg, std::unique_ptr<notifiers::HttpClient> client,
               DurableQueue* queue)
      : cfg_(std::move(cfg)),
        url_label_(StripUrlUserinfo(cfg_.url)),
        client_(std::move(client)),
        queue_(queue),
        batch_duration_(DefaultLatencyBuckets()) {
    for (const auto& [k, v] : cfg_.http_config.headers) headers_.emplace_back(k, v);
    headers_.emplace_back("Content-Encoding", kContentEncoding);
    headers_.emplace_back("X-Prometheus-Remote-Write-Version", kRemoteWriteVersion);
    thread_ = std::thread([this] { Run(); });
  }
  ~QueueManager() { Stop(); }

  bool relabels() const { return !cfg_.write_relabel_configs.empty(); }

  // Applies write_relabel_configs to `samples`, encodes those kept and queues them.
  void RelabelAndEnqueue(const std::vector<Sample>& samples) {
    std::vector<QueuedSample> kept;
    kept.reserve(samples.size());
    for (const auto& s : samples) {
      Sample r = s;
      if (!Relabel(cfg_.write_relabel_configs, &r.labels) || r.labels.empty()) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      kept.push_back(QueuedSample{
          0, std::chrono::duration_cast<std::chrono::milliseconds>(r.ts.time_since_epoch()).count(),
          EncodeTimeSeries(r)});
    }
    if (!kept.empty()) Enqueue(kept);
  }

  void Enqueue(const std::vector<QueuedSample>& samples) {
    auto dropped = queue_->Append(cfg_.name, samples, cfg_.queue_config.capacity);
    if (!dropped.ok()) {
      spdlog::warn("remote_write {:?}: queueing {} samples: {}", cfg_.name, samples.size(),
                   dropped.status().message());
      dropped_.fetch_add(samples.size(), std::memory_order_relaxed);
    } else {
      dropped_.fetch_add(*dropped, std::memory_order_relaxed);
    }
    std::lock_guard l(mu_);
    woken_ = true;
    cv_.notify_one();
  }

  void Stop() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  void AppendMetrics(const char* family, std::string* out) const {
    const std::vector<std::pair<std::string, std::string>> lbs = {{"remote_name", cfg_.name},
                                                                  {"url", url_label_}};
    const std::string_view f(family);
    auto v = [](const std::atomic<uint64_t>& a) {
      return static_cast<double>(a.load(std::memory_order_relaxed));
    };
    if (f == "samples_total")
      AppendSample(out, "prometheus_remote_storage_samples_total", lbs, v(sent_));
    if (f == "samples_failed_total")
      AppendSample(out, "prometheus_remote_storage_samples_failed_total", lbs, v(failed_));
    if (f == "samples_retried_total")
      AppendSample(out, "prometheus_remote_storage_samples_retried_total", lbs, v(retried_));
    if (f == "samples_dropped_total")
      AppendSample(out, "prometheus_remote_storage_samples_dropped_total", lbs, v(dropped_));
    if (f == "bytes_total")
      AppendSample(out, "prometheus_remote_storage_bytes_total", lbs, v(bytes_));
    if (f == "samples_pending")
      AppendSample(out, "prometheus_remote_storage_samples_pending", lbs,
                   static_cast<double>(queue_->Pending(cfg_.name)));
    if (f == "queue_highest_sent_timestamp_seconds")
      AppendSample(out, "prometheus_remote_storage_queue_highest_sent_timestamp_seconds", lbs,
                   Seconds(highest_sent_ms_.load(std::memory_order_relaxed)));
    if (f == "shards") AppendSample(out, "prometheus_remote_storage_shards", lbs, 1);
    if (f == "sent_batch_duration_seconds") {
      const auto s = batch_duration_.Read();
      const uint64_t count = s.cumulative.empty() ? 0 : s.cumulative.back();
      std::string base = fmt::format("remote_name=\"{}\",url=\"{}\"", EscapeLabelValue(cfg_.name),
                                     EscapeLabelValue(url_label_));
      for (size_t i = 0; i < s.bounds.size(); ++i) {
        *out += fmt::format(
            "prometheus_remote_storage_sent_batch_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
            base, FormatSampleValue(s.bounds[i]), s.cumulative[i]);
      }
      *out += fmt::format(
          "prometheus_remote_storage_sent_batch_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
          base, count);
      *out += fmt::format("prometheus_remote_storage_sent_batch_duration_seconds_sum{{{}}} {}\n",
                          base, FormatSampleValue(s.sum));
      *out += fmt::format("prometheus_remote_storage_sent_batch_duration_seconds_count{{{}}} {}\n",
                          base, count);
    }
  }

 private:
  // Waits up to `d` for Stop (true) or an Enqueue (false on wake-up or timeout).
  bool WaitFor(Duration d, bool wake_on_enqueue) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, d, [&] { return stop_ || (wake_on_enqueue && woken_); });
    woken_ = false;
    return stop_;
  }

  void Run() {
    const auto& qc = cfg_.queue_config;
    std::chrono::steady_clock::time_point batch_start{};
    bool waiting = false;
    for (;;) {
      {
        std::lock_guard l(mu_);
        if (stop_) return;
      }
      const size_t pending = queue_->Pending(cfg_.name);
      if (pending == 0) {
        waiting = false;
        if (WaitFor(std::chrono::hours(1), true)) return;
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (!waiting) {
        waiting = true;
        batch_start = now;
      }
      if (pending < qc.max_samples_per_send && now - batch_start < qc.batch_send_deadline) {
        if (WaitFor(qc.batch_send_deadline - (now - batch_start), true)) return;
        continue;
      }
      waiting = false;
      if (!SendOneBatch()) return;
    }
  }

  // Sends the oldest batch until it is delivered or given up on; false when stopped first.
  bool SendOneBatch() {
    const auto& qc = cfg_.queue_config;
    auto batch = queue_->Peek(cfg_.name, qc.max_samples_per_send);
    if (!batch.ok()) {
      spdlog::warn("remote_write {:?}: reading the queue: {}", cfg_.name, batch.status().message());
      return !WaitFor(qc.max_backoff, false);
    }
    if (batch->empty()) return true;
    std::string raw;
    int64_t highest = 0;
    for (const auto& s : *batch) {
      AppendToWriteRequest(s.series, &raw);
      highest = std::max(highest, s.ts_ms);
    }
    notifiers::HttpRequest req;
    req.method = "POST";
    req.url = cfg_.url;
    req.content_type = kContentType;
    req.body = SnappyCompress(raw);
    req.headers = headers_;
    req.timeout = cfg_.remote_timeout;
    const uint64_t n = batch->size();
    Duration backoff = qc.min_backoff;
    for (;;) {
      sent_.fetch_add(n, std::memory_order_relaxed);
      const auto t0 = std::chrono::steady_clock::now();
      const notifiers::HttpResponse resp = client_->Do(req);
      batch_duration_.ObserveDuration(std::chrono::steady_clock::now() - t0);
      // A receiver asking to slow down (429) is retried with the back-off, as 5xx is.
      static constexpr long kRetryCodes[] = {429};
      const notifiers::NotifyResult res = notifiers::CheckHttpResponse(resp, kRetryCodes);
      if (res.status.ok()) {
        bytes_.fetch_add(req.body.size(), std::memory_order_relaxed);
        StoreMax(&highest_sent_ms_, highest);
        break;
      }
      if (!res.retryable) {
        // The receiver refused the data itself (400: out of order, bad labels...): sending it
        // again would fail again, so it is dropped, as Prometheus does.
        failed_.fetch_add(n, std::memory_order_relaxed);
        spdlog::warn("remote_write {:?}: {} samples dropped: {}", cfg_.name, n,
                     res.status.message());
        break;
      }
      retried_.fetch_add(n, std::memory_order_relaxed);
      spdlog::debug("remote_write {:?}: retrying in {}ms: {}", cfg_.name,
                    std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count(),
                    res.status.message());
      if (WaitFor(backoff, false)) return false;
      backoff = std::min(backoff * 2, qc.max_backoff);
    }
    Status st = queue_->RemoveThrough(cfg_.name, batch->back().seq);
    if (!st.ok())
      spdlog::warn("remote_write {:?}: updating the queue: {}", cfg_.name, st.message());
    return true;
  }

  const config::RemoteWriteConfig cfg_;
  const std::string url_label_;
  std::unique_ptr<notifiers::HttpClient> client_;
  DurableQueue* queue_;
  std::vector<std::pair<std::string, std::string>> headers_;

  std::atomic<uint64_t> sent_{0}, failed_{0}, retried_{0}, dropped_{0}, bytes_{0};
  std::atomic<int64_t> highest_sent_ms_{0};
  Histogram batch_duration_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  bool woken_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;  // started last, in the constructor
};

class RemoteWriterImpl : public RemoteWriter {
 public:
  RemoteWriterImpl(std::unique_ptr<DurableQueue> queue, LabelSet external_labels)
      : queue_(std::move(queue)), external_labels_(std::move(external_labels)) {}
  ~RemoteWriterImpl() override { Stop(); }

  void Add(config::RemoteWriteConfig cfg, std::unique_ptr<notifiers::HttpClient> client) {
    managers_.push_back(
        std::make_unique<QueueManager>(std::move(cfg), std::move(client), queue_.get()));
  }

  void Append(std::vector<Sample> samples) override {
    if (samples.empty()) return;
    std::vector<QueuedSample> encoded;
    encoded.reserve(samples.size());
    int64_t highest = 0;
    for (auto& s : samples) {
      for (const auto& l : external_labels_) {
        if (!s.labels.Has(l.name)) s.labels.Set(l.name, l.value);
      }
      QueuedSample q;
      q.ts_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(s.ts.time_since_epoch()).count();
      q.series = EncodeTimeSeries(s);
      highest = std::max(highest, q.ts_ms);
      encoded.push_back(std::move(q));
    }
    StoreMax(&highest_ms_, highest);
    for (auto& m : managers_) {
      if (m->relabels()) {
        m->RelabelAndEnqueue(samples);
      } else {
        m->Enqueue(encoded);
      }
    }
  }

  void Stop() override {
    for (auto& m : managers_) m->Stop();
  }

  void AppendMetrics(std::string* out) const override {
    AppendFamilyHeader(out, "prometheus_remote_storage_highest_timestamp_in_seconds", "gauge",
                       "Highest timestamp that has come into the remote storage via the "
                       "Appender interface, in seconds since epoch.");
    AppendSample(out, "prometheus_remote_storage_highest_timestamp_in_seconds", {},
                 Seconds(highest_ms_.load(std::memory_order_relaxed)));
    struct Family {
      const char* key;
      const char* type;
      const char* help;
    };
    static constexpr Family kFamilies[] = {
        {"samples_total", "counter", "Total number of samples sent to remote storage."},
        {"samples_failed_total", "counter",
         "Total number of samples which failed on send to remote storage, non-recoverable "
         "errors."},
        {"samples_retried_total", "counter",
         "Total number of samples which failed on send to remote storage but were retried "
         "because the send error was recoverable."},
        {"samples_dropped_total", "counter",
         "Total number of samples which were dropped by write_relabel_configs or because the "
         "queue was at capacity."},
        {"bytes_total", "counter",
         "The total number of bytes of data (not metadata) sent by the queue after "
         "compression."},
        {"samples_pending", "gauge", "The number of samples pending in the queue."},
        {"queue_highest_sent_timestamp_seconds", "gauge",
         "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, "
         "in seconds since epoch."},
        {"shards", "gauge",
         "The number of shards used for parallel sending to the remote storage."},
        {"sent_batch_duration_seconds", "histogram",
         "Duration of send calls to the remote storage."},
    };
    for (const auto& f : kFamilies) {
      AppendFamilyHeader(out, std::string("prometheus_remote_storage_") + f.key, f.type, f.help);
      for (const auto& m : managers_) m->AppendMetrics(f.key, out);
    }
  }

 private:
  std::unique_ptr<DurableQueue> queue_;
  const LabelSet external_labels_;
  std::vector<std::unique_ptr<QueueManager>> managers_;
  std::atomic<int64_t> highest_ms_{0};
};

}  // namespace

Result<std::unique_ptr<RemoteWriter>> RemoteWriter::Create(
    const std::vector<config::RemoteWriteConfig>& entries, const std::string& queue_path,
    const std::string& user_agent, const LabelSet& external_labels) {
  std::vector<std::unique_ptr<notifiers::HttpClient>> clients;
  for (const auto& e : entries) {
    auto c = notifiers::HttpClient::Create(e.http_config, user_agent);
    if (!c.ok()) return c.status().WithPrefix(fmt::format("remote_write {:?}", e.name));
    clients.push_back(std::move(*c));
  }
  auto q = DurableQueue::Open(queue_path);
  if (!q.ok()) return q.status();
  auto w = std::make_unique<RemoteWriterImpl>(std::move(*q), external_labels);
  for (size_t i = 0; i < entries.size(); ++i) w->Add(entries[i], std::move(clients[i]));
  return std::unique_ptr<RemoteWriter>(std::move(w));
}

std::string QueuePathFor(const std::string& storage_path) {
  const std::filesystem::path p(storage_path);
  return (p.parent_path() / "remote_write_queue.db").string();
}

}  // namespace alertd::remote_write
