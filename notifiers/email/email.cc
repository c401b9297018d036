#include "notifiers/email/email.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>

#include "notifiers/common.h"
#include "notifiers/http_result.h"
#include "templating/template.h"

namespace alertd::notifiers {
namespace internal {

// Written by hand: the message must be byte-for-byte what Alertmanager writes (Go's
// quotedprintable and mime Q encoding), and libcurl's MIME builder wraps SMTP bodies in its
// own multipart/mixed envelope.
std::string QuotedPrintable(std::string_view in) {
  std::string out;
  size_t line_len = 0;
  auto emit = [&](std::string_view tok) {
    if (line_len + tok.size() > 75) {  // 76 with the soft break's '='
      out += "=\r\n";
      line_len = 0;
    }
    out += tok;
    line_len += tok.size();
  };
  for (size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      out += "\r\n";
      line_len = 0;
      continue;
    }
    const bool at_line_end = i + 1 == in.size() || in[i + 1] == '\r' || in[i + 1] == '\n';
    const bool literal =
        (c >= '!' && c <= '~' && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (literal) {
      emit(std::string_view(&in[i], 1));
    } else {
      emit(fmt::format("={:02X}", c));
    }
  }
  return out;
}

std::string QEncodeHeader(std::string_view s) {
  bool needs = false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < ' ' || c > '~') && c != '\t') needs = true;
  }
  if (!needs) return std::string(s);
  constexpr std::string_view kPrefix = "=?utf-8?q?";
  constexpr size_t kMaxWord = 75;
  std::string out;
  std::string word(kPrefix);
  for (size_t i = 0; i < s.size();) {
    // One rune at a time, so a word never splits a UTF-8 sequence.
    size_t len = 1;
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead >= 0xC0) len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    len = std::min(len, s.size() - i);
    std::string enc;
    for (size_t j = i; j < i + len; ++j) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c == ' ') {
        enc += '_';
      } else if (c >= '!' && c <= '~' && c != '=' && c != '?' && c != '_') {
        enc += static_cast<char>(c);
      } else {
        enc += fmt::format("={:02X}", c);
      }
    }
    if (word.size() + enc.size() + 2 > kMaxWord && word.size() > kPrefix.size()) {
      out += word + "?= ";
      word = std::string(kPrefix);
    }
    word += enc;
    i += len;
  }
  out += word + "?=";
  return out;
}

Result<std::vector<std::string>> ParseAddressList(std::string_view list) {
  // The envelope only needs each address; display names and comments are dropped. Commas
  // inside quotes or angle brackets do not split.
  std::vector<std::string> entries;
  std::string cur;
  bool quoted = false;
  int angle = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (c == '\\' && quoted && i + 1 < list.size()) {
      cur += c;
      cur += list[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>' && angle > 0) --angle;
    if (c == ',' && !quoted && angle == 0) {
      entries.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  entries.push_back(cur);
  std::vector<std::string> out;
  for (auto& e : entries) {
    std::string addr;
    const size_t lt = e.rfind('<');
    const size_t gt = e.rfind('>');
    if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
      addr = e.substr(lt + 1, gt - lt - 1);
    } else {
      addr = e;
    }
    const auto first = addr.find_first_not_of(" \t\r\n");
    const auto last = addr.find_last_not_of(" \t\r\n");
    addr = first == std::string::npos ? "" : addr.substr(first, last - first + 1);
    if (addr.empty() && entries.size() > 1) continue;
    if (addr.empty() || addr.find('@') == std::string::npos ||
        addr.find(' ') != std::string::npos) {
      return Status::InvalidArgument("mail: invalid address " + GoQuote(e));
    }
    // net/mail refuses control characters in an address, and so must the envelope: a CR/LF
    // in a templated `to` (a label value) would otherwise end the RCPT TO command and start
    // another. Display names may not carry them either (they reach the To header); only the
    // whitespace around an entry is dropped.
    const auto efirst = e.find_first_not_of(" \t\r\n");
    const auto elast = e.find_last_not_of(" \t\r\n");
    const std::string_view inner =
        efirst == std::string::npos ? std::string_view() : std::string_view(e).substr(efirst, elast - efirst + 1);
    for (unsigned char c : inner) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return Status::InvalidArgument("mail: invalid address " + GoQuote(e) +
                                       ": control character in address");
      }
    }
    if (addr.find('\t') != std::string::npos) {
      return Status::InvalidArgument("mail: invalid address " + GoQuote(e));
    }
    out.push_back(addr);
  }
  if (out.empty()) return Status::InvalidArgument("mail: no address");
  return out;
}

