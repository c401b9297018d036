// Where alert updates go: the rule engine and the API's ingestion both write alerts through
// this interface, and the alert store implements it, so every source is deduplicated the
// same way.
#pragma once

#include <vector>

#include "core/alert.h"
#include "core/result.h"

namespace alertd {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // Stores (merging by fingerprint) every alert. Returns once the alerts are durable.
  // Thread-safe.
  virtual Status Put(std::vector<Alert> alerts) = 0;
};

}  // namespace alertd
