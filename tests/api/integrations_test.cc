// The integration callbacks: the signature checks against the vendors' documented vectors,
// then POST /api/v1/integrations/pagerduty and /slack over the real alert store and router
// (fake clock), through the API's Router: acks by the PagerDuty agent and the Slack user,
// un-acks, every refusal (no secret, bad or missing signature, stale timestamp, malformed
// body) changing nothing, replays ignored, bearer tokens not asked for, the Slack message
// updated through response_url (a local HTTP server), and every outcome in /metrics.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/integrations.h"
#include "notifiers/notifier.h"
#include "router/router.h"
#include "storage/alert_store.h"
#include "storage/db.h"
#include "tests/fakes/fake_scheduler.h"
#include "tests/notifiers/sink.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::api;
using namespace std::chrono_literals;
using json = nlohmann::json;

TEST_CASE("HMAC-SHA256 and the vendors' signature schemes, on documented vectors") {
  // RFC 4231, test case 2.
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  SUBCASE("Slack: the example of 'Verifying requests from Slack'") {
    const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const std::string body =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
        "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
        "803a0bc887a14d10d2c447fce8b6703c";
    const std::string sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const Time sent = Time(std::chrono::seconds(1531420618));
    struct Row {
      const char* name;
      std::string secret, timestamp, body, signature;
      Time now;
      SlackVerdict want;
    } rows[] = {
        {"the documented request", secret, "1531420618", body, sig, sent + 10s, SlackVerdict::kOk},
        {"upper-case hex", secret, "1531420618", body,
         "v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503", sent,
         SlackVerdict::kOk},
        {"4m59s later", secret, "1531420618", body, sig, sent + 299s, SlackVerdict::kOk},
        {"more than 5 minutes later: a replay", secret, "1531420618", body, sig, sent + 301s,
         SlackVerdict::kStale},
        {"timestamp from the future", secret, "1531420618", body, sig, sent - 301s,
         SlackVerdict::kStale},
        {"another secret", "0" + secret.substr(1), "1531420618", body, sig, sent,
         SlackVerdict::kBadSignature},
        {"a changed body", secret, "1531420618", body + "x", sig, sent,
         SlackVerdict::kBadSignature},
        {"a changed timestamp", secret, "1531420619", body, sig, sent,
         SlackVerdict::kBadSignature},
        {"another version", secret, "1531420618", body, "v1=" + sig.substr(3), sent,
         SlackVerdict::kBadSignature},
        {"a truncated signature", secret, "1531420618", body, sig.substr(0, 20), sent,
         SlackVerdict::kBadSignature},
        {"a timestamp that is not a number", secret, "15314x0618", body, sig, sent,
         SlackVerdict::kBadSignature},
        {"no signature", secret, "1531420618", body, "", sent, SlackVerdict::kMissing},
        {"no timestamp", secret, "", body, sig, sent, SlackVerdict::kMissing},
        {"no secret configured", "", "1531420618", body, sig, sent, SlackVerdict::kMissing},
    };
    for (const auto& row : rows) {
      INFO(row.name);
      CHECK(SlackVerdictName(VerifySlackSignature(row.secret, row.timestamp, row.body,
                                                  row.signature, row.now)) ==
            std::string(SlackVerdictName(row.want)));
    }
  }

  SUBCASE("PagerDuty: v1 signatures, several while a secret rotates") {
    // Computed as PagerDuty's "Verifying Signatures" shows (Python's hmac, SHA-256, hex):
    //   hmac.new(b"pd-test-secret", body, hashlib.sha256).hexdigest()
    const std::string body =
        R"({"event":{"id":"5ac64822-4adc-4fda-ade0-410becf0de4f","event_type":"incident.priority_updated"}})";
    const std::string good = "v1=92f459bbd197623e9db07b3bd65913262965f33cf66f028b6ac886cc17426eff";
    const std::string old = "v1=1fd93423fb3d18cc195a0eaac0eabbb0898ded592484f5c89aa33c372697bbe3";
    struct Row {
      const char* name;
      std::string secret, body, header;
      bool want;
    } rows[] = {
        {"one signature", "pd-test-secret", body, good, true},
        {"rotation: the old secret's first", "pd-test-secret", body, old + "," + good, true},
        {"rotation: the new secret's first", "pd-test-secret", body, good + ", " + old, true},
        {"the old secret is configured", "old-secret", body, good + "," + old, true},
        {"only another secret's signature", "pd-test-secret", body, old, false},
        {"a changed body", "pd-test-secret", body + " ", good, false},
        {"an unknown version only", "pd-test-secret", body, "v2=" + good.substr(3), false},
        {"no v1= prefix", "pd-test-secret", body, good.substr(3), false},
        {"empty header", "pd-test-secret", body, "", false},
        {"no secret configured", "", body, good, false},
    };
    for (const auto& row : rows) {
      INFO(row.name);
      CHECK(VerifyPagerDutySignature(row.secret, row.body, row.header) == row.want);
    }
  }
}

