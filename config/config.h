// alertd's configuration, typed and validated: every key of Alertmanager's alertmanager.yml
// (same meaning, same defaults) plus alertd's own keys (datasource, evaluation, rule_files,
// storage, server, escalation_policies, `escalation:` on routes), and the Prometheus rule
// files it names. Defaults are documented where they are declared, so this header doubles as
// the reference of every option.
//
// A Config is immutable once loaded; share it as std::shared_ptr<const Config>. A reload
// builds a new one and swaps it in only if it loaded without errors.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/notifier_config.h"
#include "core/duration.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/relabel.h"
#include "core/result.h"

namespace alertd::config {

using namespace std::chrono_literals;

// Where a value came from, for error messages: file:line:col (1-based).
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
  std::string String() const;  // "file:line:col"
};

// ---------------------------------------------------------------- shared HTTP client options
struct TLSConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "TLS12", "TLS13", or empty for the library default
};

struct BasicAuth {
  std::string username;
  std::string username_file;
  std::string password;  // secret
  std::string password_file;
};

struct Authorization {
  std::string type = "Bearer";
  std::string credentials;  // secret
  std::string credentials_file;
};

// prometheus/common's `oauth2`: the OAuth 2.0 client credentials grant; the token it gets is
// sent as the Authorization header.
struct OAuth2Config {
  std::string client_id;
  std::string client_secret;  // secret
  std::string client_secret_file;
  std::vector<std::string> scopes;
  std::string token_url;
  std::map<std::string, std::string> endpoint_params;
  std::string proxy_url;  // for the token requests; may carry a password
  TLSConfig tls_config;   // for the token requests
};

// Prometheus/Alertmanager `http_config`. At most one of basic_auth, authorization (or
// bearer_token(_file)) and oauth2 may be set.
struct HTTPClientConfig {
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;  // bearer_token(_file) is folded into this
  std::optional<OAuth2Config> oauth2;
  std::string proxy_url;  // may carry a password
  std::string no_proxy;   // hosts, domains and CIDRs reached without proxy_url (comma-separated)
  bool proxy_from_environment = false;  // HTTP(S)_PROXY / NO_PROXY instead of proxy_url
  // Headers sent to the proxy with CONNECT; values are secrets.
  std::map<std::string, std::vector<std::string>> proxy_connect_header;
  TLSConfig tls_config;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::map<std::string, std::string> headers;  // extra headers (datasource only)
};

// ---------------------------------------------------------------- Alertmanager sections
struct GlobalConfig {
  Duration resolve_timeout = 5min;  // endsAt given to alerts received without one
  HTTPClientConfig http_config;
  std::string smtp_from;
  std::string smtp_hello = "localhost";
  std::string smtp_smarthost;  // host:port
  std::string smtp_auth_username;
  std::string smtp_auth_password;  // secret
  std::string smtp_auth_password_file;
  std::string smtp_auth_secret;  // secret
  std::string smtp_auth_identity;
  bool smtp_require_tls = true;
  TLSConfig smtp_tls_config;  // email tls_config when an email_configs entry has none (0.28+)
  std::string slack_api_url;  // secret
  std::string slack_api_url_file;
  std::string pagerduty_url = "https://events.pagerduty.com/v2/enqueue";
  std::string opsgenie_api_url = "https://api.opsgenie.com/";
  std::string opsgenie_api_key;  // secret
  std::string opsgenie_api_key_file;
  std::string victorops_api_url = "https://alert.victorops.com/integrations/generic/20131114/alert/";
  std::string victorops_api_key;  // secret
  std::string victorops_api_key_file;
  std::string telegram_api_url = "https://api.telegram.org";
  std::string webex_api_url = "https://webexapis.com/v1/messages";
  std::string wechat_api_url = "https://qyapi.weixin.qq.com/cgi-bin/";
  std::string wechat_api_secret;  // secret
  std::string wechat_api_corp_id;
};

struct Receiver {
  std::string name;
  // Its integrations (config/notifier_config.h), grouped by kind in NotifierKinds() order,
  // each kind in config order.
  std::vector<std::shared_ptr<const NotifierConfig>> notifiers;
  Position pos;

  // The integrations of type T (a notifiers/<name>/ config type), in config order.
  template <typename T>
  std::vector<const T*> Of() const {
    std::vector<const T*> out;
    for (const auto& n : notifiers)
      if (const auto* t = dynamic_cast<const T*>(n.get())) out.push_back(t);
    return out;
  }
};

