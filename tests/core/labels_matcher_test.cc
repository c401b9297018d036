#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/alert.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/utf8.h"

using namespace alertd;

TEST_CASE("fingerprints match prometheus/common test vectors") {
  CHECK(LabelSet{}.Fingerprint() == 14695981039346656037ULL);
  LabelSet ls{{"name", "garland, briggs"}, {"fear", "love is not enough"}};
  CHECK(ls.Fingerprint() == 5799056148416392346ULL);
  CHECK(ls.FingerprintHex() == "507a62d79ee76c9a");
  CHECK(LabelSet{{"alertname", "TestAlert"}}.FingerprintHex() == "dab43189276e5f48");
}

TEST_CASE("label sets stay sorted, unique and compare by content") {
  LabelSet a{{"b", "2"}, {"a", "1"}, {"c", "3"}};
  LabelSet b;
  b.Set("c", "3");
  b.Set("a", "1");
  b.Set("b", "0");
  b.Set("b", "2");
  CHECK(a == b);
  CHECK((*a.begin()).name == "a");
  CHECK(a.String() == R"({a="1", b="2", c="3"})");
  CHECK(a.Get("missing").empty());
  b.Remove("b");
  CHECK(b.size() == 2);
  CHECK_FALSE(a == b);
  LabelSet q{{"v", "quote\" back\\slash\nnl\x01 ü"}};
  CHECK(q.String() == "{v=\"quote\\\" back\\\\slash\\nnl\\x01 ü\"}");
}

TEST_CASE("packed label sets: long values, order, removal and comparison") {
  // Values of 127, 128 and 20,000 bytes: one-, two- and three-byte length prefixes.
  const std::string v127(127, 'x'), v128(128, 'y'), big(20000, 'z');
  LabelSet ls;
  ls.Set("m", v128);
  ls.Set("a", big);
  ls.Set("z", v127);
  ls.Set("e", "");
  REQUIRE(ls.size() == 4);
  std::vector<std::string> names;
  for (const auto& [n, v] : ls) names.emplace_back(n);
  CHECK(names == std::vector<std::string>{"a", "e", "m", "z"});
  CHECK(ls.Get("a") == big);
  CHECK(ls.Get("m") == v128);
  CHECK(ls.Get("z") == v127);
  CHECK(ls.Has("e"));
  CHECK_FALSE(ls.Has("f"));
  // Replacing a value with a longer or shorter one keeps the others intact.
  ls.Set("m", "short");
  CHECK(ls.Get("m") == "short");
  CHECK(ls.Get("z") == v127);
  ls.Set("a", v128);
  CHECK(ls.Get("a") == v128);
  // A value taken from the set itself (views into it) survives the set being rewritten.
  ls.Set("b", ls.Get("z"));
  CHECK(ls.Get("b") == v127);
  ls.Set("z", ls.Get("b").substr(0, 3));
  CHECK(ls.Get("z") == "xxx");
  ls.Set("z", v127);
  ls.Remove("b");
  ls.RemoveEmpty();
  CHECK(ls.size() == 3);
  CHECK_FALSE(ls.Has("e"));
  ls.Remove("a");
  ls.Remove("absent");
  CHECK(ls.size() == 2);
  CHECK(ls == LabelSet{{"z", v127}, {"m", "short"}});
  CHECK(ls.Fingerprint() == LabelSet{{"m", "short"}, {"z", v127}}.Fingerprint());
  CHECK(LabelSet::FromMap({{"b", "2"}, {"a", "1"}}) == LabelSet{{"a", "1"}, {"b", "2"}});
  const LabelSet none;
  CHECK(none.empty());
  CHECK(none.begin() == none.end());
  CHECK(none.size() == 0);

  // operator< orders label by label, name then value, a prefix first.
  const LabelSet x{{"a", "1"}}, y{{"a", "1"}, {"b", "0"}}, z{{"a", "2"}}, w{{"b", "0"}};
  CHECK(x < y);
  CHECK_FALSE(y < x);
  CHECK(y < z);
  CHECK(z < w);
  CHECK_FALSE(x < x);
  CHECK(LabelSet() < x);
}

