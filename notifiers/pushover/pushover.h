// The Pushover integration, as Alertmanager 0.25's notify/pushover: POSTs to Pushover's fixed
// endpoint https://api.pushover.net/1/messages.json with every parameter in the query (Go's
// url.Values order: sorted) and an empty text/plain body: token, user (both templated), title
// (250 runes), message (1,024 runes, trimmed, "(no details)" when empty; HTML-escaped and
// html=1 with `html: true`), url (512 runes), url_title, priority (default 2, emergency,
// while firing, else 0), retry and expire in seconds, sound. Retried as Alertmanager's
// default Retrier (CheckHttpResponse). The token and user key are secrets and travel in the
// URL, which is never logged.
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

// `pushover_configs` entries; defaults are Alertmanager 0.25's (DefaultPushoverConfig).
struct PushoverConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "pushover"; read by notifiers/pushover/config.cc
  std::string_view kind() const override { return "pushover"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string user_key;                  // secret; required
  std::string token;                     // secret; required
  std::string title = R"({{ template "pushover.default.title" . }})";
  std::string message = R"({{ template "pushover.default.message" . }})";
  std::string url = R"({{ template "pushover.default.url" . }})";
  std::string url_title;
  std::string sound;
  std::string priority = R"({{ if eq .Status "firing" }}2{{ else }}0{{ end }})";
  Duration retry = std::chrono::minutes(1);
  Duration expire = std::chrono::hours(1);
  bool html = false;
};

Result<std::unique_ptr<Notifier>> NewNotifier(const PushoverConfig& cfg, const Deps& deps);

// Where Pushover's API is: fixed, as in Alertmanager.
inline constexpr std::string_view kPushoverApiUrl = "https://api.pushover.net/1/messages.json";

}  // namespace alertd::notifiers
