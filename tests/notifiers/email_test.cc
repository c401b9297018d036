// The email notifier against a real SMTP server (aiosmtpd, fixtures/smtp_sink.py): the
// message arrives with the expected envelope, headers and both MIME parts, as read back by
// Python's email package; the AUTH mechanism, STARTTLS, require_tls: false and port 465
// (implicit TLS) behave as a real Alertmanager 0.25 sending to the same server.
#include "notifiers/email/email.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

// How a SmtpSink listens (fixtures/smtp_sink.py's options).
struct SinkOptions {
  std::string excluded_auth;  // AUTH mechanisms the server does not offer (comma-separated)
  std::string host = "127.0.0.1";
  std::string tls = "starttls";  // "starttls" (required), "implicit" (SMTPS) or "none"
  int port = 0;                  // 0: a free port
};

class SmtpSink {
 public:
  explicit SmtpSink(const std::string& excluded_auth = "")
      : SmtpSink(SinkOptions{.excluded_auth = excluded_auth}) {}
  explicit SmtpSink(const SinkOptions& o) : host_(o.host) {
    dir_ = t::MakeTempDir("alertd-smtp");
    std::string out;
    const int rc = t::RunCommand(
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir_ + "/key.pem",
         "-out", dir_ + "/cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=IP:127.0.0.1,IP:" + o.host + ",DNS:localhost"},
        &out);
    INFO(out);
    REQUIRE(rc == 0);
    std::filesystem::create_directories(dir_ + "/mail");
    port_ = o.port != 0 ? o.port : t::FreePort();
    proc_ = t::Process::Start(
        {"/usr/bin/python3", std::string(t::kSourceDir) + "/tests/notifiers/fixtures/smtp_sink.py",
         std::to_string(port_), dir_ + "/cert.pem", dir_ + "/key.pem", "alertd", "s3cret",
         dir_ + "/mail", o.excluded_auth, "--host", o.host, "--tls", o.tls},
        dir_ + "/smtp.log");
    const bool ready = t::WaitFor([&] { return proc_.Log().find("ready") != std::string::npos; },
                                  std::chrono::seconds(15));
    INFO("SMTP sink on " << o.host << ":" << port_ << " did not start: " << proc_.Log());
    REQUIRE(ready);
  }
  ~SmtpSink() {
    proc_.Stop(std::chrono::milliseconds(2000));
    t::RemoveTree(dir_);
  }
  int port() const { return port_; }
  std::string smarthost() const { return host_ + ":" + std::to_string(port_); }
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
  // How many messages have arrived.
  int Count() const {
    int n = 0;
    while (std::filesystem::exists(dir_ + "/mail/" + std::to_string(n + 1) + ".eml")) ++n;
    return n;
  }

 private:
  std::string host_;
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
  t::WriteFile(smtp.dir() + "/password", "s3cret");
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
  t::WriteFile(smtp.dir() + "/password", "s3cret");
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
// ends it.
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
  // A server offering PLAIN only (both sides then pick it).
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
    // The default email.default.html is Alertmanager's: the whole rendered part is the same.
    CHECK(their_html == html);
  }
}

TEST_CASE("the SMTP AUTH mechanism is Alertmanager's choice, in the server's order") {
  struct Row {
    const char* name;
    const char* advertised;
    const char* username;
    const char* password;
    const char* secret;
    const char* want;  // the mechanism, or the error message
    bool ok;
  };
  const Row rows[] = {
      {"no username: no authentication", "CRAM-MD5 LOGIN PLAIN", "", "p", "s", "", true},
      {"CRAM-MD5 listed first, secret set", "CRAM-MD5 LOGIN PLAIN", "u", "p", "s", "CRAM-MD5",
       true},
      {"no secret: the next one listed, LOGIN before PLAIN", "CRAM-MD5 LOGIN PLAIN", "u", "p", "",
       "LOGIN", true},
      {"PLAIN listed before CRAM-MD5 wins even with a secret", "PLAIN CRAM-MD5", "u", "p", "s",
       "PLAIN", true},
      {"unknown mechanisms are skipped", "GSSAPI XOAUTH2 PLAIN", "u", "p", "", "PLAIN", true},
      {"secret only: CRAM-MD5 even listed last", "PLAIN LOGIN CRAM-MD5", "u", "", "s", "CRAM-MD5",
       true},
      {"only CRAM-MD5 offered and no secret", "CRAM-MD5", "u", "p", "",
       "missing secret for CRAM-MD5 auth mechanism", false},
      {"no password for PLAIN nor LOGIN", "PLAIN LOGIN", "u", "", "s",
       "missing password for PLAIN auth mechanism; missing password for LOGIN auth mechanism",
       false},
      {"nothing alertd knows", "GSSAPI NTLM", "u", "p", "s", "unknown auth mechanism: GSSAPI NTLM",
       false},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto got =
        internal::ChooseAuthMechanism(row.advertised, row.username, row.password, row.secret);
    REQUIRE(got.ok() == row.ok);
    if (row.ok) {
      CHECK(*got == row.want);
    } else {
      CHECK(got.status().message() == row.want);
    }
  }
}

