#include "app/daemon.h"

#include <iostream>

namespace alertd::app {

int RunDaemon(const DaemonOptions&) {
  std::cerr << "alertd: the daemon is not wired yet\n";
  return 1;
}

}  // namespace alertd::app