Result<std::string> ChooseAuthMechanism(std::string_view advertised, std::string_view username,
                                        std::string_view password, std::string_view secret) {
  return ChooseAuthMechanism(advertised, username, Result<std::string>(std::string(password)),
                             secret);
}

Result<std::string> ChooseAuthMechanism(std::string_view advertised, std::string_view username,
                                        const Result<std::string>& password,
                                        std::string_view secret) {
  if (username.empty()) return std::string();
  std::vector<std::string> errors;
  size_t pos = 0;
  while (pos <= advertised.size()) {
    size_t sp = advertised.find(' ', pos);
    if (sp == std::string_view::npos) sp = advertised.size();
    const std::string_view mech = advertised.substr(pos, sp - pos);
    pos = sp + 1;
    if (mech == "CRAM-MD5") {
      if (secret.empty()) {
        errors.push_back("missing secret for CRAM-MD5 auth mechanism");
        continue;
      }
      return std::string(mech);
    }
    if (mech == "PLAIN" || mech == "LOGIN") {
      if (!password.ok()) {
        errors.push_back(password.status().message());
        continue;
      }
      if (password->empty()) {
        errors.push_back(fmt::format("missing password for {} auth mechanism", mech));
        continue;
      }
      return std::string(mech);
    }
  }
  if (errors.empty()) {
    return Status::InvalidArgument("unknown auth mechanism: " + std::string(advertised));
  }
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
  return Status::InvalidArgument(joined);
}

}  // namespace internal

