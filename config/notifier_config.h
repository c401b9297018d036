// What config/ knows of a notifier (an integration of a receiver: slack_configs, ...): a
// type-erased, validated config section and the kind that reads it. The kinds themselves live
// in notifiers/<name>/ (their config type, YAML reading, validation and defaults) and are
// listed once, in notifiers/integrations.h; config/ reads every receiver key from that list,
// so config/ holds no per-vendor struct.
//
// A NotifierConfig is immutable once loaded and shared by the Config that holds it.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace alertd::config {

struct Position;
struct GlobalConfig;
struct HTTPClientConfig;
struct TLSConfig;

// One entry of a receiver's `<kind>_configs` list, after validation and defaulting.
class NotifierConfig {
 public:
  virtual ~NotifierConfig() = default;
  // The integration name: "slack", "email", ... (the key is name + "_configs").
  virtual std::string_view kind() const = 0;
  // Whether resolved alerts go out to this integration.
  virtual bool resolved() const = 0;
  // Whether this integration is told of acknowledgements (alertd's send_acknowledged).
  virtual bool acknowledged() const { return false; }
};

namespace internal {

class Ctx;

// The services of the loader a notifier's reader uses: errors at file:line:col, paths
// relative to the config file, and the shared http_config / tls_config readers (so every
// integration reads them the same way). Implemented by the loader; valid during one read.
class NotifierReader {
 public:
  virtual ~NotifierReader() = default;
  // The error context for MapReader, the As* conversions and Error (config/yaml_reader.h).
  virtual const Ctx& ctx() const = 0;
  // `p` made relative to the config file's directory (absolute and empty paths unchanged).
  virtual std::string ResolvePath(const std::string& p) const = 0;
  // Reads an `http_config:` mapping into *h (which holds the global defaults on entry).
  virtual void ReadHTTPConfig(const YAML::Node& n, HTTPClientConfig* h,
                              const std::string& what) const = 0;
  // Reads a `tls_config:` mapping into *t.
  virtual void ReadTLS(const YAML::Node& n, TLSConfig* t, const std::string& what) const = 0;
  // Calls fn on each item of the list `n`; reports "<what>: expected a list" otherwise.
  virtual void ReadList(const YAML::Node& n, const std::string& what,
                        const std::function<void(const YAML::Node&)>& fn) const = 0;
};

}  // namespace internal

// How one integration is read: its name, the keys under it that hold secrets (hidden in the
// configuration GET /api/v2/status shows, config/redact.h) and its reader, which reports every
// problem through the NotifierReader and returns the defaulted config (returned also when
// there were errors; the load then fails anyway).
struct NotifierKind {
  std::string_view name;  // "slack"; the receiver key is "<name>_configs"
  std::span<const std::string_view> secret_keys;
  std::shared_ptr<const NotifierConfig> (*read)(const internal::NotifierReader& r,
                                                const YAML::Node& n, const GlobalConfig& g);
};

// NotifierKind::read for an integration whose `Read` returns its config by value:
//   const NotifierKind FooConfig::kKind = {"foo", kSecretKeys, &ReadAs<FooConfig, Read>};
template <typename T, T (*Read)(const internal::NotifierReader&, const YAML::Node&,
                                const GlobalConfig&)>
std::shared_ptr<const NotifierConfig> ReadAs(const internal::NotifierReader& r,
                                             const YAML::Node& n, const GlobalConfig& g) {
  return std::make_shared<T>(Read(r, n, g));
}

// Every integration alertd implements, in Alertmanager's order (the order integrations of a
// receiver are built and keyed in). Defined by notifiers/integrations.cc (compiled into
// config/).
std::span<const NotifierKind> NotifierKinds();

}  // namespace alertd::config
