// Runs a real Alertmanager (Debian package prometheus-alertmanager, 0.25) with one receiver that
// has a slack_configs entry (default title/title_link/fallback/color/text plus custom pretext
// and footer templates) and a webhook_configs entry, both pointing at a local HTTP sink. Alerts
// are posted to it; for every flush the webhook payload gives the exact template data, and
// alertd's engine with alertd's default templates must render the same Slack fields.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/time.h"
#include "templating/defaults.h"
#include "templating/notification.h"
#include "templating/template.h"
#include "tests/support/process.h"

namespace alertd::templating {
namespace {

namespace t = alertd::testing;
using nlohmann::json;

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
constexpr const char* kPython = "/usr/bin/python3";

// Records every POST (path and JSON body); GET returns the list.
constexpr const char* kSink = R"PY(
import http.server, json, sys, threading
lock = threading.Lock()
received = []
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with lock:
            received.append({'path': self.path, 'body': json.loads(body)})
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.end_headers()
        self.wfile.write(b'ok')
    def do_GET(self):
        with lock:
            data = json.dumps(received).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
)PY";

const std::string kPretext = R"T({{ template "__text_alert_list" .Alerts }})T";
// Alertmanager 0.25's functions and data methods.
const std::string kFooter =
    R"T({{ range .Alerts }}{{ .Status }} {{ .Labels.instance }} {{ .Annotations.summary | toUpper }} )T"
    R"T({{ .Labels.SortedPairs.Names | join "," }} {{ .StartsAt.Format "2006-01-02 15:04:05" }} )T"
    R"T({{ .StartsAt }} {{ .Fingerprint }};{{ end }} {{ len (.CommonLabels.Remove (stringSlice "alertname")) }} )T"
    R"T({{ title "hello big-world o'neil hELLO foo_bar" }} {{ reReplaceAll "a(x*)b" "${1}W" "-ab-axxb-" }} )T"
    R"T({{ match "^High" .GroupLabels.alertname }} {{ .ExternalURL }} {{ .Receiver | urlquery }} )T"
    R"T({{ .Alerts.Firing | len }}/{{ .Alerts.Resolved | len }} {{ .CommonLabels.Values }} {{ safeHtml "<b>" }} )T"
    R"T({{ toLower "ABC" }} [{{ .CommonAnnotations.nope }}] {{ .GroupLabels }} {{ printf "%v|%5.2f" 1.5 2.0 }})T";

std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out.push_back(c);
  }
  return out + "'";
}

std::map<std::string, std::string> StringMap(const json& j) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : j.items()) m[k] = v.get<std::string>();
  return m;
}

// The template data of a webhook payload (Alertmanager's webhook body is template.Data).
NotificationData FromWebhook(const json& body) {
  NotificationData d;
  d.receiver = body["receiver"];
  d.status = body["status"];
  d.external_url = body["externalURL"];
  d.group_labels = StringMap(body["groupLabels"]);
  d.common_labels = StringMap(body["commonLabels"]);
  d.common_annotations = StringMap(body["commonAnnotations"]);
  for (const auto& a : body["alerts"]) {
    NotificationAlert na;
    na.status = a["status"];
    na.labels = StringMap(a["labels"]);
    na.annotations = StringMap(a["annotations"]);
    na.starts_at = *ParseRFC3339(a["startsAt"].get<std::string>());
    na.ends_at = *ParseRFC3339(a["endsAt"].get<std::string>());
    na.generator_url = a["generatorURL"];
    na.fingerprint = a["fingerprint"];
    d.alerts.push_back(std::move(na));
  }
  return d;
}

json Alert(const std::string& instance, const std::string& summary, const std::string& starts,
           const std::string& ends) {
  json a = {{"labels",
             {{"alertname", "HighLatency"},
              {"instance", instance},
              {"job", "node"},
              {"severity", "critical"}}},
            {"annotations", {{"summary", summary}, {"runbook", "http://rb/" + instance}}},
            {"startsAt", starts},
            {"generatorURL", "http://prom:9090/graph?g0.expr=latency+%3E+1&g0.tab=1"}};
  if (!ends.empty()) a["endsAt"] = ends;
  return a;
}