TEST_CASE("replay guard: an id is refused while kept, forgotten ids pass again, old ones expire") {
  ReplayGuard g(10min, 3);
  const Time t0 = Time(std::chrono::seconds(1'700'000'000));
  CHECK(g.FirstSeen("a", t0));
  CHECK_FALSE(g.FirstSeen("a", t0 + 1min));
  g.Forget("a");
  CHECK(g.FirstSeen("a", t0 + 2min));
  CHECK(g.FirstSeen("b", t0 + 2min));
  CHECK_FALSE(g.FirstSeen("b", t0 + 11min));  // 9 minutes after it was seen
  CHECK(g.FirstSeen("a", t0 + 13min));        // 11 minutes after: expired
  // At most 3 kept: the oldest goes first.
  CHECK(g.FirstSeen("c", t0 + 13min));
  CHECK(g.FirstSeen("d", t0 + 13min));
  CHECK(g.size() <= 3);
}

namespace {

Time T0() {
  return Time(std::chrono::duration_cast<Duration>(
      std::chrono::system_clock::now().time_since_epoch()));
}

constexpr const char* kPdSecret = "pd-subscription-secret";
constexpr const char* kSlackSecret = "slack-signing-secret";

struct Callbacks {
  std::string dir = testing::MakeTempDir("alertd-integrations");
  testing::FakeClock clock{T0()};
  testing::FakeScheduler scheduler{&clock};
  InlineExecutor inline_;
  MetricsRegistry registry;
  AuthHolder auth;
  std::unique_ptr<storage::AlertStore> store;
  std::unique_ptr<router::Router> routing;
  std::shared_ptr<const config::Config> cfg;
  std::shared_ptr<Router> http = std::make_shared<Router>();
  const std::string group_key = "{}:{alertname=\"DiskFull\"}";
  const std::string dedup = notifiers::GroupKeyHash(group_key);

  explicit Callbacks(std::string integrations = std::string("integrations:\n") +
                                                "  pagerduty_webhook_secret: " + kPdSecret +
                                                "\n  slack_signing_secret: " + kSlackSecret +
                                                "\n") {
    auto loaded = config::LoadConfigString(
        "route:\n  receiver: team\n  group_by: [alertname]\n  group_wait: 1s\nreceivers:\n"
        "  - name: team\n"
        "server:\n  auth:\n    tokens: [{name: alice, token: s3cret}]\n" +
            integrations,
        dir + "/alertd.yml");
    REQUIRE_MESSAGE(loaded.ok(), loaded.ErrorText());
    cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
    auto db = storage::Database::Open(dir + "/alertd.db");
    REQUIRE(db.ok());
    auto s = storage::OpenAlertStore(std::move(*db), &clock);
    REQUIRE(s.ok());
    store = std::move(*s);
    router::RouterDeps deps;
    deps.clock = &clock;
    deps.scheduler = &scheduler;
    deps.alerts = store.get();
    deps.flush_executor = &inline_;
    deps.new_executor = [](const std::string&) { return std::make_unique<InlineExecutor>(); };
    auto r = router::Router::Start(std::move(deps), cfg);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    routing = std::move(*r);
    auto a = Authenticator::FromConfig(cfg->server);
    REQUIRE(a.ok());
    auth.Set(*a);
    ApiContext ctx;
    ctx.alerts = store.get();
    ctx.clock = &clock;
    ctx.config = [this] { return cfg; };
    ctx.status = std::shared_ptr<AlertStatusProvider>(routing.get(), [](auto*) {});
    ctx.acks = routing.get();
    ctx.group_acks = routing.get();
    ctx.registry = &registry;
    ctx.auth = &auth;
    RegisterApi(*http, ctx);
  }
  ~Callbacks() {
    http.reset();  // finishes the response_url posts
    routing.reset();
    store->Close();
    testing::RemoveTree(dir);
  }

  // Stores DiskFull{instance=<instance>}, firing, and lets its group form.
  std::string Put(const std::string& instance) {
    Alert a;
    a.labels.Set("alertname", "DiskFull");
    a.labels.Set("instance", instance);
    a.starts_at = clock.Now() - 1min;
    a.updated_at = clock.Now();
    a.ends_at = clock.Now() + 1h;
    REQUIRE(store->Put({a}).ok());
    scheduler.AdvanceTo(clock.Now() + 2s);
    return a.labels.FingerprintHex();
  }

  Response Call(const std::string& path, const std::string& body,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = "POST";
    req.target = path;
    req.path = path;
    req.body = body;
    req.remote_address = "127.0.0.1:5555";
    for (auto& [k, v] : headers) req.headers[k] = v;
    Response out;
    bool answered = false;
    http->Dispatch(req, [&](Response r) {
      r.DrainStream();
      out = std::move(r);
      answered = true;
    });
    REQUIRE(answered);
    return out;
  }

  // A v3 webhook payload as PagerDuty sends it (developer docs, "Webhook Payload").
  std::string PdEvent(const std::string& id, const std::string& type,
                      const std::string& incident_key) const {
    json ev = {
        {"event",
         {{"id", id},
          {"event_type", type},
          {"resource_type", "incident"},
          {"occurred_at", "2020-10-02T18:45:22.169Z"},
          {"agent",
           {{"html_url", "https://acme.pagerduty.com/users/PLH1HKV"},
            {"id", "PLH1HKV"},
            {"self", "https://api.pagerduty.com/users/PLH1HKV"},
            {"summary", "Tenex Engineer"},
            {"type", "user_reference"}}},
          {"client", {{"name", "PagerDuty"}}},
          {"data",
           {{"id", "PGR0VU2"},
            {"type", "incident"},
            {"self", "https://api.pagerduty.com/incidents/PGR0VU2"},
            {"html_url", "https://acme.pagerduty.com/incidents/PGR0VU2"},
            {"number", 2},
            {"status", type == "incident.resolved" ? "resolved" : "acknowledged"},
            {"incident_key", incident_key},
            {"created_at", "2020-04-09T15:16:27Z"},
            {"title", "A little bump in the road"},
            {"urgency", "high"},
            {"resolve_reason", nullptr}}}}}};
    return ev.dump();
  }
  Response PostPd(const std::string& body, const std::string& secret = kPdSecret) {
    return Call("/api/v1/integrations/pagerduty", body,
                {{"content-type", "application/json"},
                 {"x-pagerduty-signature", "v1=" + HmacSha256Hex(secret, body)}});
  }

  // A block_actions interaction as Slack posts it (form-encoded `payload`), signed at `at`.
  std::string SlackBody(const std::string& value, const std::string& response_url) const {
    json p = {{"type", "block_actions"},
              {"user",
               {{"id", "U0CA5"}, {"username", "amy"}, {"name", "amy"}, {"team_id", "T3MDE"}}},
              {"api_app_id", "A0CA5"},
              {"token", "Shh_its_a_seekrit"},
              {"container", {{"type", "message"}, {"message_ts", "1548261231.000200"}}},
              {"trigger_id", "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3"},
              {"team", {{"id", "T3MDE"}, {"domain", "example"}}},
              {"channel", {{"id", "CBR2V3XEX"}, {"name", "alerts"}}},
              {"message",
               {{"type", "message"},
                {"ts", "1548261231.000200"},
                {"blocks",
                 {{{"type", "actions"},
                   {"block_id", "alertd_ack"},
                   {"elements",
                    {{{"type", "button"},
                      {"action_id", "alertd_ack"},
                      {"text", {{"type", "plain_text"}, {"text", "Acknowledge"}}},
                      {"value", value}}}}}}},
                {"attachments", {{{"title", "[FIRING:1] DiskFull"}, {"color", "danger"}}}}}},
              {"response_url", response_url},
              {"actions",
               {{{"action_id", "alertd_ack"},
                 {"block_id", "alertd_ack"},
                 {"text", {{"type", "plain_text"}, {"text", "Acknowledge"}}},
                 {"value", value},
                 {"type", "button"},
                 {"action_ts", "1548426417.840180"}}}}};
    std::string enc;
    for (unsigned char c : p.dump()) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        enc.push_back(static_cast<char>(c));
      } else {
        enc += fmt::format("%{:02X}", c);
      }
    }
    return "payload=" + enc;
  }
  Response PostSlack(const std::string& body, Time at, const std::string& secret = kSlackSecret) {
    const std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
    return Call("/api/v1/integrations/slack", body,
                {{"content-type", "application/x-www-form-urlencoded"},
                 {"x-slack-request-timestamp", ts},
                 {"x-slack-signature", "v0=" + HmacSha256Hex(secret, "v0:" + ts + ":" + body)}});
  }

  json Acks() {
    Request req;
    req.method = "GET";
    req.path = "/api/v1/acks";
    Response out;
    http->Dispatch(req, [&](Response r) {
      r.DrainStream();
      out = std::move(r);
    });
    REQUIRE(out.status == 200);
    return json::parse(out.body)["acks"];
  }
  double Counted(const std::string& integration, const std::string& outcome) {
    const std::string sample = "alertd_integration_callbacks_total{integration=\"" + integration +
                               "\",outcome=\"" + outcome + "\"} ";
    const std::string text = registry.Text();
    const auto at = text.find(sample);
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size()));
  }
};

