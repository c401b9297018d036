#include "notifiers/slack/slack.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxTitleRunes = 1024;  // Slack's legacy attachment title limit

// Sets j[key] = v unless v is empty (Go's `json:",omitempty"`).
void SetNonEmpty(Json& j, const char* key, std::string v) {
  if (!v.empty()) j[key] = std::move(v);
}

// Every template text of the config, for internal::CompiledFields.
void AddFieldTexts(const SlackConfig& cfg, internal::CompiledFields& f) {
  for (const std::string* s :
       {&cfg.title, &cfg.title_link, &cfg.pretext, &cfg.text, &cfg.fallback, &cfg.callback_id,
        &cfg.image_url, &cfg.thumb_url, &cfg.footer, &cfg.color, &cfg.channel, &cfg.username,
        &cfg.icon_emoji, &cfg.icon_url}) {
    f.Add(*s);
  }
  for (const auto& field : cfg.fields) {
    f.Add(field.title);
    f.Add(field.value);
  }
  for (const auto& a : cfg.actions) {
    for (const std::string* s : {&a.type, &a.text, &a.url, &a.style, &a.name, &a.value}) f.Add(*s);
    if (a.confirm) {
      for (const std::string* s :
           {&a.confirm->text, &a.confirm->title, &a.confirm->ok_text, &a.confirm->dismiss_text}) {
        f.Add(*s);
      }
    }
  }
}

// `fields` (may be null) holds the config's texts already compiled.
std::string BuildPayload(const SlackConfig& cfg, const Deps& deps,
                         const internal::CompiledFields* fields, const Notification& n,
                         int* template_errors) {
  const auto data = internal::MakeTemplateData(n, n.alerts);
  internal::Renderer t(deps, data, fields);
  bool truncated = false;
  std::string title = internal::TruncateInRunes(t(cfg.title), kMaxTitleRunes, &truncated);
  if (truncated) {
    spdlog::warn("notify slack receiver={} group={}: truncated title to {} runes", n.receiver,
                 n.group_key, kMaxTitleRunes);
  }
  const bool ack = n.kind == EventKind::kAcknowledge;

  // Attachment keys in Alertmanager's order and with its omitempty rules.
  Json att = Json::object();
  if (ack) {
    title = internal::TruncateInRunes("Acknowledged by " + n.acknowledged_by + ": " + title,
                                      kMaxTitleRunes);
  }
  SetNonEmpty(att, "title", title);
  SetNonEmpty(att, "title_link", t(cfg.title_link));
  SetNonEmpty(att, "pretext", ack ? std::string() : t(cfg.pretext));
  att["text"] = ack ? n.ack_comment : t(cfg.text);
  att["fallback"] = ack ? title : t(cfg.fallback);
  att["callback_id"] = t(cfg.callback_id);
  if (!cfg.fields.empty() && !ack) {
    Json fields = Json::array();
    for (const auto& f : cfg.fields) {
      Json jf = Json::object();
      SetNonEmpty(jf, "title", t(f.title));
      SetNonEmpty(jf, "value", t(f.value));
      jf["short"] = f.short_.value_or(cfg.short_fields);
      fields.push_back(std::move(jf));
    }
    att["fields"] = std::move(fields);
  }
  if (!cfg.actions.empty() && !ack) {
    Json actions = Json::array();
    for (const auto& a : cfg.actions) {
      Json ja = Json::object();
      SetNonEmpty(ja, "type", t(a.type));
      SetNonEmpty(ja, "text", t(a.text));
      // A URL button carries no message-action fields (Alertmanager clears them on load).
      const bool url_button = !a.url.empty();
      SetNonEmpty(ja, "url", t(a.url));
      SetNonEmpty(ja, "style", t(a.style));
      if (!url_button) {
        SetNonEmpty(ja, "name", t(a.name));
        SetNonEmpty(ja, "value", t(a.value));
        if (a.confirm) {
          Json jc = Json::object();
          SetNonEmpty(jc, "text", t(a.confirm->text));
          SetNonEmpty(jc, "title", t(a.confirm->title));
          SetNonEmpty(jc, "ok_text", t(a.confirm->ok_text));
          SetNonEmpty(jc, "dismiss_text", t(a.confirm->dismiss_text));
          ja["confirm"] = std::move(jc);
        }
      }
      actions.push_back(std::move(ja));
    }
    att["actions"] = std::move(actions);
  }
  SetNonEmpty(att, "image_url", t(cfg.image_url));
  SetNonEmpty(att, "thumb_url", t(cfg.thumb_url));
  att["footer"] = t(cfg.footer);
  SetNonEmpty(att, "color", ack ? std::string("#439FE0") : t(cfg.color));
  const std::vector<std::string> mrkdwn_in =
      cfg.mrkdwn_in.empty() ? std::vector<std::string>{"fallback", "pretext", "text"}
                            : cfg.mrkdwn_in;
  att["mrkdwn_in"] = mrkdwn_in;

  Json req = Json::object();
  SetNonEmpty(req, "channel", t(cfg.channel));
  SetNonEmpty(req, "username", t(cfg.username));
  SetNonEmpty(req, "icon_emoji", t(cfg.icon_emoji));
  SetNonEmpty(req, "icon_url", t(cfg.icon_url));
  if (cfg.link_names) req["link_names"] = true;
  // The Acknowledge button: a Block Kit actions block (Slack shows blocks above the
  // attachments). Its value names the group as PagerDuty's dedup_key does; a click comes back
  // to POST /api/v1/integrations/slack (api/integrations.cc).
  const bool firing = std::any_of(n.alerts.begin(), n.alerts.end(),
                                  [&](const AlertPtr& a) { return !a->ResolvedAt(n.now); });
  if (cfg.ack_button && !ack && firing) {
    Json button = {{"type", "button"},
                   {"action_id", kAckActionId},
                   {"text", {{"type", "plain_text"}, {"text", "Acknowledge"}}},
                   {"style", "primary"},
                   {"value", GroupKeyHash(n.group_key)}};
    req["blocks"] = Json::array(
        {{{"type", "actions"}, {"block_id", kAckActionId}, {"elements", Json::array({button})}}});
  }
  req["attachments"] = Json::array({std::move(att)});
  internal::LogTemplateErrors("slack", n, t);
  if (template_errors != nullptr) *template_errors = t.errors();
  return req.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Slack answers incoming webhooks with the text "ok" and the Web API with {"ok": true}.
NotifyResult CheckSlackBody(const HttpResponse& r) {
  NotifyResult out;
  out.http_status = r.status;
  if (r.content_type.rfind("application/json", 0) == 0) {
    auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      out.status = Status::Unavailable("could not parse Slack's JSON answer");
      out.retryable = true;
    } else if (!j.value("ok", false)) {
      out.status = Status::InvalidArgument("error response from Slack: " +
                                           j.value("error", std::string("unknown")));
    }
    return out;
  }
  if (r.body != "ok") {
    out.status =
        Status::InvalidArgument("received an error response from Slack: " + r.body.substr(0, 512));
  }
  return out;
}

