#include "notifiers/registry.h"

#include <chrono>
#include <map>
#include <string>

#include "notifiers/integrations.h"
#include "notifiers/metrics.h"

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

// Builds the notifier of `cfg` if it is a T (the first T of the list that matches).
template <typename T, typename... Rest>
Result<std::unique_ptr<Notifier>> Build(NotifierList<T, Rest...>, const config::NotifierConfig& cfg,
                                        const Deps& deps) {
  if (const auto* t = dynamic_cast<const T*>(&cfg)) return NewNotifier(*t, deps);
  if constexpr (sizeof...(Rest) > 0) {
    return Build(NotifierList<Rest...>{}, cfg, deps);
  } else {
    return Status::Internal("integration \"" + std::string(cfg.kind()) + "\" is not built by alertd");
  }
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
  std::map<std::string, int, std::less<>> index;  // position within its kind
  for (const auto& cfg : r.notifiers) {
    const std::string kind(cfg->kind());
    const int i = index[kind]++;
    auto n = Build(AllNotifiers{}, *cfg, deps);
    if (!n.ok()) {
      return n.status().WithPrefix("receiver \"" + r.name + "\" " + kind + "[" + std::to_string(i) + "]");
    }
    std::unique_ptr<Notifier> notifier = std::move(*n);
    if (deps.metrics != nullptr) {
      notifier = std::make_unique<InstrumentedNotifier>(std::move(notifier),
                                                        deps.metrics->For(kind, r.name));
    }
    out.push_back(Integration{r.name, i, std::move(notifier)});
  }
  return out;
}

}  // namespace alertd::notifiers