// An email_configs receiver "mail" sending to `smtp` with `extra` (indented YAML lines of the
// email config), as both alertd and Alertmanager load it.
std::string AuthYaml(const SmtpSink& smtp, const std::string& extra) {
  return R"(
route:
  receiver: mail
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: mail
  email_configs:
  - to: ops@example.org
    from: alertd@example.org
    smarthost: )" +
         smtp.smarthost() + R"(
    auth_username: alertd
)" +
         (extra.find("tls_config:") == std::string::npos
              ? "    tls_config:\n      ca_file: " + smtp.ca_file() + "\n"
              : std::string()) +
         extra;
}

const json kOneAlert = json::array({{
    {"labels", {{"alertname", "DiskFull"}, {"instance", "a"}}},
    {"startsAt", "2024-01-01T00:00:00Z"},
}});

// What one delivery attempt did: the mechanism and TLS the sink saw, or the error.
struct Outcome {
  bool delivered = false;
  std::string mechanism;
  bool tls = false;
  std::string error;
};

// alertd sends one notification to `smtp` (empty before) with `yaml`'s email config.
Outcome AlertdSends(const SmtpSink& smtp, const std::string& yaml) {
  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  REQUIRE(cfg.receivers.at(0).Of<EmailConfig>().size() == 1);
  auto notifier = NewNotifier(*cfg.receivers[0].Of<EmailConfig>()[0], testsupport::TestDeps());
  REQUIRE(notifier.ok());
  const int before = smtp.Count();
  NotifyResult r = (*notifier)->Notify(
      testsupport::NotificationOf(kOneAlert, "mail", LabelSet{}, "http://alertd.example"));
  Outcome o;
  if (!r.status.ok()) {
    CHECK(r.retryable);  // Alertmanager retries connection and authentication failures
    o.error = r.status.message();
    CHECK(smtp.Count() == before);
    return o;
  }
  json m = smtp.Message(before + 1, nullptr);
  REQUIRE(m.is_object());
  o.delivered = true;
  o.mechanism = m["auth_mechanism"].is_string() ? m["auth_mechanism"].get<std::string>() : "";
  o.tls = m["tls"].get<bool>();
  return o;
}

// A real Alertmanager 0.25 gets the same `yaml` and one alert: the message it delivers to
// `smtp`, or the first "Notify attempt failed" error it logs (`error_part` names it).
Outcome AlertmanagerSends(const SmtpSink& smtp, const std::string& yaml,
                          const std::string& error_part) {
  const std::string dir = smtp.dir() + "/am-" + std::to_string(smtp.Count());
  std::filesystem::create_directories(dir);
  testsupport::AlertmanagerPeer am(dir, yaml);
  const int before = smtp.Count();
  am.Post(kOneAlert);
  Outcome o;
  const bool done = t::WaitFor(
      [&] {
        return smtp.Count() > before ||
               (!error_part.empty() && am.Log().find(error_part) != std::string::npos);
      },
      std::chrono::seconds(20));
  INFO(am.Log());
  REQUIRE(done);
  if (smtp.Count() > before) {
    json m = smtp.Message(before + 1, nullptr);
    REQUIRE(m.is_object());
    o.delivered = true;
    o.mechanism = m["auth_mechanism"].is_string() ? m["auth_mechanism"].get<std::string>() : "";
    o.tls = m["tls"].get<bool>();
  } else {
    o.error = am.Log();
  }
  return o;
}

struct DeliveryRow {
  const char* name;
  SinkOptions sink;
  std::string extra;  // email config lines
  bool delivered;
  const char* mechanism;  // when delivered
  bool tls;               // when delivered
  const char* error;      // when not: in alertd's error and in Alertmanager's log
};

