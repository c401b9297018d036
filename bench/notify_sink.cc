// A compiled recording HTTP sink for the notification benchmark: the same recording semantics,
// control endpoints and summary JSON as bench/sink.py, at a small fraction of its CPU per
// request. bench/sink.py (one asyncio Python process) tops out near 20,000 webhook POSTs per
// second on one core of the benchmark machine, which is the whole budget of a fast target on a
// 2-core box; this sink keeps the shared sink out of the way so the targets are compared, not
// the sink. bench/run_notify.sh builds it and passes it to bench/notify.py with --sink; both
// targets of a run post to the same sink process.
//
//   notify_sink --port N [--delay-ms D] [--status S]
//
// Recording (as sink.py): every POST/PUT on any path except the control paths is timestamped
// with CLOCK_MONOTONIC (the clock of Python's time.monotonic) once its body has been read,
// then parsed as JSON: an object with "alerts" is an Alertmanager webhook notification
// (counted, tracked per groupKey, its alerts' label sets collected), a list is a postable
// alert batch (counted, distinct label sets collected), anything else that is not JSON counts
// as bad_json. Control endpoints: GET /-/ready, GET /_sink/summary?expect_alerts=A,
// POST /_sink/reset, GET /_sink/times. gzip request bodies are not supported (415); neither
// Alertmanager nor alertd compress webhooks.
//
// One thread per connection, blocking I/O, one mutex around the recorded state: targets keep
// a few keep-alive connections, so this stays simple and fast.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using Json = nlohmann::json;

double Monotonic() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Group {
  double first_t, last_t;
  long count;
  size_t max_alerts;
  double t_first_max;
};

// The recorded state (sink.py's State), guarded by mu.
struct State {
  std::mutex mu;
  double t_reset = Monotonic();
  long requests = 0, bytes = 0, bad_json = 0;
  double first_t = -1, last_t = -1;
  long notifications = 0, notif_alerts = 0;
  std::unordered_map<std::string, Group> groups;
  std::unordered_set<std::string> notified_alerts;
  std::vector<double> notif_times;
  long alert_posts = 0, alerts_received = 0;
  std::unordered_set<std::string> distinct_alerts;
  std::vector<double> alert_post_times;

  void Reset() {
    t_reset = Monotonic();
    requests = bytes = bad_json = 0;
    first_t = last_t = -1;
    notifications = notif_alerts = 0;
    groups.clear();
    notified_alerts.clear();
    notif_times.clear();
    alert_posts = alerts_received = 0;
    distinct_alerts.clear();
    alert_post_times.clear();
  }
};

State g_state;
int g_delay_ms = 0;
int g_status = 200;

// A label set as one string, sorted by name (sink.py's tuple(sorted(labels.items()))).
std::string LabelKey(const Json& alert) {
  std::vector<std::pair<std::string, std::string>> kv;
  auto it = alert.find("labels");
  if (it != alert.end() && it->is_object()) {
    for (auto l = it->begin(); l != it->end(); ++l) {
      kv.emplace_back(l.key(), l->is_string() ? l->get<std::string>() : l->dump());
    }
  }
  std::sort(kv.begin(), kv.end());
  std::string out;
  for (const auto& [k, v] : kv) {
    out += k;
    out.push_back('\0');
    out += v;
    out.push_back('\0');
  }
  return out;
}

