// `alertd test receiver --config FILE NAME [--label k=v]... [--annotation k=v]...` and the
// work behind POST /api/v1/receivers/{name}/test: a synthetic firing alert
// (notifiers/test_notification.h) sent once through each integration of a receiver of a
// configuration, with each one's outcome.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "notifiers/test_notification.h"

namespace alertd::app {

// Builds `receiver`'s integrations from `cfg` (its templates, its secrets as they are now) and
// sends them `alert`. NotFound: no such receiver; InvalidArgument: it has no integrations, or
// they cannot be built (a secret file that cannot be read).
Result<std::vector<notifiers::TestOutcome>> TestReceiver(const config::Config& cfg,
                                                         const std::string& receiver,
                                                         const notifiers::TestAlert& alert,
                                                         const std::string& external_url);

// The payloads' externalURL: evaluation.external_url, else alertd's own listen address.
std::string NotificationExternalUrl(const config::Config& cfg);

struct TestReceiverOptions {
  std::string config_path;
  std::string receiver;
  std::vector<std::string> labels;       // "name=value"
  std::vector<std::string> annotations;  // "name=value"
};

// Prints one line per integration (name[index], sent or failed, HTTP status, latency, error)
// and returns the exit code: 0 when every integration delivered, 1 when one failed, 2 when
// nothing could be sent (invalid configuration, unknown receiver, bad --label).
int RunTestReceiver(const TestReceiverOptions& opts);

}  // namespace alertd::app