std::string StatusOf(const Response& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "<" + r.body + ">";
  if (j.contains("status")) return j["status"].get<std::string>();
  if (j.contains("error")) return "error: " + j["error"].get<std::string>();
  return "<" + r.body + ">";
}

}  // namespace

TEST_CASE("PagerDuty webhooks: acknowledge and un-acknowledge the group by the agent's name") {
  Callbacks c;
  const std::string fp1 = c.Put("a");
  const std::string fp2 = c.Put("b");

  // No bearer token, although tokens are configured: the signature authenticates.
  auto r = c.PostPd(c.PdEvent("ev-1", "incident.acknowledged", c.dedup));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(StatusOf(r) == "acknowledged");
  json acks = c.Acks();
  REQUIRE(acks.size() == 2);
  for (const auto& a : acks) {
    CHECK(a["by"] == "Tenex Engineer");
    CHECK(a["comment"] == "acknowledged in PagerDuty (incident 2)");
  }
  CHECK(c.Counted("pagerduty", "acknowledged") == 1);

  // The same event delivered again is a duplicate: nothing happens.
  r = c.PostPd(c.PdEvent("ev-1", "incident.unacknowledged", c.dedup));
  CHECK(r.status == 200);
  CHECK(StatusOf(r) == "duplicate");
  CHECK(c.Acks().size() == 2);
  CHECK(c.Counted("pagerduty", "duplicate") == 1);

  // Un-acknowledged in PagerDuty: both acks end.
  r = c.PostPd(c.PdEvent("ev-2", "incident.unacknowledged", c.dedup));
  CHECK(r.status == 200);
  CHECK(StatusOf(r) == "unacknowledged");
  CHECK(c.Acks().empty());
  CHECK(c.Counted("pagerduty", "unacknowledged") == 1);

  // Resolved in PagerDuty: the alerts stay firing and unacknowledged (the metric decides).
  r = c.PostPd(c.PdEvent("ev-3", "incident.resolved", c.dedup));
  CHECK(r.status == 200);
  CHECK(StatusOf(r) == "escalation_ended");
  CHECK(c.Acks().empty());
  CHECK(c.store->Get(c.routing->Groups().front().alerts.front()->Fingerprint()) != nullptr);
  CHECK_FALSE(c.routing->Groups().front().alerts.front()->ResolvedAt(c.clock.Now()));
  CHECK(c.Counted("pagerduty", "escalation_ended") == 1);
  (void)fp1;
  (void)fp2;
}

