// The daemon: loads the config, opens the store, starts the rule engine, the router and the
// HTTP server, handles SIGHUP (reload) and SIGTERM (graceful shutdown).
#pragma once

#include <string>

namespace alertd::app {

struct DaemonOptions {
  std::string config_path;
  std::string listen;        // overrides server.listen when set
  std::string storage_path;  // overrides storage.path when set
  std::string log_level = "info";  // debug, info, warn, error
  std::string log_format = "text";  // text, logfmt, json (app/logging.h)
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int RunDaemon(const DaemonOptions& opts);

}  // namespace alertd::app
