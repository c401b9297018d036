// The one list of integrations alertd implements. Each lives in its own folder
// notifiers/<name>/: <name>.h (its config type T, with T::kKind, and NewNotifier(const T&,
// const Deps&)), config.cc (its YAML reading, validation and defaults; compiled into config/),
// <name>.cc (its payload and delivery). config/ reads receivers with NotifierKinds(), built
// from this list; registry.cc builds notifiers from it. Adding an integration adds its
// #include and its type here.
//
// The order is Alertmanager's (config/notifiers order in its receiver struct): it is the order
// a receiver's integrations are built and keyed in.
#pragma once

#include "notifiers/discord/discord.h"
#include "notifiers/email/email.h"
#include "notifiers/msteams/msteams.h"
#include "notifiers/opsgenie/opsgenie.h"
#include "notifiers/pagerduty/pagerduty.h"
#include "notifiers/pushover/pushover.h"
#include "notifiers/slack/slack.h"
#include "notifiers/sns/sns.h"
#include "notifiers/telegram/telegram.h"
#include "notifiers/victorops/victorops.h"
#include "notifiers/webex/webex.h"
#include "notifiers/wechat/wechat.h"
#include "notifiers/webhook/webhook.h"

namespace alertd::notifiers {

template <typename... T>
struct NotifierList {};

using AllNotifiers = NotifierList<SlackConfig, EmailConfig, WebhookConfig, PagerdutyConfig,
                                  TelegramConfig, DiscordConfig, WebexConfig, OpsgenieConfig,
                                  VictorOpsConfig, MsteamsConfig, Msteamsv2Config, WechatConfig,
                                  PushoverConfig, SnsConfig>;

}  // namespace alertd::notifiers
