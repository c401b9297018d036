#include "notifiers/sns/sigv4.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string_view>

namespace alertd::notifiers::sigv4 {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  return Hex(d, n);
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), d, &n);
  return std::string(reinterpret_cast<const char*>(d), n);
}

// The canonical query string: parameters sorted by name then value, as sent (the caller's
// query is already percent-encoded with unreserved characters left alone).
std::string CanonicalQuery(const std::string& query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string_view part(query.data() + start, end - start);
    const size_t eq = part.find('=');
    params.emplace_back(std::string(part.substr(0, eq)),
                        eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Sign(
    const Credentials& creds, const std::string& region, const std::string& service,
    const std::string& method, const std::string& host, const std::string& path,
    const std::string& query, const std::string& content_type, const std::string& body,
    Time now) {
  const time_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  const std::string amz_date = buf;
  const std::string date = amz_date.substr(0, 8);

  // Header names in lower case, sorted.
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", content_type}, {"host", host}, {"x-amz-date", amz_date}};
  if (!creds.session_token.empty()) headers.emplace_back("x-amz-security-token", creds.session_token);
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  const std::string canonical_request =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", method, path.empty() ? "/" : path,
                  CanonicalQuery(query), canonical_headers, signed_headers, Sha256Hex(body));
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  const std::string to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope,
                                          Sha256Hex(canonical_request));
  std::string key = Hmac("AWS4" + creds.secret_key, date);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  const std::string sig = Hmac(key, to_sign);

  std::vector<std::pair<std::string, std::string>> out = {{"X-Amz-Date", amz_date}};
  if (!creds.session_token.empty()) out.emplace_back("X-Amz-Security-Token", creds.session_token);
  out.emplace_back("Authorization",
                   fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                               creds.access_key, scope, signed_headers,
                               Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size())));
  return out;
}

}  // namespace alertd::notifiers::sigv4
