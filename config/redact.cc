#include "config/redact.h"

#include <string_view>

#include "config/notifier_config.h"
#include "core/secret_text.h"

namespace alertd::config::internal {
namespace {

// A secret key: `key` inside a mapping that sits under the key `section` (items of a list
// sit under the list's key: `slack_configs: [{api_url: ...}]`), or under any key when
// `section` is empty. A key whose value is a map or list (`headers:`) has each of its values
// hidden and its keys (header names) kept.
struct SecretKey {
  std::string_view section;
  std::string_view key;
};

// Every key that holds a secret, in alertd.yml and in the Alertmanager keys it accepts, except
// the keys of the integrations alertd implements: each declares its own (NotifierKind::
// secret_keys) and IsSecretKey collects them from NotifierKinds(). Keys of integrations alertd
// does not implement are listed here, so that an integration added later is hidden from its
// first day; an integration that is implemented moves its keys from here to its kind.
constexpr SecretKey kSecretKeys[] = {
    // server.auth
    {"tokens", "token"},
    // storage (a DSN may carry a password)
    {"postgres", "dsn"},
    // http_config, wherever it appears (datasource: inline; receivers: under http_config)
    {"basic_auth", "password"},
    {"authorization", "credentials"},
    {"", "bearer_token"},
    {"oauth2", "client_secret"},
    {"datasource", "headers"},
    {"remote_write", "headers"},
    {"", "proxy_connect_header"},
    // global
    {"global", "smtp_auth_password"},
    {"global", "smtp_auth_secret"},
    {"global", "slack_api_url"},
    {"global", "opsgenie_api_key"},
    {"global", "wechat_api_secret"},
    {"global", "victorops_api_key"},
    {"global", "telegram_bot_token"},
    {"global", "webex_api_token"},
    // receivers
    {"sigv4", "secret_key"},
    {"rocketchat_configs", "token"},
    {"rocketchat_configs", "token_id"},
    {"jira_configs", "api_token"},
    // two-way acknowledgement: the secrets that verify Slack's and PagerDuty's requests
    {"", "signing_secret"},
    {"", "pagerduty_webhook_secret"},
};

bool IsSecretKey(std::string_view section, std::string_view key) {
  for (const auto& s : kSecretKeys) {
    if (s.key == key && (s.section.empty() || s.section == section)) return true;
  }
  for (const NotifierKind& k : NotifierKinds()) {
    if (section.size() != k.name.size() + 8 || !section.starts_with(k.name) ||
        !section.ends_with("_configs"))
      continue;
    for (std::string_view s : k.secret_keys)
      if (s == key) return true;
  }
  return false;
}

// Replaces every scalar under `value` (itself included) by the placeholder; map keys stay.
void Hide(YAML::Node value) {
  switch (value.Type()) {
    case YAML::NodeType::Scalar:
      if (!value.Scalar().empty()) value = std::string(kSecretPlaceholder);
      return;
    case YAML::NodeType::Map:
      for (auto it = value.begin(); it != value.end(); ++it) Hide(it->second);
      return;
    case YAML::NodeType::Sequence:
      for (auto it = value.begin(); it != value.end(); ++it) Hide(*it);
      return;
    default:
      return;  // null: nothing to hide
  }
}

void Walk(YAML::Node node, std::string_view section) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
        if (IsSecretKey(section, key)) {
          Hide(it->second);
        } else {
          Walk(it->second, key);
        }
      }
      return;
    }
    case YAML::NodeType::Sequence:
      for (auto it = node.begin(); it != node.end(); ++it) Walk(*it, section);
      return;
    case YAML::NodeType::Scalar: {
      const std::string& v = node.Scalar();
      if (v.find("://") == std::string::npos) return;
      std::string stripped = StripUrlUserinfo(v);
      if (stripped != v) node = stripped;
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::string RedactedYaml(YAML::Node root) {
  Walk(root, "");
  YAML::Emitter out;
  out << root;
  // A failed emit leaves part of a document: serve none rather than a truncated one.
  if (!out.good())
    return "# alertd could not marshal the configuration: " + out.GetLastError() + "\n";
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  return text;
}

}  // namespace alertd::config::internal