TEST_CASE("default Slack templates render like a real Alertmanager") {
  if (access(kAlertmanager, X_OK) != 0 || access(kPython, X_OK) != 0) {
    MESSAGE("skipped: Alertmanager or python3 is not installed");
    return;
  }
  const std::string dir = t::MakeTempDir("am-templates");
  const int sink_port = t::FreePort();
  const std::string sink = "http://127.0.0.1:" + std::to_string(sink_port);
  t::WriteFile(dir + "/sink.py", kSink);
  t::Process sink_proc =
      t::Process::Start({kPython, dir + "/sink.py", std::to_string(sink_port)}, dir + "/sink.log");
  REQUIRE(sink_proc.started());
  REQUIRE_MESSAGE(t::WaitHttpReady(sink + "/", std::chrono::seconds(20)), sink_proc.Log());

  const int am_port = t::FreePort();
  const std::string am = "http://127.0.0.1:" + std::to_string(am_port);
  t::WriteFile(dir + "/alertmanager.yml",
               "route:\n"
               "  receiver: 'team-x pager'\n"
               "  group_by: [alertname]\n"
               // Long enough that both alerts of the first POST are in the first notification
               // on a loaded machine.
               "  group_wait: 3s\n"
               "  group_interval: 1s\n"
               "  repeat_interval: 1h\n"
               "receivers:\n"
               "- name: 'team-x pager'\n"
               "  slack_configs:\n"
               "  - api_url: " +
                   sink +
                   "/slack\n"
                   "    channel: '#alerts'\n"
                   "    send_resolved: true\n"
                   "    pretext: " +
                   YamlQuote(kPretext) +
                   "\n"
                   "    footer: " +
                   YamlQuote(kFooter) +
                   "\n"
                   "  webhook_configs:\n"
                   "  - url: " +
                   sink +
                   "/webhook\n"
                   "    send_resolved: true\n");
  t::Process am_proc = t::Process::Start(
      {kAlertmanager, "--config.file=" + dir + "/alertmanager.yml",
       "--storage.path=" + dir + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
       "--cluster.listen-address=", "--web.external-url=http://am.example:9093/am"},
      dir + "/alertmanager.log");
  REQUIRE(am_proc.started());
  REQUIRE_MESSAGE(t::WaitHttpReady(am + "/am/-/ready", std::chrono::seconds(30)), am_proc.Log());

  const auto now =
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  const std::string started =
      FormatRFC3339(std::chrono::floor<std::chrono::seconds>(now) - std::chrono::minutes(10));
  const std::string ended =
      FormatRFC3339(std::chrono::floor<std::chrono::seconds>(now) - std::chrono::minutes(1));
  const std::string later =
      FormatRFC3339(std::chrono::floor<std::chrono::seconds>(now) + std::chrono::hours(1));

  // Phase 1: two firing alerts and one resolved; phase 2: everything resolved.
  json first = json::array({Alert("b:9100", "Latency high on b", started, ""),
                            Alert("a:9100", "Latency high on a", started, later),
                            Alert("c:9100", "Latency <high> & c", started, ended)});
  t::HttpResponse posted = t::HttpPostJson(am + "/am/api/v2/alerts", first.dump());
  REQUIRE_MESSAGE(posted.status == 200, posted.body);

  std::vector<json> slack, webhook;
  auto collect = [&](size_t want) {
    return t::WaitFor(
        [&] {
          t::HttpResponse r = t::HttpGet(sink + "/");
          json all = json::parse(r.body, nullptr, false);
          if (!all.is_array()) return false;
          slack.clear();
          webhook.clear();
          for (const auto& m : all) {
            (m["path"] == "/slack" ? slack : webhook).push_back(m["body"]);
          }
          return slack.size() >= want && webhook.size() >= want;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100));
  };
  REQUIRE_MESSAGE(collect(1), am_proc.Log());

  json resolve = json::array({Alert("b:9100", "Latency high on b", started, ended),
                              Alert("a:9100", "Latency high on a", started, ended)});
  posted = t::HttpPostJson(am + "/am/api/v2/alerts", resolve.dump());
  REQUIRE_MESSAGE(posted.status == 200, posted.body);
  REQUIRE_MESSAGE(collect(2), am_proc.Log());

  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  for (size_t i = 0; i < 2; ++i) {
    INFO("notification " << i);
    const json& hook = webhook[i];
    const json& att = slack[i]["attachments"][0];
    CHECK(hook["status"] == (i == 0 ? "firing" : "resolved"));
    const Value data = ToValue(FromWebhook(hook));
    auto render = [&](std::string_view text) {
      ExecResult r = RenderNotification(set, text, data);
      CHECK_MESSAGE(r.ok(), r.status.message());
      return r.output;
    };
    CHECK(att["title"].get<std::string>() == render(kSlackDefaultTitle));
    CHECK(att["title_link"].get<std::string>() == render(kSlackDefaultTitleLink));
    CHECK(att["fallback"].get<std::string>() == render(kSlackDefaultFallback));
    CHECK(att["color"].get<std::string>() == render(kSlackDefaultColor));
    CHECK(att.value("text", "") == render(kSlackDefaultText));
    CHECK(slack[i].value("username", "") == render(kSlackDefaultUsername));
    CHECK(att["pretext"].get<std::string>() == render(kPretext));
    CHECK(att["footer"].get<std::string>() == render(kFooter));
  }
  // The facts the comparison relies on, stated once in plain words.
  CHECK(slack[0]["attachments"][0]["title"] == "[FIRING:2] HighLatency (node critical)");
  CHECK(slack[1]["attachments"][0]["color"] == "good");
  am_proc.Stop();
  sink_proc.Stop();
  t::RemoveTree(dir);
}

}  // namespace
}  // namespace alertd::templating
