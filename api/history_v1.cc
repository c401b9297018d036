// What happened (core/history.h):
//   GET /api/v1/notifications  every delivery attempt, newest first. Filters: receiver,
//       integration, fingerprint, group_key, status (sent|failed|gave_up), since, until
//       (RFC 3339); limit (1..1000, default 100) and next (the cursor the previous page gave).
//       {"notifications": [...], "next": "<cursor>" | null}
//   GET /api/v1/alerts/{fingerprint}/history  one alert's timeline, oldest first: received
//       (from where), resolved, refired, silenced/unsilenced, inhibited/uninhibited,
//       acknowledged/ack_ended, and every notification attempt that carried it.
//       {"fingerprint", "alert": {...} | null, "timeline": [...]}; 404 when alertd knows
//       nothing of it.
// Both read the database: they run on ctx.ingest_executor when set, never on an I/O thread.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "api/api.h"
#include "api/json_writer.h"

namespace alertd::api {
namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;
// An alert's timeline lists at most this many of each kind of entry (its latest).
constexpr size_t kTimelineEntries = 1000;

Result<NotificationQuery> ParseQuery(const Request& req) {
  NotificationQuery q;
  q.limit = kDefaultLimit;
  for (const auto& [name, value] : req.query) {
    if (name == "receiver") {
      q.receiver = value;
    } else if (name == "integration") {
      q.integration = value;
    } else if (name == "group_key") {
      q.group_key = value;
    } else if (name == "status") {
      if (value != "sent" && value != "failed" && value != "gave_up") {
        return Status::InvalidArgument("status must be sent, failed or gave_up");
      }
      q.outcome = value;
    } else if (name == "fingerprint") {
      q.fingerprint = ParseFingerprintHex(value);
      if (!q.fingerprint) return Status::InvalidArgument("fingerprint must be 16 hex digits");
    } else if (name == "since" || name == "until") {
      auto t = ParseRFC3339(value);
      if (!t.ok()) return Status::InvalidArgument(name + " must be an RFC 3339 time");
      (name == "since" ? q.since : q.until) = *t;
    } else if (name == "limit" || name == "next") {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v <= 0) {
        return Status::InvalidArgument(
            name == "limit" ? fmt::format("limit must be a number from 1 to {}", kMaxLimit)
                            : std::string("next must be the cursor a previous page gave"));
      }
      if (name == "limit") {
        if (v > static_cast<int64_t>(kMaxLimit)) {
          return Status::InvalidArgument(fmt::format("limit must be a number from 1 to {}", kMaxLimit));
        }
        q.limit = static_cast<size_t>(v);
      } else {
        q.before_id = v;
      }
    } else {
      return Status::InvalidArgument("unknown parameter " + name);
    }
  }
  return q;
}

void AppendNotification(std::string* b, const NotificationRecord& r) {
  *b += fmt::format("{{\"id\":\"{}\",\"at\":", r.id);
  AppendDateTimeJson(b, r.at);
  *b += ",\"receiver\":";
  AppendJsonString(b, r.receiver);
  *b += ",\"integration\":";
  AppendJsonString(b, r.integration);
  *b += fmt::format(",\"index\":{},\"groupKey\":", r.index);
  AppendJsonString(b, r.group_key);
  *b += ",\"kind\":";
  AppendJsonString(b, r.kind);
  *b += ",\"reason\":";
  AppendJsonString(b, r.reason);
  *b += ",\"alerts\":[";
  for (size_t i = 0; i < r.alerts.size(); ++i) {
    if (i) b->push_back(',');
    *b += fmt::format("{{\"fingerprint\":\"{}\",\"status\":\"{}\"}}",
                      FingerprintHex(r.alerts[i].fingerprint),
                      r.alerts[i].firing ? "firing" : "resolved");
  }
  *b += "],\"status\":";
  AppendJsonString(b, r.outcome);
  *b += fmt::format(",\"attempt\":{},\"code\":{},\"error\":", r.attempt, r.code);
  AppendJsonString(b, r.error);
  *b += fmt::format(",\"latencySeconds\":{}}}",
                    std::chrono::duration<double>(r.latency).count());
}

