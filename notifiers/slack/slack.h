// The Slack integration: POSTs the incoming-webhook JSON with one attachment, exactly as
// Alertmanager's notify/slack builds it (COMPAT.md section 5): {channel, username,
// icon_emoji, icon_url, link_names, attachments:[{title (<= 1024 runes), title_link, pretext,
// text, fallback, callback_id, fields, actions, image_url, thumb_url, footer, color,
// mrkdwn_in}]}, every text a template rendered against the notification. `api_url` (or the
// URL in `api_url_file`, read when the notifier is built) is a secret and never logged.
//
// A 2xx answer whose body is JSON with "ok": false, or plain text other than "ok", is a
// failure that is not retried (Slack's documented error answers); other statuses follow
// CheckHttpResponse.
//
// With send_acknowledged, an acknowledgement (EventKind::kAcknowledge) posts the same request
// shape with one attachment: title "Acknowledged by <who>: <rendered title>", text = the
// comment, color "#439FE0", the configured title_link.
//
// With ack_button, a notification with firing alerts also carries a top-level Block Kit
// `blocks: [{"type": "actions", "block_id": "alertd_ack", "elements": [{"type": "button",
// "action_id": "alertd_ack", "text": "Acknowledge", "value": GroupKeyHash(group key)}]}]`
// (notifier.h); Slack posts the click to the app's interactivity URL, which is alertd's
// POST /api/v1/integrations/slack.
//
// Thread-safe (immutable after construction).
#pragma once

#include <memory>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `slack_configs` entries. Defaults are Alertmanager's (notify/slack and config/notifiers.go
// upstream) unless marked alertd.
struct SlackConfirmation {
  std::string text, title, ok_text, dismiss_text;
};
struct SlackAction {
  std::string type, text, url, style, name, value;
  std::optional<SlackConfirmation> confirm;
};
struct SlackField {
  std::string title, value;
  std::optional<bool> short_;  // `short`; defaults to short_fields
};

struct SlackConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "slack"; read by notifiers/slack/config.cc
  std::string_view kind() const override { return "slack"; }
  bool resolved() const override { return send_resolved; }
  bool acknowledged() const override { return send_acknowledged; }

  bool send_resolved = false;
  config::HTTPClientConfig http_config;
  std::string api_url;  // secret; default global.slack_api_url
  std::string api_url_file;
  std::string channel;
  std::string username = R"({{ template "slack.default.username" . }})";
  std::string color = R"({{ if eq .Status "firing" }}danger{{ else }}good{{ end }})";
  std::string title = R"({{ template "slack.default.title" . }})";
  std::string title_link = R"({{ template "slack.default.titlelink" . }})";
  std::string pretext = R"({{ template "slack.default.pretext" . }})";
  std::string text = R"({{ template "slack.default.text" . }})";
  std::string footer = R"({{ template "slack.default.footer" . }})";
  std::string fallback = R"({{ template "slack.default.fallback" . }})";
  std::string callback_id = R"({{ template "slack.default.callbackid" . }})";
  std::string icon_emoji = R"({{ template "slack.default.iconemoji" . }})";
  std::string icon_url = R"({{ template "slack.default.iconurl" . }})";
  std::string image_url;
  std::string thumb_url;
  bool short_fields = false;
  std::vector<SlackField> fields;
  bool link_names = false;
  std::vector<std::string> mrkdwn_in = {"fallback", "pretext", "text"};
  std::vector<SlackAction> actions;
  bool send_acknowledged = false;  // alertd: also notify "acknowledged by X"
  // alertd: add an "Acknowledge" button (a Block Kit `actions` block) to notifications with
  // firing alerts; a click comes back to POST /api/v1/integrations/slack (needs
  // integrations.slack_signing_secret and a Slack app with interactivity pointing there).
  bool ack_button = false;
};


// The block_id and action_id of the Acknowledge button.
inline constexpr const char* kAckActionId = "alertd_ack";

Result<std::unique_ptr<Notifier>> NewNotifier(const SlackConfig& cfg,
                                                   const Deps& deps);

// The JSON body the Slack notifier sends for `n` (for tests and `alertd test`).
std::string SlackPayload(const SlackConfig& cfg, const Deps& deps, const Notification& n);

}  // namespace alertd::notifiers
