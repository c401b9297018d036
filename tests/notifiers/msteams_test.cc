// Microsoft Teams (msteams_configs, msteamsv2_configs), which Alertmanager 0.25 does not have:
// the bodies are checked whole against the format Alertmanager 0.33 posts (its
// notify/msteams and notify/msteamsv2) and Microsoft documents, sent to a sink that plays
// both webhook kinds, with the default text rendered by alertd's defaults compared to the
// same notification rendered by upstream's default.tmpl text (fixtures/msteams_upstream.tmpl).
#include "notifiers/msteams/msteams.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "notifiers/registry.h"
#include "tests/notifiers/sink.h"

namespace alertd::notifiers {
namespace {

using nlohmann::json;
namespace t = alertd::testing;

}  // namespace

TEST_CASE("msteams and msteamsv2: the documented cards, firing and resolved, default text as upstream's") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  t::WriteFile(dir + "/teams-url", sink.url() + "/msteamsv2/from-file\n");
  const std::string yaml = R"(
route: {receiver: teams}
templates: [')" + std::string(t::kSourceDir) + R"(/tests/notifiers/fixtures/msteams_upstream.tmpl']
receivers:
- name: teams
  msteams_configs:
  - webhook_url: )" + sink.url() + R"(/msteams/ours
  - webhook_url: )" + sink.url() + R"(/msteams/upstream
    text: '{{ template "upstream.msteams.default.text" . }}'
  msteamsv2_configs:
  - webhook_url_file: teams-url
  - webhook_url: )" + sink.url() + R"(/msteamsv2/upstream
    text: '{{ template "upstream.msteams.default.text" . }}'
)";
  const config::Config cfg = testsupport::LoadConfig(yaml, dir);
  Deps deps = testsupport::TestDeps();
  auto templates = LoadTemplates(cfg);
  REQUIRE(templates.ok());
  deps.templates = *templates;
  auto ints = BuildIntegrations(cfg.receivers.at(0), deps);
  REQUIRE(ints.ok());
  REQUIRE(ints->size() == 4);
  CHECK((*ints)[0].notifier->integration() == "msteams");
  CHECK((*ints)[2].notifier->integration() == "msteamsv2");

  Notification firing = testsupport::DiskFullNotification("teams", testsupport::T("2024-01-01T01:00:00Z"));
  Notification resolved = firing;
  for (auto& a : resolved.alerts) {
    auto r = std::make_shared<Alert>(*a);
    r->ends_at = testsupport::T("2024-01-01T00:30:00Z");
    a = r;
  }
  for (const Notification* n : {&firing, &resolved}) {
    for (auto& i : *ints) {
      NotifyResult r = i.notifier->Notify(*n);
      INFO(i.notifier->integration() << ": " << r.status.ToString());
      CHECK(r.status.ok());
    }
  }
  auto bodies = [&](const std::string& prefix) {
    std::vector<json> out;
    for (const auto& r : sink.RequestsTo(prefix)) {
      INFO(r.dump());
      CHECK(r["errors"].empty());
      CHECK(r["headers"]["content-type"] == "application/json");
      out.push_back(json::parse(r["body"].get<std::string>()));
    }
    REQUIRE(out.size() == 2);
    return out;
  };
  const auto ours = bodies("/msteams/ours");
  const auto upstream = bodies("/msteams/upstream");
  const auto v2 = bodies("/msteamsv2/from-file");
  const auto v2_upstream = bodies("/msteamsv2/upstream");

  const std::string text =
      "\n\n# Alerts Firing:\n"
      "\nLabels:\n  - alertname = DiskFull\n  - instance = a\n  - severity = critical\n"
      "\nAnnotations:\n  - runbook = http://runbooks/disk\n  - summary = disk a is full\n"
      "\nSource: http://prometheus.example/graph?g0.expr=up&g0.tab=1\n"
      "\nLabels:\n  - alertname = DiskFull\n  - instance = b\n  - severity = critical\n"
      "\nAnnotations:\n  - runbook = http://runbooks/disk\n  - summary = disk b is full\n"
      "\nSource: http://prometheus.example/graph?g0.expr=up&g0.tab=1\n"
      "\n\n\n\n";
  const json card = {{"@context", "http://schema.org/extensions"},
                     {"type", "MessageCard"},
                     {"title", "[FIRING:2] DiskFull (critical)"},
                     {"summary", "[FIRING:2] DiskFull (critical)"},
                     {"text", text},
                     {"themeColor", "8C1A1A"}};
  CHECK(ours[0] == card);
  CHECK(upstream[0]["text"] == text);  // alertd's default renders what upstream's renders
  CHECK(ours[1]["themeColor"] == "2DC72D");
  CHECK(ours[1]["title"] == "[RESOLVED] DiskFull (critical)");
  CHECK(ours[1]["text"] == upstream[1]["text"]);
  CHECK(ours[1]["text"].get<std::string>().find("# Alerts Resolved:") != std::string::npos);

  const json adaptive = json::parse(R"J({"type":"message","attachments":[{
      "contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
      "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",
        "type":"AdaptiveCard","version":"1.2","body":[
          {"type":"TextBlock","text":"[FIRING:2] DiskFull (critical)","weight":"Bolder",
           "size":"Medium","wrap":true,"style":"heading","color":"Attention"},
          {"type":"TextBlock","text":"","wrap":true}],
        "msteams":{"width":"full"}}}]})J");
  json expected = adaptive;
  expected["attachments"][0]["content"]["body"][1]["text"] = text;
  CHECK(v2[0] == expected);
  CHECK(v2_upstream[0]["attachments"][0]["content"]["body"][1]["text"] == text);
  const json& resolved_heading = v2[1]["attachments"][0]["content"]["body"][0];
  CHECK(resolved_heading["color"] == "Good");
  CHECK(resolved_heading["text"] == "[RESOLVED] DiskFull (critical)");
}