// A node of the routing tree. After loading, every option is resolved: values a node does
// not set are inherited from its parent, and the root takes Alertmanager's defaults.
struct Route {
  std::string receiver;  // required on the root
  std::vector<std::string> group_by;
  bool group_by_all = false;   // group_by: ['...']
  Matchers matchers;           // `matchers`, `match` and `match_re` merged
  bool continue_ = false;      // `continue`
  Duration group_wait = 30s;
  Duration group_interval = 5min;
  Duration repeat_interval = 4h;
  std::vector<std::string> mute_time_intervals;
  std::vector<std::string> active_time_intervals;
  std::string escalation;  // alertd: escalation policy name, inherited
  std::vector<Route> routes;
  Position pos;
};

struct InhibitRule {
  Matchers source_matchers;  // `source_matchers`, `source_match`, `source_match_re` merged
  Matchers target_matchers;
  std::vector<std::string> equal;
  Position pos;
};

// A time_interval entry; each list empty means "any". Ranges are inclusive.
struct TimeRange {
  int start_minute = 0;  // minutes since midnight
  int end_minute = 0;    // exclusive
};
struct IntRange {
  int begin = 0;
  int end = 0;
};
struct TimeIntervalSpec {
  std::vector<TimeRange> times;
  std::vector<IntRange> weekdays;       // 0 = Sunday .. 6 = Saturday
  std::vector<IntRange> days_of_month;  // 1..31 or -31..-1 (from the month's end)
  std::vector<IntRange> months;         // 1..12
  std::vector<IntRange> years;
  std::string location = "UTC";  // IANA time zone name, or "Local"
};
struct TimeInterval {
  std::string name;
  std::vector<TimeIntervalSpec> intervals;
  Position pos;
};

// ---------------------------------------------------------------- alertd's own sections
// What answers the rules' queries (`datasource.type`).
enum class DatasourceType { kPrometheus, kVictoriaMetrics, kOther };

struct DatasourceConfig {
  std::string url;  // Prometheus-compatible query API base URL; required when rules exist
  // `prometheus` (default): a PromQL function Prometheus 2.42 does not know refuses the rule
  // file, as Prometheus does. `victoriametrics` or `other`: such a function is a warning on the
  // rule (Rule::warnings) and the expression is sent to the datasource as written.
  DatasourceType type = DatasourceType::kPrometheus;
  Duration timeout = 10s;        // per query, also bounds the wait for a query slot; must be > 0
  HTTPClientConfig http_config;  // basic_auth, authorization/bearer_token(_file), tls_config,
                                 // proxy_url, headers: written inline under `datasource:`
  int max_concurrent_queries = 16;  // queries in flight across all groups
  // A larger query response fails the query (Prometheus answers a few MB for 100,000 series).
  size_t max_response_bytes = 64 << 20;
};

struct EvaluationConfig {
  Duration interval = 1min;  // default group interval (Prometheus's global.evaluation_interval)
  // Prometheus's global.rule_query_offset (2.53): the query_offset of groups without their own.
  Duration rule_query_offset = 0s;
  LabelSet external_labels;
  std::string external_url;  // for generatorURL and $externalURL; default http://<listen>
  Duration resend_delay = 1min;  // Prometheus --rules.alert.resend-delay
  // Prometheus's --rules.alert.for-grace-period and --rules.alert.for-outage-tolerance: how
  // `for` timers are restored after a restart (RestoreForState) and how long a failing
  // datasource keeps firing alerts alive.
  Duration for_grace_period = 10min;
  Duration for_outage_tolerance = 1h;
  // Prometheus's alerting.alert_relabel_configs: applied to every alert sent, after the
  // external labels are added; an alert dropped (or left without labels) is not sent.
  RelabelConfigs alert_relabel_configs;
};

