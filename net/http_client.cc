#include "net/http_client.h"

#include <cstdlib>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "net/oauth2.h"

namespace alertd::net {

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read secret file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && is_space(s[start])) ++start;
  return s.substr(start);
}

struct HttpClient::Settings {
  std::string user_agent;
  // Authentication: inline values, or files read at every request.
  bool basic_auth = false;
  std::string username, username_file;
  std::string password, password_file;
  bool authorization = false;
  std::string authorization_type;
  std::string credentials, credentials_file;
  std::unique_ptr<OAuth2TokenSource> oauth2;  // the Authorization header from a token
  std::vector<std::string> headers;  // "Name: value" lines of http_config headers
  std::string proxy_url;
  std::string no_proxy;
  bool proxy_from_environment = false;
  std::vector<std::string> proxy_headers;  // "Name: value" lines sent with CONNECT
  config::TLSConfig tls;
  bool follow_redirects = true;
  bool enable_http2 = true;
};

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(std::unique_ptr<Settings> settings) : settings_(std::move(settings)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const config::HTTPClientConfig& cfg,
                                                       std::string user_agent) {
  EnsureCurlInitialized();
  auto s = std::make_unique<Settings>();
  s->user_agent = std::move(user_agent);
  if (cfg.basic_auth) {
    s->basic_auth = true;
    s->username = cfg.basic_auth->username;
    s->username_file = cfg.basic_auth->username_file;
    s->password = cfg.basic_auth->password;
    s->password_file = cfg.basic_auth->password_file;
  }
  if (cfg.authorization) {
    s->authorization = true;
    s->authorization_type =
        cfg.authorization->type.empty() ? std::string("Bearer") : cfg.authorization->type;
    s->credentials = cfg.authorization->credentials;
    s->credentials_file = cfg.authorization->credentials_file;
  }
  for (const std::string* f : {&s->username_file, &s->password_file, &s->credentials_file}) {
    if (f->empty()) continue;
    auto r = ReadSecretFile(*f);
    if (!r.ok()) return r.status().WithPrefix("http_config");
  }
  if (cfg.oauth2) {
    auto o = OAuth2TokenSource::Create(*cfg.oauth2, s->user_agent);
    if (!o.ok()) return o.status().WithPrefix("http_config");
    s->oauth2 = std::move(*o);
  }
  for (const auto& [name, value] : cfg.headers) s->headers.push_back(name + ": " + value);
  s->proxy_url = cfg.proxy_url;
  s->no_proxy = cfg.no_proxy;
  s->proxy_from_environment = cfg.proxy_from_environment;
  for (const auto& [name, values] : cfg.proxy_connect_header) {
    for (const auto& v : values) s->proxy_headers.push_back(name + ": " + v);
  }
  s->tls = cfg.tls_config;
  for (const std::string* f : {&s->tls.ca_file, &s->tls.cert_file, &s->tls.key_file}) {
    if (!f->empty() && !std::filesystem::exists(*f)) {
      return Status::InvalidArgument("http_config tls_config: file " + *f + " does not exist");
    }
  }
  s->follow_redirects = cfg.follow_redirects;
  s->enable_http2 = cfg.enable_http2;
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(s)));
}

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->curl = curl_easy_init();
  return h;
}

void HttpClient::Release(std::unique_ptr<Handle> h) {
  // Each handle keeps its own live connection for reuse, so keep as many idle handles as
  // deliveries run at once (router threads_per_integration, 8 by default): with fewer, every
  // burst closed connections and opened new ones. The cap only bounds an unusual spike.
  constexpr size_t kMaxIdle = 64;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(h));
}

