// Inhibition (inhibit/inhibit.go): a target alert is muted while a firing source alert
// matches a rule's source matchers, the target matches its target matchers, and every label
// in `equal` has the same value in both (a missing label equals the empty value). An alert
// that matches both sides of a rule is not inhibited, under that rule, by an alert that also
// matches both sides. Silenced sources still inhibit.
//
// The inhibitor keeps, per rule, the alerts that match its source side, indexed by their
// `equal` values, fed from the alert store's changes. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/alert.h"
#include "core/thread_annotations.h"
#include "storage/alert_store.h"

namespace alertd::router {

class Inhibitor {
 public:
  explicit Inhibitor(std::vector<config::InhibitRule> rules);

  // Takes in changed alerts (firing and resolved).
  void Update(const std::vector<storage::AlertPtr>& alerts);
  // The fingerprint of an alert that inhibits an alert with `labels` at `now`, if any.
  std::optional<uint64_t> InhibitedBy(const LabelSet& labels, Time now) const;
  // Forgets sources resolved before `before`.
  void CollectGarbage(Time before);

 private:
  struct Rule {
    config::InhibitRule cfg;
    // `equal` values (in cfg.equal order) -> fingerprint -> source alert.
    std::map<std::vector<std::string>, std::unordered_map<uint64_t, storage::AlertPtr>> sources;
  };
  static std::vector<std::string> EqualValues(const Rule& r, const LabelSet& labels);

  mutable Mutex mu_;
  std::vector<Rule> rules_ GUARDED_BY(mu_);
};

}  // namespace alertd::router
