// Opsgenie and VictorOps against a real Alertmanager 0.25: the same receivers, pointed at the
// same local sink playing each vendor's API (tests/notifiers/fixtures/http_sink.py), make the
// same requests (method, path, JSON body, Authorization) for the same alerts, firing and then
// resolved: Opsgenie's create (with responders, tags, details, priority, actions, entity) and
// close, and with update_alerts its message and description updates; VictorOps' message_type,
// entity_id and custom_fields. Then the configs Alertmanager refuses, and what each vendor's
// failures do to alertd.
#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

const char* kRoute = R"(
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
)";

// Both sides' config, the sink paths naming the side (`who`).
std::string Config(const std::string& sink, const std::string& who, const std::string& dir) {
  return std::string(kRoute) + R"(
global:
  opsgenie_api_url: )" +
         sink + "/opsgenie/" + who + R"(/1
  opsgenie_api_key_file: )" +
         dir + R"(/og.key
  victorops_api_url: )" +
         sink + "/victorops/" + who + R"(/1/
  victorops_api_key: vo-global-key
receivers:
- name: oncall
  opsgenie_configs:
  - api_url: )" +
         sink + "/opsgenie/" + who + R"(/0/
    api_key: 'og-key-{{ .CommonLabels.team }}'
    responders:
    - name: 'ops-{{ .CommonLabels.team }}'
      type: team
    - username: oncall@example.com
      type: user
    - id: 4513b7ea-3b91-438f-b7e4-e3e54af9147c
      type: escalation
    - name: 'team-a,team-b, '
      type: teams
    - name: '{{ .CommonLabels.nowhere }}'
      type: '{{ if .CommonLabels.nowhere }}team{{ end }}'
    tags: 'disk,{{ .CommonLabels.severity }}, prod,,'
    details:
      runbook: '{{ .CommonAnnotations.runbook }}'
      severity: overridden
    priority: '{{ if eq .CommonLabels.severity "critical" }}P1{{ else }}P3{{ end }}'
    actions: 'restart,ping'
    entity: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.team }}'
    note: '{{ len .Alerts }} alerts'
  - update_alerts: true
    message: '{{ template "opsgenie.default.message" . }}{{ range .Alerts }} {{ .Annotations.summary }} – {{ .Annotations.summary }} – {{ .Annotations.runbook }}{{ end }}'
    description: 'é {{ template "opsgenie.default.description" . }}'
  victorops_configs:
  - api_url: )" +
         sink + "/victorops/" + who + R"(/0
    api_key: vo-key
    routing_key: '{{ .CommonLabels.team }}'
    message_type: WARNING
    custom_fields:
      runbook: '{{ .CommonAnnotations.runbook }}'
      service: storage
  - routing_key: 'team {{ .CommonLabels.team }}'
    message_type: '{{ .CommonLabels.severity }}'
    entity_display_name: '{{ .CommonLabels.alertname }} ({{ len .Alerts }})'
)";
}

json Alerts(const std::string& ends_at) {
  json alerts = json::parse(R"([
    {"labels": {"alertname": "DiskFull", "instance": "a", "severity": "critical", "team": "storage"},
     "annotations": {"summary": "disk <a> & \"b\" is 'full'", "runbook": "http://rb/disk?x=1&y=2"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"},
    {"labels": {"alertname": "DiskFull", "instance": "b", "severity": "critical", "team": "storage"},
     "annotations": {"summary": "disk b is fullé", "runbook": "http://rb/disk?x=1&y=2"},
     "startsAt": "2024-01-01T00:00:00Z", "generatorURL": "http://prom/graph?g0.expr=x"}
  ])");
  if (!ends_at.empty()) {
    for (auto& a : alerts) a["endsAt"] = ends_at;
  }
  return alerts;
}

std::string Replace(std::string p, const std::string& who) {
  return p.replace(p.find("{}"), 2, who);
}

json Body(const json& request) { return json::parse(request["body"].get<std::string>()); }

// The error text of a config that must not load.
std::string LoadError(const std::string& yaml, const std::string& dir) {
  auto r = config::LoadConfigString(std::string(kRoute) + yaml, dir + "/alertd.yml");
  REQUIRE_FALSE(r.ok());
  return r.ErrorText();
}

}  // namespace