namespace {

struct BodySink {
  std::string body;
  size_t max = 0;  // HttpRequest::max_response_bytes
  bool over = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t len = size * n;
  if (sink->max > 0) {
    if (sink->body.size() + len > sink->max) {
      sink->over = true;
      return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
    }
    sink->body.append(data, len);
    return len;
  }
  if (sink->body.size() < kMaxResponseBody) {
    sink->body.append(data, std::min(len, kMaxResponseBody - sink->body.size()));
  }
  return len;  // the rest is drained and dropped so the connection stays reusable
}

// Host and port of a URL, through curl's URL parser.
bool UrlHostPort(const std::string& url, std::string* host, std::string* port) {
  CURLU* u = curl_url();
  bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  char* h = nullptr;
  char* p = nullptr;
  ok = ok && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
       curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (ok) {
    *host = h;
    *port = p;
  }
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
  return ok;
}

std::string WithoutUrls(std::string msg) {
  // curl's messages name hosts, never paths; keep them, but be defensive about anything
  // that looks like a URL (it could carry a token in its path or query).
  for (size_t pos = msg.find("://"); pos != std::string::npos; pos = msg.find("://", pos)) {
    size_t start = pos;
    while (start > 0 && std::isalpha(static_cast<unsigned char>(msg[start - 1]))) --start;
    size_t end = pos + 3;
    while (end < msg.size() && !std::isspace(static_cast<unsigned char>(msg[end]))) ++end;
    msg.replace(start, end - start, "<redacted>");
    pos = start + 10;
  }
  return msg;
}

}  // namespace

