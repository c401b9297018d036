// Reading `*_relabel_configs` lists: YAML → alertd::RelabelConfig, as Prometheus's
// relabel.Config.UnmarshalYAML reads them.
#include <charconv>

#include "config/yaml_reader.h"

namespace alertd::config::internal {
namespace {

std::optional<RelabelConfig> ReadOne(const Ctx& c, const YAML::Node& n, const std::string& what) {
  const size_t errors_before = c.error_count();
  MapReader m(c, n, what);
  if (!m.ok()) {
    if (n.IsNull()) c.Error(n, what + ": empty relabel_config");
    return std::nullopt;
  }
  RelabelSpec spec;
  m.Field("source_labels", [&](const YAML::Node& v) {
    spec.source_labels_set = true;
    if (auto l = AsStringList(c, v, what + ": source_labels")) spec.source_labels = std::move(*l);
  });
  m.String("separator", &spec.separator);
  m.Field("regex", [&](const YAML::Node& v) {
    if (auto s = AsString(c, v, what + ": regex")) spec.regex = *s;
  });
  // `regex:` with no value is the empty regex, as in Prometheus (not the default `(.*)`).
  if (m.Has("regex") && m.Get("regex").IsNull()) spec.regex.clear();
  m.Field("modulus", [&](const YAML::Node& v) {
    uint64_t mod = 0;
    const std::string s = v.IsScalar() ? v.Scalar() : std::string();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), mod);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
      c.Error(v, what + ": modulus: expected a non-negative integer");
    } else {
      spec.modulus = mod;
    }
  });
  m.String("target_label", &spec.target_label);
  m.String("replacement", &spec.replacement);
  bool action_ok = true;
  m.Field("action", [&](const YAML::Node& v) {
    auto s = AsString(c, v, what + ": action");
    if (!s) {
      action_ok = false;
      return;
    }
    if (auto a = ParseRelabelAction(*s)) {
      spec.action = *a;
    } else {
      c.Error(v, what + ": unknown relabel action " + GoQuote(*s));
      action_ok = false;
    }
  });
  m.Finish();
  if (!action_ok || c.error_count() != errors_before) return std::nullopt;
  auto r = RelabelConfig::Create(std::move(spec));
  if (!r.ok()) {
    c.Error(n, what + ": " + r.status().message());
    return std::nullopt;
  }
  return std::move(r).value();
}

}  // namespace

std::optional<RelabelConfigs> ReadRelabelConfigs(const Ctx& c, const YAML::Node& n,
                                                 const std::string& what) {
  if (!n.IsSequence()) {
    c.Error(n, what + ": expected a list of relabel configs");
    return std::nullopt;
  }
  RelabelConfigs out;
  bool ok = true;
  for (const auto& item : n) {
    if (auto r = ReadOne(c, item, what)) {
      out.push_back(std::move(*r));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace alertd::config::internal
