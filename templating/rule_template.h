// Expansion of Prometheus alerting-rule annotations and labels, exactly as Prometheus does it
// (rules/alerting.go): the text is prefixed with
//   {{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL :=
//   .ExternalURL}}{{$value := .Value}}
// parsed as template "__alert_<rule name>" with Prometheus's functions and missingkey=zero,
// and executed against {Labels, ExternalLabels, ExternalURL, Value}. An execution error does
// not fail the alert: the text becomes "<error expanding template: ...>" (Prometheus's text).
//
// A RuleTemplate is immutable after Parse and may be expanded from many threads at once.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "templating/functions.h"
#include "templating/template.h"

namespace alertd::templating {

// What a rule template sees for one alert.
struct RuleTemplateData {
  std::map<std::string, std::string> labels;           // $labels / .Labels
  std::map<std::string, std::string> external_labels;  // $externalLabels / .ExternalLabels
  std::string external_url;                            // $externalURL / .ExternalURL, externalURL
  double value = 0;                                    // $value / .Value
};

struct Expansion {
  std::string text;  // the expanded text, or "<error expanding template: ...>"
  Status error;      // OK, or what went wrong (for logging and counting)
};

class RuleTemplate {
 public:
  // Parses `text` for rule `rule_name`. A parse error is a configuration error (Prometheus
  // refuses such rule files): the Status reads
  // "error parsing template __alert_<name>: template: __alert_<name>:<line>:<col>: <msg>".
  static Result<RuleTemplate> Parse(std::string_view rule_name, std::string_view text);

  // Expands for one alert. `query` backs the `query` function (may be empty: then `query`
  // fails with an error in the text).
  Expansion Expand(const RuleTemplateData& data, const QueryFunc& query = nullptr) const;

  // True if the text has no actions at all (then Expand returns it unchanged, cheaply).
  bool is_constant() const { return constant_; }

 private:
  std::string name_;
  std::string text_;
  bool constant_ = false;
  std::shared_ptr<const CompiledText> compiled_;
};

// Parse + Expand in one call (for one-off expansions; a parse error also yields
// "<error expanding template: ...>" like Prometheus).
Expansion ExpandRuleTemplate(std::string_view rule_name, std::string_view text,
                             const RuleTemplateData& data, const QueryFunc& query = nullptr);

}  // namespace alertd::templating