TEST_CASE("Opsgenie and VictorOps requests match a real Alertmanager's, firing and resolved") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  // No newline at the end: Alertmanager 0.25 sends the file as it is (alertd trims it).
  t::WriteFile(dir + "/og.key", "og-file-key");
  testsupport::AlertmanagerPeer am(dir, Config(sink.url(), "am", dir));
  const config::Config cfg = testsupport::LoadConfig(Config(sink.url(), "alertd", dir), dir);
  Deps deps = testsupport::TestDeps();
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 4);

  // Per sink prefix, the requests expected after the firing round and after the resolved one.
  struct Expect {
    std::string prefix;
    size_t firing, resolved;
  };
  const std::vector<Expect> expects = {{"/opsgenie/{}/0/", 1, 2},
                                       {"/opsgenie/{}/1/", 3, 4},
                                       {"/victorops/{}/0/", 1, 2},
                                       {"/victorops/{}/1/", 1, 2}};
  const std::string resolved_at =
      testsupport::ResolvedAMinuteAgo();
  for (const std::string& ends_at : {std::string(), resolved_at}) {
    const bool firing = ends_at.empty();
    CAPTURE(firing);
    am.Post(Alerts(ends_at));
    const bool got = t::WaitFor(
        [&] {
          for (const auto& e : expects) {
            if (sink.RequestsTo(Replace(e.prefix, "am")).size() < (firing ? e.firing : e.resolved))
              return false;
          }
          return true;
        },
        std::chrono::seconds(20));
    INFO(am.Log());
    REQUIRE(got);

    Notification n = testsupport::NotificationOf(Alerts(ends_at), "oncall",
                                                 LabelSet{{"alertname", "DiskFull"}}, am.url());
    testsupport::NotifyAll(*ints, n);
    for (const auto& e : expects) {
      INFO(e.prefix);
      const std::string am_prefix = Replace(e.prefix, "am");
      const std::string our_prefix = Replace(e.prefix, "alertd");
      auto theirs = sink.RequestsTo(am_prefix);
      auto ours = sink.RequestsTo(our_prefix);
      const size_t want = firing ? e.firing : e.resolved;
      REQUIRE(theirs.size() == want);
      REQUIRE(ours.size() == want);
      for (size_t k = firing ? 0 : e.firing; k < want; ++k) {
        CAPTURE(k);
        CHECK(ours[k]["errors"].empty());
        CHECK(theirs[k]["errors"].empty());
        CHECK(ours[k]["status"] == theirs[k]["status"]);
        CHECK(ours[k]["method"] == theirs[k]["method"]);
        CHECK(ours[k]["path"].get<std::string>().substr(our_prefix.size()) ==
              theirs[k]["path"].get<std::string>().substr(am_prefix.size()));
        CHECK(ours[k]["headers"].value("authorization", "") ==
              theirs[k]["headers"].value("authorization", ""));
        CHECK(ours[k]["headers"].value("content-type", "") == "application/json");
        const json a = Body(theirs[k]);
        const json b = Body(ours[k]);
        INFO("alertmanager: " << a.dump(1));
        INFO("alertd:       " << b.dump(1));
        CHECK(a == b);
      }
    }
  }

  // The points the comparison rests on, spelled out (Alertmanager's side).
  const std::string alias = GroupKeyHash("{}:{alertname=\"DiskFull\"}");
  auto og0 = sink.RequestsTo("/opsgenie/am/0/");
  CHECK(og0[0]["method"] == "POST");
  CHECK(og0[0]["path"] == "/opsgenie/am/0/v2/alerts");
  CHECK(og0[0]["headers"]["authorization"] == "GenieKey og-key-storage");
  const json create = Body(og0[0]);
  CHECK(create["alias"] == alias);
  CHECK(create["message"] == "[FIRING:2] DiskFull (critical storage)");
  CHECK(create["responders"] == json::parse(R"([
    {"name": "ops-storage", "type": "team"}, {"username": "oncall@example.com", "type": "user"},
    {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "escalation"},
    {"name": "team-a", "type": "team"}, {"name": "team-b", "type": "team"}])"));
  CHECK(create["tags"] == json::parse(R"(["disk", "critical", " prod"])"));
  CHECK(create["details"] == json::parse(R"({"alertname": "DiskFull", "severity": "overridden",
    "team": "storage", "runbook": "http://rb/disk?x=1&y=2"})"));
  CHECK(create["priority"] == "P1");
  CHECK(create["actions"] == json::parse(R"(["restart", "ping"])"));
  CHECK(create["entity"] == "DiskFull on storage");
  CHECK(create["source"] == am.url() + "/#/alerts?receiver=oncall");
  CHECK(create["description"].get<std::string>().rfind(
            "http://rb/disk?x=1&y=2\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n", 0) == 0);
  CHECK(og0[1]["path"] == "/opsgenie/am/0/v2/alerts/" + alias + "/close?identifierType=alias");
  CHECK(Body(og0[1]) == json{{"source", am.url() + "/#/alerts?receiver=oncall"}});

  auto og1 = sink.RequestsTo("/opsgenie/am/1/");
  CHECK(og1[0]["headers"]["authorization"] == "GenieKey og-file-key");
  // The message is cut to 130 runes, the last one "…".
  const std::string message = Body(og1[0])["message"];
  CHECK(message.size() > 130);
  CHECK(message.substr(message.size() - 3) == "\xE2\x80\xA6");
  CHECK(og1[1]["method"] == "PUT");
  CHECK(og1[1]["path"] == "/opsgenie/am/1/v2/alerts/" + alias + "/message?identifierType=alias");
  CHECK(Body(og1[1]) == json{{"message", message}});
  CHECK(og1[2]["path"] ==
        "/opsgenie/am/1/v2/alerts/" + alias + "/description?identifierType=alias");
  CHECK(Body(og1[2])["description"] == Body(og1[0])["description"]);

  auto vo0 = sink.RequestsTo("/victorops/am/0/");
  CHECK(vo0[0]["path"] == "/victorops/am/0/vo-key/storage");
  CHECK(Body(vo0[0])["message_type"] == "WARNING");
  CHECK(Body(vo0[0])["entity_id"] == alias);
  CHECK(Body(vo0[0])["service"] == "storage");
  CHECK(Body(vo0[0])["runbook"] == "http://rb/disk?x=1&y=2");
  CHECK(Body(vo0[0])["monitoring_tool"] == "Alertmanager");
  CHECK(Body(vo0[1])["message_type"] == "RECOVERY");
  CHECK(Body(vo0[1])["entity_display_name"] == "[RESOLVED] DiskFull (critical storage)");
  CHECK(Body(vo0[1])["state_message"].get<std::string>().find("Alerts Resolved:\n") !=
        std::string::npos);
  auto vo1 = sink.RequestsTo("/victorops/am/1/");
  CHECK(vo1[0]["path"] == "/victorops/am/1/vo-global-key/team%20storage");
  CHECK(Body(vo1[0])["message_type"] == "CRITICAL");  // "critical" is not a VictorOps type
  CHECK(Body(vo1[0])["entity_display_name"] == "DiskFull (2)");
}

