// Reading and validating `opsgenie_configs` (Alertmanager 0.25's OpsGenieConfig and its
// defaulting from the global section). Compiled into config/ (see notifiers/integrations.h).
#include <algorithm>
#include <cctype>

#include "config/yaml_reader.h"
#include "notifiers/opsgenie/opsgenie.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

// Alertmanager's opsgenieValidTypesRe, matched against the lower-cased type.
constexpr std::string_view kValidTypes[] = {"team", "teams", "user", "escalation", "schedule"};
constexpr std::string_view kValidTypesRe = "^(team|teams|user|escalation|schedule)$";

// Go's %v of the responder struct, as Alertmanager's errors print it.
std::string Describe(const OpsgenieResponder& r, std::string_view type) {
  return "{" + r.id + " " + r.name + " " + r.username + " " + std::string(type) + "}";
}

OpsgenieResponder ReadResponder(const config::internal::NotifierReader& r, const YAML::Node& n) {
  OpsgenieResponder out;
  MapReader m(r.ctx(), n, "opsgenie_config responder");
  m.String("id", &out.id);
  m.String("name", &out.name);
  m.String("username", &out.username);
  m.String("type", &out.type);
  m.Finish();
  if (!m.ok()) return out;
  if (out.id.empty() && out.username.empty() && out.name.empty()) {
    r.ctx().Error(n, "opsGenieConfig responder " + Describe(out, out.type) +
                         " has to have at least one of id, username or name specified");
    return out;
  }
  // A templated type is checked when the notifier is built (config/ has no template parser).
  if (out.type.find("{{") != std::string::npos) return out;
  // Alertmanager checks the lower-cased type but sends the type as written.
  std::string lower = out.type;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::find(std::begin(kValidTypes), std::end(kValidTypes), lower) == std::end(kValidTypes)) {
    r.ctx().Error(n["type"] ? n["type"] : n, "opsGenieConfig responder " + Describe(out, lower) +
                                                 " type does not match valid options " +
                                                 std::string(kValidTypesRe));
  }
  return out;
}

OpsgenieConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                    const config::GlobalConfig& g) {
  OpsgenieConfig o;
  o.http_config = g.http_config;
  o.api_url = g.opsgenie_api_url;
  MapReader m(r.ctx(), n, "opsgenie_config");
  m.Bool("send_resolved", &o.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &o.http_config, "opsgenie_config http_config");
  });
  m.String("api_key", &o.api_key);
  m.String("api_key_file", &o.api_key_file);
  m.String("api_url", &o.api_url);
  m.String("message", &o.message);
  m.String("description", &o.description);
  m.String("source", &o.source);
  m.StringMap("details", &o.details);
  m.String("entity", &o.entity);
  m.Field("responders", [&](const YAML::Node& v) {
    r.ReadList(v, "opsgenie_config responders",
               [&](const YAML::Node& x) { o.responders.push_back(ReadResponder(r, x)); });
  });
  m.String("actions", &o.actions);
  m.String("tags", &o.tags);
  m.String("note", &o.note);
  m.String("priority", &o.priority);
  m.Bool("update_alerts", &o.update_alerts);
  m.Finish();
  o.api_key_file = r.ResolvePath(o.api_key_file);
  if (!m.ok()) return o;
  if (!o.api_key.empty() && !o.api_key_file.empty()) {
    r.ctx().Error(n, "at most one of api_key & api_key_file must be configured");
  }
  if (o.api_key.empty() && o.api_key_file.empty()) {
    if (g.opsgenie_api_key.empty() && g.opsgenie_api_key_file.empty()) {
      r.ctx().Error(n, "no global OpsGenie API Key set either inline or in a file");
    }
    o.api_key = g.opsgenie_api_key;
    o.api_key_file = g.opsgenie_api_key_file;
  }
  if (o.api_url.find("://") == std::string::npos) {
    r.ctx().Error(n["api_url"] ? n["api_url"] : n, "opsgenie_config: api_url is not a URL");
  }
  return o;
}

constexpr std::string_view kSecretKeys[] = {"api_key"};

}  // namespace

const config::NotifierKind OpsgenieConfig::kKind = {"opsgenie", kSecretKeys,
                                               &config::ReadAs<OpsgenieConfig, Read>};

}  // namespace alertd::notifiers
