// Reading and validating `webhook_configs` (Alertmanager's WebhookConfig, config/notifiers.go).
// Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/webhook/webhook.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

WebhookConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                 const config::GlobalConfig& g) {
  WebhookConfig w;
  w.http_config = g.http_config;
  MapReader m(r.ctx(), n, "webhook_config");
  m.Bool("send_resolved", &w.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) { r.ReadHTTPConfig(v, &w.http_config, "webhook_config http_config"); });
  m.String("url", &w.url);
  m.String("url_file", &w.url_file);
  m.Field("max_alerts", [&](const YAML::Node& v) {
    auto i = config::internal::AsInt(r.ctx(), v, "max_alerts");
    if (i && *i < 0) r.ctx().Error(v, "max_alerts must not be negative");
    else if (i) w.max_alerts = static_cast<uint64_t>(*i);
  });
  m.Duration("timeout", &w.timeout);
  m.Bool("send_acknowledged", &w.send_acknowledged);
  m.Finish();
  w.url_file = r.ResolvePath(w.url_file);
  if (!m.ok()) return w;
  if (w.url.empty() && w.url_file.empty()) r.ctx().Error(n, "one of url or url_file must be configured");
  if (!w.url.empty() && !w.url_file.empty()) r.ctx().Error(n, "at most one of url & url_file must be configured");
  if (!w.url.empty() && w.url.find("://") == std::string::npos)
    r.ctx().Error(n["url"], "unsupported scheme \"\" for URL");
  return w;
}

constexpr std::string_view kSecretKeys[] = {"url"};

}  // namespace

const config::NotifierKind WebhookConfig::kKind = {"webhook", kSecretKeys,
                                               &config::ReadAs<WebhookConfig, Read>};

}  // namespace alertd::notifiers
