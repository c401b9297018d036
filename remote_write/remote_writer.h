// The remote writer: takes the samples of rule evaluations (it is the rule engine's
// SampleSink) and sends them by Prometheus remote write 1.0 to every `remote_write:` entry,
// each through its own durable queue (durable_queue.h) and sender thread, as Prometheus's
// queue manager does with one shard: batches of up to max_samples_per_send, sent when full or
// after batch_send_deadline; 5xx, 429 and transport errors retried with exponential back-off
// from min_backoff to max_backoff (the batch stays queued, so a restart resumes it); other
// 4xx answers drop the batch, counted as failed. write_relabel_configs apply before queueing.
// Metrics as Prometheus names them (prometheus_remote_storage_*, labels remote_name and url without
// userinfo).
//
// Thread-safe: Append may be called from many threads; Stop from one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/sample_sink.h"

namespace alertd::remote_write {

class RemoteWriter : public SampleSink {
 public:
  // Builds the HTTP clients and opens the queue file at `queue_path` (samples left from a
  // previous run are sent first). `external_labels` are added to every series that lacks
  // them, as Prometheus's remote write does. Fails when a client cannot be built (a credentials
  // file is unreadable) or the queue file cannot be opened. Sending starts at once.
  static Result<std::unique_ptr<RemoteWriter>> Create(
      const std::vector<config::RemoteWriteConfig>& entries, const std::string& queue_path,
      const std::string& user_agent, const LabelSet& external_labels = {});
  ~RemoteWriter() override = default;

  // Encodes each sample once and queues it for every entry. Queue errors are logged and the
  // samples counted as dropped.
  void Append(std::vector<Sample> samples) override = 0;

  // Stops the sender threads (a request in flight finishes or times out first). Queued
  // samples stay on disk. Idempotent; the destructor calls it.
  virtual void Stop() = 0;

  // Appends the prometheus_remote_storage_* families in the text exposition format.
  virtual void AppendMetrics(std::string* out) const = 0;

 protected:
  RemoteWriter() = default;
};

// Where the queue file lives: beside the database at `storage_path`
// (<dir>/remote_write_queue.db).
std::string QueuePathFor(const std::string& storage_path);

}  // namespace alertd::remote_write
