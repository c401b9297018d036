// The email notifier against a real SMTP server (aiosmtpd, fixtures/smtp_sink.py) that
// requires STARTTLS and AUTH: the message arrives with the expected envelope, headers and
// both MIME parts, as read back by Python's email package.
#include "notifiers/email/email.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

class SmtpSink {
 public:
  // `excluded_auth`: AUTH mechanisms the server does not offer (comma-separated).
  explicit SmtpSink(const std::string& excluded_auth = "") {
    dir_ = t::MakeTempDir("alertd-smtp");
    std::string out;
    const int rc =
        t::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                       dir_ + "/key.pem", "-out", dir_ + "/cert.pem", "-days", "1", "-subj",
                       "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                      &out);
    INFO(out);
    REQUIRE(rc == 0);
    std::filesystem::create_directories(dir_ + "/mail");
    port_ = t::FreePort();
    proc_ = t::Process::Start(
        {"/usr/bin/python3", std::string(t::kSourceDir) + "/tests/notifiers/fixtures/smtp_sink.py",
         std::to_string(port_), dir_ + "/cert.pem", dir_ + "/key.pem", "alertd", "s3cret",
         dir_ + "/mail", excluded_auth},
        dir_ + "/smtp.log");
    const bool ready = t::WaitFor([&] { return proc_.Log().find("ready") != std::string::npos; },
                                  std::chrono::seconds(15));
    INFO(proc_.Log());
    REQUIRE(ready);
  }
  ~SmtpSink() {
    proc_.Stop(std::chrono::milliseconds(2000));
    t::RemoveTree(dir_);
  }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/cert.pem"; }
  // The sidecar of the n-th message (1-based), once it has arrived.
  json Message(int n, std::string* raw) const {
    const std::string base = dir_ + "/mail/" + std::to_string(n);
    if (!t::WaitFor([&] { return std::filesystem::exists(base + ".eml"); },
                    std::chrono::seconds(10))) {
      return json();
    }
    if (raw != nullptr) *raw = t::ReadFile(base + ".eml");
    return json::parse(t::ReadFile(base + ".json"));
  }
  std::string Log() const { return proc_.Log(); }

 private:
  std::string dir_;
  int port_ = 0;
  t::Process proc_;
};

std::string Header(const json& parsed, const std::string& name) {
  for (const auto& h : parsed["headers"]) {
    if (h[0] == name) return h[1];
  }
  return "<missing>";
}

TEST_CASE("email over STARTTLS with AUTH reaches a real SMTP server") {
  SmtpSink smtp;
  Deps deps = testsupport::TestDeps();
  deps.hostname = "alertd.test";
  const std::string yaml = R"(
global:
  smtp_smarthost: 127.0.0.1:)" +
                           std::to_string(smtp.port()) + R"(
  smtp_from: 'Alertd <alertd@example.org>'
  smtp_auth_username: alertd
  smtp_auth_password_file: )" +
                           smtp.dir() + R"(/password
route:
  receiver: mail
