// Reading and validating `email_configs` (Alertmanager's EmailConfig, config/notifiers.go).
// Compiled into config/ (see notifiers/integrations.h).
#include <cctype>
#include <sstream>

#include "config/yaml_reader.h"
#include "notifiers/email/email.h"

namespace alertd::notifiers {
namespace {

using config::internal::MapReader;

EmailConfig Read(const config::internal::NotifierReader& r, const YAML::Node& n,
                 const config::GlobalConfig& g) {
  EmailConfig e;
  MapReader m(r.ctx(), n, "email_config");
  m.Bool("send_resolved", &e.send_resolved);
  m.String("to", &e.to);
  m.String("from", &e.from);
  m.String("hello", &e.hello);
  m.String("smarthost", &e.smarthost);
  m.String("auth_username", &e.auth_username);
  m.String("auth_password", &e.auth_password);
  m.String("auth_password_file", &e.auth_password_file);
  m.String("auth_secret", &e.auth_secret);
  m.String("auth_identity", &e.auth_identity);
  m.Field("headers", [&](const YAML::Node& v) {
    auto h = config::internal::AsStringMap(r.ctx(), v, "email headers");
    if (!h) return;
    // Header names are case-insensitive; Alertmanager normalises them (Go's textproto
    // canonical form) and refuses duplicates that differ only in case.
    for (auto& [k, val] : *h) {
      std::string canon;
      bool up = true;
      for (char ch : k) {
        canon += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
                    : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        up = ch == '-';
      }
      if (e.headers.count(canon)) {
        r.ctx().Error(v, "duplicate header \"" + canon + "\" in email config");
      }
      e.headers[canon] = val;
    }
  });
  m.String("html", &e.html);
  m.String("text", &e.text);
  m.OptBool("require_tls", &e.require_tls);
  // Without its own tls_config, an email config takes global.smtp_tls_config (Alertmanager 0.28+).
  e.tls_config = g.smtp_tls_config;
  m.Field("tls_config", [&](const YAML::Node& v) {
    e.tls_config = config::TLSConfig{};
    r.ReadTLS(v, &e.tls_config, "email_config tls_config");
  });
  m.Bool("send_acknowledged", &e.send_acknowledged);
  m.Finish();
  if (!m.ok()) return e;
  if (e.to.empty()) r.ctx().Error(n, "missing to address in email config");
  if (e.from.empty()) e.from = g.smtp_from;
  if (e.hello.empty()) e.hello = g.smtp_hello;
  if (e.smarthost.empty()) e.smarthost = g.smtp_smarthost;
  if (e.auth_username.empty()) e.auth_username = g.smtp_auth_username;
  if (e.auth_password.empty() && e.auth_password_file.empty()) {
    e.auth_password = g.smtp_auth_password;
    e.auth_password_file = g.smtp_auth_password_file;
  }
  if (e.auth_secret.empty()) e.auth_secret = g.smtp_auth_secret;
  if (e.auth_identity.empty()) e.auth_identity = g.smtp_auth_identity;
  if (!e.require_tls) e.require_tls = g.smtp_require_tls;
  e.auth_password_file = r.ResolvePath(e.auth_password_file);
  if (e.smarthost.empty()) r.ctx().Error(n, "no global SMTP smarthost set");
  if (e.from.empty()) r.ctx().Error(n, "no global SMTP from set");
  if (!e.smarthost.empty() && e.smarthost.rfind(':') == std::string::npos)
    r.ctx().Error(n, "smarthost \"" + e.smarthost + "\": address must be host:port");
  if (!e.auth_password.empty() && !e.auth_password_file.empty())
    r.ctx().Error(n, "at most one of auth_password & auth_password_file must be configured");
  if (!e.headers.count("Subject")) e.headers["Subject"] = R"({{ template "email.default.subject" . }})";
  if (!e.headers.count("To")) e.headers["To"] = e.to;
  if (!e.headers.count("From")) e.headers["From"] = e.from;
  std::stringstream ss(e.to);
  std::string addr;
  while (std::getline(ss, addr, ',')) {
    while (!addr.empty() && addr.front() == ' ') addr.erase(0, 1);
    while (!addr.empty() && addr.back() == ' ') addr.pop_back();
    if (!addr.empty()) e.to_list.push_back(addr);
  }
  return e;
}

constexpr std::string_view kSecretKeys[] = {"auth_password", "auth_secret"};

}  // namespace

const config::NotifierKind EmailConfig::kKind = {"email", kSecretKeys,
                                               &config::ReadAs<EmailConfig, Read>};

}  // namespace alertd::notifiers