// `remote_write:` entries, with Prometheus's field names and defaults (config.RemoteWriteConfig,
// 2.42), where recording rule results and the ALERTS / ALERTS_FOR_STATE series go.
struct RemoteWriteQueueConfig {
  // Samples the durable queue holds (beyond it the oldest are dropped and counted). Prometheus
  // uses `capacity` for each shard's in-memory buffer (default 2500) and relies on its WAL for
  // outages; alertd has no WAL, so the on-disk queue is what rides out an outage.
  size_t capacity = 1000000;
  size_t max_samples_per_send = 500;  // samples per WriteRequest
  Duration batch_send_deadline = 5s;  // a smaller batch is sent after this wait
  Duration min_backoff = 30ms;        // first retry delay, doubled up to max_backoff
  Duration max_backoff = 5s;
};

struct RemoteWriteConfig {
  std::string url;                // required: http:// or https://
  std::string name;               // unique; default: a hash of the entry, as Prometheus
  Duration remote_timeout = 30s;  // per request
  // basic_auth, authorization / bearer_token(_file), tls_config, proxy_url, follow_redirects,
  // enable_http2 inline; `headers` are sent with every request (values are secrets).
  HTTPClientConfig http_config;
  // Applied to every series before it is queued, after the external labels (Prometheus's
  // order); a series they drop is counted in prometheus_remote_storage_samples_dropped_total.
  RelabelConfigs write_relabel_configs;
  RemoteWriteQueueConfig queue_config;
  Position pos;
};

// storage.postgres: every store on PostgreSQL instead of SQLite (storage/pg_stores.h).
struct PostgresConfig {
  std::string dsn;            // libpq connection string or URI; empty: SQLite. A secret (it
                              // may hold a password).
  std::string password_file;  // read at start, passed beside the DSN; relative to the config
};

struct StorageConfig {
  std::string path = "data/alertd.db";  // relative to the working directory; a directory:
                                        // DIR/alertd.db. Unused with postgres.dsn.
  Duration retention = 24h;  // resolved alerts are kept this long, then removed
  // Notification attempts and alert events (core/history.h) are kept this long; 0s: none are
  // recorded.
  Duration history_retention = 720h;
  PostgresConfig postgres;
};

// cluster: several alertd replicas sharing one PostgreSQL database (storage.postgres), each
// piece of work owned by one of them at a time through a lease (cluster/membership.h).
struct ClusterConfig {
  bool enabled = false;        // the section is present
  std::string node_name;       // empty: "<hostname>:<listen port>", filled in at start
  std::string advertise_url;   // empty: http://<node_name's host>:<listen port>
  Duration lease = 15s;        // how long an owner may be silent before another node takes over
};

// What a bearer token may do (`server.auth.tokens[].roles`): `read` (every GET), `alerts`
// (posting alerts: POST /api/v2/alerts, the webhook receiver), `ack`, `silence`, `schedule`
// (schedules' overrides), `admin` (reload, and every endpoint no other role names). Roles are
// independent: list each one a token needs. Which endpoint needs which role is one table,
// api/access.cc. A bit each.
enum class Role : unsigned {
  kRead = 1,
  kAlerts = 2,
  kAck = 4,
  kSilence = 8,
  kAdmin = 16,
  kSchedule = 32
};
using RoleSet = unsigned;  // Role bits
inline constexpr RoleSet kAllRoles = 63;
inline bool HasRole(RoleSet set, Role r) { return (set & static_cast<unsigned>(r)) != 0; }
// The role `name` names ("read", "alerts", "ack", "silence", "admin", "schedule"), or nullopt.
std::optional<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role r);

struct AuthToken {
  std::string name;   // becomes the default `by` of acknowledgements
  std::string token;  // secret
  std::string token_file;
  RoleSet roles = kAllRoles;  // `roles`; not given: every role
};

// `server.limits`: what one request to the ingest endpoints (POST /api/v2/alerts, the webhook
// intake) may carry; over a limit the request gets 400 naming it and nothing is stored.
struct ServerLimits {
  // Prometheus sends at most 64 alerts per request (its notifier's maxBatchSize); an
  // Alertmanager webhook sends one aggregation group, all of its alerts unless max_alerts.
  size_t max_alerts_per_request = 10000;
  // Labels of one alert, and annotations of one alert, each. Real series carry a few dozen
  // labels (Prometheus and Alertmanager set no limit by default; scrape configs that set
  // `label_limit` use figures around 30-100).
  size_t max_labels_per_alert = 1000;
  // Bytes of names and values of one alert's labels, and of its annotations, each (long
  // descriptions and runbook texts live in annotations).
  size_t max_label_set_bytes = 1 << 20;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:9095";
  size_t max_body_bytes = 4 << 20;  // larger request bodies get 413
  ServerLimits limits;
  // Connections open at once; beyond it a new connection is closed at once.
  size_t max_connections = 1024;
  Duration read_timeout = 30s;      // whole request, headers included
  Duration idle_timeout = 120s;     // keep-alive connections
  std::vector<AuthToken> auth_tokens;  // `auth.tokens`; empty: no auth
  bool auth_reads = false;             // `auth.protect_reads`: GETs need a token too
  bool auth_alert_posts = false;       // `auth.protect_alert_posts`: POST /api/v2/alerts too
  std::string tls_cert_file;
  std::string tls_key_file;
};