HttpResponse HttpClient::Do(const HttpRequest& req) {
  HttpResponse resp;
  auto h = Acquire();
  if (h->curl == nullptr) {
    resp.transport = Status::Internal("cannot create an HTTP handle");
    return resp;
  }
  CURL* c = h->curl;
  // Reset options but keep the handle's live connections and caches.
  curl_easy_reset(c);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, settings_->user_agent.c_str());
  const long timeout_ms =
      req.timeout.count() <= 0
          ? 0
          : std::max<long>(
                1, std::chrono::duration_cast<std::chrono::milliseconds>(req.timeout).count());
  if (timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  }
  if (req.accept_compressed) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  if (req.max_response_bytes > 0) {
    // Refuses at once a response whose Content-Length is over the cap.
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(req.max_response_bytes));
  }
  if (req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, settings_->follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);  // Go's http.Client stops after 10
  // Like Go's client, curl turns a POST into a GET on 301/302/303 and keeps it on 307/308.
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                   settings_->enable_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);

  struct curl_slist* headers = nullptr;
  if (!req.content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + req.content_type).c_str());
  }
  // No "Expect: 100-continue" round trip for large bodies.
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& [k, v] : req.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  for (const std::string& line : settings_->headers)
    headers = curl_slist_append(headers, line.c_str());
  // Secret files are read at every request, as Prometheus's and Alertmanager's clients do.
  auto secret = [&](const std::string& inline_value, const std::string& file,
                    std::string* out) -> bool {
    if (file.empty()) {
      *out = inline_value;
      return true;
    }
    auto r = ReadSecretFile(file);
    if (!r.ok()) {
      resp.transport = Status::Unavailable(r.status().message());
      return false;
    }
    *out = *r;
    return true;
  };
  std::string username, password, credentials;
  if (settings_->basic_auth && (!secret(settings_->username, settings_->username_file, &username) ||
                                !secret(settings_->password, settings_->password_file, &password))) {
    curl_slist_free_all(headers);
    Release(std::move(h));
    return resp;
  }
  if (settings_->authorization &&
      !secret(settings_->credentials, settings_->credentials_file, &credentials)) {
    curl_slist_free_all(headers);
    Release(std::move(h));
    return resp;
  }
  std::string authorization_line;
  if (settings_->authorization && !credentials.empty()) {
    authorization_line = "Authorization: " + settings_->authorization_type + " " + credentials;
    headers = curl_slist_append(headers, authorization_line.c_str());
  }
  if (settings_->oauth2) {
    auto value = settings_->oauth2->Authorization(req.timeout, req.secrets_out);
    if (!value.ok()) {
      resp.transport = value.status();
      curl_slist_free_all(headers);
      Release(std::move(h));
      return resp;
    }
    authorization_line = "Authorization: " + *value;
    headers = curl_slist_append(headers, authorization_line.c_str());
  }
  if (settings_->basic_auth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
  }
  if (req.secrets_out != nullptr) {
    for (const std::string* v : {&password, &credentials}) {
      if (!v->empty()) req.secrets_out->push_back(*v);
    }
    if (!password.empty()) req.secrets_out->push_back(username + ":" + password);
  }
  // The proxy: proxy_url (hosts in no_proxy reached directly), or with proxy_from_environment
  // what Go's http.ProxyFromEnvironment reads (HTTPS_PROXY for https URLs, HTTP_PROXY for
  // http, NO_PROXY; upper or lower case). Otherwise none: an empty CURLOPT_PROXY turns off
  // libcurl's own use of the environment, which Prometheus's and Alertmanager's clients
  // ignore too.
  std::string proxy = settings_->proxy_url, no_proxy = settings_->no_proxy;
  if (settings_->proxy_from_environment) {
    auto env = [](const char* upper, const char* lower) {
      const char* v = std::getenv(upper);
      if (v == nullptr || *v == '\0') v = std::getenv(lower);
      return std::string(v != nullptr ? v : "");
    };
    proxy = req.url.starts_with("https:") ? env("HTTPS_PROXY", "https_proxy")
                                          : env("HTTP_PROXY", "http_proxy");
    no_proxy = env("NO_PROXY", "no_proxy");
  }
  curl_easy_setopt(c, CURLOPT_PROXY, proxy.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy.empty() ? nullptr : no_proxy.c_str());
  struct curl_slist* proxy_headers = nullptr;
  for (const std::string& line : settings_->proxy_headers)
    proxy_headers = curl_slist_append(proxy_headers, line.c_str());
  curl_easy_setopt(c, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
  curl_easy_setopt(c, CURLOPT_PROXYHEADER, proxy_headers);

  const config::TLSConfig& tls = settings_->tls;
  if (!tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, tls.key_file.c_str());
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (tls.min_version == "TLS13") {
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_3);
  } else if (tls.min_version == "TLS12") {
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  } else if (tls.min_version == "TLS11") {
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_1);
  }
  struct curl_slist* connect_to = nullptr;
  std::string url_with_server_name;
  if (!tls.server_name.empty()) {
    // Go's tls.Config.ServerName sets SNI and the name the certificate is checked against,
    // while the connection still goes to the URL's host. libcurl has no such option: ask for
    // the server name in the URL, connect to the real host with CONNECT_TO, and keep the
    // original Host header.
    std::string host, port;
    if (UrlHostPort(req.url, &host, &port) && host != tls.server_name) {
      CURLU* u = curl_url();
      curl_url_set(u, CURLUPART_URL, req.url.c_str(), 0);
      curl_url_set(u, CURLUPART_HOST, tls.server_name.c_str(), 0);
      char* s = nullptr;
      if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) url_with_server_name = s;
      curl_free(s);
      curl_url_cleanup(u);
      if (!url_with_server_name.empty()) {
        curl_easy_setopt(c, CURLOPT_URL, url_with_server_name.c_str());
        connect_to = curl_slist_append(
            connect_to, (tls.server_name + ":" + port + ":" + host + ":" + port).c_str());
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
        const bool default_port = port == "443" || port == "80";
        headers = curl_slist_append(headers,
                                    ("Host: " + host + (default_port ? "" : ":" + port)).c_str());
      }
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  BodySink sink;
  sink.max = req.max_response_bytes;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);

  const CURLcode rc = curl_easy_perform(c);
  resp.body = std::move(sink.body);
  if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
    resp.too_large = true;
    resp.body.clear();
    resp.transport = Status::Unavailable("response larger than " +
                                         std::to_string(req.max_response_bytes) + " bytes");
  } else if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    char* ct = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct != nullptr) resp.content_type = ct;
  } else {
    std::string msg = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
    msg = WithoutUrls(msg);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      resp.transport =
          Status::Timeout("request timed out after " + std::to_string(timeout_ms) + "ms: " + msg);
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      resp.transport = Status::InvalidArgument("invalid URL: " + msg);
    } else {
      resp.transport = Status::Unavailable(msg);
    }
  }
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  curl_slist_free_all(proxy_headers);
  // The handle's option pointers refer to this call's strings; clear them before reuse.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_PROXYHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_NOPROXY, nullptr);
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  Release(std::move(h));
  return resp;
}

std::string PercentEncode(std::string_view s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string PercentDecode(std::string_view s) {
  int n = 0;
  char* d = curl_easy_unescape(nullptr, s.data(), static_cast<int>(s.size()), &n);
  std::string out = d ? std::string(d, static_cast<size_t>(n)) : std::string(s);
  curl_free(d);
  return out;
}

}  // namespace alertd::net
