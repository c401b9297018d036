// alertd's default notification templates: the same names, shape and rendered content as
// Alertmanager's template/default.tmpl and template/email.tmpl (see COMPAT.md section 5), so a
// configuration written for Alertmanager produces the same Slack, PagerDuty and email texts.
//
// Defined names: __alertmanager, __alertmanagerURL, __subject, __description,
// __text_alert_list, slack.default.{title,username,fallback,callbackid,pretext,titlelink,
// iconemoji,iconurl,text,footer,color}, pagerduty.default.{description,client,clientURL,
// instances}, email.default.{subject,html}. Users' template files may override any of them.
//
// Constants; thread-safe.
#pragma once

#include <string_view>
#include <utility>

namespace alertd::templating {

// The template text TemplateSet::AddDefaults parses (source name "default.tmpl").
std::string_view DefaultTemplatesText();

// The per-field default texts of receivers (Alertmanager's config/notifiers.go defaults), to be
// executed with TemplateSet::Compile/ExecuteText against NotificationData.
inline constexpr std::string_view kSlackDefaultTitle = R"({{ template "slack.default.title" . }})";
inline constexpr std::string_view kSlackDefaultUsername =
    R"({{ template "slack.default.username" . }})";
inline constexpr std::string_view kSlackDefaultTitleLink =
    R"({{ template "slack.default.titlelink" . }})";
inline constexpr std::string_view kSlackDefaultFallback =
    R"({{ template "slack.default.fallback" . }})";
inline constexpr std::string_view kSlackDefaultText = R"({{ template "slack.default.text" . }})";
inline constexpr std::string_view kSlackDefaultPretext =
    R"({{ template "slack.default.pretext" . }})";
inline constexpr std::string_view kSlackDefaultFooter =
    R"({{ template "slack.default.footer" . }})";
inline constexpr std::string_view kSlackDefaultCallbackId =
    R"({{ template "slack.default.callbackid" . }})";
inline constexpr std::string_view kSlackDefaultIconEmoji =
    R"({{ template "slack.default.iconemoji" . }})";
inline constexpr std::string_view kSlackDefaultIconUrl =
    R"({{ template "slack.default.iconurl" . }})";
// Alertmanager writes this one inline in its config defaults.
inline constexpr std::string_view kSlackDefaultColor =
    R"({{ if eq .Status "firing" }}danger{{ else }}good{{ end }})";

inline constexpr std::string_view kPagerDutyDefaultDescription =
    R"({{ template "pagerduty.default.description" .}})";
inline constexpr std::string_view kPagerDutyDefaultClient =
    R"({{ template "pagerduty.default.client" . }})";
inline constexpr std::string_view kPagerDutyDefaultClientUrl =
    R"({{ template "pagerduty.default.clientURL" . }})";
inline constexpr std::string_view kPagerDutyDefaultSeverity = "error";
// custom_details: key -> template (Alertmanager's DefaultPagerdutyDetails).
inline constexpr std::pair<std::string_view, std::string_view> kPagerDutyDefaultDetails[] = {
    {"firing", R"({{ template "pagerduty.default.instances" .Alerts.Firing }})"},
    {"resolved", R"({{ template "pagerduty.default.instances" .Alerts.Resolved }})"},
    {"num_firing", R"({{ .Alerts.Firing | len }})"},
    {"num_resolved", R"({{ .Alerts.Resolved | len }})"},
};

inline constexpr std::string_view kEmailDefaultSubject =
    R"({{ template "email.default.subject" . }})";
inline constexpr std::string_view kEmailDefaultHtml = R"({{ template "email.default.html" . }})";

}  // namespace alertd::templating