// Each row: alertd and a real Alertmanager send to the same aiosmtpd with the same config and
// must agree (delivered or not, mechanism, TLS, error).
void RunDeliveryRows(const std::vector<DeliveryRow>& rows, bool with_alertmanager = true) {
  for (const DeliveryRow& row : rows) {
    INFO(row.name);
    SmtpSink smtp(row.sink);
    const std::string yaml = AuthYaml(smtp, row.extra);
    const Outcome ours = AlertdSends(smtp, yaml);
    INFO("alertd: " << ours.error);
    INFO(smtp.Log());
    REQUIRE(ours.delivered == row.delivered);
    if (row.delivered) {
      CHECK(ours.mechanism == row.mechanism);
      CHECK(ours.tls == row.tls);
    } else {
      CHECK(ours.error.find(row.error) != std::string::npos);
    }
    if (!with_alertmanager) continue;
    const Outcome theirs = AlertmanagerSends(smtp, yaml, row.delivered ? "" : row.error);
    INFO("Alertmanager: " << theirs.error);
    REQUIRE(theirs.delivered == row.delivered);
    if (row.delivered) {
      CHECK(theirs.mechanism == ours.mechanism);
      CHECK(theirs.tls == ours.tls);
    }
  }
}

TEST_CASE("alertd and Alertmanager pick the same AUTH mechanism from aiosmtpd's offer") {
  // aiosmtpd offers CRAM-MD5 LOGIN PLAIN, in that order, minus the excluded ones.
  RunDeliveryRows({
      {"secret and password: CRAM-MD5, listed first",
       {},
       "    auth_secret: s3cret\n"
       "    auth_password: s3cret\n",
       true,
       "CRAM-MD5",
       true,
       ""},
      {"password only: LOGIN, listed before PLAIN",
       {},
       "    auth_password: s3cret\n",
       true,
       "LOGIN",
       true,
       ""},
      {"LOGIN not offered: PLAIN with the identity",
       {.excluded_auth = "LOGIN"},
       "    auth_password: s3cret\n    auth_identity: alertd\n",
       true,
       "PLAIN",
       true,
       ""},
      {"only CRAM-MD5 offered and no secret: nothing fits",
       {.excluded_auth = "LOGIN,PLAIN"},
       "    auth_password: s3cret\n",
       false,
       "",
       false,
       "find auth mechanism: missing secret for CRAM-MD5 auth mechanism"},
  });
}

TEST_CASE("require_tls false: no STARTTLS, LOGIN over plain TCP, PLAIN only to localhost") {
  // 127.0.0.2 is loopback but not "localhost" to Go's smtp.PlainAuth (nor to alertd).
  RunDeliveryRows({
      {"STARTTLS offered but not used; LOGIN sent unencrypted",
       {.excluded_auth = "CRAM-MD5", .host = "127.0.0.2", .tls = "none"},
       "    require_tls: false\n    auth_password: s3cret\n",
       true,
       "LOGIN",
       false,
       ""},
      {"CRAM-MD5 unencrypted",
       {.excluded_auth = "", .host = "127.0.0.2", .tls = "none"},
       "    require_tls: false\n    auth_secret: s3cret\n",
       true,
       "CRAM-MD5",
       false,
       ""},
      {"PLAIN unencrypted to 127.0.0.1 is allowed",
       {.excluded_auth = "CRAM-MD5,LOGIN", .tls = "none"},
       "    require_tls: false\n    auth_password: s3cret\n",
       true,
       "PLAIN",
       false,
       ""},
      {"PLAIN unencrypted to another host is refused",
       {.excluded_auth = "CRAM-MD5,LOGIN", .host = "127.0.0.2", .tls = "none"},
       "    require_tls: false\n    auth_password: s3cret\n",
       false,
       "",
       false,
       "unencrypted connection"},
  });
}

