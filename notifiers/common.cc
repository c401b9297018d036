#include "notifiers/common.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include "net/http_client.h"

namespace alertd::notifiers::internal {

std::string QuoteMeta(std::string_view s) {
  static constexpr std::string_view kSpecial = "\\.+*?()|[]{}^$";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

templating::NotificationData MakeTemplateData(const Notification& n,
                                              std::span<const AlertPtr> alerts) {
  templating::NotificationData d;
  d.receiver = QuoteMeta(n.receiver);
  d.external_url = n.external_url;
  d.on_call = {n.on_call.name, n.on_call.email, n.on_call.slack, n.on_call.phone};
  d.group_labels = n.group_labels.ToMap();
  d.alerts.reserve(alerts.size());
  for (const auto& a : alerts) {
    templating::NotificationAlert t;
    const bool resolved = a->ResolvedAt(n.now);
    t.status = resolved ? "resolved" : "firing";
    t.labels = a->labels.ToMap();
    t.annotations = a->annotations.ToMap();
    t.starts_at = a->starts_at;
    // The dispatcher sends firing alerts without endsAt so they do not resolve on their own
    // while the notification travels (dispatch.go aggrGroup.flush).
    t.ends_at = resolved ? a->ends_at : kZeroTime;
    t.generator_url = a->generator_url;
    t.fingerprint = a->labels.FingerprintHex();
    d.alerts.push_back(std::move(t));
  }
  templating::ComputeGroupFields(d);
  // Acknowledged alerts still fire: the group does, whatever the listed alerts say.
  if (!n.acknowledged.empty()) d.status = "firing";
  return d;
}

void AppendJsonObject(std::string* out, const std::map<std::string, std::string>& m) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, k);
    out->push_back(':');
    AppendJsonString(out, v);
  }
  out->push_back('}');
}

namespace {

// Byte offsets of the rune starts of `s` (UTF-8 lead bytes; a stray continuation byte counts
// as one rune of its own, as Go's []rune conversion does for invalid bytes).
std::vector<size_t> RuneStarts(std::string_view s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size();) {
    starts.push_back(i);
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    size_t j = 1;
    while (j < len && i + j < s.size() && (static_cast<unsigned char>(s[i + j]) & 0xC0) == 0x80)
      ++j;
    i += j;
  }
  return starts;
}

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…", 3 bytes

}  // namespace

std::string TruncateInRunes(std::string_view s, size_t n, bool* truncated) {
  if (truncated != nullptr) *truncated = false;
  const std::vector<size_t> starts = RuneStarts(s);
  if (starts.size() <= n) return std::string(s);
  if (truncated != nullptr) *truncated = true;
  if (n <= 3) return std::string(s.substr(0, starts[n]));
  return std::string(s.substr(0, starts[n - 1])) + std::string(kEllipsis);
}

std::string TruncateInBytes(std::string_view s, size_t n, bool* truncated) {
  if (truncated != nullptr) *truncated = s.size() > n;
  if (s.size() <= n) return std::string(s);
  if (n == 3) return std::string(kEllipsis);
  if (n < 3) return std::string(n, '.');
  // The longest whole-rune prefix that leaves room for the marker.
  size_t end = 0;
  for (size_t start : RuneStarts(s)) {
    if (start > n - 3) break;
    end = start;
  }
  return std::string(s.substr(0, end)) + std::string(kEllipsis);
}

std::string AppendToUrlPath(std::string_view url, std::string_view suffix) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t path_end = url.find_first_of("?#", authority);
  if (path_end == std::string_view::npos) path_end = url.size();
  std::string out(url.substr(0, path_end));
  if (path_end <= authority || url[path_end - 1] != '/') out += '/';
  static constexpr std::string_view kKept = "-._~$&+,/:;=@";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : suffix) {
    if (std::isalnum(c) || kKept.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  out.append(url.substr(path_end));
  return out;
}

}  // namespace alertd::notifiers::internal

namespace alertd::notifiers {

std::string GroupKeyHash(std::string_view group_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(group_key.data(), group_key.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace alertd::notifiers

namespace alertd::notifiers::internal {

CompiledFields::CompiledFields(std::shared_ptr<const templating::TemplateSet> templates)
    : templates_(std::move(templates)) {}

void CompiledFields::Add(std::string_view text) {
  if (text.find("{{") == std::string_view::npos || compiled_.find(text) != compiled_.end()) {
    return;
  }
  compiled_.emplace(std::string(text), templates_->Compile("text", text));
}

const Result<templating::CompiledText>* CompiledFields::Find(std::string_view text) const {
  auto it = compiled_.find(text);
  return it == compiled_.end() ? nullptr : &it->second;
}

Renderer::Renderer(const Deps& deps, const templating::NotificationData& data,
                   const CompiledFields* fields)
    : deps_(deps), fields_(fields), value_(templating::ToValue(data)) {}

std::string Renderer::Render(std::string_view text, bool escape_html) {
  if (text.empty()) return "";
  // Plain text needs no template machinery (html/template still rewrites literal HTML).
  if (!escape_html && text.find("{{") == std::string_view::npos) return std::string(text);
  const Result<templating::CompiledText>* found =
      fields_ != nullptr ? fields_->Find(text) : nullptr;
  Result<templating::CompiledText> compiled =
      found != nullptr ? *found : deps_.templates->Compile("text", text);
  templating::ExecResult r;
  if (compiled.ok()) {
    templating::ExecOptions opts = templating::NotificationExecOptions(deps_.now);
    opts.escape_html = escape_html;
    r = compiled->Execute(value_, opts);
  } else {
    // The text itself is broken (config validation should have caught it): send its error.
    r.status = compiled.status();
    r.error_count = 1;
    r.output = "<error: " + compiled.status().message() + ">";
    if (escape_html) r.output = templating::HtmlEscapeText(r.output);
  }
  if (!r.ok()) {
    if (errors_ == 0) first_error_ = r.status;
    errors_ += std::max(1, r.error_count);
  }
  return std::move(r.output);
}

void LogTemplateErrors(std::string_view integration, const Notification& n, const Renderer& r) {
  if (r.errors() == 0) return;
  spdlog::warn("notify {} receiver={} group={}: {} template error(s), first: {}", integration,
               n.receiver, n.group_key, r.errors(), r.first_error().message());
}

Duration AttemptTimeout(const Notification& n, Duration limit) {
  using Steady = std::chrono::steady_clock;
  if (n.deadline == Steady::time_point::max()) return limit > Duration::zero() ? limit : Duration::zero();
  const auto left = std::chrono::duration_cast<Duration>(n.deadline - Steady::now());
  Duration d = limit > Duration::zero() ? std::min(limit, left) : left;
  return std::max<Duration>(d, std::chrono::milliseconds(1));
}

Time Now(const Deps& deps) {
  if (deps.now) return deps.now();
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace alertd::notifiers::internal
