// The VictorOps (Splunk On-Call) integration, as Alertmanager 0.25's notify/victorops: POSTs
//   {"entity_display_name","entity_id": sha256hex(group key),"message_type","monitoring_tool",
//    "state_message" (cut to 20,480 runes), <custom_fields>...}
// (one JSON object of strings, keys sorted) to <api_url><api_key>/<routing_key> (the REST
// endpoint of VictorOps' generic integration). message_type is the rendered `message_type`
// while the group fires, CRITICAL when that is not INFO, WARNING or CRITICAL, and RECOVERY
// once the group is resolved. The API key comes inline or from api_key_file, read (and
// trimmed) at every notification; it is in the URL, so neither is ever logged. Retried as
// alertd's other HTTP integrations (CheckHttpResponse: 5xx and transport errors).
//
// Thread-safe (immutable after construction).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `victorops_configs` entries; defaults are Alertmanager 0.25's (DefaultVictorOpsConfig and the
// global defaulting in config.go).
struct VictorOpsConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "victorops"; read by notifiers/victorops/config.cc
  std::string_view kind() const override { return "victorops"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  // Exactly one of the two is set after loading (default: the global victorops_api_key(_file)).
  std::string api_key;  // secret
  std::string api_key_file;
  std::string api_url;      // default global.victorops_api_url; "/" ends its path when sent
  std::string routing_key;  // required; a template
  std::string message_type = "CRITICAL";
  std::string state_message = R"({{ template "victorops.default.state_message" . }})";
  std::string entity_display_name = R"({{ template "victorops.default.entity_display_name" . }})";
  std::string monitoring_tool = R"({{ template "victorops.default.monitoring_tool" . }})";
  std::map<std::string, std::string> custom_fields;  // templates; no fixed field's name
};

Result<std::unique_ptr<Notifier>> NewNotifier(const VictorOpsConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
