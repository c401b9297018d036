// The libcurl-backed QueryClient. Each in-flight slot owns one CURL easy handle; a handle keeps
// its connection alive between requests, so a slot reuses one socket and the slot count
// (datasource.max_concurrent_queries) bounds both queries in flight and open sockets. A
// caller that finds every slot busy waits for one, within its query's timeout.
#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/secret_text.h"
#include "rules_engine/query_client.h"

namespace alertd::rules_engine {
namespace {

// Queries longer than this go as a form POST (Prometheus accepts both; URLs over ~8 KiB are
// refused by many proxies).
constexpr size_t kMaxGetQueryBytes = 2048;

// A credentials file, re-read when its modification time or size changes (Prometheus re-reads
// such files on every request; a stat is cheaper than a read at thousands of queries a cycle).
class SecretFile {
 public:
  explicit SecretFile(std::string path) : path_(std::move(path)) {}
  Result<std::string> Get() {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) {
      return Status::Unavailable(fmt::format("unable to read file {}", path_));
    }
    std::lock_guard l(mu_);
    if (loaded_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
        st.st_size == size_) {
      return value_;
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) return Status::Unavailable(fmt::format("unable to read file {}", path_));
    std::stringstream ss;
    ss << in.rdbuf();
    value_ = ss.str();
    // Prometheus trims surrounding whitespace of secrets read from files.
    while (!value_.empty() && (value_.back() == '\n' || value_.back() == '\r' ||
                               value_.back() == ' ' || value_.back() == '\t')) {
      value_.pop_back();
    }
    mtime_ = st.st_mtim;
    size_ = st.st_size;
    loaded_ = true;
    return value_;
  }

 private:
  std::string path_;
  std::mutex mu_;
  bool loaded_ = false;       // GUARDED_BY(mu_)
  struct timespec mtime_ {};  // GUARDED_BY(mu_)
  off_t size_ = 0;            // GUARDED_BY(mu_)
  std::string value_;         // GUARDED_BY(mu_)
};

// A response body as it arrives, capped at datasource.max_response_bytes (decompressed: a
// small gzip body may inflate to gigabytes).
struct BodySink {
  std::string body;
  size_t max = 0;
  bool over = false;
};

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<BodySink*>(userdata);
  const size_t n = size * nmemb;
  if (sink->body.size() + n > sink->max) {
    sink->over = true;
    return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(ptr, n);
  return n;
}

std::string FormatQueryTime(Time ts) {
  const int64_t ms = ToUnixMillis(ts);
  const int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  return fmt::format("{}.{:03}", sec, ms - sec * 1000);
}

std::string FormatTimeoutParam(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return fmt::format("{}ms", ms);
}

std::string Base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string PercentDecoded(std::string_view s) {
  int n = 0;
  char* d = curl_easy_unescape(nullptr, s.data(), static_cast<int>(s.size()), &n);
  std::string out = d ? std::string(d, static_cast<size_t>(n)) : std::string(s);
  curl_free(d);
  return out;
}

// Adds the forms in which credentials for basic auth as `user`:`password` can show up in
// text: the password itself, "user:password" and the Authorization header's base64 of it.
void AddBasicAuthSecrets(std::string_view user, std::string_view password,
                         std::vector<std::string>* out) {
  if (password.empty()) return;
  const std::string pair = std::string(user) + ":" + std::string(password);
  out->emplace_back(password);
  out->push_back(pair);
  out->push_back(Base64(pair));
}

// The secrets a URL's userinfo holds, as written and percent-decoded.
void AddUserinfoSecrets(std::string_view url, std::vector<std::string>* out) {
  const std::string_view info = UrlUserinfo(url);
  if (info.empty()) return;
  const size_t colon = info.find(':');
  if (colon == std::string_view::npos) return;  // a user name alone is no secret
  AddBasicAuthSecrets(info.substr(0, colon), info.substr(colon + 1), out);
  AddBasicAuthSecrets(PercentDecoded(info.substr(0, colon)), PercentDecoded(info.substr(colon + 1)),
                      out);
}

class HttpQueryClient final : public QueryClient {
 public:
  HttpQueryClient(config::DatasourceConfig cfg) : cfg_(std::move(cfg)) {
    std::string base = cfg_.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    endpoint_ = base + "/api/v1/query";
    // Error messages name the endpoint without its userinfo, and never quote a credential
    // (a server or proxy may echo the request's headers in its error page).
    shown_endpoint_ = StripUrlUserinfo(endpoint_);
    const auto& hc = cfg_.http_config;
    AddUserinfoSecrets(cfg_.url, &secrets_);
    AddUserinfoSecrets(hc.proxy_url, &secrets_);
    if (hc.basic_auth) {
      AddBasicAuthSecrets(hc.basic_auth->username, hc.basic_auth->password, &secrets_);
    }
    if (hc.authorization) secrets_.push_back(hc.authorization->credentials);
    for (const auto& [name, value] : hc.headers) secrets_.push_back(value);
    if (hc.basic_auth && !hc.basic_auth->password_file.empty()) {
      password_file_ = std::make_unique<SecretFile>(hc.basic_auth->password_file);
    }
    if (hc.basic_auth && !hc.basic_auth->username_file.empty()) {
      username_file_ = std::make_unique<SecretFile>(hc.basic_auth->username_file);
    }
    if (hc.authorization && !hc.authorization->credentials_file.empty()) {
      credentials_file_ = std::make_unique<SecretFile>(hc.authorization->credentials_file);
    }
    const int slots = std::max(1, cfg_.max_concurrent_queries);
    for (int i = 0; i < slots; ++i) free_.push_back(nullptr);  // handles are created lazily
  }

