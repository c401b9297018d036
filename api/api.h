// The HTTP API of alertd: what the handlers need (ApiContext) and the one place that registers
// every endpoint on a Router (RegisterApi in api/routes.cc). Each group of endpoints lives in
// its own file (alerts_v2.cc, webhook_receiver.cc, status.cc, ...) and exposes one Register
// function declared here; later endpoints (silences, acknowledgements, /api/v1/rules,
// /metrics) add theirs the same way.
//
// The context's pointers must outlive the server; everything in it is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "api/alert_status.h"
#include "api/auth.h"
#include "api/server.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/history.h"
#include "core/metrics.h"
#include "core/scheduler.h"
#include "notifiers/test_notification.h"
#include "router/acks.h"
#include "router/group_acks.h"
#include "router/schedule_overrides.h"
#include "router/silences.h"
#include "storage/alert_store.h"

namespace alertd::rules_engine {
class RuleManager;
}
namespace alertd::heartbeats {
class Monitor;
}

namespace alertd::api {

struct VersionInfo {
  std::string version = "0.1.0";
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version = "none (alertd is C++)";
};

struct ApiContext {
  storage::AlertStore* alerts = nullptr;
  const Clock* clock = nullptr;
  // The current configuration (swapped on reload); never null once the server runs.
  std::function<std::shared_ptr<const config::Config>()> config;
  std::shared_ptr<AlertStatusProvider> status;
  // Silences (the router's); null: the silence endpoints answer 503.
  router::Silences* silences = nullptr;
  // Acknowledgements (the router); null: the ack endpoints answer 503 and alerts show
  // "ack": null.
  router::AckService* acks = nullptr;
  // Group-wide acks for the integration callbacks (PagerDuty webhooks, Slack buttons; the
  // router). Null: those endpoints answer 503 once a request's signature verified.
  router::GroupAckService* group_acks = nullptr;
  // /-/ready answers 200 only when this returns true (unset: always ready).
  std::function<bool()> ready;
  VersionInfo version;
  Time start_time = kZeroTime;
  // The rule engine, for /api/v1/rules and /api/v1/alerts; null when no datasource is
  // configured (then both list nothing).
  rules_engine::RuleManager* rules = nullptr;
  // Writers of /metrics text (Prometheus exposition format), each appending its families.
  std::vector<std::function<void(std::string*)>> metrics;
  // alertd's metrics registry: /metrics serves its families first, then `metrics` above; the
  // Router's observer records alertd_http_requests_total and
  // alertd_http_request_duration_seconds in it. Null: neither.
  MetricsRegistry* registry = nullptr;
  // The token set in force (api/auth.h); RegisterApi installs the Router's guard over it.
  // Null: no authentication at all (content types are still checked).
  const AuthHolder* auth = nullptr;
  // Where ingest requests (POST /api/v2/alerts, the webhook intake) are parsed and stored,
  // off the server's I/O threads (api/ingest.h HandleIngest). Null: on the I/O thread.
  Executor* ingest_executor = nullptr;
  // POST /-/reload: reloads the configuration (the same code path as SIGHUP) and returns
  // what went wrong: InvalidArgument for a configuration that does not load or validate
  // (answered 400), anything else for a failure to apply it (500). Null: 503.
  std::function<Status()> reload;
  // POST /api/v1/receivers/{name}/test: sends a test alert through the receiver's integrations
  // of the configuration in force (app/test_receiver.h), blocking until each answered; run on
  // test_executor, never on an I/O thread. NotFound: no such receiver. Either null: 503.
  std::function<Result<std::vector<notifiers::TestOutcome>>(const std::string& receiver,
                                                            const notifiers::TestAlert& alert)>
      test_receiver;
  Executor* test_executor = nullptr;
  // Replicas: this node's membership, for the `cluster` block of /api/v2/status and
  // GET /api/v1/cluster. Null: a lone alertd (status "disabled"; /api/v1/cluster answers 404).
  const cluster::Membership* cluster = nullptr;
  // Heartbeats (heartbeats/heartbeats.h); null: none configured (pings answer 404).
  heartbeats::Monitor* heartbeats = nullptr;
  // Schedules' overrides (router/schedule_overrides.h); null: the override endpoints answer
  // 503 (GET lists none) and who is on call comes from the rotations alone.
  router::ScheduleOverrides* overrides = nullptr;
  // What happened (storage/history.h: its buffer is flushed, then its store read), for
  // GET /api/v1/notifications and the alerts' timelines; null: those endpoints answer 503.
  // Read on ingest_executor (off the I/O threads) when set.
  storage::HistoryRecorder* history = nullptr;
};

// Registers every endpoint below on `router`, and the cross-cutting layers: access control
// (api/access.h: auth and roles over ctx.auth, content types) as the Router's guard and
// request metrics (ctx.registry) as its observer.
void RegisterApi(Router& router, const ApiContext& ctx);

// POST/GET /api/v2/alerts, GET /api/v2/alerts/groups (api/alerts_v2.cc).
void RegisterAlertsV2(Router& router, const ApiContext& ctx);
// POST /api/v1/webhook/alertmanager (api/webhook_receiver.cc).
void RegisterWebhookReceiver(Router& router, const ApiContext& ctx);
// GET /api/v2/status, GET /api/v2/receivers, GET|HEAD /-/healthy and /-/ready (api/status.cc).
// POST/GET /api/v2/silences, GET/DELETE /api/v2/silence/{id} (api/silences_v2.cc).
void RegisterSilencesV2(Router& router, const ApiContext& ctx);
void RegisterStatus(Router& router, const ApiContext& ctx);
// GET /api/v1/cluster (api/status.cc).
// Prometheus-compatible GET /api/v1/rules and GET /api/v1/alerts (api/prometheus_v1.cc).
void RegisterPrometheusV1(Router& router, const ApiContext& ctx);
// GET /metrics: ctx.registry's text, then the concatenation of ctx.metrics (api/metrics.cc).
void RegisterMetrics(Router& router, const ApiContext& ctx);
// Router observer recording alertd_http_requests_total{handler,code} and
// alertd_http_request_duration_seconds{handler} in `registry` (api/metrics.cc).
Router::Observer MakeHttpMetricsObserver(MetricsRegistry* registry);
// POST /api/v1/receivers/{name}/test (api/receivers_v1.cc).
void RegisterReceiversV1(Router& router, const ApiContext& ctx);
// POST /-/reload (api/reload.cc).
void RegisterReload(Router& router, const ApiContext& ctx);
// POST/DELETE /api/v1/alerts/{fingerprint}/ack, POST/GET /api/v1/acks (api/acks_v1.cc).
void RegisterAcksV1(Router& router, const ApiContext& ctx);
// POST /api/v1/integrations/pagerduty and /api/v1/integrations/slack: acks, un-acks and ended
// escalations from PagerDuty v3 webhooks and Slack's Acknowledge button, verified by their
// signatures (api/integrations.h, api/integrations.cc).
void RegisterIntegrations(Router& router, const ApiContext& ctx);
// POST /api/v1/heartbeats/{name}, GET /api/v1/heartbeats (api/heartbeats_v1.cc).
void RegisterHeartbeatsV1(Router& router, const ApiContext& ctx);
// GET /api/v1/oncall, POST/GET /api/v1/schedules/{name}/overrides,
// DELETE /api/v1/schedules/{name}/overrides/{id}, GET /api/v1/schedules/{name}.ics
// (api/schedules_v1.cc).
void RegisterSchedulesV1(Router& router, const ApiContext& ctx);
// GET /api/v1/notifications, GET /api/v1/alerts/{fingerprint}/history (api/history_v1.cc).
void RegisterHistoryV1(Router& router, const ApiContext& ctx);
// GET / and GET /assets/{name}: the web page (web/); GET /api/v1/auth: whether auth is on and
// the roles of the presented token (api/web.cc).
void RegisterWeb(Router& router, const ApiContext& ctx);
// An alert's "ack" value as GET /api/v2/alerts and /api/v1/alerts show it:
// {"by","comment","at","expiresAt"} or null (api/acks_v1.cc).
void AppendAlertAckJson(std::string* out, const std::optional<Ack>& ack);

}  // namespace alertd::api
