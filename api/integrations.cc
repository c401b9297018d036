// The integration callbacks (api/integrations.h). Every outcome is logged (never a secret or a
// signature) and counted in alertd_integration_callbacks_total{integration,outcome}.
//
// PagerDuty retries a delivery that does not get a 2xx, so only what a retry could fix gets
// one: a bad signature (401: the subscription's secret is wrong), a malformed body (400), a
// failure to persist (500). An event for a group alertd no longer has, an event type alertd
// does not act on and a duplicate event id are answered 200 and counted.
//
// Slack wants its answer within 3 seconds and ignores the body of a block_actions answer; the
// documented way to update the message is a POST to the payload's response_url
// (`replace_original`), which goes out on a thread of its own after the answer.
#include "api/integrations.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <optional>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "core/json_string.h"
#include "core/scheduler.h"
#include "notifiers/http_result.h"
#include "notifiers/slack/slack.h"

namespace alertd::api {

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

namespace {

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Constant time in the content (the lengths are public: hex of a SHA-256).
bool HexEquals(std::string_view expected, std::string_view got) {
  if (expected.size() != got.size()) return false;
  std::string lower(got);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return CRYPTO_memcmp(expected.data(), lower.data(), expected.size()) == 0;
}

}  // namespace

bool VerifyPagerDutySignature(std::string_view secret, std::string_view body,
                              std::string_view header) {
  if (secret.empty()) return false;
  const std::string expected = HmacSha256Hex(secret, body);
  bool ok = false;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view sig = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (sig.substr(0, 3) != "v1=") continue;
    ok |= HexEquals(expected, sig.substr(3));  // every signature compared, whichever matches
  }
  return ok;
}

SlackVerdict VerifySlackSignature(std::string_view secret, std::string_view timestamp,
                                  std::string_view body, std::string_view signature, Time now,
                                  Duration window) {
  timestamp = Trim(timestamp);
  signature = Trim(signature);
  if (secret.empty() || timestamp.empty() || signature.empty()) return SlackVerdict::kMissing;
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) {
    return SlackVerdict::kBadSignature;
  }
  const auto sent = Time(std::chrono::seconds(ts));
  if (sent > now + window || sent < now - window) return SlackVerdict::kStale;
  if (signature.substr(0, 3) != "v0=") return SlackVerdict::kBadSignature;
  std::string base = "v0:";
  base.append(timestamp);
  base.push_back(':');
  base.append(body);
  return HexEquals(HmacSha256Hex(secret, base), signature.substr(3)) ? SlackVerdict::kOk
                                                                      : SlackVerdict::kBadSignature;
}

const char* SlackVerdictName(SlackVerdict v) {
  switch (v) {
    case SlackVerdict::kOk:
      return "ok";
    case SlackVerdict::kMissing:
      return "missing";
    case SlackVerdict::kStale:
      return "stale";
    case SlackVerdict::kBadSignature:
      return "bad signature";
  }
  return "?";
}

bool ReplayGuard::FirstSeen(const std::string& id, Time now) {
  std::lock_guard l(mu_);
  while (!order_.empty() && (order_.front().first < now - keep_ || order_.size() >= max_ids_)) {
    auto it = seen_.find(order_.front().second);
    if (it != seen_.end() && it->second == order_.front().first) seen_.erase(it);
    order_.pop_front();
  }
  if (auto it = seen_.find(id); it != seen_.end() && it->second >= now - keep_) return false;
  seen_[id] = now;
  order_.emplace_back(now, id);
  return true;
}

void ReplayGuard::Forget(const std::string& id) {
  std::lock_guard l(mu_);
  seen_.erase(id);
}

size_t ReplayGuard::size() const {
  std::lock_guard l(mu_);
  return seen_.size();
}

