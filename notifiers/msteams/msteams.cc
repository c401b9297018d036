#include "notifiers/msteams/msteams.h"

#include <string_view>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonString;

// The card of one notification, from its rendered title, summary and text.
struct Rendered {
  std::string title, summary, text;
  bool firing = false;
};

std::string MessageCard(const Rendered& r) {
  std::string out = R"({"@context":"http://schema.org/extensions","type":"MessageCard","title":)";
  AppendJsonString(&out, r.title);
  out.append(",\"summary\":");
  AppendJsonString(&out, r.summary);
  out.append(",\"text\":");
  AppendJsonString(&out, r.text);
  out.append(",\"themeColor\":");
  out.append(r.firing ? "\"8C1A1A\"" : "\"2DC72D\"");
  out.append("}\n");
  return out;
}

std::string AdaptiveCard(const Rendered& r) {
  std::string out =
      R"({"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",)"
      R"("contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",)"
      R"("type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","text":)";
  AppendJsonString(&out, r.title);
  out.append(R"(,"weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":)");
  out.append(r.firing ? "\"Attention\"" : "\"Good\"");
  out.append(R"(},{"type":"TextBlock","text":)");
  AppendJsonString(&out, r.text);
  out.append(R"(,"wrap":true}],"msteams":{"width":"full"}}}]})");
  out.append("\n");
  return out;
}

// Both versions: the same fields, the same delivery; `card` builds the body.
template <typename Config>
class TeamsNotifier final : public Notifier {
 public:
  TeamsNotifier(const Config& cfg, const Deps& deps, std::unique_ptr<HttpClient> client,
                std::string (*card)(const Rendered&))
      : cfg_(cfg), deps_(deps), client_(std::move(client)), card_(card), fields_(deps.templates) {
    fields_.Add(cfg_.title);
    fields_.Add(cfg_.text);
    if constexpr (requires { cfg.summary; }) fields_.Add(cfg_.summary);
  }

  std::string_view integration() const override { return cfg_.kind(); }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    Rendered r;
    r.title = render(cfg_.title);
    if constexpr (requires { cfg_.summary; }) r.summary = render(cfg_.summary);
    r.text = render(cfg_.text);
    r.firing = data.status == "firing";
    internal::LogTemplateErrors(cfg_.kind(), n, render);
    HttpRequest req;
    req.url = cfg_.webhook_url;
    if (req.url.empty()) {
      auto f = ReadSecretFile(cfg_.webhook_url_file);
      if (!f.ok()) {
        NotifyResult out;
        out.status = f.status().WithPrefix(std::string(cfg_.kind()) + " webhook_url_file");
        return out;
      }
      req.url = *f;
    }
    req.content_type = "application/json";
    req.body = card_(r);
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const Config cfg_;  // webhook_url is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  std::string (*const card_)(const Rendered&);
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

template <typename Config>
Result<std::unique_ptr<Notifier>> New(const Config& cfg, const Deps& deps,
                                      std::string (*card)(const Rendered&)) {
  const std::string kind(cfg.kind());
  if (!deps.templates) return Status::InvalidArgument(kind + ": no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix(kind);
  return std::unique_ptr<Notifier>(
      new TeamsNotifier<Config>(cfg, deps, std::move(*client), card));
}

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const MsteamsConfig& cfg, const Deps& deps) {
  return New(cfg, deps, &MessageCard);
}

Result<std::unique_ptr<Notifier>> NewNotifier(const Msteamsv2Config& cfg, const Deps& deps) {
  return New(cfg, deps, &AdaptiveCard);
}

}  // namespace alertd::notifiers
