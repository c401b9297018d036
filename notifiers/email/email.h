// The email integration: renders Alertmanager's message (COMPAT.md section 5) and sends it
// through the `smarthost` with libcurl's SMTP client.
//
// Message: the configured `headers` (Subject, To and From default to the email.default.subject
// template and the `to`/`from` settings; values are templates, Q-encoded when not plain
// ASCII), a Message-Id "<unixnanos.random@hostname>" unless a header sets one, a Date header
// (RFC 1123 with numeric zone), then a multipart/alternative body with a text/plain part (only
// when `text` is set) and a text/html part (only when `html` is set, the default), both
// quoted-printable and UTF-8, in that order (the preferred alternative last, RFC 2046). As in
// Alertmanager, the `html` template renders with HTML escaping (html/template there,
// templating::ExecOptions::escape_html here: label values such as `<b>` arrive as `&lt;b&gt;`,
// safeHtml values unescaped); `text` and the headers render unescaped. Field templates are
// parsed once, when the notifier is built.
//
// Delivery: EHLO `hello`; STARTTLS required when require_tls (the default), never attempted
// otherwise (even when offered, as Alertmanager); port 465 means implicit TLS; tls_config
// (ca_file, cert_file, key_file, insecure_skip_verify; server_name defaults to the smarthost
// host) applies to both. With auth_username set and AUTH advertised, the mechanism is
// Alertmanager's choice (internal::ChooseAuthMechanism): the first the server lists that the
// credentials fit, CRAM-MD5 with auth_secret, PLAIN (auth_identity as the authorization id)
// or LOGIN with auth_password / auth_password_file (read at each send, untrimmed, as
// Alertmanager 0.25 reads it: a rotated file takes effect without a reload). To learn the server's list in its order,
// a send first connects without authenticating (EHLO, STARTTLS when it applies) and quits.
// As Go's smtp.PlainAuth, PLAIN is refused over an unencrypted connection to a host other
// than localhost, 127.0.0.1 or ::1; LOGIN and CRAM-MD5 are not (require_tls: false). A
// connection, SMTP or auth-mechanism error is retryable; template and address errors are not.
//
// With send_acknowledged, an acknowledgement (EventKind::kAcknowledge) sends a short message:
// Subject "Acknowledged by <who>: <rendered subject>", text and HTML parts naming who
// acknowledged and the comment.
//
// Thread-safe (immutable after construction; each Notify uses its own connection).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `email_configs` entries. Defaults are Alertmanager's (notify/email and config/notifiers.go
// upstream) unless marked alertd.
struct EmailConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "email"; read by notifiers/email/config.cc
  std::string_view kind() const override { return "email"; }
  bool resolved() const override { return send_resolved; }
  bool acknowledged() const override { return send_acknowledged; }

  bool send_resolved = false;
  std::vector<std::string> to_list;  // parsed from `to` (comma-separated addresses)
  std::string to;
  std::string from;       // default global.smtp_from
  std::string hello;      // default global.smtp_hello
  std::string smarthost;  // default global.smtp_smarthost
  std::string auth_username;
  std::string auth_password;  // secret
  std::string auth_password_file;
  std::string auth_secret;  // secret
  std::string auth_identity;
  std::map<std::string, std::string> headers;  // Subject, To, From defaulted as Alertmanager does
  std::string html = R"({{ template "email.default.html" . }})";
  std::string text;
  std::optional<bool> require_tls;  // default global.smtp_require_tls
  config::TLSConfig tls_config;
  bool send_acknowledged = false;
};


Result<std::unique_ptr<Notifier>> NewNotifier(const EmailConfig& cfg,
                                                   const Deps& deps);

namespace internal {
// Go's mime/quotedprintable Writer output (text mode: line breaks become CRLF).
std::string QuotedPrintable(std::string_view in);
// Go's mime.QEncoding.Encode("utf-8", s): unchanged when s is printable ASCII.
std::string QEncodeHeader(std::string_view s);
// Addresses of an RFC 5322 address list ("A <a@x>, b@y" -> a@x, b@y), as net/mail reads it
// for the envelope. Fails on an empty list or an entry without '@'.
Result<std::vector<std::string>> ParseAddressList(std::string_view list);
// Alertmanager 0.25's auth() (notify/email): walks `advertised` (the EHLO AUTH value,
// space-separated, in the server's order) and returns the first of CRAM-MD5 when `secret` is
// set, PLAIN or LOGIN when `password` is set; other mechanisms are skipped. Returns "" (no
// authentication) when `username` is empty. Fails, with Alertmanager's messages joined by
// "; ", when nothing fits ("missing secret for CRAM-MD5 auth mechanism", "missing password
// for PLAIN auth mechanism", ...), or "unknown auth mechanism: <advertised>" when none of the
// three is offered.
Result<std::string> ChooseAuthMechanism(std::string_view advertised, std::string_view username,
                                        std::string_view password, std::string_view secret);
// The same with the password as read for this send: a read error (auth_password_file) counts
// against PLAIN and LOGIN with its own message, as in Alertmanager.
Result<std::string> ChooseAuthMechanism(std::string_view advertised, std::string_view username,
                                        const Result<std::string>& password,
                                        std::string_view secret);
}  // namespace internal

}  // namespace alertd::notifiers
