// The one list of integrations: builds a receiver's notifiers from its config section, in
// Alertmanager's order (slack, email, webhook, pagerduty lists, each in config order; `index`
// is the position within its kind, as in the nflog key). Each notifier is wrapped so that
// every attempt is counted in Deps::metrics.
//
// Building reads every *_file secret, so calling BuildIntegrations again on reload picks up
// rotated secrets. Thread-compatible: build on one thread, then share the notifiers (they are
// thread-safe).
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// Alertmanager's default templates plus every `templates:` pattern of `cfg`, in order (a
// pattern matching no file is not an error). Fails with the first parse error.
Result<std::shared_ptr<const templating::TemplateSet>> LoadTemplates(const config::Config& cfg);

// The integrations of one receiver. Fails if any integration cannot be built (unreadable
// secret file, missing TLS file); the message names the receiver and the integration.
Result<std::vector<Integration>> BuildIntegrations(const config::Receiver& receiver,
                                                   const Deps& deps);

}  // namespace alertd::notifiers
