#include "notifiers/registry.h"

#include <chrono>

#include "notifiers/email/email.h"
#include "notifiers/metrics.h"
#include "notifiers/pagerduty/pagerduty.h"
#include "notifiers/slack/slack.h"
#include "notifiers/webhook/webhook.h"

namespace alertd::notifiers {
namespace {

// Counts attempts, failures and latency of the notifier it wraps.
class InstrumentedNotifier final : public Notifier {
 public:
  InstrumentedNotifier(std::unique_ptr<Notifier> inner, std::shared_ptr<IntegrationMetrics> m)
      : inner_(std::move(inner)), metrics_(std::move(m)) {}
  std::string_view integration() const override { return inner_->integration(); }
  bool send_resolved() const override { return inner_->send_resolved(); }
  bool wants_acknowledge() const override { return inner_->wants_acknowledge(); }
  NotifyResult Notify(const Notification& n) override {
    const auto start = std::chrono::steady_clock::now();
    NotifyResult r = inner_->Notify(n);
    metrics_->Record(r, std::chrono::steady_clock::now() - start);
    return r;
  }

 private:
  std::unique_ptr<Notifier> inner_;
  std::shared_ptr<IntegrationMetrics> metrics_;
};

template <typename Cfg, typename Factory>
Status AddAll(const config::Receiver& r, const std::vector<Cfg>& cfgs, const char* kind,
              Factory factory, const Deps& deps, std::vector<Integration>* out) {
  for (size_t i = 0; i < cfgs.size(); ++i) {
    auto n = factory(cfgs[i], deps);
    if (!n.ok()) {
      return n.status().WithPrefix("receiver \"" + r.name + "\" " + kind + "[" + std::to_string(i) +
                                   "]");
    }
    std::unique_ptr<Notifier> notifier = std::move(*n);
    if (deps.metrics != nullptr) {
      notifier = std::make_unique<InstrumentedNotifier>(std::move(notifier),
                                                        deps.metrics->For(kind, r.name));
    }
    out->push_back(Integration{r.name, static_cast<int>(i), std::move(notifier)});
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const templating::TemplateSet>> LoadTemplates(const config::Config& cfg) {
  auto set = std::make_shared<templating::TemplateSet>(templating::Dialect::kAlertmanager);
  if (Status s = set->AddDefaults(); !s.ok()) return s;
  for (const auto& pattern : cfg.templates) {
    if (Status s = set->ParseGlob(pattern); !s.ok()) return s;
  }
  return std::shared_ptr<const templating::TemplateSet>(std::move(set));
}

Result<std::vector<Integration>> BuildIntegrations(const config::Receiver& r, const Deps& deps) {
  std::vector<Integration> out;
  // The list of integrations alertd knows. A new one adds a line here.
  Status s = AddAll(r, r.slack_configs, "slack", NewSlackNotifier, deps, &out);
  if (s.ok()) s = AddAll(r, r.email_configs, "email", NewEmailNotifier, deps, &out);
  if (s.ok()) s = AddAll(r, r.webhook_configs, "webhook", NewWebhookNotifier, deps, &out);
  if (s.ok()) s = AddAll(r, r.pagerduty_configs, "pagerduty", NewPagerdutyNotifier, deps, &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace alertd::notifiers
