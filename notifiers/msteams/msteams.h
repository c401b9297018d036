// Microsoft Teams, both ways Alertmanager posts to it (neither is in Alertmanager 0.25):
//   - `msteams_configs`: an Office 365 connector incoming webhook, as Alertmanager 0.27 to 0.33
//     post it (0.26's card plus `summary`): a MessageCard {"@context":
//     "http://schema.org/extensions","type":"MessageCard","title","summary","text",
//     "themeColor"}, red 8C1A1A while the group fires, green 2DC72D once resolved.
//   - `msteamsv2_configs`: a Power Automate / Workflows webhook, as Alertmanager 0.33 posts
//     it: {"type":"message","attachments":[one Adaptive Card 1.2: a heading TextBlock with the
//     title, colored Attention (firing) or Good (resolved), and a wrapped TextBlock with the
//     text; "msteams":{"width":"full"}]}. (0.28 to 0.32 spelled the heading's "weight" key
//     "weigth"; Teams ignores unknown keys, so 0.33's correct spelling is sent.)
// The webhook URL is a secret (`webhook_url`, or `webhook_url_file` read at every send, as
// Alertmanager reads it). Retried as Alertmanager's default Retrier (CheckHttpResponse).
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

// `msteams_configs` entries; defaults are Alertmanager's (DefaultMSTeamsConfig).
struct MsteamsConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "msteams"; read by notifiers/msteams/config.cc
  std::string_view kind() const override { return "msteams"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string webhook_url;               // secret; this or webhook_url_file
  std::string webhook_url_file;
  std::string title = R"({{ template "msteams.default.title" . }})";
  std::string summary = R"({{ template "msteams.default.summary" . }})";
  std::string text = R"({{ template "msteams.default.text" . }})";
};

// `msteamsv2_configs` entries; defaults are Alertmanager's (DefaultMSTeamsV2Config).
struct Msteamsv2Config final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "msteamsv2"; read by notifiers/msteams/config.cc
  std::string_view kind() const override { return "msteamsv2"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string webhook_url;               // secret; this or webhook_url_file
  std::string webhook_url_file;
  std::string title = R"({{ template "msteamsv2.default.title" . }})";
  std::string text = R"({{ template "msteamsv2.default.text" . }})";
};

Result<std::unique_ptr<Notifier>> NewNotifier(const MsteamsConfig& cfg, const Deps& deps);
Result<std::unique_ptr<Notifier>> NewNotifier(const Msteamsv2Config& cfg, const Deps& deps);

}  // namespace alertd::notifiers
