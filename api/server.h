// alertd's HTTP server: plain Request/Response types, a Router that maps method + path
// pattern to handlers, and a Server that runs them. Boost.Beast and Asio live only in
// api/server.cc; handlers (api/alerts_v2.cc, api/status.cc, ...) see just these types, so new
// endpoints need no Beast.
//
// The server gives every connection keep-alive, a body limit (over it: 413), a read timeout
// for the whole request (headers included: a slowloris client is cut off without holding up
// others), an idle timeout between requests, JSON errors {"error": "..."} for everything it
// rejects itself, and a graceful Stop that finishes requests in flight. It runs the Router's
// guard (authentication) as soon as a request's header is read (Router::Admit): a refused
// request's body is not read, beyond a small one (64 KiB) read so the answer is not lost to a
// connection reset; and it caps the connections open at once (max_connections).
//
// Thread-safety: a Router is built on one thread, then shared read-only by the server's
// threads. Handlers run on the server's I/O threads, concurrently; a handler may hand its
// Responder to another thread (e.g. the alert store's writer) and answer later. Server is
// thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace alertd::api {

struct Request {
  std::string method;  // upper case: GET, HEAD, POST, ...
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
  std::map<std::string, std::string> headers;              // lower-case names
  std::string body;
  std::map<std::string, std::string> path_params;  // from `{name}` segments of the pattern
  std::string remote_address;
  // The pattern of the route that matched ("/api/v2/silence/{id}"); empty when none did.
  // Set by Router::Dispatch.
  std::string route;
  // The name of the auth token the request presented (config `server.auth.tokens[].name`),
  // set by the Router's guard (api/auth.h) before the handler runs. Empty when the request
  // carried no valid token: auth is off (no tokens configured) or the endpoint is open.
  // Handlers use it as the actor of a change, e.g. the default `by` of an acknowledgement.
  std::string principal;
  // Set by Router::Admit when the guard passed the request at header time, so that Dispatch
  // does not run it a second time.
  bool admitted = false;

  // The first value of query parameter `name`, if present.
  std::optional<std::string_view> QueryValue(std::string_view name) const;
  std::vector<std::string_view> QueryValues(std::string_view name) const;
  // The header's value, or "" if absent. `name` in lower case.
  std::string_view Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body comes from here instead of `body`, in pieces sent with chunked transfer
  // encoding, so a large answer (GET /api/v2/alerts of 100,000 alerts) never sits in memory
  // whole. Each call appends the next piece to `out` and returns false once nothing is left.
  // Called on the connection's thread after the handler returned: it must own, or keep
  // alive, everything it reads.
  std::function<bool(std::string* out)> stream;

  // Appends what `stream` yields to `body` and clears `stream` (for callers of a Router that
  // want the whole body, such as tests).
  void DrainStream() {
    if (!stream) return;
    while (stream(&body)) {
    }
    stream = nullptr;
  }

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body);
  // {"error": "<message>"} with the given status.
  static Response Error(int status, std::string_view message);
};

// Answers a request. Must be called exactly once, from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request& req, Responder respond)>;
using SyncHandler = std::function<Response(const Request& req)>;

class Router {
 public:
  // Registers `handler` for `method` and a path pattern such as "/api/v2/alerts" or
  // "/api/v2/silence/{id}" (a `{name}` segment matches one non-empty segment and lands in
  // Request::path_params). A GET handler also answers HEAD, without a body.
  void Handle(std::string method, std::string pattern, Handler handler);
  void HandleSync(std::string method, std::string pattern, SyncHandler handler);

  // Runs before the matched handler, with Request::route set; an answer it returns is sent
  // instead of running the handler (auth refusals). The one place for cross-cutting checks.
  using Guard = std::function<std::optional<Response>(Request& req)>;
  // Sees every answer Dispatch sends (404s and guard refusals included), with the time from
  // dispatch to answer; called on the thread that answers. For request metrics.
  using Observer = std::function<void(const Request& req, const Response& res, Duration took)>;
  void SetGuard(Guard guard) { guard_ = std::move(guard); }
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  // Runs the matching handler; 404 when no pattern matches the path, 405 (with Allow) when
  // the path matches under another method. The guard runs first unless Admit already ran it
  // (req.admitted).
  void Dispatch(Request& req, Responder respond) const;

  // The route match and the guard for a request whose header is read and whose body is not
  // (Request::body empty): the server calls it before it reads the body, so a refused request
  // costs no body read. Returns the refusal to send instead of going on (the observer has
  // seen it); nullopt to go on reading, then Dispatch. When a route matched and the guard
  // passed, sets req.route, req.path_params, req.principal and req.admitted. A path no route
  // matches is not refused here (Dispatch answers it 404 or 405).
  std::optional<Response> Admit(Request& req) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  // The route for req's method and path (setting req.route and req.path_params), or null;
  // `allowed` (if set) gets the methods of routes matching the path under another method.
  const Route* Match(Request& req, std::vector<std::string>* allowed) const;

  std::vector<Route> routes_;
  Guard guard_;
  Observer observer_;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:9095";  // host:port; port 0 picks a free one
  // Connections open at once; a new connection beyond it is closed at once (counted in
  // ServerStats::connections_refused). An accept that fails (EMFILE: out of file
  // descriptors) is retried after accept_backoff rather than at once.
  size_t max_connections = 1024;
  Duration accept_backoff = std::chrono::milliseconds(100);
  size_t max_body_bytes = 4 << 20;
  size_t max_header_bytes = 64 << 10;                  // larger: 431
  Duration read_timeout = std::chrono::seconds(30);    // one whole request
  Duration idle_timeout = std::chrono::seconds(120);   // between keep-alive requests
  Duration shutdown_grace = std::chrono::seconds(10);  // Stop() waits this long for requests
  int threads = 2;
  // HTTPS when both are set: PEM files of the certificate chain (leaf first) and its private
  // key, read once at start. Both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

struct ServerStats {
  size_t connections = 0;            // open now
  uint64_t connections_refused = 0;  // closed at once: max_connections were open
  uint64_t accept_errors = 0;        // failed accepts (each followed by accept_backoff)
};

class Server {
 public:
  virtual ~Server() = default;
  virtual ServerStats Stats() const = 0;
  // The address actually bound ("127.0.0.1:41234").
  virtual std::string address() const = 0;
  virtual int port() const = 0;
  // Stops accepting, closes idle connections, lets requests in flight finish (their
  // connections then close), and after shutdown_grace cuts the rest. Idempotent; the
  // destructor calls it.
  virtual void Stop() = 0;
};

// Binds `opts.listen` (with SO_REUSEADDR, so a restart right after a crash can bind the port
// while the old connections linger in TIME_WAIT) and starts serving `router` on opts.threads
// threads. Fails when the address is malformed or cannot be bound, or when the TLS
// certificate or key cannot be loaded.
Result<std::unique_ptr<Server>> StartServer(const ServerOptions& opts,
                                            std::shared_ptr<const Router> router);

// Percent-decodes a URL component ('+' is a space when `plus_is_space`). Fails on a bad
// escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace alertd::api