class SlackNotifier final : public Notifier {
 public:
  SlackNotifier(const SlackConfig& cfg, const Deps& deps, std::string url,
                std::unique_ptr<HttpClient> client)
      : cfg_(cfg),
        deps_(deps),
        url_(std::move(url)),
        client_(std::move(client)),
        fields_(deps.templates) {
    AddFieldTexts(cfg_, fields_);
  }

  std::string_view integration() const override { return "slack"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return cfg_.send_acknowledged; }

  NotifyResult Notify(const Notification& n) override {
    HttpRequest req;
    req.url = url_;
    req.content_type = "application/json";
    req.body = BuildPayload(cfg_, deps_, &fields_, n, nullptr);
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    const HttpResponse resp = client_->Do(req);
    NotifyResult out = CheckHttpResponse(resp);
    if (out.status.ok()) out = CheckSlackBody(resp);
    if (!out.status.ok()) {
      out.status = out.status.WithPrefix("channel \"" + cfg_.channel + "\"");
    }
    return out;
  }

 private:
  const SlackConfig cfg_;
  const Deps deps_;
  const std::string url_;  // secret: never logged
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

std::string SlackPayload(const SlackConfig& cfg, const Deps& deps, const Notification& n) {
  return BuildPayload(cfg, deps, nullptr, n, nullptr);
}

Result<std::unique_ptr<Notifier>> NewNotifier(const SlackConfig& cfg,
                                                   const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("slack: no templates");
  std::string url = cfg.api_url;
  if (url.empty()) {
    auto f = ReadSecretFile(cfg.api_url_file);
    if (!f.ok()) return f.status().WithPrefix("slack api_url_file");
    url = *f;
  }
  if (url.empty()) return Status::InvalidArgument("slack: api_url is empty");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("slack");
  return std::unique_ptr<Notifier>(
      new SlackNotifier(cfg, deps, std::move(url), std::move(*client)));
}

}  // namespace alertd::notifiers