receivers:
- name: mail
  email_configs:
  - to: 'Ops Team <ops@example.org>, oncall@example.org'
    text: '{{ range .Alerts }}{{ .Labels.instance }}: {{ .Annotations.summary }}{{ "\n" }}{{ end }}'
    headers:
      X-Team: "caf\u00e9 {{ .GroupLabels.alertname }}"
    tls_config:
      ca_file: )" + smtp.ca_file() +
                           R"(
    send_acknowledged: true
)";
  t::WriteFile(smtp.dir() + "/password", "s3cret\n");
  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  REQUIRE(cfg.receivers.size() == 1);
  REQUIRE(cfg.receivers[0].Of<EmailConfig>().size() == 1);
  const EmailConfig& ec = *cfg.receivers[0].Of<EmailConfig>()[0];
  CHECK(ec.require_tls.value_or(false));  // global smtp_require_tls default
  auto notifier = NewNotifier(ec, deps);
  REQUIRE(notifier.ok());
  CHECK((*notifier)->integration() == "email");
  CHECK_FALSE((*notifier)->send_resolved());

  const Notification n =
      testsupport::DiskFullNotification("mail", testsupport::T("2024-01-01T01:00:00Z"));
  NotifyResult r = (*notifier)->Notify(n);
  INFO(r.status.ToString());
  INFO(smtp.Log());
  REQUIRE(r.status.ok());

  std::string raw;
  json m = smtp.Message(1, &raw);
  REQUIRE(m.is_object());
  INFO(raw);
  CHECK(m["tls"] == true);
  CHECK(m["auth_user"] == "alertd");
  CHECK(m["mail_from"] == "alertd@example.org");
  CHECK(m["rcpt_tos"] == json{"ops@example.org", "oncall@example.org"});
  const json& p = m["parsed"];
  CHECK(p["defects"].empty());
  CHECK(Header(p, "Subject") == "[FIRING:2] DiskFull (critical)");
  CHECK(Header(p, "To") == "Ops Team <ops@example.org>, oncall@example.org");
  CHECK(Header(p, "From") == "Alertd <alertd@example.org>");
  CHECK(Header(p, "X-Team") == "caf\xC3\xA9 DiskFull");  // Q-encoded on the wire
  CHECK(raw.find("X-Team: =?utf-8?q?caf=C3=A9_DiskFull?=\r\n") != std::string::npos);
  CHECK(Header(p, "MIME-Version") == "1.0");
  const std::string msgid = Header(p, "Message-Id");
  CHECK(msgid.front() == '<');
  CHECK(msgid.find("@alertd.test>") != std::string::npos);
  CHECK(Header(p, "Date").find("2") != std::string::npos);
  CHECK(Header(p, "Date").find("+0000") != std::string::npos);
  CHECK(p["content_type"] == "multipart/alternative");
  REQUIRE(p["parts"].size() == 2);
  CHECK(p["parts"][0]["content_type"] == "text/plain");
  CHECK(p["parts"][0]["charset"] == "utf-8");
  CHECK(p["parts"][0]["cte"] == "quoted-printable");
  // Quoted-printable text mode writes CRLF line breaks, as Go's quotedprintable does.
  CHECK(p["parts"][0]["text"] == "a: disk a is full\r\nb: disk b is full\r\n");
  CHECK(p["parts"][1]["content_type"] == "text/html");
  const std::string html = p["parts"][1]["text"];
  CHECK(html.find("<title>[FIRING:2] DiskFull (critical)</title>") != std::string::npos);
  CHECK(html.find("instance = a") != std::string::npos);
  CHECK(html.find("View in Alertmanager") != std::string::npos);

  SUBCASE("acknowledgement notice") {
    Notification ack = n;
    ack.kind = EventKind::kAcknowledge;
    ack.acknowledged_by = "alice";
    ack.ack_comment = "replacing the disk";
    REQUIRE((*notifier)->Notify(ack).status.ok());
    json a = smtp.Message(2, nullptr);
    REQUIRE(a.is_object());
    CHECK(Header(a["parsed"], "Subject") ==
          "Acknowledged by alice: [FIRING:2] DiskFull (critical)");
    REQUIRE(a["parsed"]["parts"].size() == 2);
    CHECK(a["parsed"]["parts"][0]["text"].get<std::string>().find("acknowledged by alice") !=
          std::string::npos);
  }
  SUBCASE("a wrong password is a retryable failure that names no secret") {
    EmailConfig wrong = ec;
    wrong.auth_password_file.clear();
    wrong.auth_password = "not-the-password";
    auto w = NewNotifier(wrong, deps);
    REQUIRE(w.ok());
    NotifyResult wr = (*w)->Notify(n);
    CHECK_FALSE(wr.status.ok());
    CHECK(wr.retryable);
    CHECK(wr.status.message().find("not-the-password") == std::string::npos);
  }
  SUBCASE("an untrusted certificate fails the STARTTLS handshake") {
    EmailConfig untrusted = ec;
    untrusted.tls_config.ca_file.clear();
    auto u = NewNotifier(untrusted, deps);
    REQUIRE(u.ok());
    NotifyResult ur = (*u)->Notify(n);
    CHECK_FALSE(ur.status.ok());
    CHECK(ur.retryable);
  }
}

