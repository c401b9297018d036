// The one translation unit that includes Boost.Beast and Asio (they are heavy to compile; the
// rest of api/ sees only api/server.h).
#include "api/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

namespace alertd::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerImpl;

// Splits a request target into decoded path and query pairs. False on a bad escape.
bool ParseTarget(std::string_view target, Request* req) {
  std::string_view path = target, query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto p = PercentDecode(path, false);
  if (!p) return false;
  req->path = std::move(*p);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto k = PercentDecode(pair.substr(0, eq), true);
    auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                          : PercentDecode(pair.substr(eq + 1), true);
    if (!k || !v) return false;
    req->query.emplace_back(std::move(*k), std::move(*v));
  }
  return true;
}

// One client connection. Lives as long as an operation or a pending Responder refers to it;
// every member is used on the connection's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl* server) : stream_(std::move(socket)), server_(server) {}

  void Start();
  // Called (through the strand) by Server::Stop: closes the connection if it is between
  // requests; otherwise the current request finishes and the connection closes after it.
  void Drain() {
    if (state_ == State::kIdle) Close();
  }
  void Write(Response r, bool close);
  // The connection's strand; safe to call from any thread.
  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  void WaitForRequest();
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnRequest(beast::error_code ec);
  void FailRead(beast::error_code ec);
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  ServerImpl* server_;
  State state_ = State::kIdle;
  bool keep_alive_ = true;
  bool head_ = false;
};

// Hands a Response back to its session's strand. If a handler drops its Responder without
// calling it, the client gets a 500 instead of a connection that hangs.
struct ResponderState {
  std::shared_ptr<Session> session;
  net::any_io_executor strand;  // the session's strand
  bool done = false;
  void Send(Response r) {
    if (done) return;
    done = true;
    net::post(strand, [s = session, r = std::move(r)]() mutable { s->Write(std::move(r), false); });
  }
  ~ResponderState() {
    if (!done) Send(Response::Error(500, "internal error: the handler gave no answer"));
  }
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& opts, std::shared_ptr<const Router> router)
      : opts_(opts), router_(std::move(router)), ioc_(std::max(1, opts.threads)), acceptor_(ioc_) {}

  ~ServerImpl() override { Stop(); }

  Status Listen() {
    std::string host = opts_.listen, port = "0";
    if (auto c = host.rfind(':'); c != std::string::npos) {
      port = host.substr(c + 1);
      host = host.substr(0, c);
    } else {
      return Status::InvalidArgument(fmt::format("listen address \"{}\" has no port", opts_.listen));
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument(
          fmt::format("listen address \"{}\": {}", opts_.listen, ec ? ec.message() : "no address"));
    }
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable(fmt::format("cannot listen on {}: {}", opts_.listen, ec.message()));
    }
    bound_ = acceptor_.local_endpoint(ec);
    // Keeps run() from returning while every connection waits on a handler answering from
    // another thread (then no I/O is pending).
    work_.emplace(ioc_.get_executor());
    Accept();
    for (int i = 0; i < std::max(1, opts_.threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    return Status::Ok();
  }

  std::string address() const override {
    auto a = bound_.address();
    return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), bound_.port())
                     : fmt::format("{}:{}", a.to_string(), bound_.port());
  }
  int port() const override { return bound_.port(); }

  // REQUIRES: not called from a handler (it waits for the server's own threads).
  void Stop() override {
    if (stopping_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    {
      std::lock_guard l(mu_);
      for (auto& [ptr, weak] : sessions_) {
        if (auto s = weak.lock()) {
          net::post(s->executor(), [s] { s->Drain(); });
        }
      }
    }
    {
      std::unique_lock l(mu_);
      if (!cv_.wait_for(l, opts_.shutdown_grace, [this] { return sessions_.empty(); })) {
        spdlog::warn("http: {} connections still busy after the shutdown grace period; closing",
                     sessions_.size());
      }
    }
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  bool stopping() const { return stopping_.load(); }
  const ServerOptions& opts() const { return opts_; }
  const Router& router() const { return *router_; }

  void Remove(Session* s) {
    std::lock_guard l(mu_);
    sessions_.erase(s);
    if (sessions_.empty()) cv_.notify_all();
  }

 private:
  void Accept() {
    auto strand = net::make_strand(ioc_);
    acceptor_.async_accept(strand, [this, strand](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || stopping()) return;
        spdlog::warn("http: accept failed: {}", ec.message());
      } else if (!stopping()) {
        socket.set_option(tcp::no_delay(true), ec);
        auto s = std::make_shared<Session>(std::move(socket), this);
        {
          std::lock_guard l(mu_);
          sessions_.emplace(s.get(), s);
        }
        s->Start();
      }
      if (!stopping()) Accept();
    });
  }

  const ServerOptions opts_;
  std::shared_ptr<const Router> router_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
};

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
}

