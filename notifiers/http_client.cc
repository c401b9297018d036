#include "notifiers/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "notifiers/notifier.h"

namespace alertd::notifiers {

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
  // Authentication, resolved from inline values or files at construction.
  bool basic_auth = false;
  std::string username;
  std::string password;
  std::string authorization_header;  // "Authorization: <type> <credentials>" or empty
  std::string proxy_url;
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
    if (!cfg.basic_auth->username_file.empty()) {
      auto u = ReadSecretFile(cfg.basic_auth->username_file);
      if (!u.ok()) return u.status().WithPrefix("http_config basic_auth");
      s->username = *u;
    }
    s->password = cfg.basic_auth->password;
    if (!cfg.basic_auth->password_file.empty()) {
      auto p = ReadSecretFile(cfg.basic_auth->password_file);
      if (!p.ok()) return p.status().WithPrefix("http_config basic_auth");
      s->password = *p;
    }
  }
  if (cfg.authorization) {
    std::string credentials = cfg.authorization->credentials;
    if (!cfg.authorization->credentials_file.empty()) {
      auto c = ReadSecretFile(cfg.authorization->credentials_file);
      if (!c.ok()) return c.status().WithPrefix("http_config authorization");
      credentials = *c;
    }
    const std::string type =
        cfg.authorization->type.empty() ? std::string("Bearer") : cfg.authorization->type;
    if (!credentials.empty())
      s->authorization_header = "Authorization: " + type + " " + credentials;
  }
  s->proxy_url = cfg.proxy_url;
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

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (out->size() < kMaxResponseBody) {
    out->append(data, std::min(len, kMaxResponseBody - out->size()));
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
      std::max<long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(req.timeout).count());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
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
  if (!settings_->authorization_header.empty()) {
    headers = curl_slist_append(headers, settings_->authorization_header.c_str());
  }
  if (settings_->basic_auth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_->username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings_->password.c_str());
  }
  if (!settings_->proxy_url.empty())
    curl_easy_setopt(c, CURLOPT_PROXY, settings_->proxy_url.c_str());

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
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);

  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
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
  // The handle's option pointers refer to this call's strings; clear them before reuse.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  Release(std::move(h));
  return resp;
}

NotifyResult CheckHttpResponse(const HttpResponse& r, std::span<const long> extra_retry_codes) {
  NotifyResult out;
  if (!r.transport.ok()) {
    out.status = r.transport;
    // A URL that cannot work is not worth retrying; every other transport failure is.
    out.retryable = r.transport.code() != Status::Code::kInvalidArgument;
    return out;
  }
  out.http_status = r.status;
  if (r.status / 100 == 2) return out;
  out.retryable = r.status / 100 == 5 || r.status == 429 ||
                  std::find(extra_retry_codes.begin(), extra_retry_codes.end(), r.status) !=
                      extra_retry_codes.end();
  std::string msg = "unexpected status code " + std::to_string(r.status);
  if (!r.body.empty()) {
    constexpr size_t kMaxDetail = 512;
    std::string detail = r.body.substr(0, kMaxDetail);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    if (r.body.size() > kMaxDetail) detail += "...";
    msg += ": " + detail;
  }
  out.status = out.retryable ? Status::Unavailable(msg) : Status::InvalidArgument(msg);
  return out;
}

}  // namespace alertd::notifiers
