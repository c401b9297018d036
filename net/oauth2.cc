#include "net/oauth2.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "net/http_client.h"

namespace alertd::net {
namespace {

// golang.org/x/oauth2's expiryDelta: a token this close to its expiry is fetched again.
constexpr auto kExpiryDelta = std::chrono::seconds(10);
// golang.org/x/oauth2 reads at most this much of a token answer.
constexpr size_t kMaxTokenAnswer = 1 << 20;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// oauth2.Token.Type: the scheme the token goes with in the Authorization header.
std::string HeaderType(const std::string& token_type) {
  const std::string t = Lower(token_type);
  if (t.empty() || t == "bearer") return "Bearer";
  if (t == "mac") return "MAC";
  if (t == "basic") return "Basic";
  return token_type;
}

// The value of `key` in an application/x-www-form-urlencoded body ("" when absent).
std::string FormValue(const std::string& body, const std::string& key) {
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    const std::string_view pair(body.data() + pos, end - pos);
    const size_t eq = pair.find('=');
    const std::string_view k = pair.substr(0, eq);
    std::string decoded_key = PercentDecode(k);
    std::replace(decoded_key.begin(), decoded_key.end(), '+', ' ');
    if (decoded_key == key) {
      if (eq == std::string_view::npos) return "";
      std::string v(pair.substr(eq + 1));
      std::replace(v.begin(), v.end(), '+', ' ');
      return PercentDecode(v);
    }
    pos = end + 1;
  }
  return "";
}

// expires_in as a count of seconds: a JSON number or a string holding one (Go's json.Number).
std::optional<int64_t> ExpiresIn(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

OAuth2TokenSource::OAuth2TokenSource(config::OAuth2Config cfg, std::unique_ptr<HttpClient> client)
    : cfg_(std::move(cfg)), client_(std::move(client)) {}
OAuth2TokenSource::~OAuth2TokenSource() = default;

Result<std::unique_ptr<OAuth2TokenSource>> OAuth2TokenSource::Create(
    const config::OAuth2Config& cfg, const std::string& user_agent) {
  if (!cfg.client_secret_file.empty()) {
    auto s = ReadSecretFile(cfg.client_secret_file);
    if (!s.ok()) return s.status().WithPrefix("oauth2");
  }
  // The token endpoint is reached through the section's own proxy and TLS settings, with no
  // authentication of its own.
  config::HTTPClientConfig token_http;
  token_http.proxy_url = cfg.proxy_url;
  token_http.tls_config = cfg.tls_config;
  auto client = HttpClient::Create(token_http, user_agent);
  if (!client.ok()) return client.status().WithPrefix("oauth2");
  return std::unique_ptr<OAuth2TokenSource>(new OAuth2TokenSource(cfg, std::move(*client)));
}

Result<std::string> OAuth2TokenSource::Authorization(Duration timeout,
                                                     std::vector<std::string>* secrets_out) {
  std::string secret = cfg_.client_secret;
  if (!cfg_.client_secret_file.empty()) {
    auto s = ReadSecretFile(cfg_.client_secret_file);
    if (!s.ok()) return Status::Unavailable("oauth2: " + s.status().message());
    secret = std::move(*s);
  }
  if (secrets_out != nullptr && !secret.empty()) secrets_out->push_back(secret);
  MutexLock l(mu_);
  if (secret != secret_) {
    token_.reset();  // a rotated secret: the token fetched with the old one is dropped
    secret_ = secret;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!token_ || (token_->expiry && *token_->expiry - kExpiryDelta <= now)) {
    Result<Token> t = Status::Unavailable("oauth2: no token");
    if (style_ == AuthStyle::kUnknown) {
      // golang.org/x/oauth2 probes: credentials in the header first, then in the form.
      t = Fetch(secret, AuthStyle::kHeader, timeout);
      if (t.ok()) {
        style_ = AuthStyle::kHeader;
      } else {
        t = Fetch(secret, AuthStyle::kParams, timeout);
        if (t.ok()) style_ = AuthStyle::kParams;
      }
    } else {
      t = Fetch(secret, style_, timeout);
    }
    if (!t.ok()) return t.status();
    token_ = std::move(*t);
  }
  if (secrets_out != nullptr) secrets_out->push_back(token_->access_token);
  return token_->type + " " + token_->access_token;
}

Result<OAuth2TokenSource::Token> OAuth2TokenSource::Fetch(const std::string& secret,
                                                          AuthStyle style, Duration timeout) {
  std::map<std::string, std::string> form{{"grant_type", "client_credentials"}};
  if (!cfg_.scopes.empty()) {
    std::string scope;
    for (const auto& s : cfg_.scopes) scope += (scope.empty() ? "" : " ") + s;
    form["scope"] = scope;
  }
  for (const auto& [k, v] : cfg_.endpoint_params) {
    if (k != "grant_type" && form.count(k)) {
      return Status::Unavailable(fmt::format("oauth2: cannot overwrite parameter \"{}\"", k));
    }
    form[k] = v;
  }
  HttpRequest req;
  req.method = "POST";
  req.url = cfg_.token_url;
  req.content_type = "application/x-www-form-urlencoded";
  req.timeout = timeout;
  req.max_response_bytes = kMaxTokenAnswer;
  if (style == AuthStyle::kParams) {
    if (!cfg_.client_id.empty()) form["client_id"] = cfg_.client_id;
    if (!secret.empty()) form["client_secret"] = secret;
  } else {
    const std::string user_pass = QueryEscape(cfg_.client_id) + ":" + QueryEscape(secret);
    req.headers.emplace_back("Authorization", "Basic " + Base64Encode(user_pass));
  }
  req.body = EncodeQuery(form);
  HttpResponse resp = client_->Do(req);
  if (!resp.transport.ok()) {
    return resp.transport.WithPrefix("oauth2: cannot fetch token");
  }
  const std::string content_type = Lower(resp.content_type.substr(0, resp.content_type.find(';')));
  const bool form_answer =
      content_type == "application/x-www-form-urlencoded" || content_type == "text/plain";
  if (resp.status < 200 || resp.status > 299) {
    // RFC 6749 5.2: the `error` code says why (invalid_client, ...); the rest of the answer
    // is not quoted, as a server may echo what it was sent.
    std::string code;
    if (form_answer) {
      code = FormValue(resp.body, "error");
    } else {
      auto j = nlohmann::json::parse(resp.body, nullptr, false);
      if (j.is_object() && j.contains("error") && j["error"].is_string()) code = j["error"];
    }
    const bool printable = std::all_of(code.begin(), code.end(), [](unsigned char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (!printable || code.size() > 64) code.clear();
    return Status::Unavailable(fmt::format("oauth2: cannot fetch token: HTTP {}{}", resp.status,
                                           code.empty() ? "" : " (" + code + ")"));
  }
  Token t;
  std::optional<int64_t> expires_in;
  std::string token_type;
  if (form_answer) {
    t.access_token = FormValue(resp.body, "access_token");
    token_type = FormValue(resp.body, "token_type");
    const std::string e = FormValue(resp.body, "expires_in");
    if (!e.empty()) expires_in = ExpiresIn(nlohmann::json(e));
  } else {
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    if (!j.is_object()) return Status::Unavailable("oauth2: cannot parse the token answer");
    if (j.contains("access_token") && j["access_token"].is_string()) t.access_token = j["access_token"];
    if (j.contains("token_type") && j["token_type"].is_string()) token_type = j["token_type"];
    if (j.contains("expires_in")) expires_in = ExpiresIn(j["expires_in"]);
  }
  if (t.access_token.empty()) {
    return Status::Unavailable("oauth2: server response missing access_token");
  }
  t.type = HeaderType(token_type);
  if (expires_in && *expires_in != 0) {
    t.expiry = std::chrono::steady_clock::now() + std::chrono::seconds(*expires_in);
  }
  return t;
}

}  // namespace alertd::net
