#include "notifiers/pagerduty/pagerduty.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxEventSize = 512000;
constexpr size_t kMaxSummaryRunes = 1024;
constexpr const char* kTruncatedDetails =
    "Custom details have been removed because the original event exceeds the maximum size of "
    "512kB";
constexpr long kV1RetryCodes[] = {403};
constexpr long kV2RetryCodes[] = {429};  // rate limited: PagerDuty asks for a retry

bool IsV1(const PagerdutyConfig& cfg) {
  return !cfg.service_key.empty() || !cfg.service_key_file.empty();
}

std::string EventAction(const Notification& n) {
  if (n.kind == EventKind::kAcknowledge) return "acknowledge";
  // An acknowledged alert of the group still fires: the incident stays open.
  if (!n.acknowledged.empty()) return "trigger";
  for (const auto& a : n.alerts) {
    if (!a->ResolvedAt(n.now)) return "trigger";
  }
  return "resolve";
}

void SetNonEmpty(Json& j, const char* key, std::string v) {
  if (!v.empty()) j[key] = std::move(v);
}

struct Built {
  std::string body;
  Status error;  // a key that renders empty or fails to render
};

// Every template text of the config (and the key), for internal::CompiledFields.
void AddFieldTexts(const PagerdutyConfig& cfg, const std::string& key,
                   internal::CompiledFields& f) {
  for (const auto& [k, v] : cfg.details) f.Add(v);
  for (const std::string* s : {&cfg.description, &key, &cfg.client, &cfg.client_url, &cfg.source,
                               &cfg.severity, &cfg.class_, &cfg.component, &cfg.group}) {
    f.Add(*s);
  }
  for (const auto& im : cfg.images) {
    for (const std::string* s : {&im.src, &im.alt, &im.href}) f.Add(*s);
  }
  for (const auto& l : cfg.links) {
    f.Add(l.href);
    f.Add(l.text);
  }
}

// `fields` (may be null) holds the config's texts already compiled.
Built Build(const PagerdutyConfig& cfg, const Deps& deps,
            const internal::CompiledFields* fields, const Notification& n, const std::string& key) {
  Built out;
  const auto data = internal::MakeTemplateData(n, n.alerts);
  internal::Renderer t(deps, data, fields);
  const std::string action = EventAction(n);
  const std::string dedup = internal::GroupKeyHash(n.group_key);
  Json details = Json::object();
  for (const auto& [k, v] : cfg.details) details[k] = t(v);
  bool truncated = false;
  const std::string summary =
      internal::TruncateInRunes(t(cfg.description), kMaxSummaryRunes, &truncated);
  if (truncated) {
    spdlog::warn("notify pagerduty receiver={} group={}: truncated summary to {} runes", n.receiver,
                 n.group_key, kMaxSummaryRunes);
  }
  const int key_errors_before = t.errors();
  const std::string rendered_key = t(key);
  if (t.errors() > key_errors_before) {
    out.error = Status::InvalidArgument("failed to template the PagerDuty key");
    return out;
  }
  if (rendered_key.empty()) {
    out.error = Status::InvalidArgument(IsV1(cfg) ? "service key cannot be empty"
                                                  : "routing key cannot be empty");
    return out;
  }

  // Keys in Alertmanager's pagerDutyMessage order; "event_action" and "payload" have no
  // omitempty there, so v1 messages carry them empty/null too.
  Json msg = Json::object();
  if (IsV1(cfg)) {
    msg["service_key"] = rendered_key;
    msg["incident_key"] = dedup;
    msg["event_type"] = action;
    SetNonEmpty(msg, "description", summary);
    msg["event_action"] = "";
    msg["payload"] = nullptr;
    if (action == "trigger") {
      SetNonEmpty(msg, "client", t(cfg.client));
      SetNonEmpty(msg, "client_url", t(cfg.client_url));
    }
    if (!details.empty()) msg["details"] = std::move(details);
  } else {
    msg["routing_key"] = rendered_key;
    msg["dedup_key"] = dedup;
    msg["event_action"] = action;
    Json payload = Json::object();
    payload["summary"] = summary;
    payload["source"] = t(cfg.source.empty() ? cfg.client : cfg.source);
    payload["severity"] = t(cfg.severity.empty() ? std::string("error") : cfg.severity);
    SetNonEmpty(payload, "class", t(cfg.class_));
    SetNonEmpty(payload, "component", t(cfg.component));
    SetNonEmpty(payload, "group", t(cfg.group));
    if (!details.empty()) payload["custom_details"] = std::move(details);
    msg["payload"] = std::move(payload);
    SetNonEmpty(msg, "client", t(cfg.client));
    SetNonEmpty(msg, "client_url", t(cfg.client_url));
    Json images = Json::array();
    for (const auto& im : cfg.images) {
      Json ji = Json::object();
      ji["src"] = t(im.src);
      ji["alt"] = t(im.alt);
      ji["href"] = t(im.href);
      if (!ji["src"].get<std::string>().empty()) images.push_back(std::move(ji));
    }
    Json links = Json::array();
    for (const auto& l : cfg.links) {
      Json jl = Json::object();
      jl["href"] = t(l.href);
      jl["text"] = t(l.text);
      if (!jl["href"].get<std::string>().empty()) links.push_back(std::move(jl));
    }
    if (!images.empty()) msg["images"] = std::move(images);
    if (!links.empty()) msg["links"] = std::move(links);
  }
  internal::LogTemplateErrors("pagerduty", n, t);
  out.body = msg.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  if (out.body.size() > kMaxEventSize) {
    spdlog::warn(
        "notify pagerduty receiver={} group={}: event of {} bytes exceeds {} bytes, "
        "custom details removed",
        n.receiver, n.group_key, out.body.size(), kMaxEventSize);
    Json replacement = Json::object();
    replacement["error"] = kTruncatedDetails;
    if (IsV1(cfg)) {
      msg["details"] = std::move(replacement);
    } else {
      msg["payload"]["custom_details"] = std::move(replacement);
    }
    out.body = msg.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  }
  return out;
}

