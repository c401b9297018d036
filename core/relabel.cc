#include "core/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <map>
#include <string>

#include "core/go_regexp.h"
#include "core/utf8.h"

namespace alertd {
namespace {

struct ActionName {
  RelabelAction action;
  std::string_view name;
};
constexpr ActionName kActions[] = {
    {RelabelAction::kReplace, "replace"},     {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},           {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"}, {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},   {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"}, {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
};

// Prometheus's relabelTarget: what target_label (and labelmap's replacement) may be before
// expansion, a label name with `$1` / `${name}` references allowed.
bool IsValidRelabelTarget(std::string_view s) {
  static const RE2 re(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(s, re);
}

std::string Expand(const RE2& re, std::string_view tmpl, const re2::StringPiece* groups,
                   int ngroups) {
  std::string out;
  AppendGoExpand(&out, re, tmpl, groups, ngroups);
  return out;
}

uint64_t HashMod(std::string_view val, uint64_t modulus) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(val.data(), val.size(), md, &len, EVP_md5(), nullptr);
  // Prometheus uses the last 8 bytes of the MD5 sum, big-endian.
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | md[i];
  return v % modulus;
}

void SetOrDelete(LabelSet* ls, std::string_view name, std::string_view value) {
  // labels.Builder.Set with an empty value deletes the label.
  if (value.empty()) {
    ls->Remove(name);
  } else {
    ls->Set(name, value);
  }
}

}  // namespace

std::string_view RelabelActionName(RelabelAction a) {
  for (const auto& an : kActions) {
    if (an.action == a) return an.name;
  }
  return "?";
}

std::optional<RelabelAction> ParseRelabelAction(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  for (const auto& an : kActions) {
    if (an.name == lower) return an.action;
  }
  return std::nullopt;
}

Result<RelabelConfig> RelabelConfig::Create(RelabelSpec spec) {
  const RelabelAction a = spec.action;
  const std::string an(RelabelActionName(a));
  const RelabelSpec def;
  if (spec.modulus == 0 && a == RelabelAction::kHashMod) {
    return Status::InvalidArgument("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target = a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
                            a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
                            a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  if (needs_target && spec.target_label.empty()) {
    return Status::InvalidArgument("relabel configuration for " + an +
                                   " action requires 'target_label' value");
  }
  const bool target_template = needs_target && a != RelabelAction::kHashMod;
  if (target_template && !IsValidRelabelTarget(spec.target_label)) {
    return Status::InvalidArgument(GoQuote(spec.target_label) + " is invalid 'target_label' for " +
                                   an + " action");
  }
  const bool no_replacement = a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
                              a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  if (no_replacement && spec.replacement != def.replacement) {
    return Status::InvalidArgument("'replacement' can not be set for " + an + " action");
  }
  if (a == RelabelAction::kLabelMap && !IsValidRelabelTarget(spec.replacement)) {
    return Status::InvalidArgument(GoQuote(spec.replacement) + " is invalid 'replacement' for " +
                                   an + " action");
  }
  if (a == RelabelAction::kHashMod && !IsValidLabelName(spec.target_label)) {
    return Status::InvalidArgument(GoQuote(spec.target_label) + " is invalid 'target_label' for " +
                                   an + " action");
  }
  if ((a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
      (spec.regex != def.regex || spec.modulus != def.modulus || spec.separator != def.separator ||
       spec.replacement != def.replacement)) {
    return Status::InvalidArgument(
        an + " action requires only 'source_labels' and `target_label`, and no other fields");
  }
  if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
      (spec.source_labels_set || !spec.target_label.empty() || spec.modulus != def.modulus ||
       spec.separator != def.separator || spec.replacement != def.replacement)) {
    return Status::InvalidArgument(an + " action requires only 'regex', and no other fields");
  }
  for (const auto& l : spec.source_labels) {
    if (!IsValidLabelName(l)) {
      return Status::InvalidArgument(GoQuote(l) + " is not a valid label name");
    }
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>("^(?:" + spec.regex + ")$", opts);
  if (!re->ok()) {
    return Status::InvalidArgument("invalid regular expression " + GoQuote(spec.regex) + ": " +
                                   re->error());
  }
  RelabelConfig c;
  c.spec_ = std::move(spec);
  c.re_ = std::move(re);
  return c;
}

bool RelabelConfig::Apply(LabelSet* labels) const {
  const RelabelSpec& s = spec_;
  std::string val;
  for (size_t i = 0; i < s.source_labels.size(); ++i) {
    if (i > 0) val += s.separator;
    val += labels->Get(s.source_labels[i]);
  }
  const RE2& re = *re_;
  switch (s.action) {
    case RelabelAction::kDrop:
      return !RE2::FullMatch(val, re);
    case RelabelAction::kKeep:
      return RE2::FullMatch(val, re);
    case RelabelAction::kDropEqual:
      return labels->Get(s.target_label) != val;
    case RelabelAction::kKeepEqual:
      return labels->Get(s.target_label) == val;
    case RelabelAction::kReplace: {
      const int n = re.NumberOfCapturingGroups() + 1;
      std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
      if (!re.Match(val, 0, val.size(), RE2::UNANCHORED, groups.data(), n)) break;
      const std::string target = Expand(re, s.target_label, groups.data(), n);
      if (!IsValidLabelName(target)) {
        labels->Remove(s.target_label);
        break;
      }
      const std::string res = Expand(re, s.replacement, groups.data(), n);
      if (res.empty()) {
        labels->Remove(s.target_label);
        break;
      }
      labels->Set(target, res);
      break;
    }
    case RelabelAction::kLowercase:
      SetOrDelete(labels, s.target_label, GoToLower(val));
      break;
    case RelabelAction::kUppercase:
      SetOrDelete(labels, s.target_label, GoToUpper(val));
      break;
    case RelabelAction::kHashMod:
      labels->Set(s.target_label, std::to_string(HashMod(val, s.modulus)));
      break;
    case RelabelAction::kLabelMap: {
      // Every label is matched against the labels as they were before this step.
      const LabelSet before = *labels;
      const int n = re.NumberOfCapturingGroups() + 1;
      std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
      for (const LabelRef l : before) {
        if (!re.Match(l.name, 0, l.name.size(), RE2::UNANCHORED, groups.data(), n)) continue;
        SetOrDelete(labels, Expand(re, s.replacement, groups.data(), n), l.value);
      }
      break;
    }
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      const bool keep = s.action == RelabelAction::kLabelKeep;
      const LabelSet before = *labels;
      for (const LabelRef l : before) {
        if (RE2::FullMatch(l.name, re) != keep) labels->Remove(l.name);
      }
      break;
    }
  }
  return true;
}

bool Relabel(const RelabelConfigs& cfgs, LabelSet* labels) {
  for (const auto& c : cfgs) {
    if (!c.Apply(labels)) return false;
  }
  return true;
}

}  // namespace alertd
