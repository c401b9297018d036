#include "notifiers/webex/webex.h"

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonString;

// The largest message Webex takes, in bytes (notify/webex's maxMessageSize).
constexpr size_t kMaxMessageBytes = 7439;

class WebexNotifier final : public Notifier {
 public:
  WebexNotifier(const WebexConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    fields_.Add(cfg_.message);
  }

  std::string_view integration() const override { return "webex"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    const std::string message = internal::TruncateInBytes(render(cfg_.message), kMaxMessageBytes);
    internal::LogTemplateErrors("webex", n, render);
    HttpRequest req;
    req.body = "{\"markdown\":";
    AppendJsonString(&req.body, message);
    if (!cfg_.room_id.empty()) {
      req.body.append(",\"roomId\":");
      AppendJsonString(&req.body, cfg_.room_id);
    }
    req.body.append("}\n");
    req.url = cfg_.api_url;
    req.content_type = "application/json";
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const WebexConfig cfg_;
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const WebexConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("webex: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("webex");
  return std::unique_ptr<Notifier>(new WebexNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