  ~HttpQueryClient() override {
    for (CURL* h : free_) {
      if (h) curl_easy_cleanup(h);
    }
  }

  Result<QueryResult> Query(std::string_view expr, Time ts) override {
    // The timeout bounds the whole query, the wait for a slot included: with every slot held
    // by a hung datasource, a query fails after its timeout instead of queueing behind them,
    // so stopping or reloading the rule engine never waits longer than one timeout.
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + cfg_.timeout;
    CURL* h = nullptr;
    if (!Acquire(deadline, &h)) {
      return Status::Timeout(fmt::format(
          "query \"{}\": no free query slot within the timeout ({}): all {} "
          "(datasource.max_concurrent_queries) are in use",
          shown_endpoint_, FormatTimeoutParam(cfg_.timeout), cfg_.max_concurrent_queries));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::vector<std::string> file_secrets;
    auto res = Do(h, expr, ts, std::max(left, std::chrono::milliseconds(1)), &file_secrets);
    Release(h);
    if (res.ok()) return res;
    // Every error this client returns (transport, HTTP, the server's own message) goes
    // through here on its way to logs and /api/v1/rules lastError.
    std::string msg = ScrubSecrets(res.status().message(), secrets_);
    return res.status().WithMessage(ScrubSecrets(std::move(msg), file_secrets));
  }

 private:
  // Takes a free slot's handle into *h; false when none came free by `deadline` (no deadline
  // when the timeout is not positive, which the loader refuses).
  bool Acquire(std::chrono::steady_clock::time_point deadline, CURL** h) {
    std::unique_lock l(mu_);
    const auto free = [&] { return !free_.empty(); };
    if (cfg_.timeout.count() > 0) {
      if (!cv_.wait_until(l, deadline, free)) return false;
    } else {
      cv_.wait(l, free);
    }
    CURL* handle = free_.back();
    free_.pop_back();
    l.unlock();
    *h = handle ? handle : curl_easy_init();
    return true;
  }
  void Release(CURL* h) {
    {
      std::lock_guard l(mu_);
      free_.push_back(h);
    }
    cv_.notify_one();
  }

  std::string Escape(CURL* h, std::string_view s) {
    char* e = curl_easy_escape(h, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
  }

  // One query on handle `h`; `left`: what remains of the query's timeout. Secrets read from
  // files for it are added to `file_secrets`.
  Result<QueryResult> Do(CURL* h, std::string_view expr, Time ts, std::chrono::milliseconds left,
                         std::vector<std::string>* file_secrets) {
    if (!h) return Status::Internal("curl_easy_init failed");
    curl_easy_reset(h);  // keeps the connection cache
    const auto& hc = cfg_.http_config;
    std::string params = "query=" + Escape(h, expr) + "&time=" + FormatQueryTime(ts);
    if (cfg_.timeout.count() > 0) params += "&timeout=" + FormatTimeoutParam(cfg_.timeout);
    const bool post = params.size() > kMaxGetQueryBytes;
    std::string url = post ? endpoint_ : endpoint_ + "?" + params;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    if (post) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, params.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(params.size()));
    }
    BodySink body;
    body.max = cfg_.max_response_bytes;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    // Refuses at once a response whose Content-Length is over the cap.
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(cfg_.max_response_bytes));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
    curl_easy_setopt(h, CURLOPT_USERAGENT, "alertd/0.1");
    if (cfg_.timeout.count() > 0)
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, hc.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     hc.enable_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    if (!hc.proxy_url.empty()) curl_easy_setopt(h, CURLOPT_PROXY, hc.proxy_url.c_str());
    const auto& tls = hc.tls_config;
    if (!tls.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    if (!tls.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, tls.cert_file.c_str());
    if (!tls.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, tls.key_file.c_str());
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (tls.min_version == "TLS13") {
      curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_3);
    } else if (tls.min_version == "TLS12") {
      curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    } else if (tls.min_version == "TLS11") {
      curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_1);
    }

