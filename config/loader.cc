// alertd.yml → Config. Alertmanager's keys keep Alertmanager's meaning and defaults
// (config/config.go, config/notifiers.go upstream); alertd's keys are documented in
// config/config.h. Every error carries file:line:col.
#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <glob.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/redact.h"
#include "config/time_interval_parse.h"
#include "config/yaml_reader.h"
#include "config/rule_checks.h"

namespace alertd::config {

using internal::Ctx;
using internal::MapReader;

std::string Position::String() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}
std::string ConfigError::String() const { return pos.String() + ": " + message; }

std::string LoadResult::ErrorText() const {
  std::string out;
  for (const auto& e : errors) out += e.String() + "\n";
  return out;
}

const Receiver* Config::FindReceiver(std::string_view name) const {
  for (const auto& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}
const TimeInterval* Config::FindTimeInterval(std::string_view name) const {
  for (const auto& t : time_intervals)
    if (t.name == name) return &t;
  return nullptr;
}
const EscalationPolicy* Config::FindEscalationPolicy(std::string_view name) const {
  for (const auto& p : escalation_policies)
    if (p.name == name) return &p;
  return nullptr;
}

const Person* Config::FindPerson(std::string_view name) const {
  for (const auto& p : people)
    if (p.name == name) return &p;
  return nullptr;
}

const Schedule* Config::FindSchedule(std::string_view name) const {
  for (const auto& s : schedules)
    if (s.name == name) return &s;
  return nullptr;
}

const Heartbeat* Config::FindHeartbeat(std::string_view name) const {
  for (const auto& h : heartbeats)
    if (h.name == name) return &h;
  return nullptr;
}

namespace {
constexpr std::pair<Role, std::string_view> kRoleNames[] = {
    {Role::kRead, "read"}, {Role::kAlerts, "alerts"}, {Role::kAck, "ack"},
    {Role::kSilence, "silence"}, {Role::kAdmin, "admin"}, {Role::kSchedule, "schedule"}};
}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoleNames)
    if (n == name) return r;
  return std::nullopt;
}

std::string_view RoleName(Role r) {
  for (const auto& [role, n] : kRoleNames)
    if (role == r) return n;
  return "";
}

