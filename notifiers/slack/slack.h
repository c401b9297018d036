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
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// The block_id and action_id of the Acknowledge button.
inline constexpr const char* kAckActionId = "alertd_ack";

Result<std::unique_ptr<Notifier>> NewSlackNotifier(const config::SlackConfig& cfg,
                                                   const Deps& deps);

// The JSON body the Slack notifier sends for `n` (for tests and `alertd test`).
std::string SlackPayload(const config::SlackConfig& cfg, const Deps& deps, const Notification& n);

}  // namespace alertd::notifiers
