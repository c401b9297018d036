// Reading and validating `webex_configs` (Alertmanager 0.25's WebexConfig). Compiled into
// config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/webex/webex.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

WebexConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                 const config::GlobalConfig& g) {
  WebexConfig w;
  w.http_config = g.http_config;
  w.api_url = g.webex_api_url;
  bool own_authorization = false;
  MapReader m(r.ctx(), n, "webex_config");
  m.Bool("send_resolved", &w.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    // Alertmanager asks for the authorization in the receiver's own http_config, not the
    // global one.
    config::HTTPClientConfig own;
    r.ReadHTTPConfig(v, &own, "webex_config http_config");
    own_authorization = own.authorization.has_value();
    w.http_config = std::move(own);
  });
  m.String("api_url", &w.api_url);
  m.String("message", &w.message);
  m.String("room_id", &w.room_id);
  m.Finish();
  if (!m.ok()) return w;
  if (w.room_id.empty()) r.ctx().Error(n, "missing room_id on webex_config");
  if (!own_authorization) r.ctx().Error(n, "missing webex_configs.http_config.authorization");
  if (w.api_url.find("://") == std::string::npos) {
    r.ctx().Error(n["api_url"] ? n["api_url"] : n, "webex_config: api_url is not a URL");
  }
  return w;
}

}  // namespace

const config::NotifierKind WebexConfig::kKind = {"webex", {},
                                               &config::ReadAs<WebexConfig, Read>};

}  // namespace alertd::notifiers
