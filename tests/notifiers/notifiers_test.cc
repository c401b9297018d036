// Unit and delivery tests of the notifiers against the local HTTP sink (fixtures/http_sink.py):
// payload shapes, schemas, retry classification, timeouts, secrets and metrics.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "notifiers/common.h"
#include "notifiers/email/email.h"
#include "notifiers/http_result.h"
#include "notifiers/metrics.h"
#include "notifiers/pagerduty/pagerduty.h"
#include "notifiers/registry.h"
#include "notifiers/slack/slack.h"
#include "notifiers/webhook/webhook.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
using testsupport::DiskFullNotification;
using testsupport::HttpSink;
using testsupport::MakeAlert;
using testsupport::T;
using testsupport::TestDeps;

const Time kNow = T("2024-01-01T01:00:00Z");

TEST_CASE("CheckHttpResponse classifies like Alertmanager 0.25's Retrier: 5xx, plus the integration's codes") {
  struct Row {
    const char* name;
    long status;
    bool transport_error;
    bool ok;
    bool retryable;
  };
  const Row rows[] = {
      {"200 delivered", 200, false, true, false},
      {"202 delivered", 202, false, true, false},
      {"400 final", 400, false, false, false},
      {"401 final", 401, false, false, false},
      {"404 final", 404, false, false, false},
      {"429 final unless the integration retries it", 429, false, false, false},
      {"500 retried", 500, false, false, true},
      {"503 retried", 503, false, false, true},
      {"302 not followed is final", 302, false, false, false},
      {"connection refused retried", 0, true, false, true},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    notifiers::HttpResponse r;
    r.status = row.status;
    r.body = "boom";
    if (row.transport_error) r.transport = Status::Unavailable("Connection refused");
    NotifyResult res = CheckHttpResponse(r);
    CHECK(res.status.ok() == row.ok);
    CHECK(res.retryable == row.retryable);
    if (!row.ok && !row.transport_error) {
      CHECK(res.status.message() ==
            "unexpected status code " + std::to_string(row.status) + ": boom");
      CHECK(res.http_status == row.status);
    }
  }
  const long v1[] = {403};
  notifiers::HttpResponse forbidden;
  forbidden.status = 403;
  CHECK(CheckHttpResponse(forbidden, v1).retryable);
  CHECK_FALSE(CheckHttpResponse(forbidden).retryable);
  const long v2[] = {429};  // PagerDuty Events API v2
  notifiers::HttpResponse limited;
  limited.status = 429;
  CHECK(CheckHttpResponse(limited, v2).retryable);
  CHECK_FALSE(CheckHttpResponse(limited, v1).retryable);
}