Response ListNotifications(const ApiContext& ctx, const Request& req) {
  auto q = ParseQuery(req);
  if (!q.ok()) return Response::Error(400, q.status().message());
  auto rows = ctx.history->store()->QueryNotifications(*q);
  if (!rows.ok()) return Response::Error(503, "reading the history: " + rows.status().message());
  std::string b = "{\"notifications\":[";
  for (size_t i = 0; i < rows->size(); ++i) {
    if (i) b.push_back(',');
    AppendNotification(&b, (*rows)[i]);
  }
  b += "],\"next\":";
  // A full page may have more behind it: the cursor is the last id listed.
  if (rows->size() == q->limit) {
    b += fmt::format("\"{}\"", rows->back().id);
  } else {
    b += "null";
  }
  b += "}\n";
  return Response::Json(200, std::move(b));
}

// One entry of a timeline: when, and its JSON object.
struct Entry {
  Time at;
  int order;  // among entries at the same time: state changes, then acks, then notifications
  std::string json;
};

void AppendEventFields(std::string* b, const AlertEvent& e) {
  *b += "{\"at\":";
  AppendDateTimeJson(b, e.at);
  *b += ",\"kind\":";
  AppendJsonString(b, e.kind);
  auto field = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    *b += fmt::format(",\"{}\":", name);
    AppendJsonString(b, v);
  };
  if (e.kind == "received" || e.kind == "refired" || e.kind == "resolved") {
    field("source", e.ref);
  } else if (e.kind == "silenced" || e.kind == "unsilenced") {
    field("silenceID", e.ref);
  } else if (e.kind == "inhibited" || e.kind == "uninhibited") {
    field("inhibitedBy", e.ref);
  } else {
    field("ref", e.ref);
  }
  field("by", e.by);
  field("comment", e.text);
  b->push_back('}');
}

bool IsStateChange(const std::string& kind) {
  return kind == "received" || kind == "refired" || kind == "resolved";
}

