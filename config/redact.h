// The configuration as GET /api/v2/status shows it: the loaded YAML document marshalled back
// to YAML with every secret as `<secret>` (what Alertmanager's Secret and SecretURL types
// marshal to) and the userinfo of every URL removed. Internal to config/: the loader computes
// it once per load into Config::redacted_yaml.
//
// Which keys hold secrets is the one table kSecretKeys in config/redact.cc: an integration
// that adds a secret key adds a line there. `*_file` keys name files, not secrets, and stay.
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