void Record(const std::string& path, const std::string& body, double t) {
  Json doc;
  bool ok = true;
  if (!body.empty()) {
    doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    ok = !doc.is_discarded();
  }
  std::lock_guard l(g_state.mu);
  State& s = g_state;
  s.requests++;
  s.bytes += static_cast<long>(body.size());
  if (s.first_t < 0) s.first_t = t;
  s.last_t = t;
  if (!ok) {
    s.bad_json++;
    return;
  }
  if (doc.is_object() && doc.contains("alerts")) {
    s.notifications++;
    s.notif_times.push_back(t);
    const Json& alerts = doc["alerts"];
    size_t n = 0;
    if (alerts.is_array()) {
      n = alerts.size();
      for (const auto& a : alerts) {
        if (a.is_object()) s.notified_alerts.insert(LabelKey(a));
      }
    }
    s.notif_alerts += static_cast<long>(n);
    std::string key = path;
    if (auto k = doc.find("groupKey"); k != doc.end() && k->is_string())
      key = k->get<std::string>();
    auto [it, inserted] = s.groups.try_emplace(key, Group{t, t, 1, n, t});
    if (!inserted) {
      Group& g = it->second;
      g.last_t = t;
      g.count++;
      if (n > g.max_alerts) {
        g.max_alerts = n;
        g.t_first_max = t;
      }
    }
  } else if (doc.is_array()) {
    s.alert_posts++;
    s.alert_post_times.push_back(t);
    s.alerts_received += static_cast<long>(doc.size());
    for (const auto& a : doc) {
      if (a.is_object()) s.distinct_alerts.insert(LabelKey(a));
    }
  }
}

Json OrNull(double v) { return v < 0 ? Json(nullptr) : Json(v); }

std::string Summary(size_t expect_alerts) {
  std::lock_guard l(g_state.mu);
  const State& s = g_state;
  double first_min = -1, first_max = -1, complete_max = -1;
  long complete = 0, max_count = 0;
  for (const auto& [k, g] : s.groups) {
    if (first_min < 0 || g.first_t < first_min) first_min = g.first_t;
    if (first_max < 0 || g.first_t > first_max) first_max = g.first_t;
    if (expect_alerts && g.max_alerts >= expect_alerts) {
      complete++;
      if (g.t_first_max > complete_max) complete_max = g.t_first_max;
    }
    max_count = std::max(max_count, g.count);
  }
  Json j = {{"now", Monotonic()},
            {"t_reset", s.t_reset},
            {"requests", s.requests},
            {"bytes", s.bytes},
            {"bad_json", s.bad_json},
            {"first_t", OrNull(s.first_t)},
            {"last_t", OrNull(s.last_t)},
            {"notifications", s.notifications},
            {"notif_alerts", s.notif_alerts},
            {"notified_distinct_alerts", s.notified_alerts.size()},
            {"groups", s.groups.size()},
            {"t_all_groups_first", OrNull(first_max)},
            {"t_first_group_first", OrNull(first_min)},
            {"groups_complete", complete},
            {"t_all_groups_complete", OrNull(complete_max)},
            {"max_notifications_per_group", max_count},
            {"alert_posts", s.alert_posts},
            {"alerts_received", s.alerts_received},
            {"distinct_alerts", s.distinct_alerts.size()}};
  return j.dump();
}

std::string Times() {
  std::lock_guard l(g_state.mu);
  return Json{{"notif_times", g_state.notif_times}, {"alert_post_times", g_state.alert_post_times}}
      .dump();
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Response(int status, const std::string& body, const char* ctype, bool keep) {
  const char* reason = status == 200   ? "OK"
                       : status == 404 ? "Not Found"
                       : status == 415 ? "Unsupported Media Type"
                       : status == 500 ? "Internal Server Error"
                                       : "Status";
  char head[256];
  snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
           status, reason, ctype, body.size(), keep ? "" : "Connection: close\r\n");
  return head + body;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Buffered reading from one connection.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  // A line without its CRLF; false on EOF or error.
  bool Line(std::string* out) {
    for (;;) {
      size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        size_t end = nl;
        if (end > pos_ && buf_[end - 1] == '\r') --end;
        out->assign(buf_, pos_, end - pos_);
        pos_ = nl + 1;
        return true;
      }
      if (!Fill()) return false;
    }
  }
  bool Exactly(size_t n, std::string* out) {
    while (buf_.size() - pos_ < n) {
      if (!Fill()) return false;
    }
    out->append(buf_, pos_, n);
    pos_ += n;
    return true;
  }

 private:
  bool Fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 65536) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char tmp[65536];
    for (;;) {
      ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }
  int fd_;
  std::string buf_;
  size_t pos_ = 0;
};