    std::string username, password;
    if (hc.basic_auth) {
      username = hc.basic_auth->username;
      password = hc.basic_auth->password;
      if (username_file_) {
        auto u = username_file_->Get();
        if (!u.ok()) return u.status();
        username = *u;
      }
      if (password_file_) {
        auto p = password_file_->Get();
        if (!p.ok()) return p.status();
        password = *p;
      }
      if (username_file_ || password_file_) AddBasicAuthSecrets(username, password, file_secrets);
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
    }
    struct curl_slist* headers = nullptr;
    if (post) {
      headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    if (hc.authorization) {
      std::string cred = hc.authorization->credentials;
      if (credentials_file_) {
        auto c = credentials_file_->Get();
        if (!c.ok()) {
          curl_slist_free_all(headers);
          return c.status();
        }
        cred = *c;
        file_secrets->push_back(cred);
      }
      const std::string line = "Authorization: " + hc.authorization->type + " " + cred;
      headers = curl_slist_append(headers, line.c_str());
    }
    for (const auto& [name, value] : hc.headers) {
      const std::string line = name + ": " + value;
      headers = curl_slist_append(headers, line.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    const char* verb = post ? "Post" : "Get";
    if (body.over || rc == CURLE_FILESIZE_EXCEEDED) {
      return Status::Unavailable(
          fmt::format("{} \"{}\": response larger than datasource.max_response_bytes ({} bytes)",
                      verb, shown_endpoint_, cfg_.max_response_bytes));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Status::Timeout(fmt::format("{} \"{}\": context deadline exceeded ({})", verb,
                                         shown_endpoint_, curl_easy_strerror(rc)));
    }
    if (rc != CURLE_OK) {
      return Status::Unavailable(
          fmt::format("{} \"{}\": {}", verb, shown_endpoint_, curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return ParseQueryResponse(status, body.body);
  }

  const config::DatasourceConfig cfg_;
  std::string endpoint_;
  std::string shown_endpoint_;        // endpoint_ without userinfo, for messages
  std::vector<std::string> secrets_;  // credentials of the configuration, never in messages
  std::unique_ptr<SecretFile> username_file_, password_file_, credentials_file_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CURL*> free_;  // GUARDED_BY(mu_); nullptr: a slot whose handle is not made yet
};

std::string Truncate(std::string_view s, size_t n) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

Result<double> ParseSampleValue(const nlohmann::json& v) {
  // [ <unix seconds>, "<value>" ]
  if (!v.is_array() || v.size() != 2 || !v[1].is_string()) {
    return Status::Internal("malformed sample value");
  }
  const std::string& s = v[1].get_ref<const std::string&>();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return Status::Internal("malformed sample value " + s);
  return d;
}

}  // namespace

Result<QueryResult> ParseQueryResponse(long http_status, std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    std::string msg = fmt::format("server returned HTTP status {}", http_status);
    if (!body.empty()) msg += ": " + Truncate(body, 256);
    if (http_status >= 500 || http_status == 429 || http_status == 0) {
      return Status::Unavailable(msg);
    }
    return Status::Internal(msg);
  }
  try {
    const std::string status = doc.value("status", "");
    if (status != "success") {
      const std::string type = doc.value("errorType", "");
      const std::string err = doc.value("error", "");
      std::string msg = type.empty() ? err : type + ": " + err;
      if (msg.empty()) msg = fmt::format("server returned HTTP status {}", http_status);
      if (type == "timeout") return Status::Timeout(msg);
      if (type == "bad_data" || http_status == 400 || http_status == 422) {
        return Status::InvalidArgument(msg);
      }
      return Status::Unavailable(msg);
    }
    QueryResult out;
    for (const char* key : {"warnings", "infos"}) {
      auto w = doc.find(key);
      if (w != doc.end() && w->is_array()) {
        for (const auto& x : *w) {
          if (x.is_string()) out.warnings.push_back(x.get<std::string>());
        }
      }
    }
    const auto& data = doc.at("data");
    const std::string type = data.at("resultType").get<std::string>();
    const auto& result = data.at("result");
    if (type == "vector") {
      out.type = QueryResult::Type::kVector;
      out.samples.reserve(result.size());
      for (const auto& s : result) {
        QuerySample qs;
        // The builder keeps views: of the object's own keys, so it must be an object.
        const auto& m = s.at("metric");
        if (!m.is_object()) return Status::Internal("malformed sample metric");
        LabelSetBuilder metric;
        metric.Reserve(m.size());
        for (const auto& [k, v] : m.items()) {
          metric.Add(k, v.get_ref<const std::string&>());
        }
        qs.metric = metric.Build();
        auto value = s.find("value");
        if (value == s.end()) {
          // A native histogram sample: rule expressions compare floats, so Prometheus's rule
          // manager drops it as well (it has no float value).
          continue;
        }
        auto v = ParseSampleValue(*value);
        if (!v.ok()) return v.status();
        qs.value = *v;
        out.samples.push_back(std::move(qs));
      }
    } else if (type == "scalar") {
      out.type = QueryResult::Type::kScalar;
      auto v = ParseSampleValue(result);
      if (!v.ok()) return v.status();
      out.samples.push_back(QuerySample{{}, *v});
    } else if (type == "string") {
      out.type = QueryResult::Type::kString;
      if (result.is_array() && result.size() == 2 && result[1].is_string()) {
        out.string_value = result[1].get<std::string>();
      }
    } else if (type == "matrix") {
      out.type = QueryResult::Type::kMatrix;
    } else {
      return Status::Internal("unknown resultType " + type);
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal(std::string("malformed query response: ") + e.what());
  }
}

Result<std::unique_ptr<QueryClient>> NewHttpQueryClient(const config::DatasourceConfig& cfg) {
  if (cfg.url.empty()) return Status::InvalidArgument("datasource.url is empty");
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::unique_ptr<QueryClient>(std::make_unique<HttpQueryClient>(cfg));
}

}  // namespace alertd::rules_engine
