// core/secret_text.h: URLs lose their userinfo, secrets are replaced wherever they occur.
#include "core/secret_text.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace alertd;

TEST_CASE("StripUrlUserinfo removes user:password@ from every URL and nothing else") {
  struct Row {
    const char* name;
    const char* in;
    const char* out;
  };
  const Row rows[] = {
      {"user and password", "http://u:p@host:9090/x?y=1", "http://host:9090/x?y=1"},
      {"user only", "https://user@host", "https://host"},
      {"@ in the password", "http://u:p@ss@host/", "http://host/"},
      {"@ in the path stays", "http://host/a@b", "http://host/a@b"},
      {"@ in the query stays", "http://host?mail=a@b", "http://host?mail=a@b"},
      {"no userinfo", "http://host:9090", "http://host:9090"},
      {"no URL", "user:password@host", "user:password@host"},
      {"two URLs in text", "Get \"http://a:b@h1/q\" via socks5h://c:d@h2:1080 failed",
       "Get \"http://h1/q\" via socks5h://h2:1080 failed"},
      {"scheme with digits and +", "git+ssh://me:pw@host", "git+ssh://host"},
      {"not a scheme", "://u:p@host", "://u:p@host"},
      {"empty", "", ""},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(StripUrlUserinfo(row.in) == row.out);
  }
  CHECK(UrlUserinfo("http://u:p%40s@host/x") == "u:p%40s");
  CHECK(UrlUserinfo("http://host/x@y").empty());
  CHECK(UrlUserinfo("no url").empty());
}

TEST_CASE("ScrubSecrets hides every occurrence, longest first, and ignores empty secrets") {
  const std::vector<std::string> secrets = {"", "abc", "abcdef"};
  CHECK(ScrubSecrets("x abcdef y abc z abcabc", secrets) ==
        "x <secret> y <secret> z <secret><secret>");
  CHECK(ScrubSecrets("nothing here", secrets) == "nothing here");
  // A secret that is part of the placeholder does not loop.
  CHECK(ScrubSecrets("a secret", std::vector<std::string>{"secret"}) == "a <secret>");
}