TEST_CASE("helpers: truncation, group key hash, QuoteMeta") {
  bool cut = false;
  CHECK(internal::TruncateInRunes("abc", 3, &cut) == "abc");
  CHECK_FALSE(cut);
  CHECK(internal::TruncateInRunes("abcdef", 4, &cut) == "abc\xE2\x80\xA6");
  CHECK(cut);
  CHECK(internal::TruncateInRunes("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4) ==
        "\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x80\xA6");  // runes, not bytes
  CHECK(internal::TruncateInRunes("abcdef", 2) == "ab");
  // Bytes (Webex): the marker's 3 bytes count, and no rune is cut in half.
  CHECK(internal::TruncateInBytes("abcdef", 6, &cut) == "abcdef");
  CHECK_FALSE(cut);
  CHECK(internal::TruncateInBytes("abcdefg", 6, &cut) == "abc\xE2\x80\xA6");
  CHECK(cut);
  CHECK(internal::TruncateInBytes("a\xC3\xA9\xC3\xA9\xC3\xA9", 6) == "a\xC3\xA9\xE2\x80\xA6");
  CHECK(internal::TruncateInBytes("a\xC3\xA9\xC3\xA9\xC3\xA9", 5) == "a\xE2\x80\xA6");  // not "a\xC3"
  CHECK(internal::TruncateInBytes("abcdef", 3) == "\xE2\x80\xA6");
  CHECK(internal::TruncateInBytes("abcdef", 2) == "..");
  // Go's `u.Path += suffix` on an api_url whose path Alertmanager ended with "/".
  CHECK(internal::AppendToUrlPath("https://api.opsgenie.com/", "v2/alerts") ==
        "https://api.opsgenie.com/v2/alerts");
  CHECK(internal::AppendToUrlPath("https://api.opsgenie.com", "v2/alerts") ==
        "https://api.opsgenie.com/v2/alerts");
  CHECK(internal::AppendToUrlPath("http://h/p?x=1#f", "k/team a?%") == "http://h/p/k/team%20a%3F%25?x=1#f");
  CHECK(internal::AppendToUrlPath("http://h/", "a-b_c.d~$&+,:;=@") == "http://h/a-b_c.d~$&+,:;=@");
  // sha256 of the group key (python3 -c 'import
  // hashlib;print(hashlib.sha256(b"{}:{alertname=\"DiskFull\"}").hexdigest())')
  CHECK(internal::GroupKeyHash("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(internal::GroupKeyHash("{}:{alertname=\"DiskFull\"}") ==
        "17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41");
  CHECK(internal::QuoteMeta("team.a+b") == "team\\.a\\+b");
  CHECK(internal::QuoteMeta("team-a") == "team-a");
}

TEST_CASE("email encoders") {
  struct QpRow {
    const char* name;
    std::string in;
    std::string out;
  };
  const QpRow qp[] = {
      {"plain", "hello world", "hello world"},
      {"equals sign", "a=b", "a=3Db"},
      {"utf-8", "caf\xC3\xA9", "caf=C3=A9"},
      {"newline becomes CRLF", "a\nb", "a\r\nb"},
      {"trailing space encoded", "a \nb", "a=20\r\nb"},
      {"soft break at 76", std::string(80, 'x'),
       std::string(75, 'x') + "=\r\n" + std::string(5, 'x')},
  };
  for (const auto& row : qp) {
    INFO(row.name);
    CHECK(internal::QuotedPrintable(row.in) == row.out);
  }
  CHECK(internal::QEncodeHeader("[FIRING:1] DiskFull") == "[FIRING:1] DiskFull");
  CHECK(internal::QEncodeHeader("caf\xC3\xA9 ok") == "=?utf-8?q?caf=C3=A9_ok?=");

  struct AddrRow {
    const char* name;
    const char* in;
    std::vector<std::string> out;
    bool ok;
  };
  const AddrRow addrs[] = {
      {"bare", "a@x.org", {"a@x.org"}, true},
      {"list", "a@x.org, b@y.org", {"a@x.org", "b@y.org"}, true},
      {"display names", "\"Ops, Team\" <ops@x.org>, Bob <b@y.org>", {"ops@x.org", "b@y.org"}, true},
      {"no at sign", "nobody", {}, false},
      {"empty", "", {}, false},
      {"whitespace around entries is dropped", " a@x.org\r\n,\tb@y.org ", {"a@x.org", "b@y.org"},
       true},
      // A label value rendered into `to` must not end the RCPT TO command and start another.
      {"CRLF then an SMTP command", "a@x.org\r\nRCPT\tTO:<evil@z.org>", {}, false},
      {"CRLF in angle brackets", "Ops <a@x.org\r\nDATA>", {}, false},
      {"LF in the local part", "a\n@x.org", {}, false},
      {"CR in the domain", "a@x\r.org", {}, false},
      {"DEL", "a\x7f@x.org", {}, false},
      {"tab inside the address", "a\t@x.org", {}, false},
      {"CRLF in the display name", "\"Ops\r\nBcc: evil@z.org\" <a@x.org>", {}, false},
  };
  for (const auto& row : addrs) {
    INFO(row.name);
    auto r = internal::ParseAddressList(row.in);
    CHECK(r.ok() == row.ok);
    if (r.ok()) CHECK(*r == row.out);
  }
  CHECK_FALSE(internal::ParseAddressList(std::string_view("a@x.org\0b", 9)).ok());
}

TEST_CASE("webhook payload: version 4, max_alerts truncation and ack keys") {
  Notification n = DiskFullNotification("team.x", kNow);
  // A resolved third alert, last in the router's order.
  n.alerts.push_back(MakeAlert({{"alertname", "DiskFull"}, {"instance", "c"}}, {},
                               T("2024-01-01T00:00:00Z"), T("2024-01-01T00:30:00Z")));
  struct Row {
    const char* name;
    uint64_t max_alerts;
    size_t sent;
    uint64_t truncated;
    const char* status;
  };
  const Row rows[] = {
      {"all alerts", 0, 3, 0, "firing"},
      {"max 2 keeps the first two", 2, 2, 1, "firing"},
      {"max 5 keeps all", 5, 3, 0, "firing"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    json j = json::parse(WebhookPayload(n, row.max_alerts));
    CHECK(j["version"] == "4");
    CHECK(j["groupKey"] == "{}:{alertname=\"DiskFull\"}");
    CHECK(j["receiver"] == "team\\.x");  // Alertmanager's regexp.QuoteMeta
    CHECK(j["status"] == row.status);
    CHECK(j["alerts"].size() == row.sent);
    CHECK(j["truncatedAlerts"] == row.truncated);
    CHECK(j["notification_reason"] == "first notification");
    CHECK(j["externalURL"] == "http://alertd.example:9093");
    CHECK(j["groupLabels"] == json{{"alertname", "DiskFull"}});
    CHECK_FALSE(j.contains("acknowledgedBy"));
    const json& a0 = j["alerts"][0];
    CHECK(a0["fingerprint"] == n.alerts[0]->labels.FingerprintHex());
    CHECK(a0["endsAt"] == "0001-01-01T00:00:00Z");
    CHECK(a0["startsAt"] == "2024-01-01T00:00:00Z");
    CHECK(a0["status"] == "firing");
  }
  json two = json::parse(WebhookPayload(n, 2));
  CHECK(two["commonLabels"] ==
        json{{"alertname", "DiskFull"}, {"severity", "critical"}});  // over the kept two
  CHECK(two["commonAnnotations"] == json{{"runbook", "http://runbooks/disk"}});
  json all = json::parse(WebhookPayload(n, 0));
  CHECK(all["alerts"][2]["status"] == "resolved");
  CHECK(all["alerts"][2]["endsAt"] == "2024-01-01T00:30:00Z");
  CHECK(all["commonLabels"] == json{{"alertname", "DiskFull"}});

  n.kind = EventKind::kAcknowledge;
  n.acknowledged_by = "alice";
  n.ack_comment = "on it";
  json ack = json::parse(WebhookPayload(n, 0));
  CHECK(ack["status"] == "firing");
  CHECK(ack["acknowledgedBy"] == "alice");
  CHECK(ack["ackComment"] == "on it");
}

TEST_CASE("webhook payload: strings escaped as Go's json.Encoder escapes them") {
  Notification n = DiskFullNotification("team", kNow);
  n.alerts.resize(1);
  n.alerts[0] = MakeAlert({{"alertname", "DiskFull"}, {"q", "a<b>&\"c\"\\\n\t\x01"}},
                          {{"u", "caf\xC3\xA9 \xE2\x80\xA8 \xE2\x80\xA9 bad\xFF"}},
                          T("2024-01-01T00:00:00Z"), kZeroTime);
  const std::string body = WebhookPayload(n, 0);
  // Go's encoder escapes HTML characters and the JavaScript line separators.
  CHECK(body.find(R"("q":"a\u003cb\u003e\u0026\"c\"\\\n\t\u0001")") != std::string::npos);
  CHECK(body.find("caf\xC3\xA9 \\u2028 \\u2029 bad\xEF\xBF\xBD\"") != std::string::npos);
  CHECK(body.back() == '\n');
  json j = json::parse(body);
  CHECK(j["alerts"][0]["labels"]["q"] == "a<b>&\"c\"\\\n\t\x01");
  CHECK(j["alerts"][0]["annotations"]["u"] ==
        "caf\xC3\xA9 \xE2\x80\xA8 \xE2\x80\xA9 bad\xEF\xBF\xBD");
  CHECK(j["commonLabels"]["q"] == "a<b>&\"c\"\\\n\t\x01");
}

TEST_CASE("webhook delivery: retries, final 4xx, timeout, secrets and metrics") {
  HttpSink sink;
  Deps deps = TestDeps();
  NotificationMetrics metrics;
  deps.metrics = &metrics;
  const Notification n = DiskFullNotification("team", kNow);

  auto build = [&](const std::string& url, Duration timeout) {
    config::Receiver r;
    r.name = "team";
    WebhookConfig w;
    w.url = url;
    w.timeout = timeout;
    r.notifiers.push_back(std::make_shared<WebhookConfig>(w));
    auto ints = BuildIntegrations(r, deps);
    REQUIRE(ints.ok());
    REQUIRE(ints->size() == 1);
    return std::move((*ints)[0].notifier);
  };

  SUBCASE("500 twice then 200: delivered exactly once by a retry loop") {
    auto notifier = build(sink.url() + "/flaky/webhook", Duration(0));
    int attempts = 0;
    NotifyResult r;
    for (; attempts < 5; ++attempts) {
      r = notifier->Notify(n);
      if (r.status.ok() || !r.retryable) break;
    }
    CHECK(r.status.ok());
    CHECK(attempts == 2);  // index of the successful attempt
    auto reqs = sink.RequestsTo("/flaky/webhook");
    REQUIRE(reqs.size() == 3);
    int delivered = 0;
    for (const auto& q : reqs) delivered += q["status"] == 200 ? 1 : 0;
    CHECK(delivered == 1);
    CHECK(reqs[2]["headers"]["content-type"] == "application/json");
    auto snap = metrics.Snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].integration == "webhook");
    CHECK(snap[0].metrics->attempts == 3);
    CHECK(snap[0].metrics->failures == 2);
    CHECK(snap[0].metrics->failures_server == 2);
    std::string text;
    metrics.WritePrometheusText(&text);
    CHECK(text.find("alertd_notifications_total{integration=\"webhook\",receiver=\"team\"} 3") !=
          std::string::npos);
    CHECK(text.find("alertd_notification_latency_seconds_count{integration=\"webhook\",receiver="
                    "\"team\"} 3") != std::string::npos);
  }

  SUBCASE("400 is final") {
    auto notifier = build(sink.url() + "/bad/webhook", Duration(0));
    NotifyResult r = notifier->Notify(n);
    CHECK_FALSE(r.status.ok());
    CHECK_FALSE(r.retryable);
    CHECK(r.http_status == 400);
    CHECK(metrics.Snapshot()[0].metrics->failures_client == 1);
  }

  SUBCASE("a hanging receiver times out within its timeout and is retryable") {
    auto notifier = build(sink.url() + "/hang/webhook", std::chrono::milliseconds(700));
    const auto start = std::chrono::steady_clock::now();
    NotifyResult r = notifier->Notify(n);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(r.status.ok());
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.retryable);
    CHECK(took >= std::chrono::milliseconds(650));
    CHECK(took < std::chrono::milliseconds(3000));
  }

  SUBCASE("a hanging receiver does not delay another one") {
    auto slow = build(sink.url() + "/hang/slow", std::chrono::seconds(3));
    auto fast = build(sink.url() + "/ok/fast", Duration(0));
    std::thread t([&] { (void)slow->Notify(n); });
    // Wait until the slow request is in flight, then deliver through the other notifier.
    REQUIRE(alertd::testing::WaitFor([&] { return !sink.RequestsTo("/hang/slow").empty(); },
                                     std::chrono::seconds(3)));
    const auto start = std::chrono::steady_clock::now();
    CHECK(fast->Notify(n).status.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(sink.RequestsTo("/ok/fast").size() == 1);
    t.join();
  }

  SUBCASE("connection refused is retryable and the URL stays secret") {
    const int closed = alertd::testing::FreePort();
    auto notifier =
        build("http://127.0.0.1:" + std::to_string(closed) + "/hooks/SECRET-TOKEN", Duration(0));
    NotifyResult r = notifier->Notify(n);
    CHECK_FALSE(r.status.ok());
    CHECK(r.retryable);
    CHECK(r.status.message().find("SECRET-TOKEN") == std::string::npos);
  }

  SUBCASE("url_file is read when the notifier is built, so a rebuild picks up a new URL") {
    const std::string file = sink.dir() + "/url";
    alertd::testing::WriteFile(file, sink.url() + "/ok/first\n");
    config::Receiver r;
    r.name = "team";
    WebhookConfig w;
    w.url_file = file;
    r.notifiers.push_back(std::make_shared<WebhookConfig>(w));
    auto first = BuildIntegrations(r, deps);
    REQUIRE(first.ok());
    alertd::testing::WriteFile(file, sink.url() + "/ok/second\n");
    CHECK((*first)[0].notifier->Notify(n).status.ok());
    auto second = BuildIntegrations(r, deps);
    REQUIRE(second.ok());
    CHECK((*second)[0].notifier->Notify(n).status.ok());
    CHECK(sink.RequestsTo("/ok/first").size() == 1);
    CHECK(sink.RequestsTo("/ok/second").size() == 1);
    // An unreadable file fails the build, naming the file but nothing secret.
    w.url_file = sink.dir() + "/missing";
    r.notifiers = {std::make_shared<WebhookConfig>(w)};
    auto bad = BuildIntegrations(r, deps);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("receiver \"team\" webhook[0]") != std::string::npos);
  }
}

TEST_CASE("http_config: basic auth and bearer token from a file") {
  HttpSink sink;
  Deps deps = TestDeps();
  const Notification n = DiskFullNotification("team", kNow);
  WebhookConfig w;
  w.url = sink.url() + "/ok/auth";
  SUBCASE("basic_auth") {
    w.http_config.basic_auth = config::BasicAuth{"user", "", "pa55", ""};
    auto notifier = NewNotifier(w, deps);
    REQUIRE(notifier.ok());
    CHECK((*notifier)->Notify(n).status.ok());
    auto reqs = sink.RequestsTo("/ok/auth");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0]["headers"]["authorization"] == "Basic dXNlcjpwYTU1");
  }
  SUBCASE("bearer_token_file") {
    alertd::testing::WriteFile(sink.dir() + "/token", "tok-123\n");
    w.http_config.authorization = config::Authorization{"Bearer", "", sink.dir() + "/token"};
    auto notifier = NewNotifier(w, deps);
    REQUIRE(notifier.ok());
    CHECK((*notifier)->Notify(n).status.ok());
    auto reqs = sink.RequestsTo("/ok/auth");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0]["headers"]["authorization"] == "Bearer tok-123");
  }
}

