#include "app/test_receiver.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "notifiers/registry.h"

namespace alertd::app {
namespace {

// "name=value" arguments into a label set; false (with the message on stderr) for a bad one.
bool ParsePairs(const std::vector<std::string>& args, const char* flag, bool names_are_labels,
                LabelSet* out) {
  for (const auto& a : args) {
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (eq == std::string::npos || name.empty() ||
        (names_are_labels && !IsValidLabelName(name))) {
      std::cerr << "alertd test receiver: " << flag << " " << a
                << ": expected name=value with a valid label name\n";
      return false;
    }
    out->Set(name, a.substr(eq + 1));
  }
  return true;
}

}  // namespace

std::string NotificationExternalUrl(const config::Config& cfg) {
  return cfg.evaluation.external_url.empty() ? "http://" + cfg.server.listen
                                             : cfg.evaluation.external_url;
}

Result<std::vector<notifiers::TestOutcome>> TestReceiver(const config::Config& cfg,
                                                         const std::string& receiver,
                                                         const notifiers::TestAlert& alert,
                                                         const std::string& external_url) {
  const config::Receiver* r = nullptr;
  for (const auto& rc : cfg.receivers) {
    if (rc.name == receiver) r = &rc;
  }
  if (r == nullptr) return Status::NotFound(fmt::format("receiver \"{}\" not found", receiver));
  if (r->notifiers.empty()) {
    return Status::InvalidArgument(
        fmt::format("receiver \"{}\" has no integrations: nothing to test", receiver));
  }
  auto templates = notifiers::LoadTemplates(cfg);
  if (!templates.ok()) return templates.status();
  notifiers::Deps deps;
  deps.templates = *templates;
  auto integrations = notifiers::BuildIntegrations(*r, deps);
  if (!integrations.ok()) return integrations.status().WithPrefix("receiver \"" + receiver + "\"");
  const Time now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  const notifiers::Notification n = notifiers::TestNotification(receiver, alert, now, external_url);
  return notifiers::SendTestNotification(*integrations, n);
}

int RunTestReceiver(const TestReceiverOptions& opts) {
  LabelSet labels, annotations;
  if (!ParsePairs(opts.labels, "--label", true, &labels) ||
      !ParsePairs(opts.annotations, "--annotation", false, &annotations)) {
    return 2;
  }
  auto loaded = config::LoadConfigFile(opts.config_path);
  if (!loaded.ok()) {
    std::cerr << loaded.ErrorText();
    return 2;
  }
  const config::Config& cfg = *loaded.config;
  const notifiers::TestAlert alert = notifiers::MakeTestAlert(opts.receiver, labels, annotations);
  auto outcomes = TestReceiver(cfg, opts.receiver, alert, NotificationExternalUrl(cfg));
  if (!outcomes.ok()) {
    std::cerr << "alertd test receiver: " << outcomes.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format("receiver \"{}\": test alert {}\n", opts.receiver, alert.labels.String());
  int failed = 0;
  for (const auto& o : *outcomes) {
    const char* protocol = o.integration == "email" ? "SMTP" : "HTTP";
    const std::string reply = o.http_status ? fmt::format("{} {}", protocol, o.http_status) : "-";
    const auto ms = std::chrono::duration<double, std::milli>(o.latency).count();
    std::string line = fmt::format("{}[{}]\t{}\t{}\t{:.0f} ms", o.integration, o.index,
                                   o.status.ok() ? "sent" : "failed", reply, ms);
    if (!o.status.ok()) {
      ++failed;
      line += "\t" + o.status.message() + (o.retryable ? " (retryable)" : "");
    }
    std::cout << line << "\n";
  }
  return failed ? 1 : 0;
}

}  // namespace alertd::app
