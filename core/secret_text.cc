#include "core/secret_text.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace alertd {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || std::isspace(static_cast<unsigned char>(c));
}

// The next URL at or after `from`: sets the start of its authority and of the userinfo's '@'
// (npos when it has no userinfo) and returns true; false when there is no further URL.
bool NextUrl(std::string_view text, size_t from, size_t* authority, size_t* at, size_t* end) {
  for (size_t sep = text.find("://", from); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    size_t s = sep;
    while (s > 0 && IsSchemeChar(text[s - 1])) --s;
    // A scheme starts with a letter; skip leading digits and punctuation that precede it.
    while (s < sep && !std::isalpha(static_cast<unsigned char>(text[s]))) ++s;
    if (s == sep) continue;
    const size_t a = sep + 3;
    size_t e = a;
    while (e < text.size() && !EndsAuthority(text[e])) ++e;
    const size_t last_at = text.substr(a, e - a).rfind('@');
    *authority = a;
    *at = last_at == std::string_view::npos ? std::string_view::npos : a + last_at;
    *end = e;
    return true;
  }
  return false;
}

}  // namespace

std::string StripUrlUserinfo(std::string_view text) {
  std::string out;
  size_t copied = 0, pos = 0, authority, at, end;
  while (NextUrl(text, pos, &authority, &at, &end)) {
    if (at != std::string_view::npos) {
      out.append(text.substr(copied, authority - copied));
      copied = at + 1;
    }
    pos = end;
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

std::string_view UrlUserinfo(std::string_view url) {
  size_t authority, at, end;
  if (!NextUrl(url, 0, &authority, &at, &end) || at == std::string_view::npos) return {};
  return url.substr(authority, at - authority);
}

std::string ScrubSecrets(std::string text, std::span<const std::string> secrets) {
  std::vector<const std::string*> order;
  for (const auto& s : secrets) {
    if (!s.empty()) order.push_back(&s);
  }
  std::sort(order.begin(), order.end(),
            [](const std::string* a, const std::string* b) { return a->size() > b->size(); });
  for (const std::string* s : order) {
    for (size_t p = text.find(*s); p != std::string::npos;
         p = text.find(*s, p + kSecretPlaceholder.size())) {
      text.replace(p, s->size(), kSecretPlaceholder);
    }
  }
  return text;
}

}  // namespace alertd