void Session::WaitForRequest() {
  if (server_->stopping()) return Close();
  state_ = State::kIdle;
  parser_.emplace();
  parser_->body_limit(server_->opts().max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(server_->opts().max_header_bytes));
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
  // Between requests the idle timeout applies; once the first byte arrives the whole request
  // must come within the read timeout.
  stream_.expires_after(server_->opts().idle_timeout);
  stream_.async_read_some(buffer_.prepare(8192), [self = shared_from_this()](beast::error_code ec,
                                                                             size_t n) {
    self->buffer_.commit(n);
    if (ec) return self->Close();
    self->ReadHeader();
  });
}

void Session::ReadHeader() {
  state_ = State::kReading;
  stream_.expires_after(server_->opts().read_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->OnHeader(ec);
                          });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) return FailRead(ec);
  const auto& h = parser_->get();
  if (beast::iequals(h[http::field::expect], "100-continue") && !parser_->is_done()) {
    // curl sends Expect: 100-continue with large bodies and waits for this before sending.
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->ReadBody();
    });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnRequest(ec);
  });
}

void Session::FailRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == net::error::bad_descriptor) {
    return Close();
  }
  // beast::error::timeout: tcp_stream has already closed the socket, so no 408 can be sent;
  // the client (typically a slowloris) just loses the connection.
  if (ec == http::error::body_limit) {
    return Write(Response::Error(413, fmt::format("request body larger than {} bytes",
                                                  server_->opts().max_body_bytes)),
                 true);
  }
  if (ec == http::error::header_limit) {
    return Write(Response::Error(431, "request headers too large"), true);
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return Write(Response::Error(400, "malformed HTTP request: " + ec.message()), true);
  }
  Close();
}

void Session::OnRequest(beast::error_code ec) {
  if (ec) return FailRead(ec);
  state_ = State::kHandling;
  auto msg = parser_->release();
  keep_alive_ = msg.keep_alive();
  head_ = msg.method() == http::verb::head;
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  if (!ParseTarget(req.target, &req)) {
    return Write(Response::Error(400, "malformed request target: bad percent-encoding"), false);
  }
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[std::move(name)] = std::string(f.value());
  }
  req.body = std::move(msg.body());
  beast::error_code ec2;
  auto remote = stream_.socket().remote_endpoint(ec2);
  if (!ec2) req.remote_address = fmt::format("{}:{}", remote.address().to_string(), remote.port());

  auto state = std::make_shared<ResponderState>();
  state->session = shared_from_this();
  state->strand = stream_.get_executor();
  Responder respond = [state](Response r) { state->Send(std::move(r)); };
  try {
    server_->router().Dispatch(req, std::move(respond));
  } catch (const std::exception& e) {
    // Handlers return errors as values; this only guards against a bug taking down the server.
    spdlog::error("http: handler for {} {} threw: {}", req.method, req.path, e.what());
    state->Send(Response::Error(500, "internal error"));
  }
}

void Session::Write(Response r, bool close) {
  if (state_ == State::kClosed) return;
  state_ = State::kWriting;
  res_.emplace(static_cast<http::status>(r.status), 11);
  auto& res = *res_;
  res.set(http::field::server, "alertd");
  res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive_ && !close && !server_->stopping());
  if (head_) {
    res.content_length(r.body.size());
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }
  stream_.expires_after(server_->opts().read_timeout);
  http::async_write(stream_, res, [self = shared_from_this()](beast::error_code ec, size_t) {
    bool again = !ec && self->res_->keep_alive();
    self->res_.reset();
    if (!again) return self->Close();
    self->WaitForRequest();
  });
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
  server_->Remove(this);
}

}  // namespace

Result<std::unique_ptr<Server>> StartServer(const ServerOptions& opts,
                                            std::shared_ptr<const Router> router) {
  auto s = std::make_unique<ServerImpl>(opts, std::move(router));
  if (auto st = s->Listen(); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace alertd::api
