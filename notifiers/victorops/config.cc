// Reading and validating `victorops_configs` (Alertmanager 0.25's VictorOpsConfig and its
// defaulting from the global section). Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/victorops/victorops.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

// The payload's fixed fields (and VictorOps' own), which custom_fields may not name.
constexpr std::string_view kReservedFields[] = {
    "routing_key",     "message_type", "state_message", "entity_display_name",
    "monitoring_tool", "entity_id",    "entity_state"};

VictorOpsConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                     const config::GlobalConfig& g) {
  VictorOpsConfig v;
  v.http_config = g.http_config;
  v.api_url = g.victorops_api_url;
  MapReader m(r.ctx(), n, "victorops_config");
  m.Bool("send_resolved", &v.send_resolved);
  m.Field("http_config", [&](const YAML::Node& x) {
    r.ReadHTTPConfig(x, &v.http_config, "victorops_config http_config");
  });
  m.String("api_key", &v.api_key);
  m.String("api_key_file", &v.api_key_file);
  m.String("api_url", &v.api_url);
  m.String("routing_key", &v.routing_key);
  m.String("message_type", &v.message_type);
  m.String("state_message", &v.state_message);
  m.String("entity_display_name", &v.entity_display_name);
  m.String("monitoring_tool", &v.monitoring_tool);
  m.StringMap("custom_fields", &v.custom_fields);
  m.Finish();
  v.api_key_file = r.ResolvePath(v.api_key_file);
  if (!m.ok()) return v;
  if (v.routing_key.empty()) {
    r.ctx().Error(n, "missing Routing key in VictorOps config");
    return v;
  }
  if (!v.api_key.empty() && !v.api_key_file.empty()) {
    r.ctx().Error(n, "at most one of api_key & api_key_file must be configured");
    return v;
  }
  for (std::string_view f : kReservedFields) {
    if (v.custom_fields.count(std::string(f)) > 0) {
      r.ctx().Error(n["custom_fields"],
                    "victorOps config contains custom field " + std::string(f) +
                        " which cannot be used as it conflicts with the fixed/static fields");
      return v;
    }
  }
  if (v.api_key.empty() && v.api_key_file.empty()) {
    if (g.victorops_api_key.empty() && g.victorops_api_key_file.empty()) {
      r.ctx().Error(n, "no global VictorOps API Key set");
    }
    v.api_key = g.victorops_api_key;
    v.api_key_file = g.victorops_api_key_file;
  }
  if (v.api_url.find("://") == std::string::npos) {
    r.ctx().Error(n["api_url"] ? n["api_url"] : n, "victorops_config: api_url is not a URL");
  }
  return v;
}

constexpr std::string_view kSecretKeys[] = {"api_key"};

}  // namespace

const config::NotifierKind VictorOpsConfig::kKind = {"victorops", kSecretKeys,
                                               &config::ReadAs<VictorOpsConfig, Read>};

}  // namespace alertd::notifiers
