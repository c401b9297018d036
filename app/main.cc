// alertd command line:
//   alertd --config FILE [--listen ADDR] [--storage PATH] [--log-level L] [--log-format F]
//                                                           run the daemon
//   alertd check-config FILE                                validate and summarise, exit 0/1
//   alertd migrate --from SRC --to DST                      copy the state to another database
//   alertd test receiver --config FILE NAME                 send a test alert through a receiver
//   alertd test routes --config FILE [--tree] [--verify.receivers=R] LABEL=VALUE...
//   alertd test routes show --config FILE                   amtool config routes test / show
// Alertmanager's flag names are accepted too (--config.file, --web.listen-address,
// --storage.path, --log.level), so a service definition written for Alertmanager starts alertd
// unchanged; Alertmanager's cluster flags are accepted and ignored (alertd does not cluster).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "app/check_config.h"
#include "app/daemon.h"
#include "app/migrate.h"
#include "app/test_receiver.h"
#include "app/test_routes.h"

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold (up to 32 MiB) each time a large mmapped block is freed,
  // and its trim threshold to twice that: after loading a big rule file, or answering a large
  // query, the heaps would keep megabytes of free pages at their tops for good. Fixing both
  // thresholds at 128 KiB (glibc's starting values) turns that adjustment off, so free memory
  // at the top of a heap goes back to the kernel. Variables set in the environment
  // (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) still win.
  if (getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  if (getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
  CLI::App app{"alertd: Prometheus alerting rules, Alertmanager routing and on-call in one daemon"};
  app.set_version_flag("--version", "alertd 0.1.0");
  alertd::app::DaemonOptions opts;
  app.add_option("-c,--config,--config.file", opts.config_path, "configuration file")
      ->check(CLI::ExistingFile);
  app.add_option("--listen,--web.listen-address", opts.listen,
                 "listen address, overrides server.listen");
  app.add_option("--storage", opts.storage_path, "SQLite database file (or a directory: DIR/alertd.db), overrides storage.path");
  std::string storage_dir;
  app.add_option("--storage.path", storage_dir,
                 "Alertmanager's data directory flag: the database is DIR/alertd.db")
      ->excludes(app.get_option("--storage"));
  app.add_option("--log-level,--log.level", opts.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  std::vector<std::string> ignored;
  for (const char* flag : {"--cluster.listen-address", "--cluster.advertise-address",
                           "--cluster.peer"}) {
    app.add_option(flag, ignored, "Alertmanager clustering: accepted and ignored")
        ->expected(0, 1)
        ->allow_extra_args(false);
  }
  app.add_option("--log-format", opts.log_format, "text, logfmt or json")
      ->check(CLI::IsMember({"text", "logfmt", "json"}));

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "validate a configuration and its rule files");
  check->add_option("file", check_path, "configuration file")->required();

  alertd::app::MigrateOptions migrate_opts;
  auto* migrate = app.add_subcommand(
      "migrate",
      "copy alertd's state (alerts, rule state, silences, notification log, acks, escalations) "
      "into an empty database; stop alertd first");
  migrate
      ->add_option("--from", migrate_opts.from,
                   "SQLite file (or directory) or PostgreSQL connection string to copy from")
      ->required();
  migrate
      ->add_option("--to", migrate_opts.to,
                   "SQLite file (or directory) or PostgreSQL connection string to copy into")
      ->required();
  migrate->add_option("--from-password-file", migrate_opts.from_password_file,
                      "the password of a PostgreSQL --from")
      ->check(CLI::ExistingFile);
  migrate->add_option("--to-password-file", migrate_opts.to_password_file,
                      "the password of a PostgreSQL --to")
      ->check(CLI::ExistingFile);

  auto* test = app.add_subcommand("test", "try parts of a configuration out");
  test->require_subcommand(1);
  alertd::app::TestReceiverOptions receiver_opts;
  auto* test_receiver = test->add_subcommand(
      "receiver",
      "send a test alert once through every integration of a receiver and print each outcome; "
      "exit 0 when all delivered, 1 when one failed, 2 when nothing could be sent");
  test_receiver->add_option("-c,--config,--config.file", receiver_opts.config_path,
                            "configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  test_receiver->add_option("name", receiver_opts.receiver, "the receiver")->required();
  test_receiver->add_option("--label", receiver_opts.labels,
                            "name=value: a label of the test alert (repeatable)");
  test_receiver->add_option("--annotation", receiver_opts.annotations,
                            "name=value: an annotation of the test alert (repeatable)");

  // `test routes` parses its own words (app/test_routes.h), so that its flags, usage errors and
  // exit codes are amtool's and tests can run it in-process.
  auto* test_routes = test->add_subcommand(
      "routes",
      "print the receivers an alert with the given labels reaches (amtool config routes test); "
      "`test routes show`: the route tree (amtool config routes show); see `test routes --help`");
  test_routes->prefix_command();
  test_routes->set_help_flag();

  CLI11_PARSE(app, argc, argv);
  if (*check) return alertd::app::RunCheckConfig(check_path);
  if (*test_receiver) return alertd::app::RunTestReceiver(receiver_opts);
  if (*test_routes) {
    return alertd::app::TestRoutesCommand(test_routes->remaining(), std::cout, std::cerr);
  }
  if (*migrate) return alertd::app::RunMigrate(migrate_opts);
  if (!storage_dir.empty()) opts.storage_path = storage_dir + "/alertd.db";
  if (opts.config_path.empty()) {
    std::cerr << "alertd: --config FILE is required (see --help)\n";
    return 2;
  }
  return alertd::app::RunDaemon(opts);
}