TEST_CASE("global.smtp_tls_config is the TLS config of email configs without their own") {
  SmtpSink smtp;
  Deps deps = testsupport::TestDeps();
  t::WriteFile(smtp.dir() + "/password", "s3cret\n");
  const std::string yaml = R"(
global:
  smtp_smarthost: 127.0.0.1:)" + std::to_string(smtp.port()) + R"(
  smtp_from: alertd@example.org
  smtp_auth_username: alertd
  smtp_auth_password_file: )" + smtp.dir() + R"(/password
  smtp_tls_config:
    ca_file: )" + smtp.ca_file() + R"(
route: {receiver: mail}
receivers:
- name: mail
  email_configs:
  - to: ops@example.org
  - to: other@example.org
    tls_config: {insecure_skip_verify: false}
)";
  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  const auto emails = cfg.receivers.at(0).Of<EmailConfig>();
  REQUIRE(emails.size() == 2);
  CHECK(emails[0]->tls_config.ca_file == smtp.ca_file());
  CHECK(emails[1]->tls_config.ca_file.empty());  // its own tls_config wins
  const Notification n =
      testsupport::DiskFullNotification("mail", testsupport::T("2024-01-01T01:00:00Z"));
  auto with_global = NewNotifier(*emails[0], deps);
  REQUIRE(with_global.ok());
  NotifyResult ok = (*with_global)->Notify(n);
  INFO(ok.status.ToString());
  CHECK(ok.status.ok());
  auto own = NewNotifier(*emails[1], deps);
  REQUIRE(own.ok());
  CHECK_FALSE((*own)->Notify(n).status.ok());  // the test CA is not trusted there
}

