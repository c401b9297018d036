// Request/Response helpers and the Router: everything of api/server.h that needs no Beast.
#include <algorithm>
#include <chrono>
#include <memory>

#include "api/json_writer.h"
#include "api/server.h"

namespace alertd::api {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool MatchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (params) (*params)[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string_view> Request::QueryValue(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> Request::QueryValues(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

std::string_view Request::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::Error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body += "}\n";
  return Json(status, std::move(body));
}

void Router::Handle(std::string method, std::string pattern, Handler handler) {
  auto segments = SplitPath(pattern);
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

void Router::HandleSync(std::string method, std::string pattern, SyncHandler handler) {
  Handle(std::move(method), std::move(pattern),
         [h = std::move(handler)](Request& req, Responder respond) { respond(h(req)); });
}

const Router::Route* Router::Match(Request& req, std::vector<std::string>* allowed) const {
  const auto segments = SplitPath(req.path);
  const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const auto& r : routes_) {
    if (!MatchSegments(r.segments, segments, nullptr)) continue;
    if (r.method != method) {
      if (allowed) allowed->push_back(r.method);
      continue;
    }
    MatchSegments(r.segments, segments, &req.path_params);
    req.route = r.pattern;
    return &r;
  }
  return nullptr;
}

std::optional<Response> Router::Admit(Request& req) const {
  if (Match(req, nullptr) == nullptr) return std::nullopt;
  if (guard_) {
    if (auto refusal = guard_(req)) {
      if (observer_) observer_(req, *refusal, Duration(0));
      return refusal;
    }
  }
  req.admitted = true;
  return std::nullopt;
}

void Router::Dispatch(Request& req, Responder respond) const {
  // What the observer reads, copied: an asynchronous handler may answer after `req` is gone.
  std::shared_ptr<Request> seen;
  if (observer_) {
    seen = std::make_shared<Request>();
    seen->method = req.method;
    seen->path = req.path;
    seen->remote_address = req.remote_address;
    respond = [seen, start = std::chrono::steady_clock::now(), observer = observer_,
               inner = std::move(respond)](Response r) {
      observer(*seen, r,
               std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start));
      inner(std::move(r));
    };
  }
  std::vector<std::string> allowed;
  if (const Route* r = Match(req, &allowed)) {
    if (seen) seen->route = r->pattern;
    if (guard_ && !req.admitted) {
      if (auto refusal = guard_(req)) {
        respond(std::move(*refusal));
        return;
      }
    }
    if (seen) seen->principal = req.principal;
    r->handler(req, std::move(respond));
    return;
  }
  if (allowed.empty()) {
    respond(Response::Error(404, "not found: " + req.path));
    return;
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  std::string allow;
  for (const auto& m : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += m;
    if (m == "GET") allow += ", HEAD";
  }
  Response r = Response::Error(405, "method " + req.method + " not allowed for " + req.path);
  r.headers.emplace_back("Allow", allow);
  respond(std::move(r));
}

}  // namespace alertd::api
