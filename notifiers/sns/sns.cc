#include "notifiers/sns/sns.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdlib>

#include "core/encoding.h"
#include "notifiers/common.h"
#include "notifiers/http_result.h"
#include "notifiers/sns/sigv4.h"

namespace alertd::notifiers {
namespace {

constexpr size_t kMaxMessageBytes = 256 * 1024;  // a Publish request's message
constexpr size_t kMaxSmsBytes = 1600;            // an SMS

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Host (with a port that is not the scheme's) and path of `url`, through libcurl's parser.
struct UrlParts {
  std::string host, path, query;
};
Result<UrlParts> Parse(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return Status::Internal("sns: out of memory");
  UrlParts out;
  bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  auto get = [&](CURLUPart part, std::string* to) {
    char* v = nullptr;
    if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v != nullptr) *to = v;
    curl_free(v);
  };
  std::string port;
  if (ok) {
    get(CURLUPART_HOST, &out.host);
    get(CURLUPART_PORT, &port);  // only when the URL names one
    get(CURLUPART_PATH, &out.path);
    get(CURLUPART_QUERY, &out.query);
  }
  curl_url_cleanup(u);
  if (!ok || out.host.empty()) return Status::InvalidArgument("sns: api_url is not a URL");
  const bool default_port = (port == "443" && url.starts_with("https:")) ||
                            (port == "80" && url.starts_with("http:"));
  if (!port.empty() && !default_port) out.host += ":" + port;
  return out;
}

// At most `limit` bytes of `s`, cut at a character boundary.
std::string CutUtf8(const std::string& s, size_t limit, bool* cut) {
  *cut = s.size() > limit;
  if (!*cut) return s;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

class SnsNotifier final : public Notifier {
 public:
  SnsNotifier(const SnsConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    for (const std::string* f : {&cfg_.api_url, &cfg_.topic_arn, &cfg_.phone_number,
                                 &cfg_.target_arn, &cfg_.subject, &cfg_.message}) {
      fields_.Add(*f);
    }
    for (const auto& [k, v] : cfg_.attributes) {
      fields_.Add(k);
      fields_.Add(v);
    }
  }

  std::string_view integration() const override { return "sns"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    NotifyResult out;
    out.retryable = true;  // what Alertmanager answers for every failure before a response
    sigv4::Credentials creds{cfg_.access_key, cfg_.secret_key, ""};
    if (creds.access_key.empty()) {
      creds = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
    }
    std::string region = cfg_.region;
    if (region.empty()) region = Env("AWS_REGION");
    if (region.empty()) region = Env("AWS_DEFAULT_REGION");
    if (region.empty()) {
      out.status = Status::InvalidArgument(
          "region not configured in sns.sigv4.region or in AWS_REGION / AWS_DEFAULT_REGION");
      return out;
    }
    if (creds.access_key.empty() || creds.secret_key.empty()) {
      out.status = Status::InvalidArgument(
          "sns: no credentials: give sigv4.access_key and sigv4.secret_key, or set "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
      return out;
    }

    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    std::map<std::string, std::string> form{{"Action", "Publish"}, {"Version", "2010-03-31"}};
    size_t limit = kMaxMessageBytes;
    if (!cfg_.topic_arn.empty()) {
      const std::string topic = render(cfg_.topic_arn);
      form["TopicArn"] = topic;
      if (topic.ends_with(".fifo")) {
        form["MessageDeduplicationId"] = GroupKeyHash(n.group_key);
        form["MessageGroupId"] = GroupKeyHash(n.group_key);
      }
    }
    if (!cfg_.phone_number.empty()) {
      form["PhoneNumber"] = render(cfg_.phone_number);
      limit = kMaxSmsBytes;
    }
    if (!cfg_.target_arn.empty()) form["TargetArn"] = render(cfg_.target_arn);
    std::map<std::string, std::string> attributes;
    for (const auto& [k, v] : cfg_.attributes) attributes[render(k)] = render(v);
    bool cut = false;
    form["Message"] = CutUtf8(render(cfg_.message), limit, &cut);
    if (cut) attributes["truncated"] = "true";
    int i = 0;
    for (const auto& [k, v] : attributes) {
      const std::string entry = fmt::format("MessageAttributes.entry.{}.", ++i);
      form[entry + "Name"] = k;
      form[entry + "Value.DataType"] = "String";
      form[entry + "Value.StringValue"] = v;
    }
    if (!cfg_.subject.empty()) form["Subject"] = render(cfg_.subject);
    std::string endpoint = render(cfg_.api_url);
    internal::LogTemplateErrors("sns", n, render);
    if (endpoint.empty()) {
      endpoint = fmt::format("https://sns.{}.amazonaws.com{}", region,
                             region.starts_with("cn-") ? ".cn" : "");
    }
    auto parts = Parse(endpoint);
    if (!parts.ok()) {
      out.status = parts.status();
      return out;
    }
    // The SDK joins the endpoint's path with the operation's "/".
    std::string path = parts->path;
    while (!path.empty() && path.back() == '/') path.pop_back();
    path += '/';

    HttpRequest req;
    req.url = endpoint.substr(0, endpoint.find('?'));
    while (!req.url.empty() && req.url.back() == '/') req.url.pop_back();
    req.url += '/';
    if (!parts->query.empty()) req.url += "?" + parts->query;
    req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    req.body = EncodeQuery(form);
    const Time now = deps_.now ? deps_.now()
                               : std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    req.headers = sigv4::Sign(creds, region, "sns", "POST", parts->host, path, parts->query,
                              req.content_type, req.body, now);
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const SnsConfig cfg_;  // secret_key is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const SnsConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("sns: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("sns");
  return std::unique_ptr<Notifier>(new SnsNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
