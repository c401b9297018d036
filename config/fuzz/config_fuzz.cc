// libFuzzer target: random YAML into the configuration loader (alertd.yml, first byte even)
// and the rule-file loader (odd). Neither may crash, hang or throw; every refused input has
// errors with a message. Inputs that could name /dev, /proc or /sys (directly or through a
// glob) are skipped: a `*_file:` setting pointing at /dev/zero would make the loader read
// forever, which is the operator's own doing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd::config;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (text.find(special) != std::string::npos) return 0;
  }
  if (text.find('/') != std::string::npos && text.find_first_of("*?[") != std::string::npos) {
    return 0;
  }
  // Relative paths in the input resolve against a directory that does not exist.
  const std::string path = "/nonexistent-alertd-fuzz/alertd.yml";
  if (data[0] & 1) {
    std::vector<RuleGroup> groups;
    for (const ConfigError& e : LoadRuleFileString(text, path, &groups)) {
      if (e.message.empty()) std::abort();
    }
    return 0;
  }
  LoadResult r = LoadConfigString(text, path);
  if (!r.ok()) {
    if (r.errors.empty() && !r.config) std::abort();
    for (const ConfigError& e : r.errors) {
      if (e.message.empty()) std::abort();
    }
  }
  return 0;
}