namespace {

// time.RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700", in UTC.
std::string Rfc1123Z(Time t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

bool IsLocalHost(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t len = std::min(size * n, u->data->size() - u->pos);
  std::memcpy(buf, u->data->data() + u->pos, len);
  u->pos += len;
  return len;
}

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

class EmailNotifier final : public Notifier {
 public:
  EmailNotifier(const EmailConfig& cfg, const Deps& deps, std::string host, std::string port,
                std::string hostname)
      : cfg_(cfg),
        deps_(deps),
        host_(std::move(host)),
        port_(std::move(port)),
        hostname_(std::move(hostname)),
        fields_(deps.templates) {
    fields_.Add(cfg_.from);
    fields_.Add(cfg_.to);
    fields_.Add(cfg_.text);
    fields_.Add(cfg_.html);
    for (const auto& [name, text] : cfg_.headers) fields_.Add(text);
  }

  std::string_view integration() const override { return "email"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return cfg_.send_acknowledged; }

  NotifyResult Notify(const Notification& n) override {
    NotifyResult out;
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer t(deps_, data, &fields_);
    const int before = t.errors();
    const std::string from = t(cfg_.from);
    const std::string to = t(cfg_.to);
    if (t.errors() > before) {
      out.status =
          Status::InvalidArgument("execute 'from'/'to' template: " + t.first_error().message());
      return out;
    }
    auto from_addrs = internal::ParseAddressList(from);
    if (!from_addrs.ok()) {
      out.status = from_addrs.status().WithPrefix("parse 'from' addresses");
      return out;
    }
    if (from_addrs->size() != 1) {
      out.status = Status::InvalidArgument(
          fmt::format("must be exactly one 'from' address (got: {})", from_addrs->size()));
      return out;
    }
    auto to_addrs = internal::ParseAddressList(to);
    if (!to_addrs.ok()) {
      out.status = to_addrs.status().WithPrefix("parse 'to' addresses");
      return out;
    }
    const std::string message = BuildMessage(n, t);
    internal::LogTemplateErrors("email", n, t);
    return Send(n, (*from_addrs)[0], *to_addrs, message);
  }

 private:
  std::string BuildMessage(const Notification& n, internal::Renderer& t) const {
    const bool ack = n.kind == EventKind::kAcknowledge;
    std::string subject;
    std::string head;
    for (const auto& [name, text] : cfg_.headers) {  // sorted by name
      std::string value = t(text);
      if (name == "Subject") {
        subject = value;
        if (ack) value = "Acknowledged by " + n.acknowledged_by + ": " + value;
      }
      // A header value cannot span lines: folding is the writer's job, not the template's.
      for (char& c : value) {
        if (c == '\r' || c == '\n') c = ' ';
      }
      head += name + ": " + internal::QEncodeHeader(value) + "\r\n";
    }
    const Time now = internal::Now(deps_);
    std::random_device rd;
    std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                        static_cast<uint64_t>(now.time_since_epoch().count()));
    if (!cfg_.headers.count("Message-Id")) {
      head += fmt::format("Message-Id: <{}.{}@{}>\r\n", now.time_since_epoch().count(), rng(),
                          hostname_);
    }
    std::string boundary;
    for (int i = 0; i < 30; ++i)
      boundary += fmt::format("{:02x}", static_cast<unsigned>(rng() & 0xFF));
    head += "Date: " + Rfc1123Z(now) + "\r\n";
    head += "Content-Type: multipart/alternative;  boundary=" + boundary + "\r\n";
    head += "MIME-Version: 1.0\r\n\r\n";

    std::string text_body;
    std::string html_body;
    if (ack) {
      text_body = fmt::format("{} was acknowledged by {}.\n", subject, n.acknowledged_by);
      if (!n.ack_comment.empty()) text_body += "\nComment: " + n.ack_comment + "\n";
      html_body = fmt::format("<p>{} was acknowledged by <strong>{}</strong>.</p>\n",
                              templating::HtmlEscapeText(subject),
                              templating::HtmlEscapeText(n.acknowledged_by));
      if (!n.ack_comment.empty())
        html_body += "<p>Comment: " + templating::HtmlEscapeText(n.ack_comment) + "</p>\n";
    } else {
      if (!cfg_.text.empty()) text_body = t(cfg_.text);
      // Alertmanager renders the HTML part with html/template (escaped), the rest with
      // text/template.
      if (!cfg_.html.empty()) html_body = t.Html(cfg_.html);
    }
    // Go's multipart.Writer layout: "--b" before the first part, "\r\n--b" between parts,
    // "\r\n--b--\r\n" at the end.
    std::string body;
    bool first = true;
    auto part = [&](const char* content_type, const std::string& content) {
      body += first ? "--" : "\r\n--";
      first = false;
      body += boundary + "\r\n";
      body += "Content-Transfer-Encoding: quoted-printable\r\n";
      body += std::string("Content-Type: ") + content_type + "\r\n\r\n";
      body += internal::QuotedPrintable(content);
    };
    if (ack || !cfg_.text.empty()) part("text/plain; charset=UTF-8", text_body);
    if (ack || !cfg_.html.empty()) part("text/html; charset=UTF-8", html_body);
    body += first ? "--" + boundary + "--\r\n" : "\r\n--" + boundary + "--\r\n";
    return head + body;
  }

  // The connection settings both the probe and the delivery use: URL (EHLO argument in its
  // path), `timeout` (<= 0: none), TLS (implicit on port 465, STARTTLS when require_tls, none
  // otherwise) and tls_config. `connect_to` is freed by the caller.
  void SetupConnection(CURL* c, char* errbuf, struct curl_slist** connect_to,
                       Duration timeout) const {
    const bool implicit_tls = port_ == "465";
    const bool tls = implicit_tls || cfg_.require_tls.value_or(true);
    const bool ipv6 = host_.find(':') != std::string::npos;
    // libcurl sends the URL's path as the EHLO argument.
    const std::string url = fmt::format("{}://{}:{}/{}", implicit_tls ? "smtps" : "smtp",
                                        ipv6 ? "[" + host_ + "]" : host_, port_,
                                        cfg_.hello.empty() ? "localhost" : cfg_.hello);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (timeout > Duration::zero()) {
      const long timeout_ms = std::max<long>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    }
    // Alertmanager uses STARTTLS only when require_tls is true, even if the server offers it.
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     tls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
    const config::TLSConfig& tc = cfg_.tls_config;
    if (!tc.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tc.ca_file.c_str());
    if (!tc.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, tc.cert_file.c_str());
    if (!tc.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, tc.key_file.c_str());
    if (tc.insecure_skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tc.server_name.empty() && tc.server_name != host_) {
      // Verify the certificate against server_name while connecting to the smarthost.
      const std::string named =
          fmt::format("{}://{}:{}/{}", implicit_tls ? "smtps" : "smtp", tc.server_name, port_,
                      cfg_.hello.empty() ? "localhost" : cfg_.hello);
      curl_easy_setopt(c, CURLOPT_URL, named.c_str());
      *connect_to = curl_slist_append(
          *connect_to, fmt::format("{}:{}:{}:{}", tc.server_name, port_, host_, port_).c_str());
      curl_easy_setopt(c, CURLOPT_CONNECT_TO, *connect_to);
    }
  }

  // A failed connection or SMTP exchange as a retryable NotifyResult.
  NotifyResult CurlFailure(CURL* c, CURLcode rc, const char* errbuf) const {
    NotifyResult out;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    out.http_status = code;
    const std::string msg = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
    const std::string text = fmt::format("send email via {}:{}: {}", host_, port_, msg);
    out.status = rc == CURLE_OPERATION_TIMEDOUT ? Status::Timeout(text) : Status::Unavailable(text);
    out.retryable = rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL;
    return out;
  }

  // Connects as the delivery will (EHLO, STARTTLS when it applies, EHLO again) without
  // authenticating, and returns the AUTH extension's value of the last EHLO answer, in the
  // server's order (nullopt when AUTH is not advertised). libcurl picks the SASL mechanism by
  // its own preference; Alertmanager picks by the server's order, which needs this list.
  Result<std::optional<std::string>> ProbeAuthMechanisms(const Notification& n,
                                                         NotifyResult* failure) const {
    struct Capture {
      bool in_ehlo = false;
      bool first_line = false;
      std::string pending;
      std::optional<std::string> auth;
    } cap;
    auto debug = +[](CURL*, curl_infotype type, char* data, size_t size, void* user) -> int {
      auto* cp = static_cast<Capture*>(user);
      const std::string_view chunk(data, size);
      if (type == CURLINFO_HEADER_OUT) {
        cp->in_ehlo = chunk.substr(0, 5) == "EHLO ";
        if (cp->in_ehlo) {
          cp->first_line = true;
          cp->auth.reset();  // Go's client forgets the extensions of an earlier EHLO
        }
        cp->pending.clear();
      } else if (type == CURLINFO_HEADER_IN && cp->in_ehlo) {
        cp->pending.append(chunk);
        size_t eol;
        while ((eol = cp->pending.find("\r\n")) != std::string::npos) {
          const std::string line = cp->pending.substr(0, eol);
          cp->pending.erase(0, eol + 2);
          if (line.size() < 4 || line.compare(0, 3, "250") != 0) continue;
          if (cp->first_line) {  // the greeting line names the server, not an extension
            cp->first_line = false;
            continue;
          }
          // net/smtp: the keyword is up to the first space, the value the rest.
          const std::string ext = line.substr(4);
          const size_t sp = ext.find(' ');
          if (ext.substr(0, sp) == "AUTH") {
            cp->auth = sp == std::string::npos ? "" : ext.substr(sp + 1);
          }
        }
      }
      return 0;
    };
    CURL* c = curl_easy_init();
    if (c == nullptr) return Status::Internal("cannot create an SMTP handle");
    char errbuf[CURL_ERROR_SIZE] = {0};
    struct curl_slist* connect_to = nullptr;
    SetupConnection(c, errbuf, &connect_to, internal::AttemptTimeout(n, deps_.timeout));
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // the debug callback sees only verbose output
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &cap);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) *failure = CurlFailure(c, rc, errbuf);
    curl_easy_cleanup(c);  // sends QUIT
    curl_slist_free_all(connect_to);
    if (rc != CURLE_OK) return failure->status;
    return cap.auth;
  }

  NotifyResult Send(const Notification& n, const std::string& from,
                    const std::vector<std::string>& to, const std::string& message) const {
    NotifyResult out;
    const bool tls = port_ == "465" || cfg_.require_tls.value_or(true);
    // As Alertmanager: no auth_username, no authentication; AUTH not advertised, none either.
    std::string mechanism;
    std::string password;  // secret
    if (!cfg_.auth_username.empty()) {
      auto advertised = ProbeAuthMechanisms(n, &out);
      if (!advertised.ok()) return out;
      if (advertised->has_value()) {
        const Result<std::string> read = Password();
        if (read.ok()) password = *read;
        auto chosen = internal::ChooseAuthMechanism(**advertised, cfg_.auth_username, read,
                                                    cfg_.auth_secret);
        if (!chosen.ok()) {
          out.status = chosen.status().WithPrefix("find auth mechanism");
          out.retryable = true;
          return out;
        }
        mechanism = *chosen;
      }
    }
    // Go's smtp.PlainAuth refuses to send a password unencrypted except to localhost;
    // Alertmanager's own LOGIN client and CRAM-MD5 have no such check.
    if (mechanism == "PLAIN" && !tls && !IsLocalHost(host_)) {
      out.status = Status::Unavailable("*smtp.plainAuth auth: unencrypted connection");
      out.retryable = true;
      return out;
    }
    CURL* c = curl_easy_init();
    if (c == nullptr) {
      out.status = Status::Internal("cannot create an SMTP handle");
      out.retryable = true;
      return out;
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    struct curl_slist* connect_to = nullptr;
    SetupConnection(c, errbuf, &connect_to, internal::AttemptTimeout(n, deps_.timeout));
    const std::string login_options = "AUTH=" + mechanism;
    if (!mechanism.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, cfg_.auth_username.c_str());
      curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, login_options.c_str());
      if (mechanism == "CRAM-MD5") {
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg_.auth_secret.c_str());
      } else {
        curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
        if (mechanism == "PLAIN" && !cfg_.auth_identity.empty()) {
          curl_easy_setopt(c, CURLOPT_SASL_AUTHZID, cfg_.auth_identity.c_str());
        }
      }
    }
    const std::string mail_from = "<" + from + ">";
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    struct curl_slist* rcpt = nullptr;
    for (const auto& a : to) rcpt = curl_slist_append(rcpt, ("<" + a + ">").c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    Upload up{&message};
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DiscardBody);

    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      out = CurlFailure(c, rc, errbuf);
    } else {
      long code = 0;
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
      out.http_status = code;
    }
    curl_slist_free_all(rcpt);
    curl_slist_free_all(connect_to);
    curl_easy_cleanup(c);
    return out;
  }

  // auth_password, or auth_password_file's whole content read now: Alertmanager 0.25 reads
  // the file at each authentication and does not trim it (a trailing newline is part of the
  // password), so a rotated file is used from the next send on.
  Result<std::string> Password() const {
    if (cfg_.auth_password_file.empty()) return cfg_.auth_password;
    std::ifstream in(cfg_.auth_password_file, std::ios::binary);
    std::string content;
    if (in.is_open()) {
      content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (!in.is_open() || in.bad()) {
      return Status::Unavailable(fmt::format("could not read {}: {}", cfg_.auth_password_file,
                                             std::strerror(errno)));
    }
    return content;
  }

  const EmailConfig cfg_;
  const Deps deps_;
  const std::string host_;
  const std::string port_;
  const std::string hostname_;
  internal::CompiledFields fields_;  // built in the constructor, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const EmailConfig& cfg,
                                                   const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("email: no templates");
  EnsureCurlInitialized();
  if (!cfg.auth_password_file.empty()) {
    // Refused now rather than at the first send (the file is read again at each one).
    auto f = ReadSecretFile(cfg.auth_password_file);
    if (!f.ok()) return f.status().WithPrefix("email auth_password_file");
  }
  const size_t colon = cfg.smarthost.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == cfg.smarthost.size()) {
    return Status::InvalidArgument("email: smarthost \"" + cfg.smarthost + "\" must be host:port");
  }
  std::string host = cfg.smarthost.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string port = cfg.smarthost.substr(colon + 1);
  std::string hostname = deps.hostname;
  if (hostname.empty()) {
    char buf[256] = {0};
    hostname = gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost.localdomain";
  }
  for (const std::string* f :
       {&cfg.tls_config.ca_file, &cfg.tls_config.cert_file, &cfg.tls_config.key_file}) {
    if (!f->empty() && access(f->c_str(), R_OK) != 0) {
      return Status::InvalidArgument("email tls_config: cannot read " + *f);
    }
  }
  return std::unique_ptr<Notifier>(
      new EmailNotifier(cfg, deps, std::move(host), std::move(port), std::move(hostname)));
}

}  // namespace alertd::notifiers
