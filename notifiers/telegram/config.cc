// Reading and validating `telegram_configs` (Alertmanager 0.25's TelegramConfig). Compiled into
// config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/telegram/telegram.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

TelegramConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                    const config::GlobalConfig& g) {
  TelegramConfig t;
  t.http_config = g.http_config;
  t.api_url = g.telegram_api_url;
  MapReader m(r.ctx(), n, "telegram_config");
  m.Bool("send_resolved", &t.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &t.http_config, "telegram_config http_config");
  });
  m.String("api_url", &t.api_url);
  m.String("bot_token", &t.bot_token);
  m.Field("chat_id", [&](const YAML::Node& v) {
    if (auto i = config::internal::AsInt(r.ctx(), v, "chat_id")) t.chat_id = *i;
  });
  m.String("message", &t.message);
  m.Bool("disable_notifications", &t.disable_notifications);
  m.String("parse_mode", &t.parse_mode);
  m.Finish();
  if (!m.ok()) return t;
  if (t.bot_token.empty()) r.ctx().Error(n, "missing bot_token on telegram_config");
  if (t.chat_id == 0) r.ctx().Error(n, "missing chat_id on telegram_config");
  if (!t.parse_mode.empty() && t.parse_mode != "Markdown" && t.parse_mode != "MarkdownV2" &&
      t.parse_mode != "HTML") {
    r.ctx().Error(n["parse_mode"],
                  "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or "
                  "empty string");
  }
  if (t.api_url.find("://") == std::string::npos) {
    r.ctx().Error(n["api_url"] ? n["api_url"] : n, "telegram_config: api_url is not a URL");
  }
  return t;
}

constexpr std::string_view kSecretKeys[] = {"bot_token"};

}  // namespace

const config::NotifierKind TelegramConfig::kKind = {"telegram", kSecretKeys,
                                               &config::ReadAs<TelegramConfig, Read>};

}  // namespace alertd::notifiers
