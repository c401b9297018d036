// `alertd check-config FILE`: loads the config and its rule files, prints a summary and exits
// 0, or prints every error (file:line:col: message) and exits 1.
#pragma once

#include <string>

namespace alertd::app {

int RunCheckConfig(const std::string& path);

}  // namespace alertd::app
