// Reading and validating `msteams_configs` and `msteamsv2_configs` (Alertmanager's
// MSTeamsConfig and MSTeamsV2Config). Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/msteams/msteams.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

// The keys both versions share; `what` is "msteams_config" or "msteamsv2_config".
template <typename T>
void ReadCommon(const config::internal::NotifierReader& r, MapReader& m, T* t,
                const std::string& what) {
  m.Bool("send_resolved", &t->send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &t->http_config, what + " http_config");
  });
  m.String("webhook_url", &t->webhook_url);
  m.String("webhook_url_file", &t->webhook_url_file);
  m.String("title", &t->title);
  m.String("text", &t->text);
}

template <typename T>
void Validate(const config::internal::NotifierReader& r, const YAML::Node& n, T* t,
              const std::string& what) {
  t->webhook_url_file = r.ResolvePath(t->webhook_url_file);
  if (t->webhook_url.empty() && t->webhook_url_file.empty()) {
    r.ctx().Error(n, "one of webhook_url or webhook_url_file must be configured");
  } else if (!t->webhook_url.empty() && !t->webhook_url_file.empty()) {
    r.ctx().Error(n, "at most one of webhook_url & webhook_url_file must be configured");
  } else if (!t->webhook_url.empty() && t->webhook_url.find("://") == std::string::npos) {
    r.ctx().Error(n["webhook_url"], what + ": webhook_url is not a URL");  // not quoted: secret
  }
}

constexpr std::string_view kSecretKeys[] = {"webhook_url"};

}  // namespace

const config::NotifierKind MsteamsConfig::kKind = {
    "msteams", kSecretKeys,
    [](const config::internal::NotifierReader& r, const YAML::Node& n,
       const config::GlobalConfig& g) -> std::shared_ptr<const config::NotifierConfig> {
      auto t = std::make_shared<MsteamsConfig>();
      t->http_config = g.http_config;
      MapReader m(r.ctx(), n, "msteams_config");
      ReadCommon(r, m, t.get(), "msteams_config");
      m.String("summary", &t->summary);
      m.Finish();
      if (m.ok()) Validate(r, n, t.get(), "msteams_config");
      return t;
    }};

const config::NotifierKind Msteamsv2Config::kKind = {
    "msteamsv2", kSecretKeys,
    [](const config::internal::NotifierReader& r, const YAML::Node& n,
       const config::GlobalConfig& g) -> std::shared_ptr<const config::NotifierConfig> {
      auto t = std::make_shared<Msteamsv2Config>();
      t->http_config = g.http_config;
      MapReader m(r.ctx(), n, "msteamsv2_config");
      ReadCommon(r, m, t.get(), "msteamsv2_config");
      m.Finish();
      if (m.ok()) Validate(r, n, t.get(), "msteamsv2_config");
      return t;
    }};

}  // namespace alertd::notifiers
