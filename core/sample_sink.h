// Where the rule engine puts the samples it produces: the results of recording rules and the
// ALERTS / ALERTS_FOR_STATE series of alerting rules, one batch per group evaluation. The
// remote writer (remote_write/) implements it; the rule engine sees only this interface.
//
// Thread-safe: groups evaluate concurrently and call Append from many threads at once.
#pragma once

#include <vector>

#include "core/labels.h"
#include "core/time.h"

namespace alertd {

// One sample of one series. `labels` include __name__.
struct Sample {
  LabelSet labels;
  double value = 0;
  Time ts{};
};

// Prometheus's staleness marker (value.StaleNaN): the NaN with bit pattern 0x7ff0000000000002,
// written when a series a rule produced in its previous evaluation is gone.
double StaleNaN();
bool IsStaleNaN(double v);

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // Takes the samples of one group evaluation. Returns once they are queued durably (or
  // counted as dropped); never blocks on the receiver.
  virtual void Append(std::vector<Sample> samples) = 0;
};

}  // namespace alertd
