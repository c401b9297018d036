// The HTTP QueryClient, over the shared client (net/http_client.h). A query takes one of
// datasource.max_concurrent_queries slots for its request; the client keeps one live
// connection per request in flight, so the slot count bounds both queries in flight and open
// sockets. A caller that finds every slot busy waits for one, within its query's timeout.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/secret_text.h"
#include "net/http_client.h"
#include "rules_engine/query_client.h"

namespace alertd::rules_engine {
namespace {

// Queries longer than this go as a form POST (Prometheus accepts both; URLs over ~8 KiB are
// refused by many proxies).
constexpr size_t kMaxGetQueryBytes = 2048;

std::string FormatQueryTime(Time ts) {
  const int64_t ms = ToUnixMillis(ts);
  const int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  return fmt::format("{}.{:03}", sec, ms - sec * 1000);
}

std::string FormatTimeoutParam(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return fmt::format("{}ms", ms);
}

// Adds the forms in which credentials for basic auth as `user`:`password` can show up in
// text: the password itself, "user:password" and the Authorization header's base64 of it.
void AddBasicAuthSecrets(std::string_view user, std::string_view password,
                         std::vector<std::string>* out) {
  if (password.empty()) return;
  const std::string pair = std::string(user) + ":" + std::string(password);
  out->emplace_back(password);
  out->push_back(pair);
  out->push_back(Base64Encode(pair));
}

// The secrets a URL's userinfo holds, as written and percent-decoded.
void AddUserinfoSecrets(std::string_view url, std::vector<std::string>* out) {
  const std::string_view info = UrlUserinfo(url);
  if (info.empty()) return;
  const size_t colon = info.find(':');
  if (colon == std::string_view::npos) return;  // a user name alone is no secret
  AddBasicAuthSecrets(info.substr(0, colon), info.substr(colon + 1), out);
  AddBasicAuthSecrets(net::PercentDecode(info.substr(0, colon)), net::PercentDecode(info.substr(colon + 1)),
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
    const int slots = std::max(1, cfg_.max_concurrent_queries);
    free_ = slots;
  }

  // Creates the transport; fails when a secret file cannot be read.
  Status Init() {
    auto c = net::HttpClient::Create(cfg_.http_config, "alertd/0.1");
    if (!c.ok()) return c.status();
    http_ = std::move(*c);
    return Status::Ok();
  }

  Result<QueryResult> Query(std::string_view expr, Time ts) override {
    // The timeout bounds the whole query, the wait for a slot included: with every slot held
    // by a hung datasource, a query fails after its timeout instead of queueing behind them,
    // so stopping or reloading the rule engine never waits longer than one timeout.
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + cfg_.timeout;
    if (!Acquire(deadline)) {
      return Status::Timeout(fmt::format(
          "query \"{}\": no free query slot within the timeout ({}): all {} "
          "(datasource.max_concurrent_queries) are in use",
          shown_endpoint_, FormatTimeoutParam(cfg_.timeout), cfg_.max_concurrent_queries));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::vector<std::string> file_secrets;
    auto res = Do(expr, ts, std::max(left, std::chrono::milliseconds(1)), &file_secrets);
    Release();
    if (res.ok()) return res;
    // Every error this client returns (transport, HTTP, the server's own message) goes
    // through here on its way to logs and /api/v1/rules lastError.
    std::string msg = ScrubSecrets(res.status().message(), secrets_);
    return res.status().WithMessage(ScrubSecrets(std::move(msg), file_secrets));
  }

 private:
  // Takes a free slot; false when none came free by `deadline` (no deadline when the timeout
  // is not positive, which the loader refuses).
  bool Acquire(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock l(mu_);
    const auto free = [&] { return free_ > 0; };
    if (cfg_.timeout.count() > 0) {
      if (!cv_.wait_until(l, deadline, free)) return false;
    } else {
      cv_.wait(l, free);
    }
    --free_;
    return true;
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

  // One query; `left`: what remains of the query's timeout. Secrets read from files for it
  // are added to `file_secrets`.
  Result<QueryResult> Do(std::string_view expr, Time ts, std::chrono::milliseconds left,
                         std::vector<std::string>* file_secrets) {
    std::string params = "query=" + net::PercentEncode(expr) + "&time=" + FormatQueryTime(ts);
    if (cfg_.timeout.count() > 0) params += "&timeout=" + FormatTimeoutParam(cfg_.timeout);
    const bool post = params.size() > kMaxGetQueryBytes;
    net::HttpRequest req;
    req.method = post ? "POST" : "GET";
    req.url = post ? endpoint_ : endpoint_ + "?" + params;
    if (post) {
      req.content_type = "application/x-www-form-urlencoded";
      req.body = std::move(params);
    }
    req.headers.emplace_back("Accept", "application/json");
    req.timeout = cfg_.timeout.count() > 0 ? Duration(left) : Duration::zero();
    req.max_response_bytes = cfg_.max_response_bytes;
    req.accept_compressed = true;  // gzip when the server offers it
    req.secrets_out = file_secrets;
    const net::HttpResponse resp = http_->Do(req);
    const char* verb = post ? "Post" : "Get";
    if (resp.too_large) {
      return Status::Internal(
          fmt::format("{} \"{}\": response larger than datasource.max_response_bytes ({} bytes)",
                      verb, shown_endpoint_, cfg_.max_response_bytes));
    }
    if (resp.transport.code() == Status::Code::kTimeout) {
      return Status::Timeout(fmt::format("{} \"{}\": context deadline exceeded ({})", verb,
                                         shown_endpoint_, resp.transport.message()));
    }
    if (!resp.transport.ok()) {
      return Status::Unavailable(
          fmt::format("{} \"{}\": {}", verb, shown_endpoint_, resp.transport.message()));
    }
    return ParseQueryResponse(resp.status, resp.body);
  }

  const config::DatasourceConfig cfg_;
  std::string endpoint_;
  std::string shown_endpoint_;        // endpoint_ without userinfo, for messages
  std::vector<std::string> secrets_;  // credentials of the configuration, never in messages
  std::unique_ptr<net::HttpClient> http_;
  std::mutex mu_;
  std::condition_variable cv_;
  int free_ = 0;  // GUARDED_BY(mu_): slots not in use
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
      // A 4xx other than 429 is the query's fault: retrying it would get the same answer.
      if (type == "bad_data" || (http_status >= 400 && http_status < 500 && http_status != 429)) {
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
  auto client = std::make_unique<HttpQueryClient>(cfg);
  if (Status s = client->Init(); !s.ok()) return s;
  return std::unique_ptr<QueryClient>(std::move(client));
}

}  // namespace alertd::rules_engine
