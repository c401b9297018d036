// Reading and validating `wechat_configs` (Alertmanager 0.25's WechatConfig). Compiled into
// config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/wechat/wechat.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

WechatConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                  const config::GlobalConfig& g) {
  WechatConfig w;
  w.http_config = g.http_config;
  MapReader m(r.ctx(), n, "wechat_config");
  m.Bool("send_resolved", &w.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &w.http_config, "wechat_config http_config");
  });
  m.String("api_secret", &w.api_secret);
  m.String("corp_id", &w.corp_id);
  m.String("message", &w.message);
  m.String("api_url", &w.api_url);
  m.String("to_user", &w.to_user);
  m.String("to_party", &w.to_party);
  m.String("to_tag", &w.to_tag);
  m.String("agent_id", &w.agent_id);
  m.String("message_type", &w.message_type);
  m.Finish();
  if (!m.ok()) return w;
  if (w.message_type.empty()) w.message_type = "text";
  if (w.message_type != "text" && w.message_type != "markdown") {
    r.ctx().Error(n["message_type"], "weChat message type \"" + w.message_type +
                                         "\" does not match valid options ^(text|markdown)$");
  }
  if (w.api_url.empty()) w.api_url = g.wechat_api_url;
  if (w.api_url.empty()) r.ctx().Error(n, "no global Wechat URL set");
  else if (w.api_url.find("://") == std::string::npos) {
    r.ctx().Error(n["api_url"] ? n["api_url"] : n, "wechat_config: api_url is not a URL");
  }
  if (w.api_secret.empty()) w.api_secret = g.wechat_api_secret;
  if (w.api_secret.empty()) r.ctx().Error(n, "no global Wechat ApiSecret set");
  if (w.corp_id.empty()) w.corp_id = g.wechat_api_corp_id;
  if (w.corp_id.empty()) r.ctx().Error(n, "no global Wechat CorpID set");
  return w;
}

constexpr std::string_view kSecretKeys[] = {"api_secret"};

}  // namespace

const config::NotifierKind WechatConfig::kKind = {"wechat", kSecretKeys,
                                               &config::ReadAs<WechatConfig, Read>};

}  // namespace alertd::notifiers