// alertd: callbacks from the services people are paged through (`integrations:`). Each secret
// may be given inline or as a `_file` (relative to the config file), read when the
// configuration loads, so a reload picks up a rotated secret; at most one of the two. Unset:
// that callback endpoint answers 404 and changes nothing.
struct IntegrationsConfig {
  // The signing secret of the PagerDuty v3 webhook subscription that posts to
  // POST /api/v1/integrations/pagerduty (X-PagerDuty-Signature).
  std::string pagerduty_webhook_secret;  // secret
  std::string pagerduty_webhook_secret_file;
  // The Slack app's signing secret, for POST /api/v1/integrations/slack (X-Slack-Signature).
  std::string slack_signing_secret;  // secret
  std::string slack_signing_secret_file;
};

struct EscalationStep {
  Duration after = 0s;
  std::vector<std::string> receivers;
  // alertd: `schedule:` pages whoever is on call in that schedule (oncall/oncall.h) through
  // `receivers`, whose templates see the person as `.OnCall`. Nobody on call: the step is
  // skipped at once and the next one runs. Empty: the receivers are paged as they are.
  std::string schedule;
  Position pos;
};
struct EscalationPolicy {
  std::string name;
  std::vector<EscalationStep> steps;
  int repeat = 0;  // run the whole list this many more times
  Position pos;
};

// `heartbeats`: dead man's switches (heartbeats/heartbeats.h). A heartbeat is late when no
// ping arrived for `timeout`; then alertd raises HeartbeatMissing{heartbeat=<name>, labels...}
// until the next ping.
struct Heartbeat {
  std::string name;  // [A-Za-z0-9_.-]+, unique: it is a path segment of the ping URL
  Duration timeout = 0s;
  std::map<std::string, std::string> labels;       // added to the alert (not alertname/heartbeat)
  std::map<std::string, std::string> annotations;  // the alert's
  // Every received firing alert that matches all of these pings the heartbeat (Prometheus's
  // always-firing Watchdog); empty: only POST /api/v1/heartbeats/{name} pings.
  Matchers alert_matchers;
  Position pos;
};

// `people`: who can be on call. The contact fields are what receivers' templates see as
// `.OnCall.Email`, `.OnCall.Slack`, `.OnCall.Phone`; each may be empty.
struct Person {
  std::string name;   // unique; what rotations and overrides name
  std::string email;
  std::string slack;  // a Slack member id (U024BE7LH), for mentions: <@U024BE7LH>
  std::string phone;  // for integrations that can use it
  Position pos;
};

// One layer of a schedule: participants take turns, each for `shift`, from `start` on.
struct Rotation {
  std::string name;  // unique within the schedule
  // The first handoff, a wall-clock time in the schedule's time_zone (`2026-01-05T09:00`,
  // seconds optional). Nobody is on call in this rotation before it.
  std::chrono::sys_seconds start{};  // the wall-clock time carried as a sys_seconds value
  // Each participant's turn, measured in the schedule's wall-clock time: a 1w shift handing
  // off at 09:00 hands off at 09:00 local time after a daylight-saving change too (that shift
  // is an hour shorter or longer). At least 1m.
  Duration shift = 0s;
  std::vector<std::string> participants;  // people's names, in turn order; at least one
  // Optional: the rotation has someone on call only inside one of these time intervals
  // (names from time_intervals), a gap elsewhere.
  std::vector<std::string> active_time_intervals;
  Position pos;
};