TEST_CASE("PagerDuty webhooks: refusals change nothing, other events are answered 2xx") {
  Callbacks c;
  c.Put("a");
  const std::string ack = c.PdEvent("ev-1", "incident.acknowledged", c.dedup);
  struct Row {
    const char* name;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string outcome;  // counted
  } rows[] = {
      {"no signature", ack, {}, 401, "bad_signature"},
      {"signed with another secret",
       ack,
       {{"x-pagerduty-signature", "v1=" + HmacSha256Hex("wrong", ack)}},
       401,
       "bad_signature"},
      {"signature of another body",
       ack,
       {{"x-pagerduty-signature",
         "v1=" + HmacSha256Hex(kPdSecret, c.PdEvent("ev-1", "incident.acknowledged", "x"))}},
       401,
       "bad_signature"},
      {"signed, not JSON",
       "{\"event\":",
       {{"x-pagerduty-signature", "v1=" + HmacSha256Hex(kPdSecret, "{\"event\":")}},
       400,
       "bad_request"},
      {"signed, no event id",
       R"({"event":{"event_type":"incident.acknowledged"}})",
       {{"x-pagerduty-signature",
         "v1=" + HmacSha256Hex(kPdSecret, R"({"event":{"event_type":"incident.acknowledged"}})")}},
       400,
       "bad_request"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const double before = c.Counted("pagerduty", row.outcome);
    auto r = c.Call("/api/v1/integrations/pagerduty", row.body, row.headers);
    CHECK(r.status == row.status);
    CHECK(json::parse(r.body).contains("error"));
    CHECK(c.Acks().empty());
    CHECK(c.Counted("pagerduty", row.outcome) == before + 1);
  }
  // A refused delivery does not burn its event id: the genuine one is processed.
  auto r = c.PostPd(ack);
  CHECK(StatusOf(r) == "acknowledged");
  CHECK(c.Acks().size() == 1);

  // 2xx, so that PagerDuty does not retry, but nothing changes and it is counted.
  struct Ok {
    const char* name;
    std::string body;
    std::string outcome;
  } oks[] = {
      {"a dedup key alertd does not know",
       c.PdEvent("ev-2", "incident.unacknowledged", std::string(64, 'f')), "unknown_group"},
      {"an incident without incident_key", c.PdEvent("ev-3", "incident.unacknowledged", ""),
       "ignored"},
      {"an event type alertd does not act on", c.PdEvent("ev-4", "incident.annotated", c.dedup),
       "ignored"},
      {"the subscription's ping", R"({"event":{"id":"ping-1","event_type":"pagey.ping"}})",
       "ignored"},
  };
  for (const auto& row : oks) {
    INFO(row.name);
    const double before = c.Counted("pagerduty", row.outcome);
    auto res = c.PostPd(row.body);
    CHECK(res.status == 200);
    CHECK(StatusOf(res) == row.outcome);
    CHECK(c.Acks().size() == 1);
    CHECK(c.Counted("pagerduty", row.outcome) == before + 1);
  }
}

TEST_CASE("integration callbacks without a configured secret answer 404 and change nothing") {
  Callbacks c("");
  c.Put("a");
  auto r = c.PostPd(c.PdEvent("ev-1", "incident.acknowledged", c.dedup), "");
  CHECK(r.status == 404);
  r = c.PostSlack(c.SlackBody(c.dedup, "http://127.0.0.1:1/x"), c.clock.Now(), "");
  CHECK(r.status == 404);
  CHECK(c.Acks().empty());
  CHECK(c.Counted("pagerduty", "not_configured") == 1);
  CHECK(c.Counted("slack", "not_configured") == 1);
}

TEST_CASE("Slack Acknowledge button: acks by the Slack user and updates the message") {
  notifiers::testsupport::HttpSink sink;  // plays Slack's response_url
  Callbacks c;
  c.Put("a");
  const std::string response_url = sink.url() + "/ok/actions/T3MDE/1/xyz";
  const std::string body = c.SlackBody(c.dedup, response_url);

  // Refused: changes nothing, answers 401, posts nothing to response_url.
  struct Row {
    const char* name;
    Time at;
    std::string secret;
    std::string outcome;
  } refused[] = {
      {"signed with another secret", c.clock.Now(), "other", "bad_signature"},
      {"signed 6 minutes ago", c.clock.Now() - 6min, kSlackSecret, "stale"},
  };
  for (const auto& row : refused) {
    INFO(row.name);
    auto r = c.PostSlack(body, row.at, row.secret);
    CHECK(r.status == 401);
    CHECK(c.Acks().empty());
    CHECK(c.Counted("slack", row.outcome) == 1);
  }
  auto r = c.Call("/api/v1/integrations/slack", body);  // no signature headers at all
  CHECK(r.status == 401);

  // The click: acknowledged by the Slack user, answered 200 at once.
  r = c.PostSlack(body, c.clock.Now() - 30s);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  json acks = c.Acks();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0]["by"] == "amy");
  CHECK(acks[0]["comment"] == "acknowledged in Slack");
  CHECK(c.Counted("slack", "acknowledged") == 1);
  // The message is replaced through response_url: the button gone, who acknowledged shown,
  // the attachment kept.
  json update;
  REQUIRE(testing::WaitFor(
      [&] {
        auto got = sink.RequestsTo("/ok/actions/T3MDE/1/xyz");
        if (got.empty()) return false;
        update = json::parse(got.front()["body"].get<std::string>());
        return true;
      },
      10s));
  CHECK(update["replace_original"] == true);
  REQUIRE(update["blocks"].size() == 1);
  CHECK(update["blocks"][0]["type"] == "context");
  CHECK(update["blocks"][0]["elements"][0]["text"] == "Acknowledged by <@U0CA5>");
  CHECK(update["attachments"][0]["title"] == "[FIRING:1] DiskFull");

  // The same request again (a replay within the window) does nothing.
  r = c.PostSlack(body, c.clock.Now() - 30s);
  CHECK(r.status == 200);
  CHECK(c.Counted("slack", "duplicate") == 1);
  CHECK(c.Acks().size() == 1);

  // Malformed: signed but no payload field.
  r = c.PostSlack("nothing=here", c.clock.Now());
  CHECK(r.status == 400);
  CHECK(c.Counted("slack", "bad_request") == 1);
  // Another app's button: ignored.
  std::string other = c.SlackBody(c.dedup, response_url);
  for (size_t at; (at = other.find("alertd_ack")) != std::string::npos;) {
    other.replace(at, 10, "other_act");
  }
  r = c.PostSlack(other, c.clock.Now());
  CHECK(r.status == 200);
  CHECK(c.Counted("slack", "ignored") == 1);
  // A button of a group that is gone: counted, and the user is told (ephemerally).
  r = c.PostSlack(c.SlackBody(std::string(64, 'e'), sink.url() + "/ok/actions/gone"),
                  c.clock.Now());
  CHECK(r.status == 200);
  CHECK(c.Counted("slack", "unknown_group") == 1);
  REQUIRE(testing::WaitFor([&] { return !sink.RequestsTo("/ok/actions/gone").empty(); }, 10s));
  json told = json::parse(sink.RequestsTo("/ok/actions/gone")[0]["body"].get<std::string>());
  CHECK(told["response_type"] == "ephemeral");
  CHECK(told["replace_original"] == false);
}
