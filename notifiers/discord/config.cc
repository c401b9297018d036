// Reading and validating `discord_configs` (Alertmanager 0.25's DiscordConfig). Compiled into
// config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/discord/discord.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

DiscordConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                   const config::GlobalConfig& g) {
  DiscordConfig d;
  d.http_config = g.http_config;
  MapReader m(r.ctx(), n, "discord_config");
  m.Bool("send_resolved", &d.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &d.http_config, "discord_config http_config");
  });
  m.String("webhook_url", &d.webhook_url);
  m.String("title", &d.title);
  m.String("message", &d.message);
  m.Finish();
  if (!m.ok()) return d;
  if (d.webhook_url.empty()) {
    r.ctx().Error(n, "no discord webhook URL provided");
  } else if (d.webhook_url.find("://") == std::string::npos) {
    // Not quoted: the URL is a secret.
    r.ctx().Error(n["webhook_url"], "discord_config: webhook_url is not a URL");
  }
  return d;
}

constexpr std::string_view kSecretKeys[] = {"webhook_url"};

}  // namespace

const config::NotifierKind DiscordConfig::kKind = {"discord", kSecretKeys,
                                               &config::ReadAs<DiscordConfig, Read>};

}  // namespace alertd::notifiers
