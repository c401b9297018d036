// `alertd test routes`: which receivers an alert with given labels reaches, and the route tree,
// printed as amtool 0.25 prints them, with amtool's exit codes, so scripts written for
//   amtool config routes test --config.file=F [--verify.receivers=R] [--tree] label=value...
//   amtool config routes [show] --config.file=F
// work with `alertd test routes ...` and `alertd test routes show ...` in their place
// (cli/test_routing.go, cli/routing.go, cli/utils.go parseLabels; ../shared/COMPAT.md).
// `--details` adds alertd's own lines (group labels, group key, timers, escalation policy);
// without it the output is amtool's, byte for byte.
//
// Everything here runs on the calling thread and writes only to the streams it is given.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/labels.h"
#include "core/result.h"

namespace alertd::app {

struct TestRoutesOptions {
  std::string config_path;          // -c, --config, --config.file
  std::vector<std::string> labels;  // label=value, label="value"
  std::string verify_receivers;     // --verify.receivers: "a,b"; empty: no check
  bool tree = false;                // --tree: print the matching routes first
  bool details = false;             // --details: alertd's lines after the receivers
  bool show = false;                // the `show` subcommand: print the whole tree, test nothing
};

// One label argument as amtool 0.25 reads it (parseLabels over pkg/labels ParseMatcher):
// `name=value`, `name="value"`, spaces around the tokens ignored, OpenMetrics escapes (\" \\ \n)
// in the value. InvalidArgument with amtool's message ("bad matcher format: ...", "labels must
// be specified as key=value pairs", ...) otherwise.
Result<std::pair<std::string, std::string>> ParseLabelArgument(std::string_view arg);

// amtool 0.25's `config routes show` output for `cfg` ("Routing tree:" and the tree).
std::string RouteTreeText(const config::Config& cfg);

// Runs `opts` against an already loaded configuration: writes amtool's output to `out` (and
// alertd's --details lines) and errors to `err`; returns the exit code: 0, or 1 when a label
// cannot be parsed or --verify.receivers differs from the receivers reached.
int TestRoutes(const config::Config& cfg, const TestRoutesOptions& opts, std::ostream& out,
               std::ostream& err);

// Loads opts.config_path and runs TestRoutes; 1 when the configuration is missing or invalid
// (every error as file:line:col on `err`).
int RunTestRoutes(const TestRoutesOptions& opts, std::ostream& out, std::ostream& err);

// The whole command: parses `args` (the words after `alertd test routes`: flags, labels, or
// `show` and its flags) and runs it. A bad flag exits 1, as kingpin does for amtool; --help
// prints the usage on `out` and exits 0.
int TestRoutesCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace alertd::app
