#include "core/encoding.h"

#include <doctest/doctest.h>

namespace alertd {

TEST_CASE("QueryEscape and EncodeQuery write what Go's net/url writes") {
  // Expected values from Go 1.19: url.QueryEscape and url.Values{...}.Encode().
  CHECK(QueryEscape("") == "");
  CHECK(QueryEscape("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(QueryEscape("a b&c=d/é+%") == "a+b%26c%3Dd%2F%C3%A9%2B%25");
  CHECK(QueryEscape("rate(x[5m]) > 0") == "rate%28x%5B5m%5D%29+%3E+0");
  CHECK(QueryEscape(std::string("\x00\xff", 2)) == "%00%FF");
  CHECK(EncodeQuery({}) == "");
  CHECK(EncodeQuery({{"scope", "a b"}, {"grant_type", "client_credentials"}, {"k&", "v="}}) ==
        "grant_type=client_credentials&k%26=v%3D&scope=a+b");
}

TEST_CASE("Base64Encode is RFC 4648 with padding") {
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode("client%3Aid:s%2Bcret") == "Y2xpZW50JTNBaWQ6cyUyQmNyZXQ=");
  CHECK(Base64Encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

}  // namespace alertd