TEST_CASE("Opsgenie and VictorOps configs Alertmanager refuses are refused with its errors") {
  const std::string dir = t::MakeTempDir("alertd-ogvo");
  struct Row {
    const char* yaml;
    const char* error;
  };
  const Row rows[] = {
      {"receivers:\n- name: oncall\n  opsgenie_configs:\n  - api_key: a\n    api_key_file: f\n",
       "at most one of api_key & api_key_file must be configured"},
      {"receivers:\n- name: oncall\n  opsgenie_configs:\n  - message: m\n",
       "no global OpsGenie API Key set either inline or in a file"},
      {"receivers:\n- name: oncall\n  opsgenie_configs:\n  - api_key: a\n    responders:\n"
       "    - type: team\n",
       "opsGenieConfig responder {   team} has to have at least one of id, username or name "
       "specified"},
      {"receivers:\n- name: oncall\n  opsgenie_configs:\n  - api_key: a\n    responders:\n"
       "    - name: x\n      type: Squad\n",
       "opsGenieConfig responder { x  squad} type does not match valid options "
       "^(team|teams|user|escalation|schedule)$"},
      {"global:\n  opsgenie_api_key: a\n  opsgenie_api_key_file: f\nreceivers:\n- name: oncall\n",
       "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured"},
      {"receivers:\n- name: oncall\n  victorops_configs:\n  - api_key: a\n",
       "missing Routing key in VictorOps config"},
      {"receivers:\n- name: oncall\n  victorops_configs:\n  - api_key: a\n    api_key_file: f\n"
       "    routing_key: r\n",
       "at most one of api_key & api_key_file must be configured"},
      {"receivers:\n- name: oncall\n  victorops_configs:\n  - routing_key: r\n",
       "no global VictorOps API Key set"},
      {"receivers:\n- name: oncall\n  victorops_configs:\n  - api_key: a\n    routing_key: r\n"
       "    custom_fields:\n      entity_state: x\n",
       "victorOps config contains custom field entity_state which cannot be used as it conflicts "
       "with the fixed/static fields"},
      {"global:\n  victorops_api_key: a\n  victorops_api_key_file: f\nreceivers:\n- name: oncall\n",
       "at most one of victorops_api_key & victorops_api_key_file must be configured"},
      {"receivers:\n- name: oncall\n  victorops_configs:\n  - api_key: a\n    routing_key: r\n"
       "    api_url: alert.victorops.com\n",
       "victorops_config: api_url is not a URL"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.yaml);
    const std::string err = LoadError(row.yaml, dir);
    INFO(err);
    CHECK(err.find(row.error) != std::string::npos);
    CHECK(err.find("alertd.yml:") != std::string::npos);
  }
  // A templated responder type that does not parse: Alertmanager refuses the config; alertd
  // refuses to build the integration (config/ does not parse templates).
  const config::Config cfg = testsupport::LoadConfig(std::string(kRoute) + R"(
receivers:
- name: oncall
  opsgenie_configs:
  - api_key: a
    responders:
    - name: x
      type: '{{ if }}'
)",
                                                     dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE_FALSE(ints.ok());
  CHECK(ints.status().message().find("opsGenieConfig responder { x  {{ if }}} type is not a "
                                     "valid template") != std::string::npos);
  t::RemoveTree(dir);
}

