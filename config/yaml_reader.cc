#include "config/yaml_reader.h"

#include <charconv>

namespace alertd::config::internal {

Position Ctx::Pos(const YAML::Node& n) const {
  Position p;
  p.file = file_;
  if (n.IsDefined()) {
    YAML::Mark m = n.Mark();
    if (!m.is_null()) {
      p.line = m.line + 1;
      p.column = m.column + 1;
    }
  }
  return p;
}

std::optional<std::string> AsString(const Ctx& c, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    c.Error(n, what + ": expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> AsBool(const Ctx& c, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  c.Error(n, what + ": expected true or false");
  return std::nullopt;
}

std::optional<int64_t> AsInt(const Ctx& c, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    int64_t v;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  c.Error(n, what + ": expected an integer");
  return std::nullopt;
}

std::optional<Duration> AsDuration(const Ctx& c, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    c.Error(n, what + ": expected a duration such as 30s or 1h30m");
    return std::nullopt;
  }
  auto d = ParseDuration(n.Scalar());
  if (!d.ok()) {
    c.Error(n, what + ": " + d.status().message());
    return std::nullopt;
  }
  return *d;
}

std::optional<std::vector<std::string>> AsStringList(const Ctx& c, const YAML::Node& n,
                                                     const std::string& what) {
  if (!n.IsSequence()) {
    c.Error(n, what + ": expected a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : n) {
    auto s = AsString(c, item, what);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> AsStringMap(const Ctx& c, const YAML::Node& n,
                                                              const std::string& what) {
  if (!n.IsMap()) {
    c.Error(n, what + ": expected a mapping of strings");
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (const auto& kv : n) {
    auto k = AsString(c, kv.first, what + " key");
    auto v = kv.second.IsNull() ? std::optional<std::string>("") : AsString(c, kv.second, what + " value");
    if (!k || !v) {
      ok = false;
      continue;
    }
    if (out.count(*k)) {
      c.Error(kv.first, what + ": duplicate key \"" + *k + "\"");
      ok = false;
      continue;
    }
    out[*k] = *v;
  }
  if (!ok) return std::nullopt;
  return out;
}

MapReader::MapReader(const Ctx& c, const YAML::Node& n, std::string what)
    : c_(c), node_(n), what_(std::move(what)) {
  if (!n.IsMap()) {
    if (!n.IsNull()) c_.Error(n, what_ + ": expected a mapping");
    ok_ = false;
  }
}

bool MapReader::Has(const std::string& key) const { return ok_ && node_[key].IsDefined(); }
YAML::Node MapReader::Get(const std::string& key) const {
  return ok_ ? node_[key] : YAML::Node(YAML::NodeType::Undefined);
}

void MapReader::Field(const std::string& key, const std::function<void(const YAML::Node&)>& fn) {
  claimed_.insert(key);
  if (!ok_) return;
  YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return;
  fn(v);
}

void MapReader::String(const std::string& key, std::string* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto s = AsString(c_, n, key)) *out = *s;
  });
}
void MapReader::Bool(const std::string& key, bool* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto b = AsBool(c_, n, key)) *out = *b;
  });
}
void MapReader::OptBool(const std::string& key, std::optional<bool>* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto b = AsBool(c_, n, key)) *out = *b;
  });
}
void MapReader::Duration(const std::string& key, alertd::Duration* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto d = AsDuration(c_, n, key)) *out = *d;
  });
}
void MapReader::OptDuration(const std::string& key, std::optional<alertd::Duration>* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto d = AsDuration(c_, n, key)) *out = *d;
  });
}
void MapReader::StringList(const std::string& key, std::vector<std::string>* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto l = AsStringList(c_, n, key)) *out = *l;
  });
}
void MapReader::StringMap(const std::string& key, std::map<std::string, std::string>* out) {
  Field(key, [&](const YAML::Node& n) {
    if (auto m = AsStringMap(c_, n, key)) *out = *m;
  });
}

void MapReader::Finish() {
  if (!ok_) return;
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      c_.Error(kv.first, what_ + ": keys must be strings");
      continue;
    }
    const std::string& k = kv.first.Scalar();
    if (!seen.insert(k).second) {
      c_.Error(kv.first, what_ + ": key \"" + k + "\" already set");
    } else if (!claimed_.count(k)) {
      c_.Error(kv.first, what_ + ": unknown field \"" + k + "\"");
    }
  }
}

}  // namespace alertd::config::internal