class PagerdutyNotifier final : public Notifier {
 public:
  PagerdutyNotifier(const PagerdutyConfig& cfg, const Deps& deps, std::string key,
                    std::unique_ptr<HttpClient> client)
      : cfg_(cfg),
        deps_(deps),
        key_(std::move(key)),
        client_(std::move(client)),
        fields_(deps.templates) {
    AddFieldTexts(cfg_, key_, fields_);
  }

  std::string_view integration() const override { return "pagerduty"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return true; }

  NotifyResult Notify(const Notification& n) override {
    Built b = Build(cfg_, deps_, &fields_, n, key_);
    if (!b.error.ok()) return NotifyResult{b.error, false, 0};
    HttpRequest req;
    // Events API v1 has one endpoint: Alertmanager 0.25 posts there whatever `url` says.
    req.url = IsV1(cfg_) ? std::string(kPagerdutyV1Url) : cfg_.url;
    req.content_type = "application/json";
    req.body = std::move(b.body);
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    const HttpResponse resp = client_->Do(req);
    NotifyResult out =
        IsV1(cfg_) ? CheckHttpResponse(resp, kV1RetryCodes) : CheckHttpResponse(resp, kV2RetryCodes);
    if (!out.status.ok()) out.status = out.status.WithPrefix("failed to post message to PagerDuty");
    return out;
  }

 private:
  const PagerdutyConfig cfg_;
  const Deps deps_;
  const std::string key_;  // routing or service key; secret
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

std::string PagerdutyPayload(const PagerdutyConfig& cfg, const Deps& deps,
                             const Notification& n, const std::string& key) {
  return Build(cfg, deps, nullptr, n, key).body;
}

Result<std::unique_ptr<Notifier>> NewNotifier(const PagerdutyConfig& cfg,
                                                       const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("pagerduty: no templates");
  std::string key = IsV1(cfg) ? cfg.service_key : cfg.routing_key;
  const std::string& file = IsV1(cfg) ? cfg.service_key_file : cfg.routing_key_file;
  if (key.empty() && !file.empty()) {
    auto f = ReadSecretFile(file);
    if (!f.ok()) return f.status().WithPrefix("pagerduty key file");
    key = *f;
  }
  if (cfg.url.empty()) return Status::InvalidArgument("pagerduty: url is empty");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("pagerduty");
  return std::unique_ptr<Notifier>(
      new PagerdutyNotifier(cfg, deps, std::move(key), std::move(*client)));
}

}  // namespace alertd::notifiers
