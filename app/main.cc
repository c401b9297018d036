// alertd command line:
//   alertd --config FILE [--listen ADDR] [--storage PATH] [--log-level L] [--log-format F]
//                                                           run the daemon
//   alertd check-config FILE                                validate and summarise, exit 0/1
#include <CLI/CLI.hpp>

#include "app/check_config.h"
#include "app/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"alertd: Prometheus alerting rules, Alertmanager routing and on-call in one daemon"};
  app.set_version_flag("--version", "alertd 0.1.0");
  alertd::app::DaemonOptions opts;
  app.add_option("-c,--config", opts.config_path, "configuration file")->check(CLI::ExistingFile);
  app.add_option("--listen", opts.listen, "listen address, overrides server.listen");
  app.add_option("--storage", opts.storage_path, "SQLite database path, overrides storage.path");
  app.add_option("--log-level", opts.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log-format", opts.log_format, "text, logfmt or json")
      ->check(CLI::IsMember({"text", "logfmt", "json"}));

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "validate a configuration and its rule files");
  check->add_option("file", check_path, "configuration file")->required();

  CLI11_PARSE(app, argc, argv);
  if (*check) return alertd::app::RunCheckConfig(check_path);
  if (opts.config_path.empty()) {
    std::cerr << "alertd: --config FILE is required (see --help)\n";
    return 2;
  }
  return alertd::app::RunDaemon(opts);
}