TEST_CASE("port 465 is implicit TLS with tls_config applied") {
  // Port 465 on a loopback address of its own, so that parallel test runs do not collide;
  // binding it needs root (CI runs as root) and fails the test, not skips it, otherwise.
  const std::string host = "127.0.0." + std::to_string(10 + getpid() % 200);
  const SinkOptions sink{.excluded_auth = "LOGIN", .host = host, .tls = "implicit", .port = 465};
  // Alertmanager 0.25 with require_tls true asks for STARTTLS inside the TLS connection too
  // (and fails when the server does not offer it), so the comparison runs with
  // require_tls: false; PLAIN is allowed there since the connection is encrypted.
  RunDeliveryRows({
      {"465 with require_tls false: TLS from the first byte, PLAIN", sink,
       "    require_tls: false\n    auth_password: s3cret\n", true, "PLAIN", true, ""},
  });
  RunDeliveryRows(
      {
          {"465 with require_tls true (the default) delivers too", sink,
           "    auth_password: s3cret\n", true, "PLAIN", true, ""},
          {"465 with a CA that does not sign the server's certificate fails the handshake", sink,
           "    auth_password: s3cret\n    tls_config: {ca_file: "
           "/etc/ssl/certs/ca-certificates.crt}\n",
           false, "", false, "send email via"},
      },
      /*with_alertmanager=*/false);
}

TEST_CASE("auth_password_file is read at each send, untrimmed, as Alertmanager 0.25 reads it") {
  // LOGIN and PLAIN only: the password goes to the server as read.
  SmtpSink smtp("CRAM-MD5");
  const std::string file = smtp.dir() + "/password";
  t::WriteFile(file, "s3cret");
  const std::string yaml = AuthYaml(smtp, "    auth_password_file: " + file + "\n");
  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  auto notifier = NewNotifier(*cfg.receivers.at(0).Of<EmailConfig>().at(0), testsupport::TestDeps());
  REQUIRE(notifier.ok());
  struct Step {
    const char* name;
    const char* content;
    bool delivered;
  };
  // One notifier, the file rotated between its sends.
  const Step steps[] = {
      {"the password", "s3cret", true},
      {"rotated to a wrong password: refused at the next send", "not-it", false},
      {"a trailing newline is part of the password", "s3cret\n", false},
      {"rotated back: delivered again, without a reload", "s3cret", true},
  };
  for (const Step& step : steps) {
    INFO(step.name);
    t::WriteFile(file, step.content);
    const int before = smtp.Count();
    NotifyResult r = (*notifier)->Notify(
        testsupport::NotificationOf(kOneAlert, "mail", LabelSet{}, "http://alertd.example"));
    INFO(r.status.ToString());
    INFO(smtp.Log());
    CHECK(r.status.ok() == step.delivered);
    CHECK(smtp.Count() == before + (step.delivered ? 1 : 0));
    if (!step.delivered) {
      CHECK(r.retryable);
      CHECK(r.status.message().find(step.content) == std::string::npos);
    }
  }
  SUBCASE("a file that cannot be read at a send fails it, naming the file") {
    std::filesystem::remove(file);
    NotifyResult r = (*notifier)->Notify(
        testsupport::NotificationOf(kOneAlert, "mail", LabelSet{}, "http://alertd.example"));
    CHECK_FALSE(r.status.ok());
    CHECK(r.retryable);
    CHECK(r.status.message().find("could not read " + file) != std::string::npos);
  }
}

// An `html` template that puts hostile label values in every context html/template escapes
// differently: text, RCDATA (<title>, <textarea>), quoted and unquoted attribute values, URLs
// (whole, path, query and fragment; unsafe schemes), <script> (values, strings, a regular
// expression, an event handler), <style> (values, strings, url()), an HTML comment, a `html`
// and a `urlquery` pipeline, and literal text with a stray '<'.
const char* kContextsHtml = R"html(<!DOCTYPE html>
<html><head><title>{{ .CommonLabels.v }}</title>
<style>p { color: {{ .CommonLabels.c }}; } p.v { color: {{ .CommonLabels.v }}; }
p.f { font-family: "{{ .CommonLabels.v }}"; } p.u { background: url("{{ .CommonLabels.w }}"); }
p.x { background: url({{ .CommonLabels.u }}); }</style>
<script>var a = {{ .CommonLabels.v }}; var b = "{{ .CommonLabels.v }}"; var c = '{{ .CommonLabels.v }}';
var r = /{{ .CommonLabels.v }}/; var n = {{ len .Alerts }} / 2; var m = {{ .CommonLabels }};</script>
</head><body>
<p>{{ .CommonLabels.v }}</p>
<p title="{{ .CommonLabels.v }}" class='{{ .CommonLabels.v }}' id={{ .CommonLabels.v }}>attributes</p>
<a href="{{ .CommonLabels.v }}">v</a> <a href="{{ .CommonLabels.u }}">u</a> <a href="{{ .CommonLabels.w }}">w</a>
<a href="https://example.org/{{ .CommonLabels.v }}?q={{ .CommonLabels.v }}#{{ .CommonLabels.v }}">parts</a>
<a href={{ .CommonLabels.u }}>unquoted</a> <a href='{{ .CommonLabels.w }}'>single</a>
<img src="{{ .CommonLabels.u }}"> <img src="/p/{{ .CommonLabels.v }}"> <form action="{{ .CommonLabels.u }}"></form>
<p style="color: {{ .CommonLabels.c }}">s</p> <p style="color: {{ .CommonLabels.v }}">s</p>
<p onclick="f({{ .CommonLabels.v }}, '{{ .CommonLabels.v }}')">js</p>
<textarea>{{ .CommonLabels.v }}</textarea>
{{ .CommonLabels.v | html }} <a href="https://example.org/?r={{ .CommonLabels.v | urlquery }}">r</a>
<!-- a comment {{ .CommonLabels.v }} --> a < b &amp; c
{{ range .Alerts }}<p data-x="{{ .Labels.v }}">{{ .Labels.alertname }}</p>{{ end }}
</body></html>
)html";