namespace {

namespace fs = std::filesystem;

std::string ResolveAgainst(const std::string& dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

bool HasGlobMeta(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

bool IsNotifierKey(std::string_view key) {
  for (const NotifierKind& k : NotifierKinds())
    if (key.size() == k.name.size() + 8 && key.starts_with(k.name) && key.ends_with("_configs")) return true;
  return false;
}

class Loader final : public internal::NotifierReader {
 public:
  Loader(const std::string& file, std::vector<ConfigError>* errors)
      : c_(file, errors), dir_(fs::path(file).parent_path().string()) {
    if (dir_.empty()) dir_ = ".";
  }

  std::optional<Config> Load(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      Position p{c_.file(), e.mark.line + 1, e.mark.column + 1};
      c_.Error(p, "YAML syntax error: " + e.msg);
      return std::nullopt;
    } catch (const YAML::Exception& e) {
      c_.Error(Position{c_.file(), 1, 1}, std::string("YAML error: ") + e.what());
      return std::nullopt;
    }
    Config cfg;
    cfg.path = c_.file();
    cfg_ = &cfg;
    if (root.IsNull()) {
      c_.Error(Position{c_.file(), 1, 1}, "the configuration is empty");
      return std::nullopt;
    }
    MapReader m(c_, root, "config");
    if (!m.ok()) return std::nullopt;
    YAML::Node route_node(YAML::NodeType::Undefined);
    bool has_route = false;
    m.Field("global", [&](const YAML::Node& n) { ReadGlobal(n, &cfg.global); });
    m.Field("route", [&](const YAML::Node& n) {
      route_node.reset(n);
      has_route = true;
    });
    m.Field("receivers", [&](const YAML::Node& n) { ReadList(n, "receivers", [&](const YAML::Node& r) {
      cfg.receivers.push_back(ReadReceiver(r, cfg.global));
    }); });
    m.Field("inhibit_rules", [&](const YAML::Node& n) { ReadList(n, "inhibit_rules", [&](const YAML::Node& r) {
      cfg.inhibit_rules.push_back(ReadInhibitRule(r));
    }); });
    for (const char* key : {"time_intervals", "mute_time_intervals"}) {
      m.Field(key, [&](const YAML::Node& n) { ReadList(n, key, [&](const YAML::Node& r) {
        cfg.time_intervals.push_back(ReadTimeInterval(r));
      }); });
    }
    m.Field("templates", [&](const YAML::Node& n) {
      auto l = internal::AsStringList(c_, n, "templates");
      if (!l) return;
      for (const auto& pat : *l) {
        std::string p = ResolveAgainst(dir_, pat);
        if (HasGlobMeta(p)) {
          for (auto& f : Glob(p)) cfg.templates.push_back(f);
        } else {
          cfg.templates.push_back(p);
        }
      }
    });
    for (const auto& t : cfg.templates) {
      Status st = internal::CheckTemplateFile(t);
      if (!st.ok()) c_.Error(root["templates"], "template file \"" + t + "\": " + st.message());
    }
    m.Field("datasource", [&](const YAML::Node& n) { ReadDatasource(n, &cfg.datasource); });
    m.Field("evaluation", [&](const YAML::Node& n) { ReadEvaluation(n, &cfg.evaluation); });
    m.Field("rule_files", [&](const YAML::Node& n) {
      auto l = internal::AsStringList(c_, n, "rule_files");
      if (!l) return;
      for (size_t i = 0; i < l->size(); ++i) {
        std::string p = ResolveAgainst(dir_, (*l)[i]);
        if (HasGlobMeta(p)) {
          for (auto& f : Glob(p)) cfg.rule_files.push_back(f);
        } else if (!fs::exists(p)) {
          c_.Error(n[i], "rule file \"" + p + "\" does not exist");
        } else {
          cfg.rule_files.push_back(p);
        }
      }
    });
    m.Field("remote_write", [&](const YAML::Node& n) {
      ReadList(n, "remote_write", [&](const YAML::Node& r) {
        cfg.remote_write.push_back(ReadRemoteWrite(r));
      });
      CheckRemoteWriteNames(n, &cfg.remote_write);
    });
    m.Field("storage", [&](const YAML::Node& n) {
      MapReader s(c_, n, "storage");
      s.String("path", &cfg.storage.path);
      s.Duration("retention", &cfg.storage.retention);
      if (auto h = n["history_retention"]) {
        s.Duration("history_retention", &cfg.storage.history_retention);
        if (cfg.storage.history_retention < Duration::zero()) {
          c_.Error(h, "storage.history_retention must not be negative (0s keeps no history)");
        }
      }
      s.Field("postgres", [&](const YAML::Node& pn) {
        MapReader p(c_, pn, "storage.postgres");
        p.String("dsn", &cfg.storage.postgres.dsn);
        p.String("password_file", &cfg.storage.postgres.password_file);
        p.Finish();
        if (cfg.storage.postgres.dsn.empty()) c_.Error(pn, "storage.postgres: dsn is required");
        cfg.storage.postgres.password_file = ResolvePath(cfg.storage.postgres.password_file);
      });
      s.Finish();
    });
    m.Field("cluster", [&](const YAML::Node& n) {
      MapReader cl(c_, n, "cluster");
      cfg.cluster.enabled = true;
      cl.String("node_name", &cfg.cluster.node_name);
      cl.String("advertise_url", &cfg.cluster.advertise_url);
      cl.Duration("lease", &cfg.cluster.lease);
      cl.Finish();
      // Renewals run every lease/3 at most and a takeover waits a margin beyond the expiry:
      // under 3 s, a busy database or a GC pause of the host would move shards back and forth.
      if (cfg.cluster.lease < std::chrono::seconds(3))
        c_.Error(n["lease"] ? n["lease"] : n, "cluster.lease must be at least 3s");
      const auto& url = cfg.cluster.advertise_url;
      if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        c_.Error(n["advertise_url"], "cluster.advertise_url must be an http:// or https:// URL");
      if (cfg.cluster.node_name.size() > 200)
        c_.Error(n["node_name"], "cluster.node_name is longer than 200 bytes");
    });
    m.Field("server", [&](const YAML::Node& n) { ReadServer(n, &cfg.server); });
    m.Field("integrations", [&](const YAML::Node& n) { ReadIntegrations(n, &cfg.integrations); });
    // people and schedules before escalation_policies: steps name schedules.
    m.Field("people", [&](const YAML::Node& n) {
      ReadList(n, "people", [&](const YAML::Node& p) {
        Person person = ReadPerson(p);
        if (!person.name.empty() && cfg.FindPerson(person.name))
          c_.Error(p["name"], "person \"" + person.name + "\" is defined twice");
        cfg.people.push_back(std::move(person));
      });
    });
    m.Field("schedules", [&](const YAML::Node& n) {
      ReadList(n, "schedules", [&](const YAML::Node& s) {
        Schedule sched = ReadSchedule(s);
        if (!sched.name.empty() && cfg.FindSchedule(sched.name))
          c_.Error(s["name"], "schedule \"" + sched.name + "\" is defined twice");
        cfg.schedules.push_back(std::move(sched));
      });
    });
    m.Field("escalation_policies", [&](const YAML::Node& n) {
      ReadList(n, "escalation_policies", [&](const YAML::Node& r) {
        cfg.escalation_policies.push_back(ReadEscalationPolicy(r));
      });
    });
    m.Field("heartbeats", [&](const YAML::Node& n) {
      ReadList(n, "heartbeats", [&](const YAML::Node& h) {
        Heartbeat hb = ReadHeartbeat(h);
        if (!hb.name.empty() && cfg.FindHeartbeat(hb.name))
          c_.Error(h["name"], "heartbeat \"" + hb.name + "\" is defined twice");
        cfg.heartbeats.push_back(std::move(hb));
      });
    });
    m.Finish();
    if (cfg.cluster.enabled && cfg.storage.postgres.dsn.empty()) {
      c_.Error(root["cluster"],
               "cluster needs storage.postgres: replicas share their state through PostgreSQL");
    }

    if (!has_route) {
      c_.Error(Position{c_.file(), 1, 1}, "no route provided in config");
    } else {
      ReadRootRoute(route_node, &cfg.route);
    }
    CheckReferences(cfg, route_node);

    RuleFileOptions rule_opts;
    rule_opts.datasource_type = cfg.datasource.type;
    rule_opts.default_query_offset = cfg.evaluation.rule_query_offset;
    for (const auto& f : cfg.rule_files) {
      auto errs = LoadRuleFile(f, &cfg.rule_groups, rule_opts);
      for (auto& e : errs) c_.Error(e.pos, e.message);
    }
    CheckRuleGroupNames(cfg);
    if (c_.error_count() == 0) cfg.redacted_yaml = internal::RedactedYaml(root);
    return cfg;
  }

 private:
  const Ctx& ctx() const override { return c_; }
  std::string ResolvePath(const std::string& p) const override { return config::ResolveAgainst(dir_, p); }

  void ReadList(const YAML::Node& n, const std::string& what,
                const std::function<void(const YAML::Node&)>& fn) const override {
    if (!n.IsSequence()) {
      c_.Error(n, what + ": expected a list");
      return;
    }
    for (const auto& item : n) fn(item);
  }

  // ---------------------------------------------------------------- http_config
  void ReadTLS(const YAML::Node& n, TLSConfig* t, const std::string& what) const override {
    MapReader m(c_, n, what);
    m.String("ca_file", &t->ca_file);
    m.String("cert_file", &t->cert_file);
    m.String("key_file", &t->key_file);
    m.String("server_name", &t->server_name);
    m.Bool("insecure_skip_verify", &t->insecure_skip_verify);
    m.String("min_version", &t->min_version);
    m.Field("ca", [&](const YAML::Node& v) { c_.Error(v, what + ": inline ca is not supported, use ca_file"); });
    m.Finish();
    for (std::string* f : {&t->ca_file, &t->cert_file, &t->key_file}) *f = ResolveAgainst(dir_, *f);
    if (t->cert_file.empty() != t->key_file.empty())
      c_.Error(n, what + ": cert_file and key_file must be set together");
    if (!t->min_version.empty() && t->min_version != "TLS10" && t->min_version != "TLS11" &&
        t->min_version != "TLS12" && t->min_version != "TLS13")
      c_.Error(n["min_version"], what + ": unknown TLS version \"" + t->min_version + "\"");
  }

  // A proxy URL must have a scheme. Not quoted in the error: it may carry a password.
  void CheckProxyUrl(const YAML::Node& n, const std::string& url, const std::string& what) const {
    if (!url.empty() && url.find("://") == std::string::npos)
      c_.Error(n, what + " is not a URL (it needs a scheme such as http://)");
  }

  // Reads the http_config keys from `m` (they are inline in `datasource:` and nested under
  // `http_config:` in receivers).
  void ReadHTTPFields(MapReader& m, HTTPClientConfig* h, const std::string& what, bool allow_headers) const {
    m.Field("basic_auth", [&](const YAML::Node& n) {
      BasicAuth b;
      MapReader bm(c_, n, what + " basic_auth");
      bm.String("username", &b.username);
      bm.String("username_file", &b.username_file);
      bm.String("password", &b.password);
      bm.String("password_file", &b.password_file);
      bm.Finish();
      b.password_file = ResolveAgainst(dir_, b.password_file);
      b.username_file = ResolveAgainst(dir_, b.username_file);
      if (!b.password.empty() && !b.password_file.empty())
        c_.Error(n, what + ": at most one of basic_auth password & password_file must be configured");
      h->basic_auth = b;
    });
    m.Field("authorization", [&](const YAML::Node& n) {
      Authorization a;
      MapReader am(c_, n, what + " authorization");
      am.String("type", &a.type);
      am.String("credentials", &a.credentials);
      am.String("credentials_file", &a.credentials_file);
      am.Finish();
      a.credentials_file = ResolveAgainst(dir_, a.credentials_file);
      if (a.type.empty()) a.type = "Bearer";
      if (a.type == "basic" || a.type == "Basic")
        c_.Error(n, what + ": authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
      if (!a.credentials.empty() && !a.credentials_file.empty())
        c_.Error(n, what + ": at most one of authorization credentials & credentials_file must be configured");
      h->authorization = a;
    });
    m.Field("oauth2", [&](const YAML::Node& n) {
      OAuth2Config o;
      MapReader om(c_, n, what + " oauth2");
      om.String("client_id", &o.client_id);
      om.String("client_secret", &o.client_secret);
      om.String("client_secret_file", &o.client_secret_file);
      om.StringList("scopes", &o.scopes);
      om.String("token_url", &o.token_url);
      om.StringMap("endpoint_params", &o.endpoint_params);
      om.String("proxy_url", &o.proxy_url);
      om.Field("tls_config", [&](const YAML::Node& t) { ReadTLS(t, &o.tls_config, what + " oauth2 tls_config"); });
      om.Finish();
      o.client_secret_file = ResolveAgainst(dir_, o.client_secret_file);
      // prometheus/common's HTTPClientConfig.Validate, in its order.
      if (o.client_id.empty()) c_.Error(n, what + ": oauth2 client_id must be configured");
      if (o.client_secret.empty() && o.client_secret_file.empty())
        c_.Error(n, what + ": either oauth2 client_secret or client_secret_file must be configured");
      if (o.token_url.empty()) c_.Error(n, what + ": oauth2 token_url must be configured");
      if (!o.client_secret.empty() && !o.client_secret_file.empty())
        c_.Error(n, what + ": at most one of oauth2 client_secret & client_secret_file must be configured");
      CheckProxyUrl(n, o.proxy_url, what + ": oauth2 proxy_url");
      h->oauth2 = std::move(o);
    });
    std::string bearer, bearer_file;
    m.String("bearer_token", &bearer);
    m.String("bearer_token_file", &bearer_file);
    // prometheus/common's wording (Alertmanager 0.25).
    if (!bearer.empty() || !bearer_file.empty()) {
      if (!bearer.empty() && !bearer_file.empty())
        c_.Error(m.node(), what + ": at most one of bearer_token & bearer_token_file must be configured");
      if (h->basic_auth || h->oauth2)
        c_.Error(m.node(), what + ": at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
      else if (h->authorization)
        c_.Error(m.node(), what + ": authorization is not compatible with bearer_token & bearer_token_file");
      h->authorization = Authorization{"Bearer", bearer, ResolveAgainst(dir_, bearer_file)};
    } else if ((h->authorization && (h->basic_auth || h->oauth2)) || (h->basic_auth && h->oauth2)) {
      c_.Error(m.node(), what + ": at most one of basic_auth, oauth2 & authorization must be configured");
    }
    m.String("proxy_url", &h->proxy_url);
    m.String("no_proxy", &h->no_proxy);
    m.Bool("proxy_from_environment", &h->proxy_from_environment);
    m.Field("proxy_connect_header", [&](const YAML::Node& v) {
      if (!v.IsMap()) {
        c_.Error(v, what + ": proxy_connect_header must be a map of header names to lists of values");
        return;
      }
      for (const auto& kv : v) {
        auto name = internal::AsString(c_, kv.first, "proxy_connect_header name");
        auto values = internal::AsStringList(c_, kv.second, "proxy_connect_header values");
        if (name && values) h->proxy_connect_header[*name] = *values;
      }
    });
    m.Field("tls_config", [&](const YAML::Node& n) { ReadTLS(n, &h->tls_config, what + " tls_config"); });
    m.Bool("follow_redirects", &h->follow_redirects);
    m.Bool("enable_http2", &h->enable_http2);
    if (allow_headers) m.StringMap("headers", &h->headers);
    CheckProxyUrl(m.node(), h->proxy_url, what + ": proxy_url");
    // prometheus/common's HTTPClientConfig.Validate.
    if (!h->proxy_connect_header.empty() && h->proxy_url.empty() && !h->proxy_from_environment)
      c_.Error(m.node(), what + ": if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured");
    if (h->proxy_from_environment && !h->proxy_url.empty())
      c_.Error(m.node(), what + ": if proxy_from_environment is configured, proxy_url must not be configured");
    if (h->proxy_from_environment && !h->no_proxy.empty())
      c_.Error(m.node(), what + ": if proxy_from_environment is configured, no_proxy must not be configured");
    if (h->proxy_url.empty() && !h->no_proxy.empty())
      c_.Error(m.node(), what + ": if no_proxy is configured, proxy_url must also be configured");
  }

  void ReadHTTPConfig(const YAML::Node& n, HTTPClientConfig* h,
                      const std::string& what) const override {
    MapReader m(c_, n, what);
    ReadHTTPFields(m, h, what, false);
    m.Finish();
  }

  // ---------------------------------------------------------------- global
  void ReadGlobal(const YAML::Node& n, GlobalConfig* g) {
    MapReader m(c_, n, "global");
    m.Duration("resolve_timeout", &g->resolve_timeout);
    m.Field("http_config", [&](const YAML::Node& v) { ReadHTTPConfig(v, &g->http_config, "global http_config"); });
    m.String("smtp_from", &g->smtp_from);
    m.String("smtp_hello", &g->smtp_hello);
    m.String("smtp_smarthost", &g->smtp_smarthost);
    m.String("smtp_auth_username", &g->smtp_auth_username);
    m.String("smtp_auth_password", &g->smtp_auth_password);
    m.String("smtp_auth_password_file", &g->smtp_auth_password_file);
    m.String("smtp_auth_secret", &g->smtp_auth_secret);
    m.String("smtp_auth_identity", &g->smtp_auth_identity);
    m.Bool("smtp_require_tls", &g->smtp_require_tls);
    m.String("slack_api_url", &g->slack_api_url);
    m.String("slack_api_url_file", &g->slack_api_url_file);
    m.String("pagerduty_url", &g->pagerduty_url);
    m.String("opsgenie_api_url", &g->opsgenie_api_url);
    m.String("opsgenie_api_key", &g->opsgenie_api_key);
    m.String("opsgenie_api_key_file", &g->opsgenie_api_key_file);
    m.String("victorops_api_url", &g->victorops_api_url);
    m.String("victorops_api_key", &g->victorops_api_key);
    m.String("victorops_api_key_file", &g->victorops_api_key_file);
    m.String("telegram_api_url", &g->telegram_api_url);
    m.String("webex_api_url", &g->webex_api_url);
    m.String("wechat_api_url", &g->wechat_api_url);
    m.String("wechat_api_secret", &g->wechat_api_secret);
    m.String("wechat_api_corp_id", &g->wechat_api_corp_id);
    m.Field("smtp_tls_config",
            [&](const YAML::Node& v) { ReadTLS(v, &g->smtp_tls_config, "global smtp_tls_config"); });
    m.Finish();
    g->smtp_auth_password_file = ResolveAgainst(dir_, g->smtp_auth_password_file);
    g->slack_api_url_file = ResolveAgainst(dir_, g->slack_api_url_file);
    g->opsgenie_api_key_file = ResolveAgainst(dir_, g->opsgenie_api_key_file);
    g->victorops_api_key_file = ResolveAgainst(dir_, g->victorops_api_key_file);
    if (g->resolve_timeout <= Duration(0) && m.Has("resolve_timeout"))
      c_.Error(n["resolve_timeout"], "global: resolve_timeout must be greater than 0");
    if (!g->slack_api_url.empty() && !g->slack_api_url_file.empty())
      c_.Error(n, "global: at most one of slack_api_url & slack_api_url_file must be configured");
    if (!g->opsgenie_api_key.empty() && !g->opsgenie_api_key_file.empty())
      c_.Error(n, "global: at most one of opsgenie_api_key & opsgenie_api_key_file must be configured");
    if (!g->victorops_api_key.empty() && !g->victorops_api_key_file.empty())
      c_.Error(n, "global: at most one of victorops_api_key & victorops_api_key_file must be configured");
    if (!g->smtp_auth_password.empty() && !g->smtp_auth_password_file.empty())
      c_.Error(n, "global: at most one of smtp_auth_password & smtp_auth_password_file must be configured");
  }

  // ---------------------------------------------------------------- receivers
  Receiver ReadReceiver(const YAML::Node& n, const GlobalConfig& g) {
    Receiver r;
    r.pos = c_.Pos(n);
    MapReader m(c_, n, "receiver");
    m.String("name", &r.name);
    std::string supported;
    for (const NotifierKind& k : NotifierKinds()) {
      const std::string key = std::string(k.name) + "_configs";
      supported += (supported.empty() ? "" : ", ") + key;
      m.Field(key, [&](const YAML::Node& v) {
        ReadList(v, key, [&](const YAML::Node& x) { r.notifiers.push_back(k.read(*this, x, g)); });
      });
    }
    // Alertmanager's receiver keys alertd does not implement: refused with a clear message,
    // never parsed and ignored.
    for (const char* k : {"opsgenie_configs", "wechat_configs", "pushover_configs", "victorops_configs",
                          "sns_configs", "telegram_configs", "webex_configs", "discord_configs",
                          "msteams_configs", "jira_configs", "rocketchat_configs", "msteamsv2_configs"}) {
      if (IsNotifierKey(k)) continue;
      m.Field(k, [&, k](const YAML::Node& v) {
        c_.Error(v, std::string("receiver \"") + r.name + "\": " + k +
                        " is not supported by alertd (supported: " + supported + ")");
      });
    }
    m.Finish();
    if (m.ok() && r.name.empty()) c_.Error(n, "missing name in receiver");
    return r;
  }

  // ---------------------------------------------------------------- routes
  // A list of matcher strings (`matchers`, a heartbeat's `alert_matchers`), appended to `out`.
  void ReadMatcherList(const YAML::Node& v, const std::string& key, const std::string& what,
                       Matchers* out) {
    if (!v.IsSequence()) {
      c_.Error(v, what + ": " + key + ": expected a list of matcher strings");
      return;
    }
    for (const auto& item : v) {
      auto s = internal::AsString(c_, item, key);
      if (!s) continue;
      auto ms = ParseMatchers(*s);
      if (!ms.ok()) {
        c_.Error(item, what + ": bad matcher: " + ms.status().message());
        continue;
      }
      for (auto& x : *ms) out->push_back(std::move(x));
    }
  }

  // Matchers from `matchers`, `match` and `match_re` (deprecated), merged.
  Matchers ReadMatcherFields(MapReader& m, const std::string& prefix, const std::string& what) {
    Matchers out;
    m.Field(prefix + "matchers",
            [&](const YAML::Node& v) { ReadMatcherList(v, prefix + "matchers", what, &out); });
    m.Field(prefix + "match", [&](const YAML::Node& v) {
      auto mm = internal::AsStringMap(c_, v, prefix + "match");
      if (!mm) return;
      for (auto& [k, val] : *mm) {
        if (!IsValidLabelName(k)) {
          c_.Error(v, what + ": invalid label name \"" + k + "\"");
          continue;
        }
        out.push_back(*Matcher::Create(MatchType::kEqual, k, val));
      }
    });
    m.Field(prefix + "match_re", [&](const YAML::Node& v) {
      auto mm = internal::AsStringMap(c_, v, prefix + "match_re");
      if (!mm) return;
      for (auto& [k, val] : *mm) {
        if (!IsValidLabelName(k)) {
          c_.Error(v, what + ": invalid label name \"" + k + "\"");
          continue;
        }
        auto mt = Matcher::Create(MatchType::kRegexMatch, k, val);
        if (!mt.ok()) {
          c_.Error(v[k], what + ": " + mt.status().message());
          continue;
        }
        // Alertmanager keeps a match_re value as its anchored source, "^(?:" + re + ")$"
        // (config.Regexp.String(), used by dispatch.NewRoute and inhibit.NewInhibitRule):
        // that text is what route keys, hence group keys, and `amtool config routes` show.
        // Matching is the same either way.
        out.push_back(*Matcher::Create(MatchType::kRegexMatch, k, "^(?:" + val + ")$"));
      }
    });
    return out;
  }

  // Reads a route node; `parent` supplies inherited values (nullptr for the root).
  void ReadRoute(const YAML::Node& n, const Route* parent, Route* r) {
    r->pos = c_.Pos(n);
    if (parent) {
      r->receiver = parent->receiver;
      r->group_by = parent->group_by;
      r->group_by_all = parent->group_by_all;
      r->group_wait = parent->group_wait;
      r->group_interval = parent->group_interval;
      r->repeat_interval = parent->repeat_interval;
      r->escalation = parent->escalation;
    }
    MapReader m(c_, n, "route");
    m.String("receiver", &r->receiver);
    m.Field("group_by", [&](const YAML::Node& v) {
      auto l = internal::AsStringList(c_, v, "group_by");
      if (!l) return;
      // As Alertmanager (dispatch/route.go): listed labels replace the parent's grouping;
      // `['...']` groups by every label; an empty list changes nothing, so the route keeps
      // its parent's grouping.
      std::vector<std::string> labels;
      bool all = false;
      std::set<std::string> seen;
      for (const auto& name : *l) {
        if (name == "...") {
          all = true;
          continue;
        }
        if (!IsValidLabelName(name)) c_.Error(v, "invalid label name \"" + name + "\" in group_by list");
        if (!seen.insert(name).second) c_.Error(v, "duplicated label \"" + name + "\" in group_by");
        labels.push_back(name);
      }
      if (all && !labels.empty())
        c_.Error(v, "cannot have wildcard group_by (`...`) and other other labels at the same time");
      if (all) {
        r->group_by.clear();
        r->group_by_all = true;
      } else if (!labels.empty()) {
        r->group_by = std::move(labels);
        r->group_by_all = false;
      }
    });
    r->matchers = ReadMatcherFields(m, "", "route");
    m.Bool("continue", &r->continue_);
    m.Duration("group_wait", &r->group_wait);
    m.Field("group_interval", [&](const YAML::Node& v) {
      if (auto d = internal::AsDuration(c_, v, "group_interval")) {
        if (*d == Duration(0)) c_.Error(v, "group_interval cannot be zero");
        r->group_interval = *d;
      }
    });
    m.Field("repeat_interval", [&](const YAML::Node& v) {
      if (auto d = internal::AsDuration(c_, v, "repeat_interval")) {
        if (*d == Duration(0)) c_.Error(v, "repeat_interval cannot be zero");
        r->repeat_interval = *d;
      }
    });
    m.StringList("mute_time_intervals", &r->mute_time_intervals);
    m.StringList("active_time_intervals", &r->active_time_intervals);
    m.String("escalation", &r->escalation);
    m.Field("routes", [&](const YAML::Node& v) {
      ReadList(v, "routes", [&](const YAML::Node& child) {
        r->routes.emplace_back();
        ReadRoute(child, r, &r->routes.back());
      });
    });
    m.Finish();
  }

  void ReadRootRoute(const YAML::Node& n, Route* r) {
    ReadRoute(n, nullptr, r);
    if (!n.IsMap()) return;
    if (r->receiver.empty()) c_.Error(n, "root route must specify a default receiver");
    if (!r->matchers.empty()) c_.Error(n, "root route must not have any matchers");
    if (!r->mute_time_intervals.empty()) c_.Error(n, "root route must not have any mute time intervals");
    if (!r->active_time_intervals.empty()) c_.Error(n, "root route must not have any active time intervals");
    if (r->continue_) c_.Error(n, "cannot have continue in root route");
  }

  // ---------------------------------------------------------------- inhibit rules
  InhibitRule ReadInhibitRule(const YAML::Node& n) {
    InhibitRule ir;
    ir.pos = c_.Pos(n);
    MapReader m(c_, n, "inhibit_rule");
    ir.source_matchers = ReadMatcherFields(m, "source_", "inhibit rule source");
    ir.target_matchers = ReadMatcherFields(m, "target_", "inhibit rule target");
    m.Field("equal", [&](const YAML::Node& v) {
      auto l = internal::AsStringList(c_, v, "equal");
      if (!l) return;
      for (const auto& name : *l) {
        if (!IsValidLabelName(name)) c_.Error(v, "invalid label name \"" + name + "\" in equal list");
        ir.equal.push_back(name);
      }
    });
    m.Finish();
    return ir;
  }

  TimeInterval ReadTimeInterval(const YAML::Node& n) {
    TimeInterval ti;
    ti.pos = c_.Pos(n);
    MapReader m(c_, n, "time_interval");
    m.String("name", &ti.name);
    m.Field("time_intervals", [&](const YAML::Node& v) {
      ReadList(v, "time_intervals", [&](const YAML::Node& spec) {
        ti.intervals.push_back(internal::ReadTimeIntervalSpec(c_, spec));
      });
    });
    m.Finish();
    if (m.ok() && ti.name.empty()) c_.Error(n, "missing name in time interval");
    return ti;
  }

  // ---------------------------------------------------------------- alertd sections
  // Reads the integer `key` of `m` into *out, refusing values below `min` ("<what>: <key> must
  // be at least <min>").
  void ReadPositive(MapReader& m, const std::string& key, const std::string& what, int64_t min,
                    size_t* out) {
    m.Field(key, [&](const YAML::Node& v) {
      auto i = internal::AsInt(c_, v, key);
      if (i && *i < min)
        c_.Error(v, what + ": " + key + " must be at least " + std::to_string(min));
      else if (i)
        *out = static_cast<size_t>(*i);
    });
  }

  void ReadDatasource(const YAML::Node& n, DatasourceConfig* d) {
    MapReader m(c_, n, "datasource");
    m.String("url", &d->url);
    m.Field("type", [&](const YAML::Node& v) {
      const auto t = internal::AsString(c_, v, "type");
      if (!t) return;
      if (*t == "prometheus")
        d->type = DatasourceType::kPrometheus;
      else if (*t == "victoriametrics")
        d->type = DatasourceType::kVictoriaMetrics;
      else if (*t == "other")
        d->type = DatasourceType::kOther;
      else
        c_.Error(
            v, "datasource: type must be prometheus, victoriametrics or other, not \"" + *t + "\"");
    });
    m.Field("timeout", [&](const YAML::Node& v) {
      if (auto t = internal::AsDuration(c_, v, "timeout")) {
        if (*t <= Duration(0))
          c_.Error(v, "datasource: timeout must be greater than 0");
        else
          d->timeout = *t;
      }
    });
    m.Field("max_concurrent_queries", [&](const YAML::Node& v) {
      auto i = internal::AsInt(c_, v, "max_concurrent_queries");
      if (i && *i < 1) c_.Error(v, "datasource: max_concurrent_queries must be at least 1");
      else if (i) d->max_concurrent_queries = static_cast<int>(*i);
    });
    ReadPositive(m, "max_response_bytes", "datasource", 1024, &d->max_response_bytes);
    ReadHTTPFields(m, &d->http_config, "datasource", true);
    m.Finish();
    if (m.ok() && !d->url.empty() && d->url.rfind("http://", 0) != 0 && d->url.rfind("https://", 0) != 0)
      c_.Error(n["url"], "datasource: url must start with http:// or https://");
    while (!d->url.empty() && d->url.back() == '/') d->url.pop_back();
  }

  // Reads the duration `key` of `m` into *out, refusing values <= 0.
  void ReadPositiveDuration(MapReader& m, const std::string& key, const std::string& what,
                            Duration* out) {
    m.Field(key, [&](const YAML::Node& v) {
      if (auto d = internal::AsDuration(c_, v, key)) {
        if (*d <= Duration(0))
          c_.Error(v, what + ": " + key + " must be greater than 0");
        else
          *out = *d;
      }
    });
  }

  RemoteWriteConfig ReadRemoteWrite(const YAML::Node& n) {
    RemoteWriteConfig rw;
    rw.pos = c_.Pos(n);
    MapReader m(c_, n, "remote_write");
    m.String("url", &rw.url);
    m.String("name", &rw.name);
    ReadPositiveDuration(m, "remote_timeout", "remote_write", &rw.remote_timeout);
    m.Field("write_relabel_configs", [&](const YAML::Node& v) {
      if (auto r = internal::ReadRelabelConfigs(c_, v, "write_relabel_configs")) {
        rw.write_relabel_configs = std::move(*r);
      }
    });
    m.Field("queue_config", [&](const YAML::Node& v) {
      MapReader q(c_, v, "remote_write queue_config");
      auto& qc = rw.queue_config;
      ReadPositive(q, "capacity", "remote_write queue_config", 1, &qc.capacity);
      ReadPositive(q, "max_samples_per_send", "remote_write queue_config", 1,
                   &qc.max_samples_per_send);
      ReadPositiveDuration(q, "batch_send_deadline", "remote_write queue_config",
                           &qc.batch_send_deadline);
      ReadPositiveDuration(q, "min_backoff", "remote_write queue_config", &qc.min_backoff);
      ReadPositiveDuration(q, "max_backoff", "remote_write queue_config", &qc.max_backoff);
      q.Finish();
      if (qc.max_backoff < qc.min_backoff)
        c_.Error(v, "remote_write queue_config: max_backoff must not be less than min_backoff");
    });
    ReadHTTPFields(m, &rw.http_config, "remote_write", true);
    m.Finish();
    if (m.ok()) {
      if (rw.url.empty())
        c_.Error(n, "remote_write: url is required");
      else if (rw.url.rfind("http://", 0) != 0 && rw.url.rfind("https://", 0) != 0)
        // Not quoted: the URL may carry a password.
        c_.Error(n["url"], "remote_write: url must start with http:// or https://");
    }
    return rw;
  }

  // Names must be unique; an unnamed entry gets the first 6 hex digits of a hash of its URL
  // (Prometheus hashes the whole entry; the URL is what identifies the receiver here).
  void CheckRemoteWriteNames(const YAML::Node& n, std::vector<RemoteWriteConfig>* rws) {
    std::set<std::string> seen;
    for (size_t i = 0; i < rws->size(); ++i) {
      auto& rw = (*rws)[i];
      if (rw.name.empty()) {
        rw.name = fmt::format("{:016x}", LabelSet{{"url", rw.url}}.Fingerprint()).substr(0, 6);
      }
      if (!seen.insert(rw.name).second)
        c_.Error(n[i], "remote_write: found multiple remote write configs with name \"" +
                           rw.name + "\"; names must be unique");
    }
  }

  void ReadEvaluation(const YAML::Node& n, EvaluationConfig* e) {
    MapReader m(c_, n, "evaluation");
    m.Field("interval", [&](const YAML::Node& v) {
      if (auto d = internal::AsDuration(c_, v, "interval")) {
        if (*d <= Duration(0)) c_.Error(v, "evaluation: interval must be greater than 0");
        e->interval = *d;
      }
    });
    m.Field("external_labels", [&](const YAML::Node& v) {
      auto l = internal::AsStringMap(c_, v, "external_labels");
      if (!l) return;
      for (auto& [k, val] : *l) {
        if (!IsValidLabelName(k)) c_.Error(v, "evaluation: invalid external label name \"" + k + "\"");
        if (!val.empty()) e->external_labels.Set(k, val);
      }
    });
    m.Duration("rule_query_offset", &e->rule_query_offset);
    m.String("external_url", &e->external_url);
    m.Duration("resend_delay", &e->resend_delay);
    m.Duration("for_grace_period", &e->for_grace_period);
    m.Duration("for_outage_tolerance", &e->for_outage_tolerance);
    m.Field("alert_relabel_configs", [&](const YAML::Node& v) {
      if (auto r = internal::ReadRelabelConfigs(c_, v, "alert_relabel_configs")) {
        e->alert_relabel_configs = std::move(*r);
      }
    });
    m.Finish();
    while (!e->external_url.empty() && e->external_url.back() == '/') e->external_url.pop_back();
  }

  // `integrations:`; each `_file` is read now into its secret (trailing whitespace dropped).
  void ReadIntegrations(const YAML::Node& n, IntegrationsConfig* s) {
    MapReader m(c_, n, "integrations");
    struct Secret {
      const char* key;
      std::string* value;
      std::string* file;
    };
    const Secret secrets[] = {
        {"pagerduty_webhook_secret", &s->pagerduty_webhook_secret,
         &s->pagerduty_webhook_secret_file},
        {"slack_signing_secret", &s->slack_signing_secret, &s->slack_signing_secret_file},
    };
    for (const auto& sec : secrets) {
      m.String(sec.key, sec.value);
      m.String(std::string(sec.key) + "_file", sec.file);
    }
    m.Finish();
    for (const auto& sec : secrets) {
      const std::string key = sec.key;
      if (!sec.value->empty() && !sec.file->empty()) {
        c_.Error(n[key], "integrations: at most one of " + key + " & " + key +
                             "_file must be configured");
        continue;
      }
      if (sec.file->empty()) continue;
      *sec.file = ResolveAgainst(dir_, *sec.file);
      std::ifstream in(*sec.file, std::ios::binary);
      std::stringstream text;
      if (in) text << in.rdbuf();
      std::string secret = text.str();
      while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
        secret.pop_back();
      if (!in) {
        c_.Error(n[key + "_file"], "integrations: cannot read " + key + "_file " + *sec.file);
      } else if (secret.empty()) {
        c_.Error(n[key + "_file"], "integrations: " + key + "_file " + *sec.file + " is empty");
      } else {
        *sec.value = std::move(secret);
      }
    }
  }

  void ReadServer(const YAML::Node& n, ServerConfig* s) {
    MapReader m(c_, n, "server");
    m.String("listen", &s->listen);
    m.Field("max_body_bytes", [&](const YAML::Node& v) {
      auto i = internal::AsInt(c_, v, "max_body_bytes");
      if (i && *i < 1024) c_.Error(v, "server: max_body_bytes must be at least 1024");
      else if (i) s->max_body_bytes = static_cast<size_t>(*i);
    });
    m.Field("limits", [&](const YAML::Node& v) {
      MapReader lm(c_, v, "server limits");
      ReadPositive(lm, "max_alerts_per_request", "server limits", 1,
                   &s->limits.max_alerts_per_request);
      ReadPositive(lm, "max_labels_per_alert", "server limits", 1, &s->limits.max_labels_per_alert);
      ReadPositive(lm, "max_label_set_bytes", "server limits", 1, &s->limits.max_label_set_bytes);
      lm.Finish();
    });
    ReadPositive(m, "max_connections", "server", 1, &s->max_connections);
    m.Duration("read_timeout", &s->read_timeout);
    m.Duration("idle_timeout", &s->idle_timeout);
    m.Field("auth", [&](const YAML::Node& v) {
      MapReader am(c_, v, "server auth");
      am.Field("tokens", [&](const YAML::Node& t) {
        ReadList(t, "server auth tokens", [&](const YAML::Node& tok) {
          AuthToken at;
          MapReader tm(c_, tok, "auth token");
          tm.String("name", &at.name);
          tm.String("token", &at.token);
          tm.String("token_file", &at.token_file);
          tm.Field("roles", [&](const YAML::Node& rn) { at.roles = ReadRoles(rn, at.name); });
          tm.Finish();
          at.token_file = ResolveAgainst(dir_, at.token_file);
          if (!tm.ok()) return;
          if (at.name.empty()) c_.Error(tok, "server auth token: missing name");
          if (at.token.empty() == at.token_file.empty())
            c_.Error(tok, "server auth token \"" + at.name + "\": exactly one of token & token_file must be set");
          for (const auto& other : s->auth_tokens)
            if (other.name == at.name) c_.Error(tok, "server auth token name \"" + at.name + "\" is not unique");
          s->auth_tokens.push_back(at);
        });
      });
      am.Bool("protect_reads", &s->auth_reads);
      am.Bool("protect_alert_posts", &s->auth_alert_posts);
      am.Finish();
    });
    m.Field("tls", [&](const YAML::Node& v) {
      MapReader tm(c_, v, "server tls");
      tm.String("cert_file", &s->tls_cert_file);
      tm.String("key_file", &s->tls_key_file);
      tm.Finish();
      s->tls_cert_file = ResolveAgainst(dir_, s->tls_cert_file);
      s->tls_key_file = ResolveAgainst(dir_, s->tls_key_file);
      if (s->tls_cert_file.empty() || s->tls_key_file.empty())
        c_.Error(v, "server tls: cert_file and key_file must both be set");
    });
    m.Finish();
    auto colon = s->listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == s->listen.size())
      c_.Error(n["listen"].IsDefined() ? n["listen"] : n, "server: listen \"" + s->listen + "\" must be host:port");
  }

  // `roles: [read, ack]` of an auth token; every name must be a known role.
  RoleSet ReadRoles(const YAML::Node& n, const std::string& token) {
    const std::string what = "server auth token \"" + token + "\": roles";
    if (!n.IsSequence()) {
      c_.Error(n, what + ": expected a list of role names");
      return kAllRoles;
    }
    if (n.size() == 0) {
      c_.Error(n, what + ": empty (leave roles out to give the token every role)");
      return kAllRoles;
    }
    RoleSet set = 0;
    for (const auto& item : n) {
      auto name = internal::AsString(c_, item, "role");
      if (!name) continue;
      auto r = ParseRole(*name);
      if (!r) {
        c_.Error(item, what + ": unknown role \"" + *name +
                           "\" (known: read, alerts, ack, silence, admin, schedule)");
        continue;
      }
      set |= static_cast<RoleSet>(*r);
    }
    return set == 0 ? kAllRoles : set;
  }

  EscalationPolicy ReadEscalationPolicy(const YAML::Node& n) {
    EscalationPolicy p;
    p.pos = c_.Pos(n);
    MapReader m(c_, n, "escalation policy");
    m.String("name", &p.name);
    m.Field("repeat", [&](const YAML::Node& v) {
      auto i = internal::AsInt(c_, v, "repeat");
      if (i && *i < 0) c_.Error(v, "escalation policy: repeat must not be negative");
      else if (i) p.repeat = static_cast<int>(*i);
    });
    m.Field("steps", [&](const YAML::Node& v) {
      ReadList(v, "steps", [&](const YAML::Node& s) {
        EscalationStep st;
        st.pos = c_.Pos(s);
        MapReader sm(c_, s, "escalation step");
        sm.Duration("after", &st.after);
        sm.StringList("receivers", &st.receivers);
        sm.String("schedule", &st.schedule);
        sm.Finish();
        // schedules were read before escalation_policies.
        if (!st.schedule.empty() && !cfg_->FindSchedule(st.schedule))
          c_.Error(s["schedule"], "escalation step: undefined schedule \"" + st.schedule + "\"");
        if (sm.ok() && !sm.Has("after")) c_.Error(s, "escalation step: missing after");
        if (sm.ok() && st.receivers.empty()) c_.Error(s, "escalation step: missing receivers");
        p.steps.push_back(st);
      });
    });
    m.Finish();
    if (m.ok() && p.name.empty()) c_.Error(n, "escalation policy: missing name");
    if (m.ok() && p.steps.empty()) c_.Error(n, "escalation policy \"" + p.name + "\": needs at least one step");
    // Each round starts when the previous one's last step fired, so rounds with no step
    // after 0s would all fire in the same instant.
    Duration round = 0s;
    for (const auto& st : p.steps) round = std::max(round, st.after);
    if (m.ok() && p.repeat > 0 && !p.steps.empty() && round <= 0s)
      c_.Error(n["repeat"], "escalation policy \"" + p.name + "\": repeat: " + std::to_string(p.repeat) +
                                " needs a round longer than 0s (a step with a positive after)");
    return p;
  }

  Heartbeat ReadHeartbeat(const YAML::Node& n) {
    Heartbeat h;
    h.pos = c_.Pos(n);
    MapReader m(c_, n, "heartbeat");
    m.String("name", &h.name);
    m.Duration("timeout", &h.timeout);
    m.StringMap("labels", &h.labels);
    m.StringMap("annotations", &h.annotations);
    m.Field("alert_matchers", [&](const YAML::Node& v) {
      ReadMatcherList(v, "alert_matchers", "heartbeat", &h.alert_matchers);
    });
    m.Finish();
    if (!m.ok()) return h;
    if (h.name.empty()) {
      c_.Error(n, "heartbeat: missing name");
    } else if (h.name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789_.-") != std::string::npos ||
               h.name == "." || h.name == "..") {
      c_.Error(n["name"], "heartbeat \"" + h.name +
                              "\": a name may hold only letters, digits, '_', '.' and '-' "
                              "(it is part of the ping URL)");
    }
    if (!m.Has("timeout")) {
      c_.Error(n, "heartbeat \"" + h.name + "\": missing timeout");
    } else if (h.timeout <= 0s) {
      c_.Error(n["timeout"], "heartbeat \"" + h.name + "\": timeout must be positive");
    }
    for (const auto& [k, v] : h.labels) {
      if (!IsValidLabelName(k)) {
        c_.Error(n["labels"], "heartbeat \"" + h.name + "\": invalid label name \"" + k + "\"");
      } else if (k == "alertname" || k == "heartbeat") {
        c_.Error(n["labels"][k], "heartbeat \"" + h.name + "\": the label \"" + k +
                                     "\" is alertd's (HeartbeatMissing, the heartbeat's name)");
      }
    }
    return h;
  }

  Person ReadPerson(const YAML::Node& n) {
    Person p;
    p.pos = c_.Pos(n);
    MapReader m(c_, n, "person");
    m.String("name", &p.name);
    m.String("email", &p.email);
    m.String("slack", &p.slack);
    m.String("phone", &p.phone);
    m.Finish();
    if (m.ok() && p.name.empty()) c_.Error(n, "person: missing name");
    return p;
  }

  // A rotation's start: "YYYY-MM-DDTHH:MM[:SS]", a wall-clock time without offset.
  static std::optional<std::chrono::sys_seconds> ParseLocalDateTime(const std::string& s) {
    int y, mo, d, h, mi, sec = 0;
    char tail = 0;
    const int n =
        std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail);
    const bool shape = (n == 5 && s.size() == 16) || (n == 6 && s.size() == 19);
    if (!shape || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0) return std::nullopt;
    const date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                                   date::day(static_cast<unsigned>(d))};
    if (!ymd.ok()) return std::nullopt;
    return date::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(sec);
  }

  Schedule ReadSchedule(const YAML::Node& n) {
    Schedule s;
    s.pos = c_.Pos(n);
    MapReader m(c_, n, "schedule");
    m.String("name", &s.name);
    m.String("time_zone", &s.time_zone);
    m.StringList("handoff_receivers", &s.handoff_receivers);
    m.Field("rotations", [&](const YAML::Node& v) {
      ReadList(v, "rotations",
               [&](const YAML::Node& r) { s.rotations.push_back(ReadRotation(r, s.name)); });
    });
    m.Finish();
    if (!m.ok()) return s;
    const std::string what = "schedule \"" + s.name + "\"";
    if (s.name.empty()) {
      c_.Error(n, "schedule: missing name");
    } else if (s.name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789_.-") != std::string::npos ||
               s.name == "." || s.name == "..") {
      c_.Error(n["name"], what +
                              ": a name may hold only letters, digits, '_', '.' and '-' "
                              "(it is part of the API's URLs)");
    }
    if (s.time_zone != "UTC") {
      try {
        (void)date::locate_zone(s.time_zone);
      } catch (const std::exception&) {
        c_.Error(n["time_zone"], what + ": unknown time zone \"" + s.time_zone + "\"");
      }
    }
    if (s.rotations.empty()) c_.Error(n, what + ": needs at least one rotation");
    // receivers were read before schedules.
    for (size_t j = 0; j < s.handoff_receivers.size(); ++j)
      if (!cfg_->FindReceiver(s.handoff_receivers[j]))
        c_.Error(n["handoff_receivers"][j], "undefined receiver \"" + s.handoff_receivers[j] +
                                                "\" used in schedule \"" + s.name + "\"");
    std::set<std::string> names;
    for (size_t i = 0; i < s.rotations.size(); ++i) {
      const auto& r = s.rotations[i];
      if (!r.name.empty() && !names.insert(r.name).second)
        c_.Error(n["rotations"][i]["name"],
                 what + ": rotation \"" + r.name + "\" is defined twice");
    }
    return s;
  }

  Rotation ReadRotation(const YAML::Node& n, const std::string& schedule) {
    Rotation r;
    r.pos = c_.Pos(n);
    MapReader m(c_, n, "rotation");
    m.String("name", &r.name);
    std::string start;
    m.String("start", &start);
    m.Duration("shift", &r.shift);
    m.StringList("participants", &r.participants);
    m.StringList("active_time_intervals", &r.active_time_intervals);
    m.Finish();
    if (!m.ok()) return r;
    const std::string what = "schedule \"" + schedule + "\": rotation \"" + r.name + "\"";
    if (r.name.empty()) c_.Error(n, "schedule \"" + schedule + "\": rotation: missing name");
    if (!m.Has("start")) {
      c_.Error(n, what + ": missing start");
    } else if (auto t = ParseLocalDateTime(start)) {
      r.start = *t;
    } else {
      c_.Error(n["start"], what + ": start \"" + start +
                               "\" is not a local date and time like 2026-01-05T09:00");
    }
    if (!m.Has("shift")) {
      c_.Error(n, what + ": missing shift");
    } else if (r.shift <= 0s) {
      c_.Error(n["shift"], what + ": shift must be positive");
    } else if (r.shift < 1min) {
      // Handoffs are counted over weeks; time intervals have minute resolution anyway.
      c_.Error(n["shift"], what + ": shift must be at least 1m");
    }
    if (r.participants.empty()) c_.Error(n, what + ": needs at least one participant");
    // people and time_intervals were read before schedules.
    for (size_t p = 0; p < r.participants.size(); ++p)
      if (!cfg_->FindPerson(r.participants[p]))
        c_.Error(n["participants"][p],
                 what + ": unknown person \"" + r.participants[p] + "\" (not in people)");
    for (size_t t = 0; t < r.active_time_intervals.size(); ++t)
      if (!cfg_->FindTimeInterval(r.active_time_intervals[t]))
        c_.Error(n["active_time_intervals"][t],
                 what + ": undefined time interval \"" + r.active_time_intervals[t] + "\"");
    return r;
  }

  // ---------------------------------------------------------------- cross references
  void CheckRoute(const Config& cfg, const Route& r) {
    if (!r.receiver.empty() && !cfg.FindReceiver(r.receiver))
      c_.Error(r.pos, "undefined receiver \"" + r.receiver + "\" used in route");
    for (const auto& name : r.mute_time_intervals)
      if (!cfg.FindTimeInterval(name)) c_.Error(r.pos, "undefined time interval \"" + name + "\" used in route");
    for (const auto& name : r.active_time_intervals)
      if (!cfg.FindTimeInterval(name)) c_.Error(r.pos, "undefined time interval \"" + name + "\" used in route");
    if (!r.escalation.empty() && !cfg.FindEscalationPolicy(r.escalation))
      c_.Error(r.pos, "undefined escalation policy \"" + r.escalation + "\" used in route");
    for (const auto& child : r.routes) CheckRoute(cfg, child);
  }

  void CheckReferences(const Config& cfg, const YAML::Node& route_node) {
    std::set<std::string> names;
    for (const auto& r : cfg.receivers) {
      if (!r.name.empty() && !names.insert(r.name).second)
        c_.Error(r.pos, "notification config name \"" + r.name + "\" is not unique");
    }
    std::set<std::string> ti_names;
    for (const auto& t : cfg.time_intervals) {
      if (!t.name.empty() && !ti_names.insert(t.name).second)
        c_.Error(t.pos, "time interval \"" + t.name + "\" is not unique");
    }
    std::set<std::string> ep_names;
    for (const auto& p : cfg.escalation_policies) {
      if (!p.name.empty() && !ep_names.insert(p.name).second)
        c_.Error(p.pos, "escalation policy \"" + p.name + "\" is not unique");
      for (const auto& s : p.steps)
        for (const auto& rn : s.receivers)
          if (!cfg.FindReceiver(rn))
            c_.Error(s.pos, "undefined receiver \"" + rn + "\" used in escalation policy \"" + p.name + "\"");
    }
    if (route_node.IsMap()) CheckRoute(cfg, cfg.route);
  }

  void CheckRuleGroupNames(const Config&) {}

  Ctx c_;
  std::string dir_;
  const Config* cfg_ = nullptr;  // the one being loaded: what earlier sections defined
};

std::string ReadWholeFile(const std::string& path, bool* ok) {
  std::ifstream f(path, std::ios::binary);
  *ok = static_cast<bool>(f);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

LoadResult LoadConfigString(const std::string& text, const std::string& path) {
  LoadResult res;
  Loader loader(path, &res.errors);
  res.config = loader.Load(text);
  if (!res.errors.empty()) res.config.reset();
  return res;
}

LoadResult LoadConfigFile(const std::string& path) {
  bool ok;
  std::string text = ReadWholeFile(path, &ok);
  if (!ok) {
    LoadResult res;
    res.errors.push_back({Position{path, 0, 0}, "cannot read the configuration file"});
    return res;
  }
  return LoadConfigString(text, path);
}

}  // namespace alertd::config
