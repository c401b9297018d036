// Prometheus relabelling (model/relabel in Prometheus 2.42): a list of relabel_config steps
// applied in order to a label set, each of which may rewrite labels or drop the whole set.
// Used for `evaluation.alert_relabel_configs` and for every other `*_relabel_configs` list.
// Regexes are fully anchored (`^(?:re)$`) RE2, whose syntax and semantics are Go's, and
// `$1`/`${name}` in replacement and target_label expand as Go's Regexp.Expand.
// A RelabelConfig is immutable once built; thread-safe to share and to apply concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/result.h"

namespace re2 {
class RE2;
}

namespace alertd {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,  // Prometheus 2.41
  kDropEqual,  // Prometheus 2.41
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,  // Prometheus 2.36
  kUppercase,  // Prometheus 2.36
};

// The action as written in YAML ("replace", "labelmap", ...).
std::string_view RelabelActionName(RelabelAction a);
// Parses an action name case-insensitively, as Prometheus does; nullopt when unknown.
std::optional<RelabelAction> ParseRelabelAction(std::string_view name);

// The fields of one relabel_config as written, with Prometheus's defaults. Fields left unset
// in YAML keep these values; `regex` set to null or "" means the empty regex.
struct RelabelSpec {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  bool source_labels_set = false;  // labeldrop/labelkeep refuse source_labels even if empty
};

class RelabelConfig {
 public:
  // Validates `spec` as Prometheus's relabel.Config.Validate does (same conditions, same
  // wording) and compiles its regex. Fails with a message naming what is wrong.
  static Result<RelabelConfig> Create(RelabelSpec spec);

  const RelabelSpec& spec() const { return spec_; }

  // Applies this one step to *labels. Returns false when the step drops the set (keep, drop,
  // keepequal, dropequal); *labels is then unspecified.
  bool Apply(LabelSet* labels) const;

 private:
  RelabelConfig() = default;
  RelabelSpec spec_;
  std::shared_ptr<const re2::RE2> re_;
};

using RelabelConfigs = std::vector<RelabelConfig>;

// Prometheus's relabel.Process: applies every step in order, each seeing the labels left by
// the one before. Returns false when a step drops the set; *labels is then unspecified.
bool Relabel(const RelabelConfigs& cfgs, LabelSet* labels);

}  // namespace alertd
