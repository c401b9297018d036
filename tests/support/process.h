// Test support for tests that run real peers (Prometheus, Alertmanager, amtool, alertd itself,
// SMTP and HTTP sinks): start a process, find a free loopback port, make HTTP requests, wait
// for a condition with a deadline. Not thread-safe; one test at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace alertd::testing {

// The source tree and the alertd binary of this build.
inline constexpr const char* kSourceDir = ALERTD_SOURCE_DIR;
inline constexpr const char* kAlertdBinary = ALERTD_BINARY;

// A child process whose stdout and stderr go to a log file. The destructor stops it
// (SIGTERM, then SIGKILL after 5 s) if it is still running.
class Process {
 public:
  Process() = default;
  // argv[0] is looked up in PATH when it has no slash.
  static Process Start(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::map<std::string, std::string>& env = {});
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  bool started() const { return pid_ > 0; }
  int pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Sends SIGTERM, waits up to `grace` for exit, then SIGKILL. Returns the exit status
  // (as waitpid gives it), or -1 if not started.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL and reap.
  void Kill9();
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string log_path_;
};

// Runs a command to completion; returns its exit code and fills `output` with stdout+stderr.
int RunCommand(const std::vector<std::string>& argv, std::string* output);

// Runs a command to completion with its stdout and stderr kept apart (for comparing a tool's
// output byte for byte); `env` as for Process::Start. exit_code is 127 when it cannot start,
// 128 + the signal when a signal ended it.
struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};
CommandResult RunCommandSplit(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env = {});

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// A fresh directory under $TMPDIR, removed by RemoveTree at the end of the test.
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

struct HttpResponse {
  long status = 0;  // 0 when the request failed (connection refused, timeout)
  std::string body;
  std::string error;
  std::map<std::string, std::string> headers;  // lower-case names
};
// Sends exactly the headers given (no Content-Type unless `headers` has one).
HttpResponse HttpRequest(const std::string& method, const std::string& url, const std::string& body = "",
                         const std::map<std::string, std::string>& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
inline HttpResponse HttpGet(const std::string& url) { return HttpRequest("GET", url); }
inline HttpResponse HttpPostJson(const std::string& url, const std::string& body) {
  return HttpRequest("POST", url, body, {{"Content-Type", "application/json"}});
}

// Polls `cond` every `poll` until it is true or `deadline` passes; returns the last result.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds deadline,
             std::chrono::milliseconds poll = std::chrono::milliseconds(50));

// Waits until GET url answers 200.
bool WaitHttpReady(const std::string& url, std::chrono::milliseconds deadline);

}  // namespace alertd::testing
