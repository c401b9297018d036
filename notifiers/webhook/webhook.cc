#include "notifiers/webhook/webhook.h"

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonObject;
using internal::AppendJsonString;

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(const WebhookConfig& cfg, const Deps& deps, std::string url,
                  std::unique_ptr<HttpClient> client)
      : cfg_(cfg),
        deps_(deps),
        url_(std::move(url)),
        client_(std::move(client)),
        fields_(deps.templates),
        url_is_template_(url_.find("{{") != std::string::npos) {
    fields_.Add(url_);
  }

  std::string_view integration() const override { return "webhook"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return cfg_.send_acknowledged; }

  NotifyResult Notify(const Notification& n) override {
    NotifyResult out;
    std::string url = url_;
    if (url_is_template_) {
      // The template data is only built when the URL needs it: for the usual constant URL it
      // was a fifth of the cost of a notification.
      const auto data = internal::MakeTemplateData(n, n.alerts);
      internal::Renderer render(deps_, data, &fields_);
      url = render(url_);
      if (render.errors() > 0) {
        // Never echo the URL: it may hold a token.
        out.status = Status::InvalidArgument("failed to template webhook URL: " +
                                             render.first_error().message());
        return out;
      }
    }
    if (url.empty()) {
      out.status = Status::InvalidArgument("webhook URL is empty after templating");
      return out;
    }
    HttpRequest req;
    req.url = std::move(url);
    req.content_type = "application/json";
    req.body = WebhookPayload(n, cfg_.max_alerts);
    // Alertmanager 0.28+'s `timeout`: 0 bounds the attempt by the flush deadline alone.
    req.timeout = internal::AttemptTimeout(n, cfg_.timeout);
    return CheckHttpResponse(client_->Do(req));
  }

 private:
  const WebhookConfig cfg_;
  const Deps deps_;
  const std::string url_;  // secret: never logged
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // the templated URL, compiled once
  const bool url_is_template_;
};

}  // namespace

std::string WebhookPayload(const Notification& n, uint64_t max_alerts) {
  std::span<const AlertPtr> alerts(n.alerts);
  // Acknowledged firing alerts are left out of the list: counted as truncated.
  uint64_t truncated = n.acknowledged.size();
  if (max_alerts != 0 && alerts.size() > max_alerts) {
    truncated += alerts.size() - max_alerts;
    alerts = alerts.first(max_alerts);
  }
  const auto d = internal::MakeTemplateData(n, alerts);
  // Keys in Alertmanager's order (template.Data's fields, then webhook.Message's), written
  // straight into the body; strings escaped as Go's json.Encoder escapes them.
  std::string out;
  size_t estimate = 512;
  for (const auto& a : d.alerts) {
    estimate += 160 + a.generator_url.size();
    for (const auto& [k, v] : a.labels) estimate += k.size() + v.size() + 6;
    for (const auto& [k, v] : a.annotations) estimate += k.size() + v.size() + 6;
  }
  out.reserve(estimate);
  out.append("{\"receiver\":");
  AppendJsonString(&out, d.receiver);
  out.append(",\"status\":");
  AppendJsonString(&out, d.status);
  out.append(",\"alerts\":[");
  for (size_t i = 0; i < d.alerts.size(); ++i) {
    const auto& a = d.alerts[i];
    if (i > 0) out.push_back(',');
    out.append("{\"status\":");
    AppendJsonString(&out, a.status);
    out.append(",\"labels\":");
    AppendJsonObject(&out, a.labels);
    out.append(",\"annotations\":");
    AppendJsonObject(&out, a.annotations);
    out.append(",\"startsAt\":");
    AppendJsonString(&out, FormatRFC3339(a.starts_at));
    out.append(",\"endsAt\":");
    AppendJsonString(&out, FormatRFC3339(a.ends_at));
    out.append(",\"generatorURL\":");
    AppendJsonString(&out, a.generator_url);
    out.append(",\"fingerprint\":");
    AppendJsonString(&out, a.fingerprint);
    out.push_back('}');
  }
  // Alertmanager 0.32+ sends the reason; older receivers ignore unknown keys.
  out.append("],\"notification_reason\":");
  AppendJsonString(&out, n.notification_reason.empty() ? "unknown" : n.notification_reason);
  out.append(",\"groupLabels\":");
  AppendJsonObject(&out, d.group_labels);
  out.append(",\"commonLabels\":");
  AppendJsonObject(&out, d.common_labels);
  out.append(",\"commonAnnotations\":");
  AppendJsonObject(&out, d.common_annotations);
  out.append(",\"externalURL\":");
  AppendJsonString(&out, d.external_url);
  out.append(",\"version\":\"4\",\"groupKey\":");
  AppendJsonString(&out, n.group_key);
  out.append(",\"truncatedAlerts\":");
  out.append(std::to_string(truncated));
  if (n.kind == EventKind::kAcknowledge) {
    out.append(",\"acknowledgedBy\":");
    AppendJsonString(&out, n.acknowledged_by);
    out.append(",\"ackComment\":");
    AppendJsonString(&out, n.ack_comment);
  }
  out.append("}\n");
  return out;
}

Result<std::unique_ptr<Notifier>> NewNotifier(const WebhookConfig& cfg,
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
