// The Discord integration, as Alertmanager 0.25's notify/discord: POSTs
// {"content":"","embeds":[{"title","description","color"}]} to the webhook URL, title and
// description rendered from `title` and `message` (0.25 cuts neither), color 0x992D22
// (10038562) while the group fires and 0x2ECC71 (3066993) once it is resolved. Retried as
// Alertmanager's default Retrier (CheckHttpResponse). `webhook_url` is a secret and never
// logged.
//
// Thread-safe (immutable after construction).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `discord_configs` entries; defaults are Alertmanager 0.25's (DefaultDiscordConfig).
struct DiscordConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "discord"; read by notifiers/discord/config.cc
  std::string_view kind() const override { return "discord"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string webhook_url;               // secret; required
  std::string title = R"({{ template "discord.default.title" . }})";
  std::string message = R"({{ template "discord.default.message" . }})";
};

Result<std::unique_ptr<Notifier>> NewNotifier(const DiscordConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
