// Alertmanager API v2, alerts: POST /api/v2/alerts, GET /api/v2/alerts and
// GET /api/v2/alerts/groups, with Alertmanager 0.25's parameters and JSON (api/v2/api.go,
// api/v2/openapi.yaml).
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "api/api.h"
#include "api/ingest.h"
#include "api/json_writer.h"
#include "core/matcher.h"

namespace alertd::api {
namespace {

// go-openapi's swag.ConvertBool, which parses Alertmanager's boolean query parameters.
std::optional<bool> ParseBool(std::string_view v) {
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* t :
       {"true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled"}) {
    if (s == t) return true;
  }
  for (const char* f : {"false", "0", "no", "n", "off", "f", "disabled"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

struct AlertFilter {
  bool active = true, silenced = true, inhibited = true, unprocessed = true, muted = true;
  Matchers matchers;
  std::optional<Matcher> receiver;  // anchored regex on receiver names
};

Result<AlertFilter> ParseFilter(const Request& req, bool with_muted) {
  AlertFilter f;
  struct BoolParam {
    const char* name;
    bool* dest;
  };
  std::vector<BoolParam> params = {{"active", &f.active},
                                   {"silenced", &f.silenced},
                                   {"inhibited", &f.inhibited},
                                   {"unprocessed", &f.unprocessed}};
  if (with_muted) params.push_back({"muted", &f.muted});
  for (const auto& p : params) {
    if (auto v = req.QueryValue(p.name)) {
      auto b = ParseBool(*v);
      if (!b)
        return Status::InvalidArgument(fmt::format("{}: invalid boolean {}", p.name, GoQuote(*v)));
      *p.dest = *b;
    }
  }
  for (auto v : req.QueryValues("filter")) {
    auto m = ParseMatcher(v);
    if (!m.ok())
      return Status::InvalidArgument(fmt::format("bad matcher format: {}", m.status().message()));
    f.matchers.push_back(std::move(*m));
  }
  if (auto r = req.QueryValue("receiver"); r && !r->empty()) {
    auto m = Matcher::Create(MatchType::kRegexMatch, "receiver", std::string(*r));
    if (!m.ok())
      return Status::InvalidArgument(
          fmt::format("failed to parse receiver param: {}", m.status().message()));
    f.receiver = std::move(*m);
  }
  return f;
}

bool ReceiversMatch(const AlertFilter& f, const std::vector<std::string>& receivers) {
  if (!f.receiver) return true;
  return std::any_of(receivers.begin(), receivers.end(),
                     [&](const std::string& r) { return f.receiver->Matches(r); });
}

// Whether the alert passes the state filters (getAlertsHandler).
bool StateMatches(const AlertFilter& f, const AlertState& st) {
  if (!f.active && st.state == "active") return false;
  if (!f.unprocessed && st.state == "unprocessed") return false;
  if (!f.silenced && !st.silenced_by.empty()) return false;
  if (!f.inhibited && !st.inhibited_by.empty()) return false;
  if (!f.muted && !st.muted_by.empty()) return false;
  return true;
}

void AppendStringArray(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, v[i]);
  }
  out->push_back(']');
}

// gettableAlert, fields in the order go-swagger writes them.
// alertd adds "ack" (api/acks_v1.cc) after Alertmanager's fields.
void AppendGettableAlert(std::string* out, const Alert& a, const AlertState& st,
                         const router::AckService* acks) {
  out->append("{\"annotations\":");
  AppendLabelSetJson(out, a.annotations);
  out->append(",\"endsAt\":");
  AppendDateTimeJson(out, a.ends_at);
  out->append(",\"fingerprint\":\"");
  out->append(a.labels.FingerprintHex());
  out->append("\",\"receivers\":[");
  for (size_t i = 0; i < st.receivers.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(out, st.receivers[i]);
    out->push_back('}');
  }
  out->append("],\"startsAt\":");
  AppendDateTimeJson(out, a.starts_at);
  out->append(",\"status\":{\"inhibitedBy\":");
  AppendStringArray(out, st.inhibited_by);
  out->append(",\"mutedBy\":");
  AppendStringArray(out, st.muted_by);
  out->append(",\"silencedBy\":");
  AppendStringArray(out, st.silenced_by);
  out->append(",\"state\":");
  AppendJsonString(out, st.state);
  out->append("},\"updatedAt\":");
  AppendDateTimeJson(out, a.updated_at);
  out->append(",\"generatorURL\":");
  AppendJsonString(out, a.generator_url);
  out->append(",\"labels\":");
  AppendLabelSetJson(out, a.labels);
  out->append(",\"ack\":");
  AppendAlertAckJson(out, acks ? acks->AckOf(a) : std::nullopt);
  out->push_back('}');
}

// alertd's addition to a group: where its escalation policy stands.
void AppendEscalationJson(std::string* out, const router::EscalationView& e) {
  out->append("{\"policy\":");
  AppendJsonString(out, e.policy);
  out->append(",\"startedAt\":");
  AppendDateTimeJson(out, e.started_at);
  out->append(fmt::format(",\"round\":{},\"rounds\":{},\"nextStep\":{},\"steps\":{},\"finished\":{}",
                          e.round, e.rounds, e.next_step, e.steps, e.finished));
  out->append(",\"nextAt\":");
  if (e.next_at) {
    AppendDateTimeJson(out, *e.next_at);
  } else {
    out->append("null");
  }
  out->append(",\"nextReceivers\":");
  AppendStringArray(out, e.next_receivers);
  out->append(",\"notified\":");
  AppendStringArray(out, e.notified);
  out->append(",\"onCall\":[");
  for (size_t i = 0; i < e.on_call.size(); ++i) {
    const auto& p = e.on_call[i];
    if (i) out->push_back(',');
    out->append(fmt::format("{{\"step\":{},\"round\":{},\"schedule\":", p.step, p.round));
    AppendJsonString(out, p.schedule);
    out->append(",\"person\":");
    if (p.person.empty()) {
      out->append("null");
    } else {
      AppendJsonString(out, p.person);
    }
    out->append(",\"at\":");
    AppendDateTimeJson(out, p.at);
    out->push_back('}');
  }
  out->append("]}");
}

// The stored alerts that are not resolved at `now` (Alertmanager hides resolved ones) and
// match the label matchers, sorted by fingerprint.
std::vector<AlertPtr> CurrentAlerts(const ApiContext& ctx, const AlertFilter& f, Time now) {
  auto all = ctx.alerts->List();
  std::vector<AlertPtr> out;
  out.reserve(all.size());
  for (auto& a : all) {
    if (a->ResolvedAt(now)) continue;
    if (!MatchesAll(f.matchers, a->labels)) continue;
    out.push_back(std::move(a));
  }
  return out;
}

Response GetAlerts(const ApiContext& ctx, const Request& req) {
  auto f = ParseFilter(req, false);
  if (!f.ok()) return Response::Error(400, f.status().message());
  const Time now = ctx.clock->Now();
  // Streamed: with 100,000 alerts the JSON is about 80 MB, which would otherwise be held
  // whole (and then copied into the response) at the peak of alertd's memory.
  struct Cursor {
    ApiContext ctx;
    AlertFilter filter;
    std::vector<AlertPtr> alerts;
    size_t next = 0;
    bool first = true;
  };
  auto cur = std::make_shared<Cursor>(Cursor{ctx, std::move(*f), {}});
  cur->alerts = CurrentAlerts(ctx, cur->filter, now);
  Response res = Response::Json(200, "");
  res.stream = [cur](std::string* out) {
    if (cur->next == 0 && cur->first) out->push_back('[');
    const size_t end = std::min(cur->alerts.size(), cur->next + 64);
    for (; cur->next < end; ++cur->next) {
      const Alert& a = *cur->alerts[cur->next];
      AlertState st = cur->ctx.status->StateOf(a);
      if (!ReceiversMatch(cur->filter, st.receivers) || !StateMatches(cur->filter, st)) continue;
      if (!cur->first) out->push_back(',');
      cur->first = false;
      AppendGettableAlert(out, a, st, cur->ctx.acks);
      cur->alerts[cur->next].reset();  // written: its memory may go
    }
    if (cur->next < cur->alerts.size()) return true;
    out->append("]\n");
    return false;
  };
  return res;
}

Response GetAlertGroups(const ApiContext& ctx, const Request& req) {
  auto f = ParseFilter(req, true);
  if (!f.ok()) return Response::Error(400, f.status().message());
  const Time now = ctx.clock->Now();
  std::unordered_map<uint64_t, AlertState> states;  // computed once per alert
  auto groups = ctx.status->Groups(
      [&](const std::string& receiver) { return !f->receiver || f->receiver->Matches(receiver); },
      [&](const Alert& a) {
        if (a.ResolvedAt(now)) return false;
        auto it = states.find(a.Fingerprint());
        if (it == states.end()) it = states.emplace(a.Fingerprint(), ctx.status->StateOf(a)).first;
        return StateMatches(*f, it->second) && MatchesAll(f->matchers, a.labels);
      });
  std::string body = "[";
  bool first = true;
  for (const auto& g : groups.groups) {
    if (!first) body.push_back(',');
    first = false;
    body.append("{\"alerts\":[");
    for (size_t i = 0; i < g.alerts.size(); ++i) {
      const Alert& a = *g.alerts[i];
      AlertState st = states[a.Fingerprint()];
      st.receivers = groups.receivers[a.Fingerprint()];
      if (i) body.push_back(',');
      AppendGettableAlert(&body, a, st, ctx.acks);
    }
    body.append("],\"labels\":");
    AppendLabelSetJson(&body, g.labels);
    body.append(",\"receiver\":{\"name\":");
    AppendJsonString(&body, g.receiver);
    body.push_back('}');
    if (g.escalation) {
      body.append(",\"escalation\":");
      AppendEscalationJson(&body, *g.escalation);
    }
    body.push_back('}');
  }
  body.append("]\n");
  return Response::Json(200, std::move(body));
}

}  // namespace

void RegisterAlertsV2(Router& router, const ApiContext& ctx) {
  router.Handle("POST", "/api/v2/alerts", [ctx](Request& req, Responder respond) {
    HandleIngest(ctx, &ParsePostableAlerts, storage::AlertSource::kApi, req, std::move(respond));
  });
  router.HandleSync("GET", "/api/v2/alerts",
                    [ctx](const Request& req) { return GetAlerts(ctx, req); });
  router.HandleSync("GET", "/api/v2/alerts/groups",
                    [ctx](const Request& req) { return GetAlertGroups(ctx, req); });
}

}  // namespace alertd::api
