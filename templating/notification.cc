#include "templating/notification.h"

#include <algorithm>

namespace alertd::templating {
namespace {

using Args = std::span<const Value>;

// Alertmanager's KV.SortedPairs: "alertname" first, then the other names sorted.
std::vector<std::pair<std::string, Value>> SortedPairs(const Map& m) {
  std::vector<std::pair<std::string, Value>> out;
  out.reserve(m.size());
  auto it = m.find("alertname");
  if (it != m.end()) out.emplace_back(it->first, it->second);
  for (const auto& [k, v] : m) {
    if (k != "alertname") out.emplace_back(k, v);
  }
  return out;
}

const TypeInfo kPairType{"template.Pair", {}};

Value PairsValue(const Map& m) {
  List l;
  for (auto& [k, v] : SortedPairs(m)) {
    Struct s;
    s.fields.emplace_back("Name", Value(k));
    s.fields.emplace_back("Value", std::move(v));
    l.emplace_back(std::move(s), &kPairType);
  }
  return Value(std::move(l), &kPairsType);
}

Value PairsField(const Value& pairs, std::string_view field) {
  List out;
  for (const auto& p : pairs.as_list()) out.push_back(*p.FindField(field));
  return Value(std::move(out), &kStringListType);
}

const MethodInfo kPairsMethods[] = {
    {"Names", [](const Value& self, Args) -> Result<Value> { return PairsField(self, "Name"); }, 0},
    {"Values", [](const Value& self, Args) -> Result<Value> { return PairsField(self, "Value"); },
     0},
};

const MethodInfo kKVMethods[] = {
    {"SortedPairs",
     [](const Value& self, Args) -> Result<Value> { return PairsValue(self.as_map()); }, 0},
    {"Names",
     [](const Value& self, Args) -> Result<Value> {
       return PairsField(PairsValue(self.as_map()), "Name");
     },
     0},
    {"Values",
     [](const Value& self, Args) -> Result<Value> {
       return PairsField(PairsValue(self.as_map()), "Value");
     },
     0},
    {"Remove",
     [](const Value& self, Args a) -> Result<Value> {
       if (a[0].kind() != Value::Kind::kList) {
         return Status::InvalidArgument("wrong type for value; expected []string; got " +
                                        std::string(a[0].TypeName()));
       }
       Map out = self.as_map();
       for (const auto& k : a[0].as_list()) {
         if (k.kind() == Value::Kind::kString) out.erase(k.as_string());
       }
       return Value(std::move(out), &kKVType);
     },
     1},
};

Value FilterAlerts(const Value& self, std::string_view status) {
  List out;
  for (const auto& a : self.as_list()) {
    const Value* s = a.FindField("Status");
    if (s != nullptr && s->kind() == Value::Kind::kString && s->as_string() == status) {
      out.push_back(a);
    }
  }
  return Value(std::move(out), &kAlertsType);
}

const MethodInfo kAlertsMethods[] = {
    {"Firing",
     [](const Value& self, Args) -> Result<Value> { return FilterAlerts(self, "firing"); }, 0},
    {"Resolved",
     [](const Value& self, Args) -> Result<Value> { return FilterAlerts(self, "resolved"); }, 0},
};

Value TimeValueOf(Time t) {
  TimeValue tv;
  tv.t = t;
  return Value(std::move(tv));
}

}  // namespace

const TypeInfo kKVType{"template.KV", kKVMethods, true};
const TypeInfo kPairsType{"template.Pairs", kPairsMethods};
const TypeInfo kAlertsType{"template.Alerts", kAlertsMethods};
const TypeInfo kAlertType{"template.Alert", {}};
const TypeInfo kDataType{"*template.Data", {}, false, true};
const TypeInfo kOnCallType{"oncall.Person", {}};

void ComputeGroupFields(NotificationData& data) {
  data.status = "resolved";
  for (const auto& a : data.alerts) {
    if (a.status == "firing") data.status = "firing";
  }
  data.common_labels.clear();
  data.common_annotations.clear();
  if (data.alerts.empty()) return;
  data.common_labels = data.alerts[0].labels;
  data.common_annotations = data.alerts[0].annotations;
  for (size_t i = 1; i < data.alerts.size(); ++i) {
    auto intersect = [](std::map<std::string, std::string>& common,
                        const std::map<std::string, std::string>& other) {
      for (auto it = common.begin(); it != common.end();) {
        auto o = other.find(it->first);
        if (o == other.end() || o->second != it->second) {
          it = common.erase(it);
        } else {
          ++it;
        }
      }
    };
    intersect(data.common_labels, data.alerts[i].labels);
    intersect(data.common_annotations, data.alerts[i].annotations);
  }
}

Value ToValue(const NotificationAlert& a) {
  Struct s;
  s.fields.reserve(7);
  s.fields.emplace_back("Status", Value(a.status));
  s.fields.emplace_back("Labels", Value::StringMap(a.labels, &kKVType));
  s.fields.emplace_back("Annotations", Value::StringMap(a.annotations, &kKVType));
  s.fields.emplace_back("StartsAt", TimeValueOf(a.starts_at));
  s.fields.emplace_back("EndsAt", TimeValueOf(a.ends_at));
  s.fields.emplace_back("GeneratorURL", Value(a.generator_url));
  s.fields.emplace_back("Fingerprint", Value(a.fingerprint));
  return Value(std::move(s), &kAlertType);
}

Value ToValue(const NotificationData& d) {
  List alerts;
  alerts.reserve(d.alerts.size());
  for (const auto& a : d.alerts) alerts.push_back(ToValue(a));
  Struct s;
  s.fields.reserve(8);
  s.fields.emplace_back("Receiver", Value(d.receiver));
  s.fields.emplace_back("Status", Value(d.status));
  s.fields.emplace_back("Alerts", Value(std::move(alerts), &kAlertsType));
  s.fields.emplace_back("GroupLabels", Value::StringMap(d.group_labels, &kKVType));
  s.fields.emplace_back("CommonLabels", Value::StringMap(d.common_labels, &kKVType));
  s.fields.emplace_back("CommonAnnotations", Value::StringMap(d.common_annotations, &kKVType));
  s.fields.emplace_back("ExternalURL", Value(d.external_url));
  Struct oc;
  oc.fields.reserve(4);
  oc.fields.emplace_back("Name", Value(d.on_call.name));
  oc.fields.emplace_back("Email", Value(d.on_call.email));
  oc.fields.emplace_back("Slack", Value(d.on_call.slack));
  oc.fields.emplace_back("Phone", Value(d.on_call.phone));
  s.fields.emplace_back("OnCall", Value(std::move(oc), &kOnCallType));
  return Value(std::move(s), &kDataType);
}

ExecOptions NotificationExecOptions(std::function<Time()> now) {
  ExecOptions opts;
  opts.continue_on_error = true;
  // Alertmanager parses its templates with Option("missingkey=zero"): a missing label is "".
  opts.missing_key = MissingKey::kZero;
  opts.env.now = std::move(now);
  return opts;
}

ExecResult RenderNotification(const CompiledText& text, const Value& data,
                              std::function<Time()> now) {
  return text.Execute(data, NotificationExecOptions(std::move(now)));
}

ExecResult RenderNotification(const TemplateSet& set, std::string_view text, const Value& data,
                              std::function<Time()> now) {
  auto compiled = set.Compile("text", text);
  if (!compiled.ok()) {
    // The text itself is broken (config validation should have caught it): send its error.
    ExecResult r;
    r.status = compiled.status();
    r.error_count = 1;
    r.output = "<error: " + compiled.status().message() + ">";
    return r;
  }
  return compiled->Execute(data, NotificationExecOptions(std::move(now)));
}

ExecResult RenderNotification(const TemplateSet& set, std::string_view text,
                              const NotificationData& data, std::function<Time()> now) {
  return RenderNotification(set, text, ToValue(data), std::move(now));
}

}  // namespace alertd::templating
