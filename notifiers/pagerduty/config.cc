// Reading and validating `pagerduty_configs` (Alertmanager's PagerdutyConfig, config/notifiers.go).
// Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/pagerduty/pagerduty.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

PagerdutyConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                 const config::GlobalConfig& g) {
  PagerdutyConfig p;
  p.http_config = g.http_config;
  MapReader m(r.ctx(), n, "pagerduty_config");
  m.Bool("send_resolved", &p.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) { r.ReadHTTPConfig(v, &p.http_config, "pagerduty_config http_config"); });
  m.String("service_key", &p.service_key);
  m.String("service_key_file", &p.service_key_file);
  m.String("routing_key", &p.routing_key);
  m.String("routing_key_file", &p.routing_key_file);
  m.String("url", &p.url);
  m.String("client", &p.client);
  m.String("client_url", &p.client_url);
  m.String("description", &p.description);
  m.String("severity", &p.severity);
  m.String("class", &p.class_);
  m.String("component", &p.component);
  m.String("group", &p.group);
  m.String("source", &p.source);
  m.Field("details", [&](const YAML::Node& v) {
    auto d = config::internal::AsStringMap(r.ctx(), v, "details");
    if (!d) return;
    // User details are merged over the defaults, as Alertmanager does.
    for (auto& [k, val] : *d) p.details[k] = val;
  });
  m.Field("images", [&](const YAML::Node& v) { r.ReadList(v, "images", [&](const YAML::Node& x) {
    PagerdutyImage im;
    MapReader im_m(r.ctx(), x, "pagerduty image");
    im_m.String("src", &im.src);
    im_m.String("alt", &im.alt);
    im_m.String("href", &im.href);
    im_m.Finish();
    p.images.push_back(im);
  }); });
  m.Field("links", [&](const YAML::Node& v) { r.ReadList(v, "links", [&](const YAML::Node& x) {
    PagerdutyLink l;
    MapReader lm(r.ctx(), x, "pagerduty link");
    lm.String("href", &l.href);
    lm.String("text", &l.text);
    lm.Finish();
    p.links.push_back(l);
  }); });
  m.Bool("send_acknowledged", &p.send_acknowledged);
  m.Finish();
  p.service_key_file = r.ResolvePath(p.service_key_file);
  p.routing_key_file = r.ResolvePath(p.routing_key_file);
  if (!m.ok()) return p;
  const bool has_routing = !p.routing_key.empty() || !p.routing_key_file.empty();
  const bool has_service = !p.service_key.empty() || !p.service_key_file.empty();
  if (!has_routing && !has_service) r.ctx().Error(n, "missing service or routing key in PagerDuty config");
  if (!p.routing_key.empty() && !p.routing_key_file.empty())
    r.ctx().Error(n, "at most one of routing_key & routing_key_file must be configured");
  if (!p.service_key.empty() && !p.service_key_file.empty())
    r.ctx().Error(n, "at most one of service_key & service_key_file must be configured");
  if (p.url.empty()) {
    p.url = has_routing ? g.pagerduty_url : "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
  }
  return p;
}

constexpr std::string_view kSecretKeys[] = {"routing_key", "service_key"};

}  // namespace

const config::NotifierKind PagerdutyConfig::kKind = {"pagerduty", kSecretKeys,
                                               &config::ReadAs<PagerdutyConfig, Read>};

}  // namespace alertd::notifiers
