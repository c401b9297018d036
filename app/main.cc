// alertd command line. The daemon wiring comes in app/daemon.cc.
#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"alertd: Prometheus alerting rules, Alertmanager routing and on-call in one daemon"};
  app.set_version_flag("--version", "alertd 0.1.0");
  CLI11_PARSE(app, argc, argv);
  return 0;
}