// "name = value" of one label or annotation in the default email HTML, up to the "<br" that
// ends it (Alertmanager's own template styles its <br> tags, alertd's does not).
std::string LabelLine(const std::string& html, const std::string& label) {
  const size_t at = html.find(label + " = ");
  if (at == std::string::npos) return "<no " + label + " label>";
  const size_t end = html.find("<br", at);
  return html.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The text of the <title> element.
std::string Title(const std::string& html) {
  const size_t at = html.find("<title>");
  const size_t end = html.find("</title>");
  if (at == std::string::npos || end == std::string::npos) return "<no title>";
  return html.substr(at + 7, end - at - 7);
}

TEST_CASE("email HTML escapes template values as Alertmanager does; text and headers do not") {
  // Alertmanager's LOGIN client does not understand aiosmtpd's challenges: offer PLAIN only.
  SmtpSink smtp("LOGIN");
  const std::string note = "<b>x</b> & \"y\"";
  const int am_port = t::FreePort();
  const std::string am_url = "http://127.0.0.1:" + std::to_string(am_port);
  // Both sides load this: global SMTP settings, one email receiver with a text part and a
  // templated header, the default html part.
  const std::string yaml = R"(
global:
  smtp_smarthost: 127.0.0.1:)" +
                           std::to_string(smtp.port()) +
                           R"(
  smtp_from: alertd@example.org
  smtp_auth_username: alertd
  smtp_auth_password: s3cret
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: mail
  email_configs:
  - to: ops@example.org
    text: '{{ range .Alerts }}{{ .Labels.note }}{{ end }}'
    headers:
      X-Note: '{{ .CommonLabels.note }}'
    tls_config:
      ca_file: )" + smtp.ca_file() +
                           "\n";
  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  REQUIRE(cfg.receivers.size() == 1);
  REQUIRE(cfg.receivers[0].Of<EmailConfig>().size() == 1);

  // alertd: one alert whose label carries every character html/template escapes.
  Notification n;
  n.receiver = "mail";
  n.group_key = "{}:{alertname=\"DiskFull\"}";
  n.group_labels = LabelSet{{"alertname", "DiskFull"}};
  n.now = testsupport::T("2024-01-01T01:00:00Z");
  n.external_url = am_url;
  n.alerts.push_back(testsupport::MakeAlert(
      {{"alertname", "DiskFull"}, {"instance", "a"}, {"note", note}},
      {{"summary", "disk a > 90% full"}}, testsupport::T("2024-01-01T00:00:00Z")));
  Deps deps = testsupport::TestDeps();
  auto notifier = NewNotifier(*cfg.receivers[0].Of<EmailConfig>()[0], deps);
  REQUIRE(notifier.ok());
  NotifyResult r = (*notifier)->Notify(n);
  INFO(r.status.ToString());
  INFO(smtp.Log());
  REQUIRE(r.status.ok());
  json ours = smtp.Message(1, nullptr);
  REQUIRE(ours.is_object());
  const json& p = ours["parsed"];
  REQUIRE(p["parts"].size() == 2);
  CHECK(p["parts"][0]["content_type"] == "text/plain");
  CHECK(p["parts"][0]["text"] == note);
  CHECK(Header(p, "X-Note") == note);
  CHECK(p["parts"][1]["content_type"] == "text/html");
  const std::string html = p["parts"][1]["text"];
  INFO(html);
  CHECK(LabelLine(html, "note") == "note = &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;");
  CHECK(LabelLine(html, "summary") == "summary = disk a &gt; 90% full");
  CHECK(html.find("href=\"http://prometheus.example/graph?g0.expr=up&amp;g0.tab=1\"") !=
        std::string::npos);
  CHECK(Title(html) == "[FIRING:1] DiskFull (a &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;)");
  CHECK(html.find(note) == std::string::npos);

  SUBCASE("a real Alertmanager sends the same escaped HTML") {
    t::WriteFile(smtp.dir() + "/am.yml", yaml);
    t::Process am = t::Process::Start(
        {"/usr/bin/prometheus-alertmanager", "--config.file=" + smtp.dir() + "/am.yml",
         "--storage.path=" + smtp.dir() + "/am-data",
         "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
         "--cluster.listen-address=", "--web.external-url=" + am_url},
        smtp.dir() + "/am.log");
    const bool ready = t::WaitHttpReady(am_url + "/-/ready", std::chrono::seconds(20));
    INFO(am.Log());
    REQUIRE(ready);
    const json alerts = json::array({{
        {"labels", {{"alertname", "DiskFull"}, {"instance", "a"}, {"note", note}}},
        {"annotations", {{"summary", "disk a > 90% full"}}},
        {"startsAt", "2024-01-01T00:00:00Z"},
        {"generatorURL", "http://prometheus.example/graph?g0.expr=up&g0.tab=1"},
    }});
    REQUIRE(t::HttpPostJson(am_url + "/api/v2/alerts", alerts.dump()).status == 200);
    json theirs = smtp.Message(2, nullptr);
    INFO(am.Log());
    REQUIRE(theirs.is_object());
    am.Stop();
    const json& tp = theirs["parsed"];
    REQUIRE(tp["parts"].size() == 2);
    CHECK(tp["parts"][0]["text"] == p["parts"][0]["text"]);
    CHECK(Header(tp, "X-Note") == Header(p, "X-Note"));
    const std::string their_html = tp["parts"][1]["text"];
    INFO(their_html);
    CHECK(LabelLine(their_html, "note") == LabelLine(html, "note"));
    CHECK(LabelLine(their_html, "summary") == LabelLine(html, "summary"));
    CHECK(their_html.find("href=\"http://prometheus.example/graph?g0.expr=up&amp;g0.tab=1\"") !=
          std::string::npos);
    CHECK(Title(their_html) == Title(html));
  }
}

}  // namespace
}  // namespace alertd::notifiers
