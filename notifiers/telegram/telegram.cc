#include "notifiers/telegram/telegram.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

// The Bot API's limit on a message (https://core.telegram.org/bots/api#sendmessage).
constexpr size_t kMaxMessageRunes = 4096;

class TelegramNotifier final : public Notifier {
 public:
  TelegramNotifier(const TelegramConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    fields_.Add(cfg_.message);
  }

  std::string_view integration() const override { return "telegram"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    const std::string text = cfg_.parse_mode == "HTML" ? render.Html(cfg_.message)
                                                       : render(cfg_.message);
    internal::LogTemplateErrors("telegram", n, render);
    std::map<std::string, std::string> params{
        {"chat_id", std::to_string(cfg_.chat_id)},
        {"text", internal::TruncateInRunes(text, kMaxMessageRunes)},
        {"disable_web_page_preview", "true"},
    };
    if (!cfg_.parse_mode.empty()) params["parse_mode"] = cfg_.parse_mode;
    if (cfg_.disable_notifications) params["disable_notification"] = "true";
    HttpRequest req;
    req.url = cfg_.api_url + "/bot" + cfg_.bot_token + "/sendMessage";
    req.content_type = "application/json";
    internal::AppendJsonObject(&req.body, params);
    req.body += '\n';
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    const HttpResponse resp = client_->Do(req);
    NotifyResult out;
    out.http_status = resp.status;
    out.retryable = true;  // as Alertmanager: every failure of a send is retried
    if (!resp.transport.ok()) {
      out.status = resp.transport;
      return out;
    }
    auto j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      out.status = Status::Unavailable(
          fmt::format("telegram: unexpected answer (status {}): {}", resp.status,
                      internal::TruncateInRunes(resp.body, 200)));
    } else if (!j.value("ok", false)) {
      const auto* desc = j.contains("description") && j["description"].is_string()
                             ? j["description"].get_ptr<const std::string*>()
                             : nullptr;
      out.status = Status::Unavailable(fmt::format(
          "telegram: {} ({})", desc != nullptr ? *desc : std::string("request failed"),
          resp.status));
    } else {
      out.status = Status::Ok();
    }
    return out;
  }

 private:
  const TelegramConfig cfg_;  // bot_token is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const TelegramConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("telegram: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("telegram");
  return std::unique_ptr<Notifier>(new TelegramNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