Response AlertHistory(const ApiContext& ctx, const Request& req) {
  const auto fp = ParseFingerprintHex(req.path_params.at("fingerprint"));
  if (!fp) return Response::Error(400, "the fingerprint must be 16 hex digits");
  auto events = ctx.history->store()->LoadAlertEvents(*fp, kTimelineEntries);
  if (!events.ok()) return Response::Error(503, "reading the history: " + events.status().message());
  NotificationQuery nq;
  nq.fingerprint = *fp;
  nq.limit = kTimelineEntries;
  auto notes = ctx.history->store()->QueryNotifications(nq);
  if (!notes.ok()) return Response::Error(503, "reading the history: " + notes.status().message());
  const auto alert = ctx.alerts ? ctx.alerts->Get(*fp) : nullptr;

  std::vector<Entry> entries;
  // Replicas that both receive an alert (Prometheus sends to each) may both record its
  // arrival: a state change repeating the one before it within a minute is the same one.
  const AlertEvent* last_state = nullptr;
  for (const auto& e : *events) {
    if (IsStateChange(e.kind)) {
      if (last_state && last_state->kind == e.kind && e.at - last_state->at < std::chrono::minutes(1)) {
        continue;
      }
      last_state = &e;
    }
    std::string j;
    AppendEventFields(&j, e);
    entries.push_back(Entry{e.at, 0, std::move(j)});
  }
  // An alert whose endsAt passed without its sender resolving it (resolve_timeout, or a
  // rule's alert no longer sent) resolved then.
  if (alert && alert->ResolvedAt(ctx.clock->Now()) &&
      (last_state == nullptr || last_state->kind != "resolved")) {
    AlertEvent e{0, *fp, alert->ends_at, "resolved", "", "", "its endsAt passed without an update"};
    std::string j;
    AppendEventFields(&j, e);
    entries.push_back(Entry{e.at, 0, std::move(j)});
  }
  if (ctx.acks) {
    for (const auto& a : ctx.acks->ListAcks(/*history=*/true)) {
      if (a.fingerprint != *fp) continue;
      std::string j = "{\"at\":";
      AppendDateTimeJson(&j, a.at);
      j += fmt::format(",\"kind\":\"acknowledged\",\"ackID\":\"{}\",\"by\":", a.id);
      AppendJsonString(&j, a.by);
      if (!a.token.empty()) {
        j += ",\"token\":";
        AppendJsonString(&j, a.token);
      }
      j += ",\"comment\":";
      AppendJsonString(&j, a.comment);
      j += ",\"expiresAt\":";
      AppendTimeOrNull(&j, a.expires_at);
      j.push_back('}');
      entries.push_back(Entry{a.at, 1, std::move(j)});
      if (a.ended()) {
        std::string k = "{\"at\":";
        AppendDateTimeJson(&k, a.ended_at);
        k += fmt::format(",\"kind\":\"ack_ended\",\"ackID\":\"{}\",\"reason\":", a.id);
        AppendJsonString(&k, a.end_reason);
        k.push_back('}');
        entries.push_back(Entry{a.ended_at, 1, std::move(k)});
      }
    }
  }
  for (auto it = notes->rbegin(); it != notes->rend(); ++it) {  // oldest first
    std::string j = "{\"at\":";
    AppendDateTimeJson(&j, it->at);
    j += ",\"kind\":\"notification\",\"notification\":";
    AppendNotification(&j, *it);
    j.push_back('}');
    entries.push_back(Entry{it->at, 2, std::move(j)});
  }
  if (entries.empty() && !alert) {
    return Response::Error(404, "alertd knows nothing of alert " + FingerprintHex(*fp));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });

  std::string b = "{\"fingerprint\":\"" + FingerprintHex(*fp) + "\",\"alert\":";
  if (alert) {
    b += "{\"labels\":";
    AppendLabelSetJson(&b, alert->labels);
    b += ",\"status\":";
    b += alert->ResolvedAt(ctx.clock->Now()) ? "\"resolved\"" : "\"firing\"";
    b += ",\"startsAt\":";
    AppendDateTimeJson(&b, alert->starts_at);
    b += ",\"endsAt\":";
    AppendDateTimeJson(&b, alert->ends_at);
    b += ",\"generatorURL\":";
    AppendJsonString(&b, alert->generator_url);
    b.push_back('}');
  } else {
    b += "null";
  }
  b += ",\"timeline\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) b.push_back(',');
    b += entries[i].json;
  }
  b += "]}\n";
  return Response::Json(200, std::move(b));
}

// Runs `read` off the I/O threads (a history read waits for the database).
Handler OffIoThread(const ApiContext& ctx, Response (*read)(const ApiContext&, const Request&)) {
  return [ctx, read](Request& req, Responder respond) {
    if (!ctx.history || !ctx.history->store()) {
      return respond(Response::Error(503, "no history is kept"));
    }
    auto work = [ctx, read, req, respond = std::move(respond)]() {
      ctx.history->Flush();  // what was recorded up to now is in what is read
      respond(read(ctx, req));
    };
    if (ctx.ingest_executor == nullptr) return work();
    ctx.ingest_executor->Post(std::move(work));
  };
}

}  // namespace

void RegisterHistoryV1(Router& router, const ApiContext& ctx) {
  router.Handle("GET", "/api/v1/notifications", OffIoThread(ctx, &ListNotifications));
  router.Handle("GET", "/api/v1/alerts/{fingerprint}/history", OffIoThread(ctx, &AlertHistory));
}

}  // namespace alertd::api