TEST_CASE("Opsgenie's 422 is final and its 503 retried; VictorOps' 404 is final; key files") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  t::WriteFile(dir + "/og.key", "og-file-key\n");
  t::WriteFile(dir + "/vo.key", "vo-file-key\n");
  const config::Config cfg = testsupport::LoadConfig(std::string(kRoute) + R"(
receivers:
- name: oncall
  opsgenie_configs:
  - api_url: )" + sink.url() + R"(/opsgenie/p9
    api_key: og-secret
    priority: P9
  - api_url: )" + sink.url() + R"(/opsgenie/down
    api_key: og-secret
    update_alerts: true
  - api_url: )" + sink.url() + R"(/opsgenie/file
    api_key_file: og.key
  - api_url: )" + sink.url() + R"(/opsgenie/badkey
    api_key: 'og-{{ template "nowhere" . }}-secret'
  victorops_configs:
  - api_url: )" + sink.url() + R"(/victorops/noroute
    api_key: vo-secret-key
    routing_key: '{{ .CommonLabels.nowhere }}'
  - api_url: )" + sink.url() + R"(/victorops/file
    api_key_file: vo.key
    routing_key: r
  - api_url: )" + sink.url() + R"(/victorops/badroute
    api_key: vo-secret-key
    routing_key: '{{ template "nowhere" . }}'
)",
                                                     dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 7);
  const json alerts =
      json::array({{{"labels", {{"alertname", "A"}}}, {"startsAt", "2024-01-01T00:00:00Z"}}});
  Notification n =
      testsupport::NotificationOf(alerts, "oncall", LabelSet{{"alertname", "A"}}, "http://alertd");

  // Opsgenie refuses a priority outside P1-P5 with 422: final, with Opsgenie's message.
  NotifyResult p9 = (*ints)[0].notifier->Notify(n);
  CHECK_FALSE(p9.status.ok());
  CHECK_FALSE(p9.retryable);
  CHECK(p9.http_status == 422);
  CHECK(p9.status.message().find("Priority should be one of [P1, P2, P3, P4, P5]") !=
        std::string::npos);
  CHECK(p9.status.message().find("og-secret") == std::string::npos);
  // A 503 is retried, and the updates that would follow the create are not sent.
  NotifyResult down = (*ints)[1].notifier->Notify(n);
  CHECK_FALSE(down.status.ok());
  CHECK(down.retryable);
  CHECK(down.http_status == 503);
  CHECK(sink.RequestsTo("/opsgenie/down/").size() == 1);
  // api_key_file is read (and trimmed) at every notification: a rotated key is used at once.
  CHECK((*ints)[2].notifier->Notify(n).status.ok());
  t::WriteFile(dir + "/og.key", "og-rotated-key\n");
  CHECK((*ints)[2].notifier->Notify(n).status.ok());
  // A key that fails to render: nothing is sent, and the error does not quote the key.
  NotifyResult badkey = (*ints)[3].notifier->Notify(n);
  CHECK_FALSE(badkey.status.ok());
  CHECK_FALSE(badkey.retryable);
  CHECK(badkey.status.message().find("secret") == std::string::npos);
  CHECK(sink.RequestsTo("/opsgenie/badkey").empty());
  auto og = sink.RequestsTo("/opsgenie/file/");
  REQUIRE(og.size() == 2);
  CHECK(og[0]["headers"]["authorization"] == "GenieKey og-file-key");
  CHECK(og[1]["headers"]["authorization"] == "GenieKey og-rotated-key");

  // A routing key that renders empty: VictorOps answers 404, final; the key in the URL is not
  // in the error.
  NotifyResult noroute = (*ints)[4].notifier->Notify(n);
  CHECK_FALSE(noroute.status.ok());
  CHECK_FALSE(noroute.retryable);
  CHECK(noroute.http_status == 404);
  CHECK(noroute.status.message().find("vo-secret-key") == std::string::npos);
  CHECK(sink.RequestsTo("/victorops/noroute/")[0]["path"] == "/victorops/noroute/vo-secret-key/");
  CHECK((*ints)[5].notifier->Notify(n).status.ok());
  t::WriteFile(dir + "/vo.key", "vo-rotated-key\n");
  CHECK((*ints)[5].notifier->Notify(n).status.ok());
  std::remove((dir + "/vo.key").c_str());
  NotifyResult gone = (*ints)[5].notifier->Notify(n);
  CHECK_FALSE(gone.status.ok());
  CHECK_FALSE(gone.retryable);
  CHECK(gone.status.message().find("failed to read API key from file") != std::string::npos);
  // A routing key that fails to render: nothing is sent (it would name a wrong route).
  NotifyResult badroute = (*ints)[6].notifier->Notify(n);
  CHECK_FALSE(badroute.status.ok());
  CHECK_FALSE(badroute.retryable);
  CHECK(sink.RequestsTo("/victorops/badroute").empty());
  auto vo = sink.RequestsTo("/victorops/file/");
  REQUIRE(vo.size() == 2);
  CHECK(vo[0]["path"] == "/victorops/file/vo-file-key/r");
  CHECK(vo[1]["path"] == "/victorops/file/vo-rotated-key/r");
}

}  // namespace alertd::notifiers
