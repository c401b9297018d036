#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "remote_write/durable_queue.h"
#include "remote_write/remote_writer.h"
#include "remote_write/write_request.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::remote_write;
using namespace std::chrono_literals;
namespace t = alertd::testing;

namespace {

// A remote write receiver on 127.0.0.1 answering each request with the next status of its
// script (200 once the script is used up), recording what it received.
class FakeReceiver {
 public:
  explicit FakeReceiver(std::deque<int> script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeReceiver() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/write"; }
  size_t requests() {
    std::lock_guard l(mu_);
    return requests_.size();
  }
  std::string request(size_t i) {
    std::lock_guard l(mu_);
    return requests_.at(i);
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;
      while (want == std::string::npos || req.size() < want) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        const size_t he = req.find("\r\n\r\n");
        if (want == std::string::npos && he != std::string::npos) {
          size_t cl = 0;
          std::string lower;
          for (char ch : req.substr(0, he)) lower.push_back(static_cast<char>(std::tolower(ch)));
          if (auto p = lower.find("content-length:"); p != std::string::npos)
            cl = std::stoul(lower.substr(p + 15));
          want = he + 4 + cl;
        }
      }
      int status = 200;
      {
        std::lock_guard l(mu_);
        requests_.push_back(req);
        if (!script_.empty()) {
          status = script_.front();
          script_.pop_front();
        }
      }
      const std::string resp = "HTTP/1.1 " + std::to_string(status) +
                               " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::deque<int> script_;
  std::vector<std::string> requests_;
};

double Metric(const RemoteWriter& w, const std::string& name) {
  std::string text;
  w.AppendMetrics(&text);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0)
      return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

config::RemoteWriteConfig Entry(const std::string& url) {
  config::RemoteWriteConfig c;
  c.url = url;
  c.name = "test";
  c.remote_timeout = 5s;
  c.queue_config.max_samples_per_send = 2;
  c.queue_config.batch_send_deadline = 50ms;
  c.queue_config.min_backoff = 10ms;
  c.queue_config.max_backoff = 40ms;
  return c;
}

std::vector<Sample> TwoSamples() {
  return {Sample{LabelSet{{"__name__", "job:up:sum"}, {"job", "a"}}, 1, Time(1000ms)},
          Sample{LabelSet{{"__name__", "job:up:sum"}, {"job", "b"}}, 2, Time(1000ms)}};
}

}  // namespace

TEST_CASE("a sample encodes as a prompb.TimeSeries and survives snappy") {
  // Label{name: "__name__", value: "a"}, Sample{value: 1.0, timestamp: 1000}.
  const std::string want(
      "\x0a\x0d\x0a\x08__name__\x12\x01"
      "a"
      "\x12\x0c\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xe8\x07",
      29);
  const std::string got = EncodeTimeSeries(Sample{LabelSet{{"__name__", "a"}}, 1, Time(1000ms)});
  CHECK(got == want);
  std::string req;
  AppendToWriteRequest(got, &req);
  CHECK(req == std::string("\x0a\x1d", 2) + want);
  std::string raw;
  REQUIRE(SnappyUncompress(SnappyCompress(req), &raw));
  CHECK(raw == req);
  CHECK_FALSE(SnappyUncompress("\xff\xff\xff", &raw));
}

TEST_CASE("the durable queue keeps samples across a reopen and drops the oldest at capacity") {
  const std::string dir = t::MakeTempDir("rwq");
  const std::string path = dir + "/q.db";
  {
    auto q = DurableQueue::Open(path);
    REQUIRE(q.ok());
    std::vector<QueuedSample> s = {{0, 1, "a"}, {0, 2, "b"}, {0, 3, "c"}};
    auto d = (*q)->Append("x", s, 10);
    REQUIRE(d.ok());
    CHECK(*d == 0);
    d = (*q)->Append("x", {{0, 4, "d"}, {0, 5, "e"}}, 4);  // one over capacity
    REQUIRE(d.ok());
    CHECK(*d == 1);
    CHECK((*q)->Pending("x") == 4);
    CHECK((*q)->Pending("other") == 0);
  }
  auto q = DurableQueue::Open(path);
  REQUIRE(q.ok());
  CHECK((*q)->Pending("x") == 4);
  auto p = (*q)->Peek("x", 2);
  REQUIRE(p.ok());
  REQUIRE(p->size() == 2);
  CHECK((*p)[0].series == "b");  // "a" was the oldest, dropped
  CHECK((*p)[1].ts_ms == 3);
  REQUIRE((*q)->RemoveThrough("x", (*p)[1].seq).ok());
  CHECK((*q)->Pending("x") == 2);
  t::RemoveTree(dir);
}

TEST_CASE("5xx and 429 are retried with back-off, then delivered; the headers are remote write's") {
  FakeReceiver rx({500, 429});
  const std::string dir = t::MakeTempDir("rw");
  auto w = RemoteWriter::Create({Entry(rx.url())}, dir + "/q.db", "alertd/test");
  REQUIRE(w.ok());
  (*w)->Append(TwoSamples());
  REQUIRE(t::WaitFor(
      [&] {
        return rx.requests() == 3 && Metric(**w, "prometheus_remote_storage_samples_pending") == 0;
      },
      10s));
  CHECK(Metric(**w, "prometheus_remote_storage_samples_retried_total") == 4);
  CHECK(Metric(**w, "prometheus_remote_storage_samples_failed_total") == 0);
  CHECK(Metric(**w, "prometheus_remote_storage_queue_highest_sent_timestamp_seconds") == 1);
  CHECK(Metric(**w, "prometheus_remote_storage_highest_timestamp_in_seconds") == 1);
  const std::string req = rx.request(2);
  for (const char* h : {"Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                        "User-Agent: alertd/test", "X-Prometheus-Remote-Write-Version: 0.1.0"}) {
    INFO(h);
    CHECK(req.find(h) != std::string::npos);
  }
  std::string raw;
  REQUIRE(SnappyUncompress(req.substr(req.find("\r\n\r\n") + 4), &raw));
  std::string want;
  for (const auto& s : TwoSamples()) AppendToWriteRequest(EncodeTimeSeries(s), &want);
  CHECK(raw == want);
  (*w)->Stop();
  t::RemoveTree(dir);
}

TEST_CASE("a 4xx answer drops the batch and counts it as failed, without retrying") {
  FakeReceiver rx({400});
  const std::string dir = t::MakeTempDir("rw");
  auto w = RemoteWriter::Create({Entry(rx.url())}, dir + "/q.db", "alertd/test");
  REQUIRE(w.ok());
  (*w)->Append(TwoSamples());
  REQUIRE(t::WaitFor(
      [&] { return Metric(**w, "prometheus_remote_storage_samples_failed_total") == 2; }, 10s));
  CHECK(Metric(**w, "prometheus_remote_storage_samples_retried_total") == 0);
  CHECK(Metric(**w, "prometheus_remote_storage_samples_pending") == 0);
  CHECK(rx.requests() == 1);
  (*w)->Stop();
  t::RemoveTree(dir);
}

TEST_CASE("samples queued while the receiver is down are sent after a restart") {
  const std::string dir = t::MakeTempDir("rw");
  const int port = t::FreePort();  // nothing listens there
  auto entry = Entry("http://127.0.0.1:" + std::to_string(port) + "/write");
  {
    auto w = RemoteWriter::Create({entry}, dir + "/q.db", "alertd/test");
    REQUIRE(w.ok());
    (*w)->Append(TwoSamples());
    REQUIRE(t::WaitFor(
        [&] { return Metric(**w, "prometheus_remote_storage_samples_retried_total") >= 2; }, 10s));
    CHECK(Metric(**w, "prometheus_remote_storage_samples_pending") == 2);
  }
  FakeReceiver rx({});
  entry.url = rx.url();
  auto w = RemoteWriter::Create({entry}, dir + "/q.db", "alertd/test");
  REQUIRE(w.ok());
  CHECK(Metric(**w, "prometheus_remote_storage_samples_pending") == 2);
  REQUIRE(t::WaitFor([&] { return Metric(**w, "prometheus_remote_storage_samples_pending") == 0; },
                     10s));
  CHECK(rx.requests() == 1);
  (*w)->Stop();
  t::RemoveTree(dir);
}

TEST_CASE("write_relabel_configs drop and rewrite series before they are queued") {
  FakeReceiver rx({});
  const std::string dir = t::MakeTempDir("rw");
  auto entry = Entry(rx.url());
  RelabelSpec drop;
  drop.source_labels = {"job"};
  drop.regex = "b";
  drop.action = RelabelAction::kDrop;
  auto d = RelabelConfig::Create(drop);
  REQUIRE(d.ok());
  entry.write_relabel_configs.push_back(*d);
  auto w = RemoteWriter::Create({entry}, dir + "/q.db", "alertd/test");
  REQUIRE(w.ok());
  (*w)->Append(TwoSamples());
  REQUIRE(t::WaitFor([&] { return rx.requests() == 1; }, 10s));
  CHECK(Metric(**w, "prometheus_remote_storage_samples_dropped_total") == 1);
  const std::string req = rx.request(0);
  std::string raw;
  REQUIRE(SnappyUncompress(req.substr(req.find("\r\n\r\n") + 4), &raw));
  std::string want;
  AppendToWriteRequest(EncodeTimeSeries(TwoSamples()[0]), &want);
  CHECK(raw == want);
  (*w)->Stop();
  t::RemoveTree(dir);
}