TEST_CASE("msteams: webhook_url_file is read at every send; a missing URL is refused at load") {
  testsupport::HttpSink sink;
  const std::string dir = sink.dir();
  t::WriteFile(dir + "/url", sink.url() + "/msteams/first\n");
  const config::Config cfg = testsupport::LoadConfig(R"(
route: {receiver: teams}
receivers:
- name: teams
  msteams_configs:
  - webhook_url_file: url
)", dir);
  auto ints = BuildIntegrations(cfg.receivers.at(0), testsupport::TestDeps());
  REQUIRE(ints.ok());
  const Notification n = testsupport::DiskFullNotification("teams", testsupport::T("2024-01-01T01:00:00Z"));
  CHECK((*ints)[0].notifier->Notify(n).status.ok());
  t::WriteFile(dir + "/url", sink.url() + "/msteams/rotated\n");
  CHECK((*ints)[0].notifier->Notify(n).status.ok());
  CHECK(sink.RequestsTo("/msteams/first").size() == 1);
  CHECK(sink.RequestsTo("/msteams/rotated").size() == 1);
  // A 400 from Teams is final, as Alertmanager's Retrier has it.
  t::WriteFile(dir + "/url", sink.url() + "/bad/x\n");
  NotifyResult bad = (*ints)[0].notifier->Notify(n);
  CHECK(!bad.status.ok());
  CHECK(!bad.retryable);

  for (const char* kind : {"msteams_configs", "msteamsv2_configs"}) {
    CAPTURE(kind);
    auto none = config::LoadConfigString(std::string("route: {receiver: t}\nreceivers:\n- name: t\n  ") +
                                             kind + ":\n  - title: x\n",
                                         dir + "/alertd.yml");
    REQUIRE(!none.ok());
    CHECK(none.ErrorText().find("one of webhook_url or webhook_url_file must be configured") !=
          std::string::npos);
    CHECK(none.ErrorText().find("alertd.yml:5:") != std::string::npos);
  }
}

}  // namespace alertd::notifiers
