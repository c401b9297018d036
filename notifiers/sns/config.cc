// Reading and validating `sns_configs` (Alertmanager 0.25's SNSConfig with its sigv4 block).
// Compiled into config/ (see notifiers/integrations.h).
#include "config/yaml_reader.h"
#include "notifiers/sns/sns.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

SnsConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
               const config::GlobalConfig& g) {
  SnsConfig s;
  s.http_config = g.http_config;
  MapReader m(r.ctx(), n, "sns_config");
  m.Bool("send_resolved", &s.send_resolved);
  m.Field("http_config", [&](const YAML::Node& v) {
    r.ReadHTTPConfig(v, &s.http_config, "sns_config http_config");
  });
  m.String("api_url", &s.api_url);
  m.Field("sigv4", [&](const YAML::Node& v) {
    MapReader sig(r.ctx(), v, "sigv4");
    sig.String("region", &s.region);
    sig.String("access_key", &s.access_key);
    sig.String("secret_key", &s.secret_key);
    for (const char* unsupported : {"profile", "role_arn"}) {
      sig.Field(unsupported, [&, unsupported](const YAML::Node& x) {
        r.ctx().Error(x, std::string("sigv4.") + unsupported +
                             " is not supported by alertd: give sigv4.access_key and "
                             "sigv4.secret_key, or set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY in alertd's environment");
      });
    }
    sig.Finish();
    if (s.access_key.empty() != s.secret_key.empty()) {
      r.ctx().Error(v, "must provide a AWS SigV4 Access key and Secret Key");
    }
  });
  m.String("topic_arn", &s.topic_arn);
  m.String("phone_number", &s.phone_number);
  m.String("target_arn", &s.target_arn);
  m.String("subject", &s.subject);
  m.String("message", &s.message);
  m.StringMap("attributes", &s.attributes);
  m.Finish();
  if (!m.ok()) return s;
  // Alertmanager's test, quirks included: (target == "") != (topic == "") != (phone == "").
  if (((s.target_arn.empty() != s.topic_arn.empty()) != s.phone_number.empty())) {
    r.ctx().Error(n, "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config");
  }
  return s;
}

constexpr std::string_view kSecretKeys[] = {"secret_key"};

}  // namespace

const config::NotifierKind SnsConfig::kKind = {"sns", kSecretKeys,
                                               &config::ReadAs<SnsConfig, Read>};

}  // namespace alertd::notifiers
