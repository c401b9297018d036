// The WeChat Work integration, as Alertmanager 0.25's notify/wechat: an access token is fetched
// with GET <api_url>gettoken?corpid=...&corpsecret=... (both templated) and kept for two
// hours; each notification is POST <api_url>message/send?access_token=<token> with
// {"text":{"content"},"touser","toparty","totag","agentid","safe":"0","msgtype","markdown":
// {"content"}} (the message in `text` or, with message_type markdown, in `markdown`; empty
// recipients left out). A transport error or a status other than 200 is retried.
//
// Differs from Alertmanager 0.25 on purpose: Alertmanager reads the answer's `code` and `error`
// fields, which WeChat never sends, so it takes every refusal for a success. alertd reads
// WeChat's `errcode` and `errmsg`: 0 is delivered; an expired, invalid or missing access token
// (42001, 40014, 41001) drops the cached token and is retried with a new one; any other code
// fails for good with WeChat's message.
//
// api_secret and the access token are secrets: never logged (URLs are left out of errors).
//
// Thread-safe: the cached token is guarded by a mutex; the rest is immutable.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `wechat_configs` entries; defaults are Alertmanager 0.25's (DefaultWechatConfig).
struct WechatConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "wechat"; read by notifiers/wechat/config.cc
  std::string_view kind() const override { return "wechat"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = false;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string api_url;                   // default global.wechat_api_url; ends with "/"
  std::string api_secret;                // secret; default global.wechat_api_secret
  std::string corp_id;                   // default global.wechat_api_corp_id
  std::string message = R"({{ template "wechat.default.message" . }})";
  std::string to_user = R"({{ template "wechat.default.to_user" . }})";
  std::string to_party = R"({{ template "wechat.default.to_party" . }})";
  std::string to_tag = R"({{ template "wechat.default.to_tag" . }})";
  std::string agent_id = R"({{ template "wechat.default.agent_id" . }})";
  std::string message_type = "text";  // text or markdown
};

Result<std::unique_ptr<Notifier>> NewNotifier(const WechatConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
