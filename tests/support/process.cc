#include "tests/support/process.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <strings.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace alertd::testing {

namespace {

// This process's environment with `env`'s variables set (replacing those of the same name).
std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& env) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string s(*e);
    auto eq = s.find('=');
    if (eq != std::string::npos && env.count(s.substr(0, eq))) continue;
    envs.push_back(s);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  return envs;
}

// What posix_spawnp takes: argv and the environment as null-terminated arrays of C strings,
// pointing into `argv` (the caller's, alive for the call) and `envs` (owned here).
struct SpawnArgs {
  SpawnArgs(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
      : envs(MergedEnvironment(env)) {
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
  std::vector<std::string> envs;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

}  // namespace

Process Process::Start(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::map<std::string, std::string>& env) {
  Process p;
  p.log_path_ = log_path;
  SpawnArgs spawn(argv, env);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, spawn.argv[0], &fa, nullptr, spawn.argv.data(), spawn.envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0) p.pid_ = pid;
  return p;
}

Process::Process(Process&& o) noexcept { *this = std::move(o); }
Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !reaped_) Stop();
    pid_ = o.pid_;
    status_ = o.status_;
    reaped_ = o.reaped_;
    log_path_ = std::move(o.log_path_);
    o.pid_ = -1;
  }
  return *this;
}
Process::~Process() {
  if (pid_ > 0 && !reaped_) Stop();
}

bool Process::Running() {
  if (pid_ <= 0 || reaped_) return false;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Process::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

int Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (!reaped_) {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped_) Kill9();
  }
  return status_;
}

void Process::Kill9() {
  if (pid_ <= 0 || reaped_) return;
  kill(pid_, SIGKILL);
  int st;
  waitpid(pid_, &st, 0);
  status_ = st;
  reaped_ = true;
}

std::string Process::Log() const { return ReadFile(log_path_); }

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  char tmpl[] = "/tmp/alertd-cmd-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  Process p = Process::Start(argv, tmpl);
  if (!p.started()) return 127;
  while (p.Running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int st = p.Stop();
  if (output) *output = ReadFile(tmpl);
  unlink(tmpl);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

CommandResult RunCommandSplit(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env) {
  CommandResult r;
  const std::string dir = MakeTempDir("alertd-cmd");
  const std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  SpawnArgs spawn(argv, env);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid;
  const int rc = posix_spawnp(&pid, spawn.argv[0], &fa, nullptr, spawn.argv.data(), spawn.envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.exit_code = 127;
  } else {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = ReadFile(out_path);
    r.err = ReadFile(err_path);
  }
  RemoveTree(dir);
  return r;
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* d = mkdtemp(buf.data());
  return d ? std::string(d) : std::string();
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  if (!path.empty()) std::filesystem::remove_all(path, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {
size_t WriteBody(char* p, size_t sz, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, sz * n);
  return sz * n;
}
size_t WriteHeader(char* p, size_t sz, size_t n, void* ud) {
  std::string line(p, sz * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(ud))[name] = value;
  }
  return sz * n;
}
}  // namespace

HttpResponse HttpRequest(const std::string& method, const std::string& url, const std::string& body,
                         const std::map<std::string, std::string>& headers,
                         std::chrono::milliseconds timeout) {
  HttpResponse r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* hl = nullptr;
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    hl = curl_slist_append(hl, (k + ": " + v).c_str());
    has_type = has_type || strcasecmp(k.c_str(), "content-type") == 0;
  }
  hl = curl_slist_append(hl, "Expect:");
  // Only the headers asked for: curl would otherwise label every body as a form.
  if (!has_type) hl = curl_slist_append(hl, "Content-Type:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return r;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds deadline,
             std::chrono::milliseconds poll) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= end) return cond();
    std::this_thread::sleep_for(poll);
  }
}

bool WaitHttpReady(const std::string& url, std::chrono::milliseconds deadline) {
  return WaitFor([&] { return HttpRequest("GET", url, "", {}, std::chrono::milliseconds(1000)).status == 200; },
                 deadline, std::chrono::milliseconds(100));
}

}  // namespace alertd::testing