TEST_CASE("slack: payload passes the sink's schema check and matches Alertmanager's shape") {
  HttpSink sink;
  Deps deps = TestDeps();
  SlackConfig s;
  s.api_url = sink.url() + "/slack/x";
  s.channel = "#alerts";
  s.fields.push_back({"Severity", "{{ .CommonLabels.severity }}", std::nullopt});
  s.actions.push_back({"button", "Runbook", "{{ .CommonAnnotations.runbook }}", "", "", "", {}});
  auto notifier = NewNotifier(s, deps);
  REQUIRE(notifier.ok());
  Notification n = DiskFullNotification("team", kNow);
  NotifyResult r = (*notifier)->Notify(n);
  INFO(r.status.ToString());
  CHECK(r.status.ok());
  auto reqs = sink.RequestsTo("/slack/x");
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0]["errors"].empty());
  json body = json::parse(reqs[0]["body"].get<std::string>());
  CHECK(body["channel"] == "#alerts");
  CHECK(body["username"] == "Alertmanager");
  REQUIRE(body["attachments"].size() == 1);
  const json& att = body["attachments"][0];
  CHECK(att["title"] == "[FIRING:2] DiskFull (critical)");  // __subject, as Alertmanager renders it
  CHECK(att["color"] == "danger");
  CHECK(att["title_link"] == "http://alertd.example:9093/#/alerts?receiver=team");
  CHECK(att["fallback"] ==
        "[FIRING:2] DiskFull (critical) | http://alertd.example:9093/#/alerts?receiver=team");
  CHECK(att["mrkdwn_in"] == json{"fallback", "pretext", "text"});
  CHECK(att["fields"] == json::parse(R"([{"title":"Severity","value":"critical","short":false}])"));
  CHECK(att["actions"] ==
        json::parse(R"([{"type":"button","text":"Runbook","url":"http://runbooks/disk"}])"));
  CHECK(att["text"] == "");
  CHECK(att["footer"] == "");
  CHECK(att["callback_id"] == "");
  CHECK_FALSE(att.contains("pretext"));

  SUBCASE("title truncated to 1024 runes") {
    SlackConfig long_title = s;
    long_title.title = std::string(1100, 'x');
    json p = json::parse(SlackPayload(long_title, deps, n));
    CHECK(p["attachments"][0]["title"] == std::string(1023, 'x') + "\xE2\x80\xA6");
  }
  SUBCASE("resolved colour and acknowledgement notice") {
    Notification resolved = n;
    for (auto& a : resolved.alerts) {
      auto copy = std::make_shared<Alert>(*a);
      copy->ends_at = T("2024-01-01T00:30:00Z");
      a = copy;
    }
    json p = json::parse(SlackPayload(s, deps, resolved));
    CHECK(p["attachments"][0]["color"] == "good");
    CHECK(p["attachments"][0]["title"] == "[RESOLVED] DiskFull (critical)");
    Notification ack = n;
    ack.kind = EventKind::kAcknowledge;
    ack.acknowledged_by = "alice";
    ack.ack_comment = "looking";
    json a = json::parse(SlackPayload(s, deps, ack));
    CHECK(a["attachments"][0]["title"] == "Acknowledged by alice: [FIRING:2] DiskFull (critical)");
    CHECK(a["attachments"][0]["text"] == "looking");
  }
  SUBCASE("ack_button adds an Acknowledge button naming the group, for firing alerts only") {
    SlackConfig with_button = s;
    with_button.ack_button = true;
    auto b = NewNotifier(with_button, deps);
    REQUIRE(b.ok());
    REQUIRE((*b)->Notify(n).status.ok());
    auto sent = sink.RequestsTo("/slack/x");
    REQUIRE(sent.size() == 2);
    CHECK(sent[1]["errors"].empty());  // Block Kit limits checked by the sink
    json p = json::parse(sent[1]["body"].get<std::string>());
    REQUIRE(p["blocks"].size() == 1);
    const json& block = p["blocks"][0];
    CHECK(block["type"] == "actions");
    CHECK(block["block_id"] == "alertd_ack");
    const json& button = block["elements"][0];
    CHECK(button["type"] == "button");
    CHECK(button["action_id"] == "alertd_ack");
    CHECK(button["text"]["text"] == "Acknowledge");
    CHECK(button["value"] == GroupKeyHash(n.group_key));  // PagerDuty's dedup_key too
    CHECK(p["attachments"].size() == 1);  // the attachment is unchanged
    // Without the option, no blocks (Alertmanager's payload).
    CHECK_FALSE(json::parse(SlackPayload(s, deps, n)).contains("blocks"));
    // Nothing to acknowledge in a resolved notification or an acknowledgement notice.
    Notification resolved = n;
    for (auto& a : resolved.alerts) {
      auto copy = std::make_shared<Alert>(*a);
      copy->ends_at = T("2024-01-01T00:30:00Z");
      a = copy;
    }
    CHECK_FALSE(json::parse(SlackPayload(with_button, deps, resolved)).contains("blocks"));
    Notification ack = n;
    ack.kind = EventKind::kAcknowledge;
    ack.acknowledged_by = "alice";
    CHECK_FALSE(json::parse(SlackPayload(with_button, deps, ack)).contains("blocks"));
  }
  SUBCASE("an error answer from Slack is final") {
    SlackConfig bad = s;
    bad.api_url = sink.url() + "/bad/slack";
    auto b = NewNotifier(bad, deps);
    REQUIRE(b.ok());
    NotifyResult br = (*b)->Notify(n);
    CHECK_FALSE(br.status.ok());
    CHECK_FALSE(br.retryable);
    CHECK(br.status.message().find("channel \"#alerts\"") == 0);
  }
}

TEST_CASE("pagerduty: trigger, resolve and acknowledge pass the Events API v2 schema") {
  HttpSink sink;
  Deps deps = TestDeps();
  PagerdutyConfig p;
  p.routing_key = "rk-123";
  p.url = sink.url() + "/pd/x";
  p.images.push_back({"http://img/x.png", "graph", ""});
  p.links.push_back({"{{ .CommonAnnotations.runbook }}", "runbook"});
  p.links.push_back({"", "dropped: empty href"});
  auto notifier = NewNotifier(p, deps);
  REQUIRE(notifier.ok());
  CHECK((*notifier)->wants_acknowledge());
  Notification firing = DiskFullNotification("team", kNow);
  Notification resolved = firing;
  for (auto& a : resolved.alerts) {
    auto copy = std::make_shared<Alert>(*a);
    copy->ends_at = T("2024-01-01T00:30:00Z");
    a = copy;
  }
  Notification partly = firing;
  partly.alerts[0] = resolved.alerts[0];
  Notification ack = firing;
  ack.kind = EventKind::kAcknowledge;
  ack.acknowledged_by = "alice";

  struct Row {
    const char* name;
    const Notification* n;
    const char* action;
  };
  const Row rows[] = {
      {"firing triggers", &firing, "trigger"},
      {"partly resolved still triggers", &partly, "trigger"},
      {"all resolved resolves", &resolved, "resolve"},
      {"acknowledgement", &ack, "acknowledge"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    NotifyResult r = (*notifier)->Notify(*row.n);
    CHECK(r.status.ok());
    CHECK(r.http_status == 202);
  }
  auto reqs = sink.RequestsTo("/pd/x");
  REQUIRE(reqs.size() == 4);
  for (size_t i = 0; i < reqs.size(); ++i) {
    INFO(rows[i].name);
    CHECK(reqs[i]["errors"].empty());
    json b = json::parse(reqs[i]["body"].get<std::string>());
    CHECK(b["event_action"] == rows[i].action);
    CHECK(b["routing_key"] == "rk-123");
    CHECK(b["dedup_key"] == internal::GroupKeyHash(firing.group_key));
    CHECK(b["payload"]["severity"] == "error");
    CHECK(b["payload"]["source"] == "Alertmanager");  // source defaults to client
    CHECK(b["client"] == "Alertmanager");
    CHECK(b["client_url"] == "http://alertd.example:9093/#/alerts?receiver=team");
    CHECK(b["images"].size() == 1);
    CHECK(b["links"] == json::parse(R"([{"href":"http://runbooks/disk","text":"runbook"}])"));
  }
  json first = json::parse(reqs[0]["body"].get<std::string>());
  CHECK(first["payload"]["summary"] == "[FIRING:2] DiskFull (critical)");
  CHECK(first["payload"]["custom_details"]["num_firing"] == "2");
  CHECK(first["payload"]["custom_details"]["num_resolved"] == "0");

  SUBCASE("400 from PagerDuty is final, 429 is retried") {
    PagerdutyConfig bad = p;
    bad.url = sink.url() + "/bad/pd";
    auto b = NewNotifier(bad, deps);
    REQUIRE(b.ok());
    NotifyResult br = (*b)->Notify(firing);
    CHECK_FALSE(br.retryable);
    CHECK(br.status.message().find("Event object is invalid") != std::string::npos);
  }
  SUBCASE("oversized custom details are replaced") {
    PagerdutyConfig big = p;
    big.details["huge"] = std::string(600000, 'x');
    json b = json::parse(PagerdutyPayload(big, deps, firing, "rk"));
    CHECK(b["payload"]["custom_details"] ==
          json{{"error",
                "Custom details have been removed because the original event exceeds "
                "the maximum size of 512kB"}});
  }
  SUBCASE("v1 with service_key") {
    PagerdutyConfig v1 = p;
    v1.routing_key.clear();
    v1.service_key = "sk-1";
    json b = json::parse(PagerdutyPayload(v1, deps, firing, "sk-1"));
    CHECK(b["service_key"] == "sk-1");
    CHECK(b["incident_key"] == internal::GroupKeyHash(firing.group_key));
    CHECK(b["event_type"] == "trigger");
    CHECK(b["description"] == "[FIRING:2] DiskFull (critical)");
    CHECK(b["details"]["num_firing"] == "2");
    json r = json::parse(PagerdutyPayload(v1, deps, resolved, "sk-1"));
    CHECK(r["event_type"] == "resolve");
    CHECK_FALSE(r.contains("client"));
  }
}

TEST_CASE("acknowledged firing alerts keep a notification firing: status, event_action, "
          "truncatedAlerts") {
  Deps deps = TestDeps();
  PagerdutyConfig p;
  p.routing_key = "rk-123";
  p.url = "http://127.0.0.1:1/unused";
  // b resolved; a still fires but is acknowledged, so it is not listed.
  Notification n = DiskFullNotification("team", kNow);
  auto acked = n.alerts[0];
  auto b = std::make_shared<Alert>(*n.alerts[1]);
  b->ends_at = T("2024-01-01T00:30:00Z");
  n.alerts = {b};
  n.notification_reason = "some alerts resolved";
  Notification without = n;
  n.acknowledged = {acked};

  json pd = json::parse(PagerdutyPayload(p, deps, n, "rk"));
  CHECK(pd["event_action"] == "trigger");
  CHECK(json::parse(PagerdutyPayload(p, deps, without, "rk"))["event_action"] == "resolve");
  json wh = json::parse(WebhookPayload(n, 0));
  CHECK(wh["status"] == "firing");
  CHECK(wh["truncatedAlerts"] == 1);
  CHECK(wh["alerts"].size() == 1);
  CHECK(wh["alerts"][0]["status"] == "resolved");
  // With max_alerts the acknowledged ones add to what was cut.
  Notification two = n;
  two.alerts.push_back(n.alerts[0]);
  CHECK(json::parse(WebhookPayload(two, 1))["truncatedAlerts"] == 2);
  json plain = json::parse(WebhookPayload(without, 0));
  CHECK(plain["status"] == "resolved");
  CHECK(plain["truncatedAlerts"] == 0);
}

}  // namespace
}  // namespace alertd::notifiers

namespace alertd::notifiers {
namespace {

TEST_CASE("templates: files from the config's `templates:` override the defaults") {
  const std::string dir = alertd::testing::MakeTempDir("alertd-tmpl");
  alertd::testing::WriteFile(dir + "/custom.tmpl",
                             R"({{ define "slack.default.title" }}custom {{ .Status }}{{ end }})"
                             R"({{ define "my.text" }}{{ len .Alerts }} alerts{{ end }})");
  config::Config cfg;
  cfg.templates = {dir + "/*.tmpl", dir + "/none-*.tmpl"};
  auto set = LoadTemplates(cfg);
  REQUIRE(set.ok());
  Deps deps = testsupport::TestDeps();
  deps.templates = *set;
  SlackConfig s;
  s.text = R"({{ template "my.text" . }})";
  json p = json::parse(SlackPayload(s, deps, testsupport::DiskFullNotification("r", kNow)));
  CHECK(p["attachments"][0]["title"] == "custom firing");
  CHECK(p["attachments"][0]["text"] == "2 alerts");
  CHECK(p["username"] == "Alertmanager");  // other defaults stay

  alertd::testing::WriteFile(dir + "/broken.tmpl", "{{ define \"x\" }}{{ .Foo ");
  cfg.templates = {dir + "/broken.tmpl"};
  CHECK_FALSE(LoadTemplates(cfg).ok());
  alertd::testing::RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::notifiers
