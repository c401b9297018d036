#include "notifiers/pushover/pushover.h"

#include <map>

#include "core/encoding.h"
#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

// https://pushover.net/api#limits
constexpr size_t kMaxTitleRunes = 250;
constexpr size_t kMaxMessageRunes = 1024;
constexpr size_t kMaxUrlRunes = 512;

// Go's strings.TrimSpace for the ASCII white space a template leaves.
std::string TrimSpace(std::string s) {
  const char* ws = " \t\n\r\v\f";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

class PushoverNotifier final : public Notifier {
 public:
  PushoverNotifier(const PushoverConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    for (const std::string* f : {&cfg_.token, &cfg_.user_key, &cfg_.title, &cfg_.message, &cfg_.url,
                                 &cfg_.url_title, &cfg_.priority, &cfg_.sound}) {
      fields_.Add(*f);
    }
  }

  std::string_view integration() const override { return "pushover"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    std::map<std::string, std::string> params;
    params["token"] = render(cfg_.token);
    params["user"] = render(cfg_.user_key);
    params["title"] = internal::TruncateInRunes(render(cfg_.title), kMaxTitleRunes);
    if (cfg_.html) params["html"] = "1";
    std::string message = internal::TruncateInRunes(
        cfg_.html ? render.Html(cfg_.message) : render(cfg_.message), kMaxMessageRunes);
    message = TrimSpace(std::move(message));
    params["message"] = message.empty() ? "(no details)" : message;  // Pushover refuses empty
    params["url"] = internal::TruncateInRunes(render(cfg_.url), kMaxUrlRunes);
    params["url_title"] = render(cfg_.url_title);
    params["priority"] = render(cfg_.priority);
    params["retry"] =
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg_.retry).count());
    params["expire"] =
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg_.expire).count());
    params["sound"] = render(cfg_.sound);
    internal::LogTemplateErrors("pushover", n, render);
    HttpRequest req;
    req.url = std::string(kPushoverApiUrl) + "?" + EncodeQuery(params);
    req.content_type = "text/plain";
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const PushoverConfig cfg_;  // token and user_key are secrets: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const PushoverConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("pushover: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("pushover");
  return std::unique_ptr<Notifier>(new PushoverNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
