// Reading and validating `slack_configs` (Alertmanager's SlackConfig, config/notifiers.go).
// Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/slack/slack.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

SlackConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                 const config::GlobalConfig& g) {
  SlackConfig s;
  MapReader m(r.ctx(), n, "slack_config");
  m.Bool("send_resolved", &s.send_resolved);
  s.http_config = g.http_config;
  m.Field("http_config", [&](const YAML::Node& v) { r.ReadHTTPConfig(v, &s.http_config, "slack_config http_config"); });
  m.String("api_url", &s.api_url);
  m.String("api_url_file", &s.api_url_file);
  m.String("channel", &s.channel);
  m.String("username", &s.username);
  m.String("color", &s.color);
  m.String("title", &s.title);
  m.String("title_link", &s.title_link);
  m.String("pretext", &s.pretext);
  m.String("text", &s.text);
  m.String("footer", &s.footer);
  m.String("fallback", &s.fallback);
  m.String("callback_id", &s.callback_id);
  m.String("icon_emoji", &s.icon_emoji);
  m.String("icon_url", &s.icon_url);
  m.String("image_url", &s.image_url);
  m.String("thumb_url", &s.thumb_url);
  m.Bool("short_fields", &s.short_fields);
  m.Bool("link_names", &s.link_names);
  m.StringList("mrkdwn_in", &s.mrkdwn_in);
  m.Bool("send_acknowledged", &s.send_acknowledged);
  m.Bool("ack_button", &s.ack_button);
  m.Field("fields", [&](const YAML::Node& v) { r.ReadList(v, "slack fields", [&](const YAML::Node& f) {
    SlackField sf;
    MapReader fm(r.ctx(), f, "slack field");
    fm.String("title", &sf.title);
    fm.String("value", &sf.value);
    fm.OptBool("short", &sf.short_);
    fm.Finish();
    if (fm.ok() && sf.title.empty()) r.ctx().Error(f, "missing title in Slack field configuration");
    if (fm.ok() && sf.value.empty()) r.ctx().Error(f, "missing value in Slack field configuration");
    s.fields.push_back(sf);
  }); });
  m.Field("actions", [&](const YAML::Node& v) { r.ReadList(v, "slack actions", [&](const YAML::Node& a) {
    SlackAction sa;
    MapReader am(r.ctx(), a, "slack action");
    am.String("type", &sa.type);
    am.String("text", &sa.text);
    am.String("url", &sa.url);
    am.String("style", &sa.style);
    am.String("name", &sa.name);
    am.String("value", &sa.value);
    am.Field("confirm", [&](const YAML::Node& cn) {
      SlackConfirmation conf;
      MapReader cm(r.ctx(), cn, "slack action confirm");
      cm.String("text", &conf.text);
      cm.String("title", &conf.title);
      cm.String("ok_text", &conf.ok_text);
      cm.String("dismiss_text", &conf.dismiss_text);
      cm.Finish();
      if (conf.text.empty()) r.ctx().Error(cn, "missing text in Slack confirmation configuration");
      sa.confirm = conf;
    });
    am.Finish();
    if (am.ok()) {
      if (sa.type.empty()) r.ctx().Error(a, "missing type in Slack action configuration");
      if (sa.text.empty()) r.ctx().Error(a, "missing text in Slack action configuration");
      if (sa.url.empty() && sa.name.empty())
        r.ctx().Error(a, "missing name or url in Slack action configuration");
    }
    s.actions.push_back(sa);
  }); });
  m.Finish();
  s.api_url_file = r.ResolvePath(s.api_url_file);
  if (!s.api_url.empty() && !s.api_url_file.empty())
    r.ctx().Error(n, "at most one of api_url & api_url_file must be configured");
  if (s.api_url.empty() && s.api_url_file.empty()) {
    s.api_url = g.slack_api_url;
    s.api_url_file = g.slack_api_url_file;
    if (s.api_url.empty() && s.api_url_file.empty() && m.ok())
      r.ctx().Error(n, "no global Slack API URL set either inline or in a file");
  }
  return s;
}

constexpr std::string_view kSecretKeys[] = {"api_url", "app_token"};

}  // namespace

const config::NotifierKind SlackConfig::kKind = {"slack", kSecretKeys,
                                               &config::ReadAs<SlackConfig, Read>};

}  // namespace alertd::notifiers
