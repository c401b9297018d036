// The data notification templates see, as Alertmanager's template.Data: .Receiver .Status
// .Alerts (with .Firing/.Resolved) .GroupLabels .CommonLabels .CommonAnnotations .ExternalURL,
// and alertd's .OnCall;
// each alert has .Status .Labels .Annotations .StartsAt .EndsAt .GeneratorURL .Fingerprint;
// label maps have .SortedPairs (alertname first, then by name) .Names .Values .Remove.
//
// Plain value types; RenderNotification is thread-safe (the TemplateSet is shared read-only).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "templating/template.h"
#include "templating/value.h"

namespace alertd::templating {

struct NotificationAlert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  Time starts_at = kZeroTime;
  Time ends_at = kZeroTime;  // kZeroTime for firing alerts, as Alertmanager sends them
  std::string generator_url;
  std::string fingerprint;  // 16 hex digits
};

// alertd: the person an escalation step with `schedule:` pages (config `people`), as
// templates see it: .OnCall.Name .OnCall.Email .OnCall.Slack .OnCall.Phone. Every field is
// empty in other notifications, so a template using it renders "" there.
struct NotificationOnCall {
  std::string name;
  std::string email;
  std::string slack;
  std::string phone;
};

struct NotificationData {
  std::string receiver;
  std::string status;  // "firing" if any alert fires, else "resolved"
  std::vector<NotificationAlert> alerts;
  std::map<std::string, std::string> group_labels;
  std::map<std::string, std::string> common_labels;
  std::map<std::string, std::string> common_annotations;
  std::string external_url;
  NotificationOnCall on_call;  // alertd: .OnCall
};

// Fills status, common_labels and common_annotations from the alerts, as Alertmanager's
// template.Data does (group status firing if any alert is firing; common = intersection).
void ComputeGroupFields(NotificationData& data);

// The template value for `data` (build it once per notification and execute every field of
// the receiver against it).
Value ToValue(const NotificationData& data);
Value ToValue(const NotificationAlert& alert);

// Executes a receiver field text (e.g. `{{ template "slack.default.title" . }}`) against the
// data. Errors do not stop the notification: each failing action is replaced by
// "<error: ...>" in the output, and the ExecResult's status/error_count report them so the
// caller can log and count. Missing map keys render as "" (Alertmanager's missingkey=zero).
// `now` backs Alertmanager's `since` (system clock if empty).
ExecResult RenderNotification(const TemplateSet& set, std::string_view text, const Value& data,
                              std::function<Time()> now = nullptr);
ExecResult RenderNotification(const TemplateSet& set, std::string_view text,
                              const NotificationData& data, std::function<Time()> now = nullptr);

// Parse-once variant: compile the receiver's field texts with TemplateSet::Compile when the
// configuration loads, then render each notification with this.
ExecResult RenderNotification(const CompiledText& text, const Value& data,
                              std::function<Time()> now = nullptr);
// The options notification rendering uses (continue on error, missingkey=zero, `now`). For
// the email `html` field, which Alertmanager renders with html/template, set escape_html too.
ExecOptions NotificationExecOptions(std::function<Time()> now = nullptr);

// Go types of Alertmanager's template data, for tests and for building values by hand.
extern const TypeInfo kKVType;      // template.KV
extern const TypeInfo kPairsType;   // template.Pairs
extern const TypeInfo kAlertsType;  // template.Alerts
extern const TypeInfo kAlertType;   // template.Alert
extern const TypeInfo kDataType;    // *template.Data
extern const TypeInfo kOnCallType;  // alertd's .OnCall

}  // namespace alertd::templating
