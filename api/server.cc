// The one translation unit that includes Boost.Beast and Asio (they are heavy to compile; the
// rest of api/ sees only api/server.h).
#include "api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace alertd::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
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

// What the server and the responders need of a connection, plain or TLS.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Start() = 0;
  // Called (through the strand) by Server::Stop: closes the connection if it is between
  // requests; otherwise the current request finishes and the connection closes after it.
  virtual void Drain() = 0;
  // Sends `r` (on the strand); `close`: close the connection after it.
  virtual void Write(Response r, bool close) = 0;
  // The connection's strand; safe to call from any thread.
  virtual net::any_io_executor executor() = 0;
};

// One client connection over `Stream`: beast::tcp_stream (HTTP) or
// beast::ssl_stream<beast::tcp_stream> (HTTPS). Lives as long as an operation or a pending
// Responder refers to it; every member is used on the connection's strand only.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(tcp::socket socket, ServerImpl* server) requires(!kTls)
      : stream_(std::move(socket)), server_(server) {}
  Session(tcp::socket socket, ssl::context& ctx, ServerImpl* server) requires(kTls)
      : stream_(std::move(socket), ctx), server_(server) {}

  void Start() override;
  void Drain() override {
    // An idle connection has a read pending, which a TLS close_notify exchange must not
    // overlap: close it outright (no answer is cut short).
    if (state_ == State::kIdle) Close(/*graceful=*/false);
  }
  void Write(Response r, bool close) override;
  net::any_io_executor executor() override { return stream_.get_executor(); }

  // A streamed body's pieces are gathered up to this size per chunk written.
  static constexpr size_t kChunkBytes = 64 * 1024;

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void WaitForRequest();
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnRequest(beast::error_code ec);
  void FailRead(beast::error_code ec);
  // The headers every response carries.
  template <class Body>
  void SetHeaders(http::response<Body>& res, const Response& r, bool close);
  // Writes a response whose body comes from Response::stream, chunk by chunk.
  void WriteStreamed(Response r, bool close);
  void WriteNextChunk();
  // A response is out (or failed): next request, or close.
  void Finished(bool keep_alive);
  // Closes the connection once. `graceful` (and TLS): send close_notify first; only when no
  // other operation is pending on the stream.
  void Close(bool graceful = true);

  // The request of the header just read (no body yet), as Router::Admit saw it; OnRequest
  // completes it.
  Request HeaderRequest();
  // Sends the guard's refusal of the request whose header was read: at once, closing the
  // connection, unless the body is small enough to read first (then the connection lives on).
  void Refuse(Response refusal);

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Request> pending_;   // the request whose body is being read
  std::optional<Response> refusal_;  // sent once the (small) body of a refused request is read
  std::optional<http::response<http::string_body>> res_;
  // A streamed response in progress.
  std::optional<http::response<http::buffer_body>> streamed_;
  std::optional<http::response_serializer<http::buffer_body>> serializer_;
  std::function<bool(std::string*)> next_piece_;
  std::string chunk_;
  bool more_ = false;
  ServerImpl* server_;
  State state_ = State::kIdle;
  bool keep_alive_ = true;
  bool head_ = false;
  bool handshake_done_ = false;  // TLS only
};

// Hands a Response back to its session's strand. If a handler drops its Responder without
// calling it, the client gets a 500 instead of a connection that hangs.
struct ResponderState {
  std::shared_ptr<SessionBase> session;
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
      : opts_(opts),
        router_(std::move(router)),
        ioc_(std::max(1, opts.threads)),
        acceptor_(net::make_strand(ioc_)) {}  // accepts, back-off and Stop, serialised

  ~ServerImpl() override { Stop(); }

