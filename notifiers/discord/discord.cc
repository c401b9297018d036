#include "notifiers/discord/discord.h"

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonString;

constexpr int kColorRed = 0x992D22;
constexpr int kColorGreen = 0x2ECC71;

class DiscordNotifier final : public Notifier {
 public:
  DiscordNotifier(const DiscordConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    fields_.Add(cfg_.title);
    fields_.Add(cfg_.message);
  }

  std::string_view integration() const override { return "discord"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    const std::string title = render(cfg_.title);
    const std::string description = render(cfg_.message);
    internal::LogTemplateErrors("discord", n, render);
    // notify/discord's webhook struct, in its field order.
    HttpRequest req;
    req.body = "{\"content\":\"\",\"embeds\":[{\"title\":";
    AppendJsonString(&req.body, title);
    req.body.append(",\"description\":");
    AppendJsonString(&req.body, description);
    req.body.append(",\"color\":");
    req.body.append(std::to_string(data.status == "firing" ? kColorRed : kColorGreen));
    req.body.append("}]}\n");
    req.url = cfg_.webhook_url;
    req.content_type = "application/json";
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const DiscordConfig cfg_;  // webhook_url is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const DiscordConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("discord: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("discord");
  return std::unique_ptr<Notifier>(new DiscordNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
