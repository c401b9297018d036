#include "app/check_config.h"

#include <functional>
#include <iostream>

#include "config/config.h"

namespace alertd::app {
namespace {

size_t CountRoutes(const config::Route& r) {
  size_t n = 1;
  for (const auto& c : r.routes) n += CountRoutes(c);
  return n;
}

}  // namespace

int RunCheckConfig(const std::string& path) {
  auto res = config::LoadConfigFile(path);
  if (!res.ok()) {
    std::cerr << res.ErrorText();
    std::cerr << "FAILED: " << res.errors.size() << (res.errors.size() == 1 ? " error" : " errors") << " in "
              << path << "\n";
    return 1;
  }
  const config::Config& c = *res.config;
  size_t rules = 0, alerting = 0;
  for (const auto& g : c.rule_groups) {
    rules += g.rules.size();
    for (const auto& r : g.rules) {
      alerting += r.alert.empty() ? 0 : 1;
      for (const auto& w : r.warnings) {
        std::cerr << "WARNING: " << r.pos.String() << ": group \"" << g.name << "\", rule \""
                  << (r.alert.empty() ? r.record : r.alert) << "\": " << w << "\n";
      }
    }
  }
  size_t integrations = 0;
  for (const auto& r : c.receivers) integrations += r.notifiers.size();
  std::cout << "SUCCESS: " << path << " is valid\n"
            << "  rule files:          " << c.rule_files.size() << "\n"
            << "  rule groups:         " << c.rule_groups.size() << "\n"
            << "  rules:               " << rules << " (" << alerting << " alerting, " << rules - alerting
            << " recording)\n"
            << "  receivers:           " << c.receivers.size() << " (" << integrations << " integrations)\n"
            << "  routes:              " << CountRoutes(c.route) << "\n"
            << "  inhibit rules:       " << c.inhibit_rules.size() << "\n"
            << "  time intervals:      " << c.time_intervals.size() << "\n"
            << "  escalation policies: " << c.escalation_policies.size() << "\n"
            << "  templates:           " << c.templates.size() << "\n";
  return 0;
}

}  // namespace alertd::app
