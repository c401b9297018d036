// Reading YAML into typed values with errors that carry file:line:col. Internal to config/:
// only config/*.cc include it (yaml-cpp stays out of every other header).
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace alertd::config::internal {

// Collects errors for one file.
class Ctx {
 public:
  Ctx(std::string file, std::vector<ConfigError>* errors) : file_(std::move(file)), errors_(errors) {}
  Position Pos(const YAML::Node& n) const;
  void Error(const YAML::Node& n, const std::string& msg) const { errors_->push_back({Pos(n), msg}); }
  void Error(const Position& p, const std::string& msg) const { errors_->push_back({p, msg}); }
  const std::string& file() const { return file_; }
  size_t error_count() const { return errors_->size(); }

 private:
  std::string file_;
  std::vector<ConfigError>* errors_;
};

// Scalar conversions; each reports a type error at the node and returns nullopt.
std::optional<std::string> AsString(const Ctx& c, const YAML::Node& n, const std::string& what);
std::optional<bool> AsBool(const Ctx& c, const YAML::Node& n, const std::string& what);
std::optional<int64_t> AsInt(const Ctx& c, const YAML::Node& n, const std::string& what);
std::optional<Duration> AsDuration(const Ctx& c, const YAML::Node& n, const std::string& what);
std::optional<std::vector<std::string>> AsStringList(const Ctx& c, const YAML::Node& n,
                                                     const std::string& what);
std::optional<std::map<std::string, std::string>> AsStringMap(const Ctx& c, const YAML::Node& n,
                                                              const std::string& what);

// Walks a YAML mapping: each handled key is claimed with a handler; Finish() reports keys
// nobody claimed ("unknown field") and duplicate keys, as Go's strict YAML decoding does.
class MapReader {
 public:
  MapReader(const Ctx& c, const YAML::Node& n, std::string what);
  bool ok() const { return ok_; }
  const YAML::Node& node() const { return node_; }

  // Calls fn(value) if the key is present (and not null).
  void Field(const std::string& key, const std::function<void(const YAML::Node&)>& fn);
  void String(const std::string& key, std::string* out);
  void Bool(const std::string& key, bool* out);
  void OptBool(const std::string& key, std::optional<bool>* out);
  void Duration(const std::string& key, alertd::Duration* out);
  void OptDuration(const std::string& key, std::optional<alertd::Duration>* out);
  void StringList(const std::string& key, std::vector<std::string>* out);
  void StringMap(const std::string& key, std::map<std::string, std::string>* out);
  bool Has(const std::string& key) const;
  YAML::Node Get(const std::string& key) const;
  // Reports unknown and duplicate keys. Call once, after every Field.
  void Finish();

 private:
  const Ctx& c_;
  YAML::Node node_;
  std::string what_;
  bool ok_ = true;
  std::set<std::string> claimed_;
};

// Reads a `*_relabel_configs` list of Prometheus relabel_config entries (with Prometheus's
// defaults and validation; `what` names the list in errors, e.g. "alert_relabel_configs").
// Every invalid entry is reported at its node; nullopt when any is.
std::optional<RelabelConfigs> ReadRelabelConfigs(const Ctx& c, const YAML::Node& n,
                                                 const std::string& what);

}  // namespace alertd::config::internal
