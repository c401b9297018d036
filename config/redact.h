// The configuration as GET /api/v2/status shows it: the loaded YAML document marshalled back
// to YAML with every secret as `<secret>` (what Alertmanager's Secret and SecretURL types
// marshal to) and the userinfo of every URL removed. Internal to config/: the loader computes
// it once per load into Config::redacted_yaml.
//
// Which keys hold secrets: the table kSecretKeys in config/redact.cc, plus the secret_keys each
// implemented integration declares in its NotifierKind (config/notifier_config.h). `*_file` keys name files, not secrets, and stay.
//
// Thread-compatible: RedactedYaml modifies the document it is given.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace alertd::config::internal {

// Replaces, in `root`, every secret value by `<secret>` (empty values stay empty) and strips
// `user:password@` from every URL in any other string value, then emits the document as YAML
// (comments are not kept, as Alertmanager keeps none).
std::string RedactedYaml(YAML::Node root);

}  // namespace alertd::config::internal
