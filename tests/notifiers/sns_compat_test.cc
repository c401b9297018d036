// Amazon SNS against a real Alertmanager 0.25 (its AWS SDK): the same Publish form, field for
// field, for the same alerts (a topic with subject and attributes, an SMS number whose message
// is cut, a FIFO topic), firing and resolved, each request carrying a Signature V4 that the
// sink (tests/notifiers/fixtures/http_sink.py) verifies, so alertd's signer is checked by the
// same verifier that accepts the SDK's. Then SNS's refusals, and what the loader refuses.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";  // the sink's

std::string Config(const std::string& sink, const std::string& who) {
  const std::string sigv4 = std::string("    sigv4: {region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: '") +
                            kSecret + "'}\n";
  return R"(
route:
  receiver: aws
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: aws
  sns_configs:
  - api_url: )" + sink + "/sns/" + who + R"(/topic
)" + sigv4 + R"(    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts
    subject: '{{ .CommonLabels.alertname }} is {{ .Status }}'
    attributes: {team: infra, severity: '{{ .CommonLabels.severity }}'}
  - api_url: )" + sink + "/sns/" + who + R"(/sms
)" + sigv4 + R"(    phone_number: '+15555550100'
    message: '{{ range .Alerts }}{{ .Annotations.long }}{{ end }}'
  - api_url: )" + sink + "/sns/" + who + R"(/fifo/
)" + sigv4 + R"(    target_arn: arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/1
    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts.fifo
    phone_number: '+15555550101'
)";
}

json Alerts(const std::string& ends_at) {
  json alerts = json::array({{{"labels", {{"alertname", "DiskFull"}, {"severity", "critical"}}},
                              {"annotations", {{"summary", "disk & full"},
                                               {"long", std::string(1700, 'x')}}},
                              {"startsAt", "2024-01-01T00:00:00Z"},
                              {"generatorURL", "http://prom/graph"}}});
  if (!ends_at.empty()) alerts[0]["endsAt"] = ends_at;
  return alerts;
}

}  // namespace

TEST_CASE("SNS: the same signed Publish as a real Alertmanager's, firing and resolved") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  testsupport::AlertmanagerPeer am(dir, Config(sink.url(), "am"));
  const config::Config cfg = testsupport::LoadConfig(Config(sink.url(), "alertd"), dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 3);

  const std::string resolved_at = testsupport::ResolvedAMinuteAgo();
  const std::vector<std::string> kinds = {"/topic", "/sms", "/fifo"};
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const size_t round = ends_at.empty() ? 1 : 2;
    CAPTURE(round);
    am.Post(Alerts(ends_at));
    REQUIRE_MESSAGE(t::WaitFor(
                        [&] {
                          for (const auto& k : kinds) {
                            if (sink.RequestsTo("/sns/am" + k).size() < round) return false;
                          }
                          return true;
                        },
                        std::chrono::seconds(20)),
                    am.Log());
    Notification n = testsupport::NotificationOf(Alerts(ends_at), "aws",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (const auto& k : kinds) {
      CAPTURE(k);
      auto theirs = sink.RequestsTo("/sns/am" + k);
      auto ours = sink.RequestsTo("/sns/alertd" + k);
      REQUIRE(theirs.size() == round);
      REQUIRE(ours.size() == round);
      CHECK(theirs.back()["errors"].empty());  // the SDK's signature verifies
      CHECK(ours.back()["errors"].empty());    // and so does alertd's
      CHECK(theirs.back()["status"] == 200);
      CHECK(ours.back()["status"] == 200);
      CHECK(ours.back()["body"] == theirs.back()["body"]);
      CHECK(ours.back()["path"].get<std::string>().substr(11) ==
            theirs.back()["path"].get<std::string>().substr(7));
      CHECK(ours.back()["headers"]["content-type"] == theirs.back()["headers"]["content-type"]);
    }
  }
  // The points the comparison rests on, spelled out.
  const std::string topic = sink.RequestsTo("/sns/am/topic")[0]["body"];
  CHECK(topic.find("Subject=DiskFull+is+firing") != std::string::npos);
  CHECK(topic.find("MessageAttributes.entry.1.Name=severity&MessageAttributes.entry.1.Value."
                   "DataType=String&MessageAttributes.entry.1.Value.StringValue=critical") !=
        std::string::npos);
  const std::string sms = sink.RequestsTo("/sns/am/sms")[0]["body"];
  CHECK(sms.find("Message=" + std::string(1600, 'x') + "&") != std::string::npos);
  CHECK(sms.find("StringValue=true") != std::string::npos);  // "truncated"
  const std::string fifo = sink.RequestsTo("/sns/am/fifo")[0]["body"];
  CHECK(fifo.find("MessageGroupId=") != std::string::npos);
}

TEST_CASE("SNS: refusals by status, a wrong key, and what the loader refuses") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  const std::string base = "route: {receiver: aws}\nreceivers:\n- name: aws\n  sns_configs:\n";
  auto entry = [&](const std::string& topic, const std::string& secret) {
    return "  - api_url: " + sink.url() + "/sns/x\n    sigv4: {region: us-east-1, access_key: "
           "AKIDEXAMPLE, secret_key: '" + secret + "'}\n    topic_arn: 'arn:aws:sns:us-east-1:1:" +
           topic + "'\n";
  };
  const config::Config cfg = testsupport::LoadConfig(
      base + entry("missing", kSecret) + entry("broken", kSecret) + entry("ok", "not-the-key"), dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  Notification n = testsupport::NotificationOf(Alerts(""), "aws", LabelSet{{"alertname", "DiskFull"}},
                                               "http://alertd");
  NotifyResult missing = (*ints)[0].notifier->Notify(n);
  CHECK(missing.http_status == 404);
  CHECK(!missing.retryable);
  CHECK(missing.status.message().find("Topic does not exist") != std::string::npos);
  NotifyResult broken = (*ints)[1].notifier->Notify(n);
  CHECK(broken.http_status == 500);
  CHECK(broken.retryable);
  NotifyResult wrong = (*ints)[2].notifier->Notify(n);
  CHECK(wrong.http_status == 403);
  CHECK(!wrong.retryable);
  CHECK(wrong.status.message().find("not-the-key") == std::string::npos);

  struct Bad {
    std::string yaml, error, where;
  };
  const Bad bad[] = {
      {"  - sigv4: {region: r}\n", "must provide either a Target ARN, Topic ARN, or Phone Number", "alertd.yml:5:5:"},
      {"  - {topic_arn: a, phone_number: b}\n", "must provide either a Target ARN", "alertd.yml:5:5:"},
      {"  - topic_arn: a\n    sigv4: {region: r, role_arn: 'arn:aws:iam::1:role/x'}\n",
       "sigv4.role_arn is not supported by alertd", "alertd.yml:6:34:"},
      {"  - topic_arn: a\n    sigv4: {region: r, profile: p}\n", "sigv4.profile is not supported", "alertd.yml:6:33:"},
      {"  - topic_arn: a\n    sigv4: {region: r, access_key: k}\n",
       "must provide a AWS SigV4 Access key and Secret Key", "alertd.yml:6:12:"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.yaml);
    auto r = config::LoadConfigString(base + b.yaml, dir + "/alertd.yml");
    REQUIRE(!r.ok());
    CHECK(r.ErrorText().find(b.error) != std::string::npos);
    CHECK(r.ErrorText().find(b.where) != std::string::npos);
  }
}

}  // namespace alertd::notifiers
