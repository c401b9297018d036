#include "notifiers/victorops/victorops.h"

#include <spdlog/spdlog.h>

#include <map>
#include <utility>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

// https://help.victorops.com/knowledge-base/incident-fields-glossary/: 20,480 characters.
constexpr size_t kMaxStateMessageRunes = 20480;

bool IsTriggerType(std::string_view t) { return t == "INFO" || t == "WARNING" || t == "CRITICAL"; }

class VictorOpsNotifier final : public Notifier {
 public:
  VictorOpsNotifier(const VictorOpsConfig& cfg, const Deps& deps,
                    std::unique_ptr<HttpClient> client)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(deps.templates) {
    for (const std::string* s : {&cfg_.routing_key, &cfg_.message_type, &cfg_.state_message,
                                 &cfg_.entity_display_name, &cfg_.monitoring_tool}) {
      fields_.Add(*s);
    }
    for (const auto& [k, v] : cfg_.custom_fields) fields_.Add(v);
  }

  std::string_view integration() const override { return "victorops"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    std::string api_key = cfg_.api_key;
    if (api_key.empty()) {
      auto f = ReadSecretFile(cfg_.api_key_file);
      if (!f.ok()) {
        return NotifyResult{f.status().WithPrefix("victorops: failed to read API key from file"),
                            false, 0};
      }
      api_key = std::move(*f);
    }
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer t(deps_, data, &fields_);
    // The routing key goes into the URL: one that fails to render stops the notification, as
    // in Alertmanager, rather than naming a wrong route.
    const std::string routing_key = t(cfg_.routing_key);
    if (t.errors() > 0) {
      return NotifyResult{
          Status::InvalidArgument("victorops: templating error: " + t.first_error().message()),
          false, 0};
    }
    std::string message_type = t(cfg_.message_type);
    if (data.status == "resolved") {
      message_type = "RECOVERY";
    } else if (!IsTriggerType(message_type)) {
      message_type = "CRITICAL";
    }
    bool truncated = false;
    const std::string state_message =
        internal::TruncateInRunes(t(cfg_.state_message), kMaxStateMessageRunes, &truncated);
    if (truncated) {
      spdlog::warn("notify victorops receiver={} group={}: truncated state_message to {} runes",
                   n.receiver, n.group_key, kMaxStateMessageRunes);
    }
    std::map<std::string, std::string> msg{
        {"message_type", message_type},
        {"entity_id", internal::GroupKeyHash(n.group_key)},
        {"entity_display_name", t(cfg_.entity_display_name)},
        {"state_message", state_message},
        {"monitoring_tool", t(cfg_.monitoring_tool)},
    };
    for (const auto& [k, v] : cfg_.custom_fields) msg[k] = t(v);
    internal::LogTemplateErrors("victorops", n, t);
    HttpRequest req;
    req.url = internal::AppendToUrlPath(cfg_.api_url, api_key + "/" + routing_key);
    req.content_type = "application/json";
    internal::AppendJsonObject(&req.body, msg);
    req.body += '\n';
    req.timeout = internal::AttemptTimeout(n, deps_.timeout);
    NotifyResult out = CheckHttpResponse(client_->Do(req));
    if (!out.status.ok()) out.status = out.status.WithPrefix("victorops");
    return out;
  }

 private:
  const VictorOpsConfig cfg_;  // api_key is a secret, and in the URL: neither is logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const VictorOpsConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("victorops: no templates");
  auto client = HttpClient::Create(cfg.http_config, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("victorops");
  return std::unique_ptr<Notifier>(new VictorOpsNotifier(cfg, deps, std::move(*client)));
}

}  // namespace alertd::notifiers