  // Loads the certificate and key when TLS is configured.
  Status SetUpTls() {
    if (opts_.tls_cert_file.empty() && opts_.tls_key_file.empty()) return Status::Ok();
    if (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty()) {
      return Status::InvalidArgument("TLS needs both a certificate file and a key file");
    }
    tls_.emplace(ssl::context::tls_server);
    // TLS 1.2 and later only; no compression, no renegotiation (OpenSSL 3 defaults).
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1 | ssl::context::no_compression);
    beast::error_code ec;
    tls_->use_certificate_chain_file(opts_.tls_cert_file, ec);
    if (ec) {
      return Status::InvalidArgument(fmt::format("TLS certificate {}: {}", opts_.tls_cert_file,
                                                 ec.message()));
    }
    tls_->use_private_key_file(opts_.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return Status::InvalidArgument(
          fmt::format("TLS key {}: {}", opts_.tls_key_file, ec.message()));
    }
    if (SSL_CTX_check_private_key(tls_->native_handle()) != 1) {
      return Status::InvalidArgument(fmt::format("TLS key {} does not match certificate {}",
                                                 opts_.tls_key_file, opts_.tls_cert_file));
    }
    return Status::Ok();
  }

  bool tls() const { return tls_.has_value(); }

  Status Listen() {
    std::string host = opts_.listen, port = "0";
    if (auto c = host.rfind(':'); c != std::string::npos) {
      port = host.substr(c + 1);
      host = host.substr(0, c);
    } else {
      return Status::InvalidArgument(
          fmt::format("listen address \"{}\" has no port", opts_.listen));
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
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
      return Status::Unavailable(
          fmt::format("cannot listen on {}: {}", opts_.listen, ec.message()));
    }
    bound_ = acceptor_.local_endpoint(ec);
    // Keeps run() from returning while every connection waits on a handler answering from
    // another thread (then no I/O is pending).
    work_.emplace(ioc_.get_executor());
    Accept();
    for (int i = 0; i < std::max(1, opts_.threads); ++i)
      threads_.emplace_back([this] { ioc_.run(); });
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
      accept_timer_.cancel();
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

  ServerStats Stats() const override {
    ServerStats st;
    {
      std::lock_guard l(mu_);
      st.connections = sessions_.size();
    }
    st.connections_refused = connections_refused_.load();
    st.accept_errors = accept_errors_.load();
    return st;
  }

  bool stopping() const { return stopping_.load(); }
  const ServerOptions& opts() const { return opts_; }
  const Router& router() const { return *router_; }

  void Remove(SessionBase* s) {
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
        // EMFILE, ENFILE, ENOBUFS...: retrying at once would spin on the same error (the
        // pending connection stays in the backlog), so wait before the next accept.
        const uint64_t n = accept_errors_.fetch_add(1) + 1;
        if (n <= 10 || n % 1000 == 0) {
          spdlog::warn(
              "http: accept failed ({} so far): {}; retrying in {} ms", n, ec.message(),
              std::chrono::duration_cast<std::chrono::milliseconds>(opts_.accept_backoff).count());
        }
        accept_timer_.expires_after(opts_.accept_backoff);
        accept_timer_.async_wait([this](beast::error_code tec) {
          if (!tec && !stopping()) Accept();
        });
        return;
      }
      if (!stopping() && !Admit()) {
        // Over max_connections: closed at once, before any byte is read.
        connections_refused_.fetch_add(1);
        beast::error_code ignored;
        socket.close(ignored);
      } else if (!stopping()) {
        socket.set_option(tcp::no_delay(true), ec);
        std::shared_ptr<SessionBase> s;
        if (tls_) {
          s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket),
                                                                              *tls_, this);
        } else {
          s = std::make_shared<Session<beast::tcp_stream>>(std::move(socket), this);
        }
        {
          std::lock_guard l(mu_);
          sessions_.emplace(s.get(), s);
        }
        s->Start();
      }
      if (!stopping()) Accept();
    });
  }

  // Whether one more connection may open (fewer than max_connections are).
  bool Admit() {
    std::lock_guard l(mu_);
    return sessions_.size() < opts_.max_connections;
  }

  const ServerOptions opts_;
  std::shared_ptr<const Router> router_;
  net::io_context ioc_;
  std::optional<ssl::context> tls_;  // set when serving HTTPS
  tcp::acceptor acceptor_;
  net::steady_timer accept_timer_{acceptor_.get_executor()};  // the back-off after an error
  std::atomic<uint64_t> accept_errors_{0};
  std::atomic<uint64_t> connections_refused_{0};
  tcp::endpoint bound_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;  // GUARDED_BY(mu_)
};