struct Schedule {
  std::string name;        // unique; [A-Za-z0-9_.-]+ (a path segment of the API)
  std::string time_zone = "UTC";  // IANA name the rotations' start times are read in
  // Layers: where several rotations have someone, the later one in this list wins. An
  // override (POST /api/v1/schedules/{name}/overrides) wins over every rotation.
  std::vector<Rotation> rotations;
  // Notified at each handoff ("bob is on call for primary until ..."); empty: nobody.
  std::vector<std::string> handoff_receivers;
  Position pos;
};

// ---------------------------------------------------------------- Prometheus rule files
struct Rule {
  std::string alert;   // alerting rule name; empty for recording rules
  std::string record;  // recording rule name
  std::string expr;
  Duration for_ = 0s;
  Duration keep_firing_for = 0s;
  std::map<std::string, std::string> labels;       // values are templates
  std::map<std::string, std::string> annotations;  // values are templates
  Position pos;       // the rule's first key
  Position expr_pos;  // where the expression text starts
  // Found at load, e.g. a PromQL function alertd's parser does not know (allowed when
  // datasource.type is not prometheus); logged and shown on the rule in /api/v1/rules.
  std::vector<std::string> warnings;
};

struct RuleGroup {
  std::string name;
  std::string file;
  std::optional<Duration> interval;  // unset or 0s: evaluation.interval
  int limit = 0;                     // 0: no limit
  Duration query_offset = 0s;        // unset: evaluation.rule_query_offset (filled in at load)
  // Group `labels` (Prometheus 3.0): already merged into every rule's labels at load, a rule's
  // own label winning.
  std::map<std::string, std::string> labels;
  std::vector<Rule> rules;
  Position pos;
};

struct Config {
  std::string path;           // the file it was loaded from
  // The configuration as GET /api/v2/status shows it: the loaded document marshalled back to
  // YAML with every secret as `<secret>` and no userinfo in URLs (config/redact.h). The
  // original text, secrets and all, is not kept.
  std::string redacted_yaml;
  GlobalConfig global;
  Route route;
  std::vector<Receiver> receivers;
  std::vector<InhibitRule> inhibit_rules;
  std::vector<TimeInterval> time_intervals;  // time_intervals and mute_time_intervals
  std::vector<std::string> templates;        // resolved template file paths
  DatasourceConfig datasource;
  EvaluationConfig evaluation;
  std::vector<std::string> rule_files;  // resolved paths (globs expanded, relative to config)
  std::vector<RuleGroup> rule_groups;
  std::vector<RemoteWriteConfig> remote_write;
  StorageConfig storage;
  ClusterConfig cluster;
  ServerConfig server;
  IntegrationsConfig integrations;
  std::vector<EscalationPolicy> escalation_policies;
  std::vector<Heartbeat> heartbeats;
  std::vector<Person> people;
  std::vector<Schedule> schedules;

  const Receiver* FindReceiver(std::string_view name) const;
  const TimeInterval* FindTimeInterval(std::string_view name) const;
  const EscalationPolicy* FindEscalationPolicy(std::string_view name) const;
  const Heartbeat* FindHeartbeat(std::string_view name) const;
  const Person* FindPerson(std::string_view name) const;
  const Schedule* FindSchedule(std::string_view name) const;
};

// One problem found while loading, with where it is.
struct ConfigError {
  Position pos;
  std::string message;
  std::string String() const;  // "file:line:col: message"
};

// Loads and validates a config file and every rule file it names. On failure returns every
// error found (not just the first).
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty() && config.has_value(); }
  std::string ErrorText() const;  // one error per line
};
LoadResult LoadConfigFile(const std::string& path);
// Same, from text (`path` names it in errors; relative paths resolve against its directory).
LoadResult LoadConfigString(const std::string& text, const std::string& path);

// What of alertd.yml applies to its rule files.
struct RuleFileOptions {
  DatasourceType datasource_type = DatasourceType::kPrometheus;  // datasource.type
  Duration default_query_offset = 0s;                            // evaluation.rule_query_offset
};

// Loads one Prometheus rule file, validated as `promtool check rules` does.
std::vector<ConfigError> LoadRuleFile(const std::string& path, std::vector<RuleGroup>* out,
                                      const RuleFileOptions& opts = {});
// Same, from text (`path` names it in errors and in each group's `file`).
std::vector<ConfigError> LoadRuleFileString(const std::string& text, const std::string& path,
                                            std::vector<RuleGroup>* out,
                                            const RuleFileOptions& opts = {});

}  // namespace alertd::config
