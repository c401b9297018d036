// The Opsgenie integration, as Alertmanager 0.25's notify/opsgenie (Alert API v2).
//
// While the group fires: POST <api_url>v2/alerts
//   {"alias": sha256hex(group key), "message" (cut to 130 runes), "description", "details":
//    the common labels with the rendered `details` over them, "source", "responders",
//    "tags", "note", "priority", "entity", "actions"}
// (empty fields left out but alias, message, details and source). `tags` and `actions` are
// rendered and split at commas, empty items dropped. A responder whose four fields all render
// empty is dropped; one of type "teams" becomes one {"name","type":"team"} per
// comma-separated name. With update_alerts, two more requests follow: PUT
// v2/alerts/<alias>/message and PUT v2/alerts/<alias>/description (?identifierType=alias),
// so an alert Opsgenie already has (the create is then ignored) shows the new text.
// Once the group is resolved: POST v2/alerts/<alias>/close?identifierType=alias {"source"}.
//
// Every request carries "Authorization: GenieKey <api_key>", the key rendered as a template
// (as Alertmanager does); an api_key_file is read at every notification. The requests go out
// one after the other and the first failure ends the attempt: 5xx, 429 and transport errors
// are retried, other answers are final (Alertmanager 0.25's Retrier with 429). The key is a
// secret and never logged.
//
// Thread-safe (immutable after construction).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// One `responders` entry: at least one of id, name and username; type is team, teams, user,
// escalation or schedule (any case), or a template. Every field is a template.
struct OpsgenieResponder {
  std::string id;
  std::string name;
  std::string username;
  std::string type;
};

// `opsgenie_configs` entries; defaults are Alertmanager 0.25's (DefaultOpsGenieConfig and the
// global defaulting in config.go).
struct OpsgenieConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "opsgenie"; read by notifiers/opsgenie/config.cc
  std::string_view kind() const override { return "opsgenie"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  // Exactly one of the two is set after loading (default: the global opsgenie_api_key(_file)).
  std::string api_key;  // secret; a template
  std::string api_key_file;
  std::string api_url;  // default global.opsgenie_api_url; "/" ends its path when sent
  std::string message = R"({{ template "opsgenie.default.message" . }})";
  std::string description = R"({{ template "opsgenie.default.description" . }})";
  std::string source = R"({{ template "opsgenie.default.source" . }})";
  std::map<std::string, std::string> details;
  std::string entity;
  std::vector<OpsgenieResponder> responders;
  std::string actions;  // comma-separated after rendering
  std::string tags;     // comma-separated after rendering
  std::string note;
  std::string priority;  // P1 to P5 for Opsgenie; not checked, as in Alertmanager
  bool update_alerts = false;
};

// Fails when the templates are missing, a responder's templated type does not parse
// (Alertmanager refuses such a config) or the HTTP client cannot be built.
Result<std::unique_ptr<Notifier>> NewNotifier(const OpsgenieConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
