// Reading and validating `pushover_configs` (Alertmanager 0.25's PushoverConfig). Compiled
// into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/pushover/pushover.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

PushoverConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                    const config::GlobalConfig& g) {
  PushoverConfig p;
  p.http_config = g.http_config;
  MapReader m(r.ctx(), n, "pushover_config");
  m.Bool("send_resolved", &p.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &p.http_config, "pushover_config http_config");
  });
  m.String("user_key", &p.user_key);
  m.String("token", &p.token);
  m.String("title", &p.title);
  m.String("message", &p.message);
  m.String("url", &p.url);
  m.String("url_title", &p.url_title);
  m.String("sound", &p.sound);
  m.String("priority", &p.priority);
  m.Duration("retry", &p.retry);
  m.Duration("expire", &p.expire);
  m.Bool("html", &p.html);
  m.Finish();
  if (!m.ok()) return p;
  if (p.user_key.empty()) r.ctx().Error(n, "missing user key in Pushover config");
  if (p.token.empty()) r.ctx().Error(n, "missing token in Pushover config");
  return p;
}

constexpr std::string_view kSecretKeys[] = {"user_key", "token"};

}  // namespace

const config::NotifierKind PushoverConfig::kKind = {"pushover", kSecretKeys,
                                               &config::ReadAs<PushoverConfig, Read>};

}  // namespace alertd::notifiers