TEST_CASE("email html: every HTML context is escaped byte for byte as Alertmanager's html/template") {
  SmtpSink smtp("LOGIN");
  std::string html_yaml;
  {
    std::string s(kContextsHtml);
    size_t start = 0;
    while (start < s.size()) {
      const size_t nl = s.find('\n', start);
      html_yaml += "      " + s.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
  }
  const std::string yaml = R"(
global:
  smtp_smarthost: 127.0.0.1:)" + std::to_string(smtp.port()) + R"(
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
    tls_config:
      ca_file: )" + smtp.ca_file() + R"(
    html: |
)" + html_yaml;
  // Quotes of both kinds, <, >, &, an entity, a javascript: URL, spaces, non-ASCII.
  const std::map<std::string, std::string> labels = {
      {"alertname", "Hostile"},
      {"v", "\"O'Reilly\" <b>x</b> & &amp; javascript:alert(1) caf\xC3\xA9 \xE2\x9C\x93"},
      {"u", "javascript:alert(1)"},
      {"w", "https://example.org/a b?c=d&e=\"f\"#g h"},
      {"c", "red"},
  };
  const json alerts = json::array({{{"labels", labels},
                                    {"startsAt", "2024-01-01T00:00:00Z"},
                                    {"generatorURL", "http://prometheus.example/graph"}}});

  const config::Config cfg = testsupport::LoadConfig(yaml, smtp.dir());
  auto notifier = NewNotifier(*cfg.receivers.at(0).Of<EmailConfig>().at(0), testsupport::TestDeps());
  REQUIRE(notifier.ok());
  NotifyResult r = (*notifier)->Notify(
      testsupport::NotificationOf(alerts, "mail", LabelSet{{"alertname", "Hostile"}},
                                  "http://alertd.example"));
  INFO(r.status.ToString());
  INFO(smtp.Log());
  REQUIRE(r.status.ok());
  json ours = smtp.Message(1, nullptr);
  REQUIRE(ours.is_object());
  REQUIRE(ours["parsed"]["parts"].size() == 1);
  const std::string our_html = ours["parsed"]["parts"][0]["text"];

  const std::string dir = smtp.dir() + "/am";
  std::filesystem::create_directories(dir);
  testsupport::AlertmanagerPeer am(dir, yaml);
  am.Post(alerts);
  json theirs = smtp.Message(2, nullptr);
  INFO(am.Log());
  REQUIRE(theirs.is_object());
  REQUIRE(theirs["parsed"]["parts"].size() == 1);
  const std::string their_html = theirs["parsed"]["parts"][0]["text"];
  INFO("Alertmanager:\n" << their_html);
  INFO("alertd:\n" << our_html);
  // Line by line first, so that a difference names its context.
  std::istringstream a(their_html), b(our_html);
  std::string la, lb;
  int line = 0;
  while (std::getline(a, la)) {
    ++line;
    std::getline(b, lb);
    INFO("line " << line);
    CHECK(lb == la);
  }
  CHECK(our_html == their_html);
  // The hostile value never arrives raw, and javascript: URLs are defanged.
  CHECK(our_html.find("<b>x</b>") == std::string::npos);
  CHECK(our_html.find("href=\"#ZgotmplZ\"") != std::string::npos);
}

}  // namespace
}  // namespace alertd::notifiers
