// The Telegram integration, as Alertmanager 0.25's notify/telegram (Bot API through telebot):
// POSTs {"chat_id","disable_notification","disable_web_page_preview":"true","parse_mode",
// "text"} (every value a string, keys sorted) to `<api_url>/bot<bot_token>/sendMessage`. The
// message is rendered with HTML escaping when parse_mode is HTML (Alertmanager's TmplHTML),
// as plain text otherwise, and cut to 4,096 runes. The Bot API answers {"ok":true,...}; any
// other answer (a non-JSON body, "ok":false, a transport error) is a failure that is retried,
// as Alertmanager retries every telebot error. The bot token is a secret, and the request URL
// holds it: neither is ever logged.
//
// Thread-safe (immutable after construction).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `telegram_configs` entries; defaults are Alertmanager 0.25's (DefaultTelegramConfig).
struct TelegramConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "telegram"; read by notifiers/telegram/config.cc
  std::string_view kind() const override { return "telegram"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string api_url;                   // default global.telegram_api_url
  std::string bot_token;                 // secret; required
  int64_t chat_id = 0;                   // required
  std::string message = R"({{ template "telegram.default.message" . }})";
  bool disable_notifications = false;
  std::string parse_mode = "HTML";  // "", Markdown, MarkdownV2 or HTML
};

Result<std::unique_ptr<Notifier>> NewNotifier(const TelegramConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