template <class Stream>
void Session<Stream>::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if constexpr (kTls) {
      // The handshake counts as part of the first request: a client that connects and says
      // nothing is cut off after the read timeout.
      self->state_ = State::kReading;
      self->lowest().expires_after(self->server_->opts().read_timeout);
      self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) {
          spdlog::debug("http: TLS handshake with a client failed: {}", ec.message());
          return self->Close();
        }
        self->handshake_done_ = true;
        self->WaitForRequest();
      });
    } else {
      self->WaitForRequest();
    }
  });
}

template <class Stream>
void Session<Stream>::WaitForRequest() {
  if (server_->stopping()) return Close();
  state_ = State::kIdle;
  parser_.emplace();
  parser_->body_limit(server_->opts().max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(server_->opts().max_header_bytes));
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
  // Between requests the idle timeout applies; once the first byte arrives the whole request
  // must come within the read timeout.
  lowest().expires_after(server_->opts().idle_timeout);
  stream_.async_read_some(buffer_.prepare(8192),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->buffer_.commit(n);
                            if (ec) return self->Close();
                            self->ReadHeader();
                          });
}

template <class Stream>
void Session<Stream>::ReadHeader() {
  state_ = State::kReading;
  lowest().expires_after(server_->opts().read_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
Request Session<Stream>::HeaderRequest() {
  const auto& msg = parser_->get();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[std::move(name)] = std::string(f.value());
  }
  beast::error_code ec;
  auto remote = lowest().socket().remote_endpoint(ec);
  if (!ec) req.remote_address = fmt::format("{}:{}", remote.address().to_string(), remote.port());
  return req;
}

// A body up to this size is read (and thrown away) before a refusal is sent, so that the
// connection can stay open and the client's unread bytes do not make the close a reset that
// destroys the answer; a larger one is not read at all.
constexpr uint64_t kRefusedBodyReadBytes = 64 * 1024;

template <class Stream>
void Session<Stream>::Refuse(Response refusal) {
  state_ = State::kHandling;
  head_ = parser_->get().method() == http::verb::head;
  const auto& h = parser_->get();
  const auto length = parser_->content_length();
  const bool waits_for_continue = beast::iequals(h[http::field::expect], "100-continue");
  if (parser_->is_done() || (!waits_for_continue && length && *length <= kRefusedBodyReadBytes)) {
    refusal_ = std::move(refusal);
    return ReadBody();
  }
  keep_alive_ = false;
  Write(std::move(refusal), /*close=*/true);
}

template <class Stream>
void Session<Stream>::OnHeader(beast::error_code ec) {
  if (ec) return FailRead(ec);
  pending_ = HeaderRequest();
  refusal_.reset();
  if (!ParseTarget(pending_->target, &*pending_)) {
    return Refuse(Response::Error(400, "malformed request target: bad percent-encoding"));
  }
  // Authentication (the Router's guard) before the body is read: an unauthenticated client
  // cannot make alertd read, buffer and parse megabytes.
  std::optional<Response> refusal;
  try {
    refusal = server_->router().Admit(*pending_);
  } catch (const std::exception& e) {
    spdlog::error("http: guard for {} {} threw: {}", pending_->method, pending_->path, e.what());
    refusal = Response::Error(500, "internal error");
  }
  if (refusal) return Refuse(std::move(*refusal));
  const auto& h = parser_->get();
  if (beast::iequals(h[http::field::expect], "100-continue") && !parser_->is_done()) {
    // curl sends Expect: 100-continue with large bodies and waits for this before sending.
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    http::async_write(stream_, *cont,
                      [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

template <class Stream>
void Session<Stream>::ReadBody() {
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
}

template <class Stream>
void Session<Stream>::FailRead(beast::error_code ec) {
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

template <class Stream>
void Session<Stream>::OnRequest(beast::error_code ec) {
  if (ec) return FailRead(ec);
  state_ = State::kHandling;
  auto msg = parser_->release();
  keep_alive_ = msg.keep_alive();
  head_ = msg.method() == http::verb::head;
  if (refusal_) {
    Response r = std::move(*refusal_);
    refusal_.reset();
    pending_.reset();
    return Write(std::move(r), false);
  }
  Request req = std::move(*pending_);
  pending_.reset();
  req.body = std::move(msg.body());

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

template <class Stream>
void Session<Stream>::Write(Response r, bool close) {
  if (state_ == State::kClosed) return;
  if (r.stream) {
    if (!head_) return WriteStreamed(std::move(r), close);
    r.DrainStream();  // HEAD: the length of the body a GET would get
  }
  state_ = State::kWriting;
  res_.emplace(static_cast<http::status>(r.status), 11);
  auto& res = *res_;
  SetHeaders(res, r, close);
  if (head_) {
    res.content_length(r.body.size());
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }
  lowest().expires_after(server_->opts().read_timeout);
  http::async_write(stream_, res, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->Finished(!ec && self->res_->keep_alive());
  });
}

template <class Stream>
template <class Body>
void Session<Stream>::SetHeaders(http::response<Body>& res, const Response& r, bool close) {
  res.set(http::field::server, "alertd");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive_ && !close && !server_->stopping());
}

template <class Stream>
void Session<Stream>::WriteStreamed(Response r, bool close) {
  state_ = State::kWriting;
  streamed_.emplace(static_cast<http::status>(r.status), 11);
  auto& res = *streamed_;
  SetHeaders(res, r, close);
  res.chunked(true);
  next_piece_ = std::move(r.stream);
  more_ = true;
  serializer_.emplace(res);
  WriteNextChunk();
}

template <class Stream>
void Session<Stream>::WriteNextChunk() {
  chunk_.clear();
  while (more_ && chunk_.size() < kChunkBytes) more_ = next_piece_(&chunk_);
  auto& body = streamed_->body();
  body.data = chunk_.empty() ? nullptr : chunk_.data();
  body.size = chunk_.size();
  body.more = more_;
  lowest().expires_after(server_->opts().read_timeout);
  http::async_write(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec,
                                                                        size_t) {
    // need_buffer: this chunk is out and the serializer waits for the next one.
    if (ec == http::error::need_buffer) return self->WriteNextChunk();
    self->Finished(!ec && self->streamed_->keep_alive());
  });
}

template <class Stream>
void Session<Stream>::Finished(bool keep_alive) {
  res_.reset();
  serializer_.reset();
  streamed_.reset();
  next_piece_ = nullptr;
  chunk_ = std::string();
  if (!keep_alive) return Close();
  WaitForRequest();
}

template <class Stream>
void Session<Stream>::Close(bool graceful) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if constexpr (kTls) {
    if (handshake_done_ && graceful) {
      // Say close_notify, so clients can tell a complete answer from a cut connection; a
      // peer that does not answer it in time is closed anyway.
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
        self->lowest().close();
        self->server_->Remove(self.get());
      });
      return;
    }
  }
  beast::error_code ec;
  lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  lowest().close();
  server_->Remove(this);
}

}  // namespace

Result<std::unique_ptr<Server>> StartServer(const ServerOptions& opts,
                                            std::shared_ptr<const Router> router) {
  auto s = std::make_unique<ServerImpl>(opts, std::move(router));
  if (auto st = s->SetUpTls(); !st.ok()) return st;
  if (auto st = s->Listen(); !st.ok()) return st;
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace alertd::api