namespace {

using json = nlohmann::json;

// What the two endpoints share for the server's lifetime.
struct CallbackState {
  // PagerDuty delivers an event again when a delivery failed, for up to about a day.
  ReplayGuard pagerduty_events{std::chrono::hours(24), 100'000};
  // A Slack request outside the 5-minute window is refused anyway.
  ReplayGuard slack_requests{std::chrono::minutes(11), 100'000};
  CounterFamily* counter = nullptr;
  std::unique_ptr<notifiers::HttpClient> http;  // response_url posts; null: none sent
  // Declared last, so it is destroyed (finishing queued posts) before what they use.
  std::unique_ptr<Executor> responder;

  void Count(const char* integration, const char* outcome) {
    if (counter) counter->WithLabels({integration, outcome}).Inc();
  }
};

constexpr const char* kPagerDutyOutcomes[] = {
    "acknowledged",  "unacknowledged", "escalation_ended", "unknown_group", "duplicate",
    "ignored",       "bad_signature",  "bad_request",      "not_configured", "error"};
constexpr const char* kSlackOutcomes[] = {
    "acknowledged", "unknown_group", "duplicate",   "ignored", "bad_signature",
    "stale",        "bad_request",   "not_configured", "error"};

// An answer that tells the sender what happened, as {"status": outcome, ...}.
Response Outcome(int status, std::string_view outcome, std::string_view detail = {}) {
  std::string body = "{\"status\":";
  AppendJsonString(&body, outcome);
  if (!detail.empty()) {
    body += ",\"detail\":";
    AppendJsonString(&body, detail);
  }
  body += "}\n";
  return Response::Json(status, std::move(body));
}

std::string StringAt(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ---------------------------------------------------------------- PagerDuty

Response HandlePagerDuty(const ApiContext& ctx, CallbackState& st, const Request& req) {
  constexpr const char* kName = "pagerduty";
  const auto cfg = ctx.config();
  const std::string& secret = cfg->integrations.pagerduty_webhook_secret;
  if (secret.empty()) {
    st.Count(kName, "not_configured");
    spdlog::warn("integrations: pagerduty webhook from {} refused: no "
                 "integrations.pagerduty_webhook_secret configured",
                 req.remote_address);
    return Response::Error(404, "PagerDuty webhooks are not configured");
  }
  if (!VerifyPagerDutySignature(secret, req.body, req.Header("x-pagerduty-signature"))) {
    st.Count(kName, "bad_signature");
    spdlog::warn("integrations: pagerduty webhook from {} refused: {} X-PagerDuty-Signature",
                 req.remote_address,
                 req.Header("x-pagerduty-signature").empty() ? "no" : "no valid");
    return Response::Error(401, "invalid X-PagerDuty-Signature");
  }
  const json doc = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  const json* event = nullptr;
  if (doc.is_object() && doc.contains("event") && doc["event"].is_object()) event = &doc["event"];
  const std::string id = event ? StringAt(*event, "id") : "";
  const std::string type = event ? StringAt(*event, "event_type") : "";
  if (!event || id.empty() || type.empty()) {
    st.Count(kName, "bad_request");
    spdlog::warn("integrations: pagerduty webhook from {}: not a v3 webhook payload "
                 "(event.id and event.event_type required)",
                 req.remote_address);
    return Response::Error(400, "not a PagerDuty v3 webhook payload: {\"event\": {\"id\", "
                                "\"event_type\", \"data\", ...}} expected");
  }
  const bool acts = type == "incident.acknowledged" || type == "incident.unacknowledged" ||
                    type == "incident.resolved";
  if (!acts) {
    st.Count(kName, "ignored");
    spdlog::info("integrations: pagerduty event {} ({}) ignored", id, type);
    return Outcome(200, "ignored", "alertd acts on incident.acknowledged, "
                                   "incident.unacknowledged and incident.resolved");
  }
  if (!ctx.group_acks) {
    st.Count(kName, "error");
    return Response::Error(503, "acknowledgements are not available");
  }
  if (!st.pagerduty_events.FirstSeen(id, ctx.clock->Now())) {
    st.Count(kName, "duplicate");
    spdlog::info("integrations: pagerduty event {} ({}) seen before: ignored", id, type);
    return Outcome(200, "duplicate");
  }
  const json data = event->contains("data") ? (*event)["data"] : json();
  // Incidents opened through the Events API carry the dedup_key alertd sent as incident_key.
  const std::string dedup = StringAt(data, "incident_key");
  const std::string number =
      data.is_object() && data.contains("number") && data["number"].is_number_integer()
          ? std::to_string(data["number"].get<int64_t>())
          : StringAt(data, "id");
  if (dedup.empty()) {
    st.Count(kName, "ignored");
    spdlog::info("integrations: pagerduty event {} ({}): incident {} has no incident_key",
                 id, type, number);
    return Outcome(200, "ignored", "the incident has no incident_key");
  }
  const json agent = event->contains("agent") ? (*event)["agent"] : json();
  std::string by = StringAt(agent, "summary");
  if (by.empty()) by = "PagerDuty";

  const char* outcome = type == "incident.acknowledged"     ? "acknowledged"
                        : type == "incident.unacknowledged" ? "unacknowledged"
                                                            : "escalation_ended";
  auto done = [&]() -> Result<router::GroupAckOutcome> {
    if (type == "incident.acknowledged") {
      router::AckRequest ack;
      ack.by = by;
      ack.comment = "acknowledged in PagerDuty (incident " + number + ")";
      return ctx.group_acks->AcknowledgeGroup(dedup, ack);
    }
    if (type == "incident.unacknowledged") return ctx.group_acks->UnacknowledgeGroup(dedup);
    return ctx.group_acks->EndEscalation(
        dedup, "resolved in PagerDuty by " + by + " (incident " + number + ")");
  }();
  if (!done.ok()) {
    if (done.status().code() == Status::Code::kNotFound) {
      st.Count(kName, "unknown_group");
      spdlog::warn("integrations: pagerduty event {} ({}) by {}: no group has dedup key {}",
                   id, type, by, dedup);
      return Outcome(200, "unknown_group", "no aggregation group has this incident_key");
    }
    st.pagerduty_events.Forget(id);  // PagerDuty's retry may succeed
    st.Count(kName, "error");
    spdlog::error("integrations: pagerduty event {} ({}): {}", id, type, done.status().message());
    return Response::Error(500, done.status().message());
  }
  st.Count(kName, outcome);
  const std::string what =
      type == "incident.resolved"
          ? fmt::format("{} escalation(s) ended", done->escalations_ended)
          : fmt::format("{} ack(s) {}", done->acks.size(),
                        type == "incident.acknowledged" ? "made" : "taken back");
  spdlog::info("integrations: pagerduty event {} ({}) by {}: group {}: {}", id, type, by,
               done->group_key, what);
  return Outcome(200, outcome);
}

// ---------------------------------------------------------------- Slack

// The value of form field `name` in an application/x-www-form-urlencoded body.
std::optional<std::string> FormValue(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

// The message that replaces the clicked one: its blocks without the Acknowledge button plus a
// context line saying who acknowledged, and its attachments unchanged.
json ReplacementMessage(const json& original, const std::string& note) {
  json out = {{"replace_original", true}};
  const std::string text = StringAt(original, "text");
  out["text"] = text.empty() ? note : text;
  json blocks = json::array();
  if (original.is_object() && original.contains("blocks") && original["blocks"].is_array()) {
    for (const auto& b : original["blocks"]) {
      if (StringAt(b, "block_id") != notifiers::kAckActionId) blocks.push_back(b);
    }
  }
  blocks.push_back({{"type", "context"},
                    {"elements", json::array({{{"type", "mrkdwn"}, {"text", note}}})}});
  out["blocks"] = std::move(blocks);
  if (original.is_object() && original.contains("attachments") &&
      original["attachments"].is_array()) {
    out["attachments"] = original["attachments"];
  }
  return out;
}

// Posts `message` to the interaction's response_url after the answer went out.
void PostToResponseUrl(CallbackState& st, std::string url, json message) {
  if (!st.http || !st.responder) return;
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    spdlog::warn("integrations: slack response_url is not an http(s) URL; message not updated");
    return;
  }
  st.responder->Post([&st, url = std::move(url), body = message.dump()] {
    notifiers::HttpRequest r;
    r.url = url;
    r.content_type = "application/json";
    r.body = body;
    r.timeout = std::chrono::seconds(10);
    const auto resp = st.http->Do(r);
    if (!resp.transport.ok() || resp.status / 100 != 2) {
      // The URL is a capability (it lets anyone post into the channel): not logged.
      spdlog::warn("integrations: slack response_url answered {}{}", resp.status,
                   resp.transport.ok() ? "" : ": " + resp.transport.message());
    }
  });
}

Response HandleSlack(const ApiContext& ctx, CallbackState& st, const Request& req) {
  constexpr const char* kName = "slack";
  const auto cfg = ctx.config();
  const std::string& secret = cfg->integrations.slack_signing_secret;
  if (secret.empty()) {
    st.Count(kName, "not_configured");
    spdlog::warn("integrations: slack request from {} refused: no "
                 "integrations.slack_signing_secret configured",
                 req.remote_address);
    return Response::Error(404, "Slack interactivity is not configured");
  }
  const std::string_view signature = req.Header("x-slack-signature");
  const SlackVerdict verdict =
      VerifySlackSignature(secret, req.Header("x-slack-request-timestamp"), req.body, signature,
                           ctx.clock->Now());
  if (verdict != SlackVerdict::kOk) {
    const bool stale = verdict == SlackVerdict::kStale;
    st.Count(kName, stale ? "stale" : "bad_signature");
    spdlog::warn("integrations: slack request from {} refused: {}", req.remote_address,
                 stale ? "X-Slack-Request-Timestamp more than 5 minutes away (a replay?)"
                 : verdict == SlackVerdict::kMissing
                     ? "missing X-Slack-Signature or X-Slack-Request-Timestamp"
                     : "invalid X-Slack-Signature");
    return Response::Error(401, stale ? "stale X-Slack-Request-Timestamp"
                                      : "invalid X-Slack-Signature");
  }
  if (!st.slack_requests.FirstSeen(std::string(signature), ctx.clock->Now())) {
    st.Count(kName, "duplicate");
    spdlog::info("integrations: slack request from {} seen before: ignored", req.remote_address);
    return Response::Text(200, "");
  }
  const auto raw = FormValue(req.body, "payload");
  const json payload = raw ? json::parse(*raw, nullptr, false) : json();
  if (!payload.is_object()) {
    st.Count(kName, "bad_request");
    spdlog::warn("integrations: slack request from {}: no JSON `payload` form field",
                 req.remote_address);
    return Response::Error(400, "expected an application/x-www-form-urlencoded body with a JSON "
                                "`payload` field");
  }
  std::string dedup;
  if (StringAt(payload, "type") == "block_actions" && payload.contains("actions") &&
      payload["actions"].is_array()) {
    for (const auto& a : payload["actions"]) {
      if (StringAt(a, "action_id") == notifiers::kAckActionId) dedup = StringAt(a, "value");
    }
  }
  if (dedup.empty()) {
    st.Count(kName, "ignored");
    spdlog::info("integrations: slack interaction of type {} without alertd's Acknowledge "
                 "button: ignored",
                 StringAt(payload, "type"));
    return Response::Text(200, "");
  }
  const json user = payload.contains("user") ? payload["user"] : json();
  std::string by = StringAt(user, "username");
  if (by.empty()) by = StringAt(user, "name");
  const std::string user_id = StringAt(user, "id");
  if (by.empty()) by = user_id.empty() ? "Slack user" : user_id;
  const std::string who = user_id.empty() ? by : "<@" + user_id + ">";
  if (!ctx.group_acks) {
    st.Count(kName, "error");
    return Response::Error(503, "acknowledgements are not available");
  }
  router::AckRequest ack;
  ack.by = by;
  ack.comment = "acknowledged in Slack";
  auto done = ctx.group_acks->AcknowledgeGroup(dedup, ack);
  const std::string response_url = StringAt(payload, "response_url");
  if (!done.ok()) {
    if (done.status().code() == Status::Code::kNotFound) {
      st.Count(kName, "unknown_group");
      spdlog::warn("integrations: slack ack by {}: no group has dedup key {}", by, dedup);
      PostToResponseUrl(st, response_url,
                        {{"response_type", "ephemeral"},
                         {"replace_original", false},
                         {"text", "alertd: nothing to acknowledge, these alerts are no longer "
                                  "firing."}});
      return Response::Text(200, "");
    }
    st.slack_requests.Forget(std::string(signature));
    st.Count(kName, "error");
    spdlog::error("integrations: slack ack by {}: {}", by, done.status().message());
    return Response::Error(500, done.status().message());
  }
  st.Count(kName, "acknowledged");
  spdlog::info("integrations: slack ack by {}: group {}: {} ack(s) made", by, done->group_key,
               done->acks.size());
  const std::string note = done->acks.empty()
                               ? "Already acknowledged (" + who + " clicked Acknowledge)"
                               : "Acknowledged by " + who;
  PostToResponseUrl(st, response_url,
                    ReplacementMessage(payload.contains("message") ? payload["message"] : json(),
                                       note));
  return Response::Text(200, "");
}

}  // namespace

void RegisterIntegrations(Router& router, const ApiContext& ctx) {
  auto st = std::make_shared<CallbackState>();
  if (ctx.registry) {
    st->counter = &ctx.registry->AddCounter(
        "alertd_integration_callbacks_total",
        "Callbacks from PagerDuty webhooks and Slack buttons, by integration and outcome.",
        {"integration", "outcome"});
    for (const char* o : kPagerDutyOutcomes) st->counter->WithLabels({"pagerduty", o});
    for (const char* o : kSlackOutcomes) st->counter->WithLabels({"slack", o});
  }
  auto client = notifiers::HttpClient::Create(config::HTTPClientConfig{},
                                              "alertd/" + ctx.version.version);
  if (client.ok()) {
    st->http = std::move(*client);
    st->responder = NewThreadPool(1);
  } else {
    spdlog::error("integrations: no HTTP client for Slack responses: {}",
                  client.status().message());
  }
  router.HandleSync("POST", "/api/v1/integrations/pagerduty",
                    [ctx, st](const Request& req) { return HandlePagerDuty(ctx, *st, req); });
  router.HandleSync("POST", "/api/v1/integrations/slack",
                    [ctx, st](const Request& req) { return HandleSlack(ctx, *st, req); });
}

}  // namespace alertd::api