TEST_CASE("a label set builder gives what setting the labels one by one gives") {
  const std::string v127(127, 'x'), v128(128, 'y'), big(20000, 'z');
  struct Row {
    const char* name;
    std::vector<std::pair<std::string, std::string>> labels;  // in the order added
  };
  const std::vector<Row> rows = {
      {"empty", {}},
      {"one label", {{"a", "1"}}},
      {"sorted", {{"a", "1"}, {"b", "2"}, {"c", "3"}}},
      {"reverse order", {{"c", "3"}, {"b", "2"}, {"a", "1"}}},
      {"a repeated name: the last wins", {{"b", "first"}, {"a", "1"}, {"b", "last"}}},
      {"three repeats", {{"x", "1"}, {"x", "2"}, {"x", "3"}}},
      {"empty values are kept", {{"e", ""}, {"a", "1"}}},
      {"multi-byte lengths", {{"m", v128}, {"a", big}, {"z", v127}, {"a", v128}}},
      {"byte-wise order", {{"b", "1"}, {"B", "2"}, {"_", "3"}, {"a_1", "4"}, {"a", "5"}}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    LabelSet want;
    LabelSetBuilder b;
    size_t bytes = 0;
    for (const auto& [n, v] : row.labels) {
      want.Set(n, v);
      b.Add(n, v);
      bytes += n.size() + v.size();
    }
    CHECK(b.size() == row.labels.size());
    CHECK(b.bytes() == bytes);
    const LabelSet got = b.Build();
    CHECK(got == want);
    CHECK(got.Fingerprint() == want.Fingerprint());
    CHECK(got.size() == want.size());
    CHECK(b.size() == 0);  // emptied, reusable
    CHECK(b.bytes() == 0);
  }
  // Many labels in a scrambled order, with every name twice: the second value wins.
  LabelSetBuilder b;
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) names.push_back("l" + std::to_string((i * 7919) % 5000));
  for (const auto& n : names) b.Add(n, "old");
  for (const auto& n : names) b.Add(n, n);
  const LabelSet many = b.Build();
  CHECK(many.size() == 5000);
  CHECK(many.Get("l0") == "l0");
  CHECK(many.Get("l4999") == "l4999");
  std::string prev;
  for (const auto& l : many) {
    CHECK(prev < l.name);
    CHECK(l.value == l.name);
    prev = std::string(l.name);
  }
}

TEST_CASE("label names are validated as Prometheus does") {
  for (const char* ok : {"a", "_", "A_1", "__name__", "severity"}) CHECK(IsValidLabelName(ok));
  for (const char* bad : {"", "1a", "a-b", "a.b", "ü", "a b", "a:b"}) {
    INFO(bad);
    CHECK_FALSE(IsValidLabelName(bad));
  }
}

TEST_CASE("matchers parse in Alertmanager syntax") {
  struct Row {
    const char* name;
    const char* in;
    size_t count;
    const char* printed;
  } rows[] = {
      {"braced list", R"({a="b", c=~"d.*"})", 2, R"({a="b",c=~"d.*"})"},
      {"unquoted", "a!=b", 1, R"({a!="b"})"},
      {"no braces list", R"(foo=bar, baz!~"qu+x")", 2, R"({baz!~"qu+x",foo="bar"})"},
      {"trailing comma", R"({a="x",})", 1, R"({a="x"})"},
      {"escapes", R"(a="q\"uote\\d+\n")", 1, R"({a="q\"uote\\d+\n"})"},
      {"empty value", R"(a="")", 1, R"({a=""})"},
      {"empty unquoted", "a=", 1, R"({a=""})"},
      {"utf8 value", R"(team="Zürich 🚨")", 1, R"({team="Zürich 🚨"})"},
      {"quoted name", R"("service name"="x")", 1, R"({"service name"="x"})"},
      {"spaces", R"(  { a = "b" ,  c != d }  )", 2, R"({a="b",c!="d"})"},
      {"empty braces", "{}", 0, "{}"},
      {"same name: by value, then type", R"(a!="y", a=~"x", a="x")", 3, R"({a="x",a=~"x",a!="y"})"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto ms = ParseMatchers(r.in);
    REQUIRE_MESSAGE(ms.ok(), ms.status().message());
    CHECK(ms->size() == r.count);
    CHECK(MatchersString(*ms) == r.printed);
  }
}

TEST_CASE("malformed matchers are refused") {
  for (const char* bad : {"a", "{a=b", "a=b}", R"(a="unterminated)", "a=~\"(\"", "=b", "a==b c", R"(a="\q")",
                          "{a=b}}", "a<b"}) {
    INFO(bad);
    auto ms = ParseMatchers(bad);
    CHECK_FALSE(ms.ok());
  }
}