void Serve(int fd) {
  Conn c(fd);
  std::string line;
  while (c.Line(&line)) {
    char method[16], target[4096], version[16];
    if (sscanf(line.c_str(), "%15s %4095s %15s", method, target, version) != 3) break;
    std::map<std::string, std::string> headers;
    bool ok = true;
    for (;;) {
      if (!c.Line(&line)) {
        ok = false;
        break;
      }
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
      headers[Lower(line.substr(0, colon))] = v;
    }
    if (!ok) break;
    if (Lower(headers["expect"]) == "100-continue") {
      if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
    }
    std::string body;
    if (Lower(headers["transfer-encoding"]).find("chunked") != std::string::npos) {
      for (;;) {
        if (!c.Line(&line)) {
          ok = false;
          break;
        }
        const size_t size = std::strtoul(line.c_str(), nullptr, 16);
        if (size == 0) {
          while (c.Line(&line) && !line.empty()) {
          }
          break;
        }
        std::string crlf;
        if (!c.Exactly(size, &body) || !c.Exactly(2, &crlf)) {
          ok = false;
          break;
        }
      }
    } else if (const size_t n = std::strtoul(headers["content-length"].c_str(), nullptr, 10)) {
      ok = c.Exactly(n, &body);
    }
    if (!ok) break;
    const double t = Monotonic();
    const std::string conn_hdr = Lower(headers["connection"]);
    const bool keep =
        (Lower(version) == "http/1.1" && conn_hdr != "close") || conn_hdr == "keep-alive";
    std::string t_str(target), path = t_str, query;
    if (size_t q = t_str.find('?'); q != std::string::npos) {
      path = t_str.substr(0, q);
      query = t_str.substr(q + 1);
    }
    const std::string m(method);
    std::string resp;
    if (path == "/-/ready" || path == "/-/healthy") {
      resp = Response(200, "OK\n", "text/plain", keep);
    } else if (path == "/_sink/summary") {
      size_t expect = 0;
      if (size_t p = query.find("expect_alerts="); p != std::string::npos) {
        expect = std::strtoul(query.c_str() + p + 14, nullptr, 10);
      }
      resp = Response(200, Summary(expect), "application/json", keep);
    } else if (path == "/_sink/reset") {
      {
        std::lock_guard l(g_state.mu);
        g_state.Reset();
      }
      resp = Response(200, "{}", "application/json", keep);
    } else if (path == "/_sink/times") {
      resp = Response(200, Times(), "application/json", keep);
    } else if (m == "POST" || m == "PUT") {
      if (Lower(headers["content-encoding"]) == "gzip") {
        resp = Response(415, "gzip bodies are not supported\n", "text/plain", keep);
      } else {
        Record(path, body, t);
        if (g_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_delay_ms));
        resp = Response(g_status, "", "text/plain", keep);
      }
    } else {
      resp = Response(404, "not found\n", "text/plain", keep);
    }
    if (!SendAll(fd, resp) || !keep) break;
  }
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--port") {
      port = std::atoi(argv[i + 1]);
    } else if (a == "--delay-ms") {
      g_delay_ms = static_cast<int>(std::atof(argv[i + 1]));
    } else if (a == "--status") {
      g_status = std::atoi(argv[i + 1]);
    } else {
      fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (port <= 0) {
    fprintf(stderr, "usage: notify_sink --port N [--delay-ms D] [--status S]\n");
    return 2;
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(ls, 4096) != 0) {
    perror("listen");
    return 1;
  }
  printf("sink listening on 127.0.0.1:%d\n", port);
  fflush(stdout);
  for (;;) {
    int fd = accept(ls, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(Serve, fd).detach();
  }
}
