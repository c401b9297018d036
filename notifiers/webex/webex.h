// The Webex integration, as Alertmanager 0.25's notify/webex: POSTs {"markdown","roomId"} to
// `api_url` (global webex_api_url, https://webexapis.com/v1/messages), the message rendered
// from `message` and cut to 7,439 bytes (Webex's limit). The bot's token comes from
// `http_config.authorization` (required, as in Alertmanager). Retried as Alertmanager's
// default Retrier (CheckHttpResponse).
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

// `webex_configs` entries; defaults are Alertmanager 0.25's (DefaultWebexConfig).
struct WebexConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "webex"; read by notifiers/webex/config.cc
  std::string_view kind() const override { return "webex"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // its authorization is required
  std::string api_url;                   // default global.webex_api_url
  std::string message = R"({{ template "webex.default.message" . }})";
  std::string room_id;  // required
};

Result<std::unique_ptr<Notifier>> NewNotifier(const WebexConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
