#include "notifiers/wechat/wechat.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/thread_annotations.h"
#include "core/encoding.h"
#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonString;

// How long a fetched access token is used (notify/wechat refreshes it after two hours).
constexpr auto kTokenLifetime = std::chrono::hours(2);

bool IsTokenError(int64_t code) { return code == 42001 || code == 40014 || code == 41001; }

class WechatNotifier final : public Notifier {
 public:
  WechatNotifier(const WechatConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    for (const std::string* f : {&cfg_.api_secret, &cfg_.corp_id, &cfg_.message, &cfg_.to_user,
                                 &cfg_.to_party, &cfg_.to_tag, &cfg_.agent_id}) {
      fields_.Add(*f);
    }
  }

  std::string_view integration() const override { return "wechat"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    NotifyResult out;
    auto token = Token(n, render, &out);
    if (!token) return out;

    const std::string message = render(cfg_.message);
    std::string body = "{\"text\":{\"content\":";
    AppendJsonString(&body, cfg_.message_type == "markdown" ? "" : message);
    body += '}';
    for (const auto& [key, text] : {std::pair{"touser", &cfg_.to_user},
                                    std::pair{"toparty", &cfg_.to_party},
                                    std::pair{"totag", &cfg_.to_tag},
                                    std::pair{"agentid", &cfg_.agent_id}}) {
      const std::string v = render(*text);
      if (v.empty()) continue;
      body += fmt::format(",\"{}\":", key);
      AppendJsonString(&body, v);
    }
    body += ",\"safe\":\"0\",\"msgtype\":";
    AppendJsonString(&body, cfg_.message_type);
    body += ",\"markdown\":{\"content\":";
    AppendJsonString(&body, cfg_.message_type == "markdown" ? message : "");
    body += "}}\n";
    internal::LogTemplateErrors("wechat", n, render);

    HttpRequest req;
    req.url = cfg_.api_url + "message/send?access_token=" + QueryEscape(*token);
    req.content_type = "application/json";
    req.body = std::move(body);
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    const HttpResponse resp = client_->Do(req);
    out.http_status = resp.status;
    if (!resp.transport.ok()) {
      out.status = resp.transport;
      out.retryable = true;
      return out;
    }
    if (resp.status != 200) {
      out.status = Status::Unavailable(fmt::format("unexpected status code {}", resp.status));
      out.retryable = true;
      return out;
    }
    auto j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      out.status = Status::Unavailable("wechat: the answer is not JSON");
      out.retryable = true;
      return out;
    }
    const int64_t code = j.value("errcode", int64_t{0});
    if (code == 0) {
      out.status = Status::Ok();
      return out;
    }
    const std::string msg = j.value("errmsg", std::string("request refused"));
    if (IsTokenError(code)) {
      MutexLock l(mu_);
      token_.clear();
      out.retryable = true;
    }
    out.status = Status::InvalidArgument(fmt::format("wechat: {} (errcode {})", msg, code));
    return out;
  }

 private:
  // The cached access token, or a new one from gettoken; on failure fills `out`.
  std::optional<std::string> Token(const Notification& n, internal::Renderer& render,
                                   NotifyResult* out) {
    const auto now = std::chrono::steady_clock::now();
    {
      MutexLock l(mu_);
      if (!token_.empty() && now - token_at_ <= kTokenLifetime) return token_;
    }
    HttpRequest req;
    req.method = "GET";
    req.url = cfg_.api_url + "gettoken?corpid=" + QueryEscape(render(cfg_.corp_id)) +
              "&corpsecret=" + QueryEscape(render(cfg_.api_secret));
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    const HttpResponse resp = client_->Do(req);
    out->http_status = resp.status;
    if (!resp.transport.ok()) {
      out->status = resp.transport;
      out->retryable = true;
      return std::nullopt;
    }
    auto j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      out->status = Status::InvalidArgument(
          fmt::format("wechat: gettoken answered status {} without JSON", resp.status));
      return std::nullopt;
    }
    const std::string token = j.value("access_token", std::string());
    if (token.empty()) {
      out->status = Status::InvalidArgument("invalid APISecret for CorpID: " + cfg_.corp_id);
      return std::nullopt;
    }
    MutexLock l(mu_);
    token_ = token;
    token_at_ = now;
    return token;
  }

  const WechatConfig cfg_;  // api_secret is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
  Mutex mu_;
  std::string token_ GUARDED_BY(mu_);  // secret
  std::chrono::steady_clock::time_point token_at_ GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const WechatConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("wechat: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("wechat");
  return std::unique_ptr<Notifier>(new WechatNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