TEST_CASE("matchers match with anchored RE2 regexes and missing-as-empty") {
  LabelSet ls{{"severity", "critical"}, {"instance", "db-1:9100"}};
  struct Row {
    const char* m;
    bool want;
  } rows[] = {
      {"severity=critical", true},      {"severity=crit", false},
      {"severity=~crit", false},        {R"(severity=~"crit.*")", true},
      {R"(severity=~"warning|critical")", true},
      {R"(instance=~"db-\\d+:9100")", true},
      {"missing=\"\"", true},           {"missing!=\"\"", false},
      {R"(missing=~".*")", true},       {R"(missing=~".+")", false},
      {"severity!~critical", false},    {"severity!=warning", true},
      {R"(instance=~"db")", false},
  };
  for (const Row& r : rows) {
    INFO(r.m);
    auto m = ParseMatcher(r.m);
    REQUIRE(m.ok());
    CHECK(m->Matches(ls) == r.want);
  }
}

TEST_CASE("alerts merge as Alertmanager merges them") {
  auto t = [](int s) { return FromUnixSeconds(1000 + s); };
  Alert stored;
  stored.labels = {{"alertname", "A"}};
  stored.starts_at = t(0);
  stored.ends_at = t(300);
  stored.updated_at = t(0);
  stored.timeout = true;
  stored.annotations = {{"summary", "old"}};

  Alert resend = stored;
  resend.starts_at = t(10);
  resend.ends_at = t(400);
  resend.updated_at = t(60);
  resend.timeout = false;
  resend.annotations = {{"summary", "new"}};
  Alert m = MergeAlert(stored, resend, t(60));
  CHECK(m.starts_at == t(0));  // earliest start kept
  CHECK(m.ends_at == t(400));
  CHECK(m.annotations.Get("summary") == "new");

  // A resolve from a replica with an older end time does not undo a later explicit end.
  Alert r1 = stored;
  r1.timeout = false;
  r1.ends_at = t(100);
  r1.updated_at = t(100);
  Alert r2 = r1;
  r2.ends_at = t(90);
  r2.starts_at = t(5);
  r2.updated_at = t(110);
  Alert m2 = MergeAlert(r1, r2, t(200));
  CHECK(m2.ends_at == t(100));

  // No overlap (the stored incident ended before the new one began): replaced.
  Alert fresh = stored;
  fresh.starts_at = t(1000);
  fresh.ends_at = t(1300);
  fresh.updated_at = t(1000);
  CHECK(MergeAlert(stored, fresh, t(1000)).starts_at == t(1000));
}

TEST_CASE("UTF-8 is decoded and encoded with Go's rules") {
  struct Row {
    const char* name;
    std::string in;
    size_t len;  // of the first sequence; 0 when invalid
  } rows[] = {
      {"ascii", "a", 1},           {"two bytes", "\xc3\xbc", 2},  {"three bytes", "\xe2\x82\xac", 3},
      {"four bytes", "\xf0\x9f\x9a\xa8", 4}, {"overlong", "\xc0\xaf", 0},
      {"surrogate", "\xed\xa0\x80", 0},      {"truncated", "\xe2\x82", 0},
      {"stray continuation", "\x80", 0},     {"above U+10FFFF", "\xf4\x90\x80\x80", 0},
  };
  for (const Row& r : rows) {
    INFO(std::string(r.name));
    uint32_t cp = 0;
    CHECK(DecodeUtf8(r.in, 0, &cp) == r.len);
    if (r.len) {
      std::string again;
      AppendUtf8(&again, cp);
      CHECK(again == r.in);
    }
    CHECK(IsValidUtf8(r.in) == (r.len != 0));
  }
  std::string replaced;
  AppendUtf8(&replaced, 0xD800);
  AppendUtf8(&replaced, 0x110000);
  CHECK(replaced == "\xef\xbf\xbd\xef\xbf\xbd");
}
