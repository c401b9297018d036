// The PagerDuty integration, as Alertmanager's notify/pagerduty (COMPAT.md section 5).
//
// Events API v2 (routing_key / routing_key_file): POST to `url` (default
// https://events.pagerduty.com/v2/enqueue)
//   {routing_key, dedup_key: sha256hex(group key), event_action: trigger|resolve|acknowledge,
//    payload:{summary (description, <= 1024 runes), source (default: client), severity
//    (default "error"), class, component, group, custom_details: details},
//    client, client_url, images, links}
// event_action is "resolve" only when every alert of the group is resolved (acknowledged
// alerts that still fire, Notification::acknowledged, count as firing). 429 and 5xx are
// retried, other 4xx are not.
//
// Events API v1 (service_key / service_key_file): {service_key, incident_key: the same hash,
// event_type: trigger|resolve|acknowledge, description (<= 1024 runes), client and client_url
// on trigger, details}; 403 and 5xx are retried.
//
// If the encoded event exceeds 512000 bytes, custom_details (v1: details) is replaced by
// {"error": "Custom details have been removed because the original event exceeds the maximum
// size of 512kB"}.
//
// Acknowledgements (EventKind::kAcknowledge) send event_action "acknowledge" with the same
// dedup_key; alertd always sends them to PagerDuty (the incident must stop escalating there
// too), whatever send_acknowledged says.
//
// Keys from *_file are read when the notifier is built. Thread-safe.
#pragma once

#include <memory>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `pagerduty_configs` entries. Defaults are Alertmanager's (notify/pagerduty and config/notifiers.go
// upstream) unless marked alertd.
struct PagerdutyImage {
  std::string src, alt, href;
};
struct PagerdutyLink {
  std::string href, text;
};

struct PagerdutyConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "pagerduty"; read by notifiers/pagerduty/config.cc
  std::string_view kind() const override { return "pagerduty"; }
  bool resolved() const override { return send_resolved; }
  bool acknowledged() const override { return true; }  // PagerDuty is always told (acknowledge)

  bool send_resolved = true;
  config::HTTPClientConfig http_config;
  std::string service_key;  // secret; Events API v1
  std::string service_key_file;
  std::string routing_key;  // secret; Events API v2
  std::string routing_key_file;
  std::string url;  // default global.pagerduty_url
  std::string client = R"({{ template "pagerduty.default.client" . }})";
  std::string client_url = R"({{ template "pagerduty.default.clientURL" . }})";
  std::string description = R"({{ template "pagerduty.default.description" .}})";
  std::string severity = "error";
  std::string class_;
  std::string component;
  std::string group;
  std::string source;  // default: client
  std::map<std::string, std::string> details = {
      {"firing", R"({{ template "pagerduty.default.instances" .Alerts.Firing }})"},
      {"resolved", R"({{ template "pagerduty.default.instances" .Alerts.Resolved }})"},
      {"num_firing", "{{ .Alerts.Firing | len }}"},
      {"num_resolved", "{{ .Alerts.Resolved | len }}"},
  };
  std::vector<PagerdutyImage> images;
  std::vector<PagerdutyLink> links;
  bool send_acknowledged = false;
};


Result<std::unique_ptr<Notifier>> NewNotifier(const PagerdutyConfig& cfg,
                                                       const Deps& deps);

// The JSON body for `n` with `key` as the routing (or service) key; for tests.
std::string PagerdutyPayload(const PagerdutyConfig& cfg, const Deps& deps,
                             const Notification& n, const std::string& key);

// Where Events API v1 (service_key) events go, whatever `url` says (as in Alertmanager 0.25).
inline constexpr std::string_view kPagerdutyV1Url =
    "https://events.pagerduty.com/generic/2010-04-15/create_event.json";

}  // namespace alertd::notifiers
