#include "notifiers/test_notification.h"

#include <chrono>

namespace alertd::notifiers {

TestAlert MakeTestAlert(const std::string& receiver, const LabelSet& labels,
                        const LabelSet& annotations) {
  TestAlert t;
  t.labels.Set("alertname", "TestAlert");
  t.labels.Set("instance", "alertd");
  for (const auto& l : labels) t.labels.Set(l.name, l.value);
  t.annotations.Set("summary", "Notification test");
  t.annotations.Set("description",
                    "A test notification alertd sent to check receiver \"" + receiver + "\".");
  for (const auto& a : annotations) t.annotations.Set(a.name, a.value);
  return t;
}

Notification TestNotification(const std::string& receiver, const TestAlert& alert, Time now,
                              const std::string& external_url) {
  Notification n;
  n.receiver = receiver;
  n.group_labels = alert.labels;
  n.group_key = "{}/test:" + alert.labels.String();
  auto a = std::make_shared<Alert>();
  a->labels = alert.labels;
  a->annotations = alert.annotations;
  a->starts_at = now;
  a->updated_at = now;
  n.alerts.push_back(std::move(a));
  n.now = now;
  n.notification_reason = "test notification";
  n.external_url = external_url;
  return n;
}

std::vector<TestOutcome> SendTestNotification(std::vector<Integration>& integrations,
                                              const Notification& n) {
  std::vector<TestOutcome> out;
  for (auto& i : integrations) {
    TestOutcome o;
    o.integration = std::string(i.notifier->integration());
    o.index = i.index;
    const auto start = std::chrono::steady_clock::now();
    NotifyResult r = i.notifier->Notify(n);
    o.latency = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    o.status = r.status;
    o.http_status = r.http_status;
    o.retryable = !r.status.ok() && r.retryable;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace alertd::notifiers
