#include "notifiers/webhook/webhook.h"

#include <nlohmann/json.hpp>

#include "notifiers/common.h"
#include "notifiers/http_client.h"

namespace alertd::notifiers {
namespace {

using Json = nlohmann::ordered_json;

Json KV(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(const config::WebhookConfig& cfg, const Deps& deps, std::string url,
                  std::unique_ptr<HttpClient> client)
      : cfg_(cfg),
        deps_(deps),
        url_(std::move(url)),
        client_(std::move(client)),
        fields_(deps.templates) {
    fields_.Add(url_);
  }

  std::string_view integration() const override { return "webhook"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return cfg_.send_acknowledged; }

  NotifyResult Notify(const Notification& n) override {
    NotifyResult out;
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer render(deps_, data, &fields_);
    std::string url = render(url_);
    if (render.errors() > 0) {
      // Never echo the URL: it may hold a token.
      out.status = Status::InvalidArgument("failed to template webhook URL: " +
                                           render.first_error().message());
      return out;
    }
    if (url.empty()) {
      out.status = Status::InvalidArgument("webhook URL is empty after templating");
      return out;
    }
    HttpRequest req;
    req.url = std::move(url);
    req.content_type = "application/json";
    req.body = WebhookPayload(n, cfg_.max_alerts);
    req.timeout = cfg_.timeout > Duration(0) ? cfg_.timeout : deps_.timeout;
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const config::WebhookConfig cfg_;
  const Deps deps_;
  const std::string url_;  // secret: never logged
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // the templated URL, compiled once
};

}  // namespace

std::string WebhookPayload(const Notification& n, uint64_t max_alerts) {
  std::span<const AlertPtr> alerts(n.alerts);
  uint64_t truncated = 0;
  if (max_alerts != 0 && alerts.size() > max_alerts) {
    truncated = alerts.size() - max_alerts;
    alerts = alerts.first(max_alerts);
  }
  const auto d = internal::MakeTemplateData(n, alerts);
  // Keys in Alertmanager's order (template.Data's fields, then webhook.Message's).
  Json j = Json::object();
  j["receiver"] = d.receiver;
  j["status"] = d.status;
  Json list = Json::array();
  for (const auto& a : d.alerts) {
    Json ja = Json::object();
    ja["status"] = a.status;
    ja["labels"] = KV(a.labels);
    ja["annotations"] = KV(a.annotations);
    ja["startsAt"] = FormatRFC3339(a.starts_at);
    ja["endsAt"] = FormatRFC3339(a.ends_at);
    ja["generatorURL"] = a.generator_url;
    ja["fingerprint"] = a.fingerprint;
    list.push_back(std::move(ja));
  }
  j["alerts"] = std::move(list);
  // Alertmanager 0.32+ sends the reason; older receivers ignore unknown keys.
  j["notification_reason"] = n.notification_reason.empty() ? "unknown" : n.notification_reason;
  j["groupLabels"] = KV(d.group_labels);
  j["commonLabels"] = KV(d.common_labels);
  j["commonAnnotations"] = KV(d.common_annotations);
  j["externalURL"] = d.external_url;
  j["version"] = "4";
  j["groupKey"] = n.group_key;
  j["truncatedAlerts"] = truncated;
  if (n.kind == EventKind::kAcknowledge) {
    j["acknowledgedBy"] = n.acknowledged_by;
    j["ackComment"] = n.ack_comment;
  }
  // Invalid UTF-8 becomes U+FFFD, as Go's encoding/json does.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<std::unique_ptr<Notifier>> NewWebhookNotifier(const config::WebhookConfig& cfg,
                                                     const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("webhook: no templates");
  std::string url = cfg.url;
  if (url.empty()) {
    auto f = ReadSecretFile(cfg.url_file);
    if (!f.ok()) return f.status().WithPrefix("webhook url_file");
    url = *f;
  }
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("webhook");
  return std::unique_ptr<Notifier>(
      new WebhookNotifier(cfg, deps, std::move(url), std::move(*client)));
}

}  // namespace alertd::notifiers
