#include <algorithm>

#include "storage/batch_writer.h"
#include "storage/codec.h"
#include "storage/pg_rows.h"
#include "storage/pg_stores.h"

namespace alertd::storage {
namespace {

using PgWriter = BatchWriter<PgConn>;

// Runs `sql` once per element of `rows` with the parameters `params` gives.
template <typename T, typename Params>
Status RunEach(PgConn& c, const std::string& sql, const std::vector<T>& rows, Params params) {
  for (const auto& row : rows) {
    auto r = c.Query(sql, params(row));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

// PostgreSQL array literals, so that a batch of rows goes in one statement
// (INSERT ... SELECT * FROM unnest($1::bigint[], $2::text[], ...)): one round trip.
std::string BigintArray(const std::vector<int64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  return out + "}";
}
std::string TextArray(const std::vector<std::string_view>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : v[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

class PgRouterStores final : public RouterStateBackend {
 public:
  PgRouterStores(std::unique_ptr<PgConn> conn, size_t max_queued)
      : w_(std::move(conn), "router state", max_queued) {}
  ~PgRouterStores() override { Close(); }

  const QueueStats& queue() const override { return w_.queue(); }
  void Close() override { w_.Close(); }
  bool reachable() const override { return w_.reachable(); }

  // A load: `sql` with `params` on the writer thread, `row` called for each result row.
  template <typename F>
  Status Load(const std::string& sql, std::vector<PgParam> params, F row) {
    return w_.Read([&](PgConn& c) -> Status {
      auto r = c.Query(sql, params);
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        if (Status s = row(*r, i); !s.ok()) return s;
      }
      return Status::Ok();
    });
  }

  // ---------------------------------------------------------------- silences

  Result<std::vector<Silence>> LoadSilences() override {
    std::vector<Silence> out;
    Status s =
        Load(std::string("SELECT ") + kSilenceColumns + " FROM silences ORDER BY id COLLATE \"C\"",
             {}, [&out](const PgResult& r, int i) -> Status {
               auto sil = SilenceFromRow(r, i);
               if (!sil.ok()) return sil.status();
               out.push_back(std::move(*sil));
               return Status::Ok();
             });
    if (!s.ok()) return s;
    return out;
  }
  void PutSilences(std::vector<Silence> rows, StoreDone done) override {
    w_.Write(
        [rows = std::move(rows)](PgConn& c) {
          Status st =
              RunEach(c,
                      "INSERT INTO silences (id, matchers, starts_at, ends_at, updated_at, "
                      "created_by, comment) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                      "ON CONFLICT (id) DO UPDATE SET " +
                          // Two alertd processes changing one silence at once: the newer
                          // version stays, whichever commits last.
                          NewerWinsSet("silences", {"matchers", "starts_at", "ends_at",
                                                    "created_by", "comment", "updated_at"}),
                      rows, [](const Silence& s) {
                        return std::vector<PgParam>{PgParam::Text(s.id),
                                                    PgParam::Text(EncodeMatchers(s.matchers)),
                                                    PgParam::Int(ToNanos(s.starts_at)),
                                                    PgParam::Int(ToNanos(s.ends_at)),
                                                    PgParam::Int(ToNanos(s.updated_at)),
                                                    PgParam::Text(s.created_by),
                                                    PgParam::Text(s.comment)};
                      });
          if (!st.ok()) return st;
          return c.Query(kNotifySilences).status();
        },
        std::move(done));
  }
  void DeleteSilences(std::vector<std::string> ids, StoreDone done) override {
    w_.Write(
        [ids = std::move(ids)](PgConn& c) {
          return RunEach(c, "DELETE FROM silences WHERE id = $1", ids, [](const std::string& id) {
            return std::vector<PgParam>{PgParam::Text(id)};
          });
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- notification log

  Result<std::vector<std::pair<NflogKey, NflogEntry>>> LoadNflog(Time now) override {
    std::vector<std::pair<NflogKey, NflogEntry>> out;
    Status s = Load(
        "SELECT group_key, receiver, integration, idx::BIGINT, firing, resolved, logged_at, "
        "expires_at FROM nflog WHERE expires_at > $1",
        {PgParam::Int(ToNanos(now))}, [&out](const PgResult& r, int i) -> Status {
          NflogKey k{std::string(r.Bytes(i, 0)), std::string(r.Bytes(i, 1)),
                     std::string(r.Bytes(i, 2)), static_cast<int>(r.Int(i, 3))};
          NflogEntry e;
          e.group_key = k.group_key;
          e.firing = DecodeFingerprints(r.Bytes(i, 4));
          e.resolved = DecodeFingerprints(r.Bytes(i, 5));
          e.logged_at = FromNanos(r.Int(i, 6));
          e.expires_at = FromNanos(r.Int(i, 7));
          out.emplace_back(std::move(k), std::move(e));
          return Status::Ok();
        });
    if (!s.ok()) return s;
    return out;
  }
  void PutNflog(NflogKey key, NflogEntry e, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{PgParam::Text(key.group_key), PgParam::Text(key.receiver),
                                       PgParam::Text(key.integration), PgParam::Int(key.index),
                                       PgParam::Bytes(EncodeFingerprints(e.firing)),
                                       PgParam::Bytes(EncodeFingerprints(e.resolved)),
                                       PgParam::Int(ToNanos(e.logged_at)),
                                       PgParam::Int(ToNanos(e.expires_at))}](PgConn& c) {
          return c
              .Query(
                  "INSERT INTO nflog (group_key, receiver, integration, idx, firing, resolved, "
                  "logged_at, expires_at) VALUES ($1, $2, $3, $4::BIGINT::INTEGER, $5, $6, $7, "
                  "$8) ON CONFLICT (group_key, receiver, integration, idx) DO UPDATE SET "
                  "firing = EXCLUDED.firing, resolved = EXCLUDED.resolved, "
                  "logged_at = EXCLUDED.logged_at, expires_at = EXCLUDED.expires_at",
                  params)
              .status();
        },
        std::move(done));
  }
  void DeleteExpiredNflog(Time now, StoreDone done) override {
    w_.Write(
        [n = ToNanos(now)](PgConn& c) {
          return c.Query("DELETE FROM nflog WHERE expires_at <= $1", {PgParam::Int(n)}).status();
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- acknowledgements

  Result<std::vector<Ack>> LoadAcks() override {
    std::vector<Ack> out;
    Status s = Load(std::string("SELECT ") + kAckColumns + " FROM acks ORDER BY id", {},
                    [&out](const PgResult& r, int i) -> Status {
                      auto a = AckFromRow(r, i);
                      if (!a.ok()) return a.status();
                      out.push_back(std::move(*a));
                      return Status::Ok();
                    });
    if (!s.ok()) return s;
    return out;
  }
  Result<std::vector<int64_t>> NextAckIds(size_t n) override {
    std::vector<int64_t> ids;
    Status s =
        Load("SELECT nextval('ack_ids') FROM generate_series(1, $1)",
             {PgParam::Int(static_cast<int64_t>(n))}, [&ids](const PgResult& r, int i) -> Status {
               ids.push_back(r.Int(i, 0));
               return Status::Ok();
             });
    if (!s.ok()) return s.WithPrefix("allocating ack ids");
    return ids;
  }
  void PutAcks(std::vector<Ack> rows, StoreDone done) override {
    w_.Write(
        [rows = std::move(rows)](PgConn& c) {
          Status st = RunEach(
              c,
              "INSERT INTO acks (id, fingerprint, labels, starts_at, acked_by, comment, acked_at, "
              "expires_at, ended_at, end_reason, token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
              "$9, $10, $11) ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
              "labels = EXCLUDED.labels, starts_at = EXCLUDED.starts_at, "
              "acked_by = EXCLUDED.acked_by, comment = EXCLUDED.comment, "
              "acked_at = EXCLUDED.acked_at, expires_at = EXCLUDED.expires_at, "
              "ended_at = EXCLUDED.ended_at, end_reason = EXCLUDED.end_reason, "
              "token = EXCLUDED.token, xact = pg_current_xact_id()",
              rows, [](const Ack& a) {
                return std::vector<PgParam>{PgParam::Int(a.id),
                                            PgParam::Int(static_cast<int64_t>(a.fingerprint)),
                                            PgParam::Bytes(EncodeLabelSet(a.labels)),
                                            PgParam::Int(ToNanos(a.starts_at)),
                                            PgParam::Text(a.by),
                                            PgParam::Text(a.comment),
                                            PgParam::Int(ToNanos(a.at)),
                                            PgParam::Int(ToNanos(a.expires_at)),
                                            PgParam::Int(ToNanos(a.ended_at)),
                                            PgParam::Text(a.end_reason),
                                            PgParam::Text(a.token)};
              });
          if (!st.ok()) return st;
          // Acks written with ids the sequence did not give (alertd migrate copying a
          // database's acks): later ids come after them. Ids from NextAckIds are always below
          // the next value the sequence gives, so in normal operation this sets nothing (and
          // never moves the sequence back under a concurrent nextval).
          int64_t max_id = 0;
          for (const auto& a : rows) max_id = std::max(max_id, a.id);
          auto adv = c.Query(
              "SELECT setval('ack_ids', $1) WHERE $1 >= (SELECT CASE WHEN is_called THEN "
              "last_value + 1 ELSE last_value END FROM ack_ids)",
              {PgParam::Int(max_id)});
          if (!adv.ok()) return adv.status();
          return c.Query(kNotifyAcks).status();
        },
        std::move(done));
  }
  void DeleteAcks(std::vector<int64_t> ids, StoreDone done) override {
    w_.Write(
        [ids = std::move(ids)](PgConn& c) {
          return RunEach(c, "DELETE FROM acks WHERE id = $1", ids,
                         [](int64_t id) { return std::vector<PgParam>{PgParam::Int(id)}; });
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- escalations

  Result<std::vector<EscalationState>> LoadEscalations() override {
    std::vector<EscalationState> out;
    Status s = Load(
        "SELECT route_id, group_key, policy, started_at, round::BIGINT, round_start, "
        "next_step::BIGINT, notified FROM escalations",
        {}, [&out](const PgResult& r, int i) -> Status {
          EscalationState e;
          e.route_key = std::string(r.Bytes(i, 0));
          e.group_key = std::string(r.Bytes(i, 1));
          e.policy = std::string(r.Bytes(i, 2));
          e.started_at = FromNanos(r.Int(i, 3));
          e.round = static_cast<int>(r.Int(i, 4));
          e.round_start = FromNanos(r.Int(i, 5));
          e.next_step = static_cast<int>(r.Int(i, 6));
          auto notified = DecodeNames(r.Bytes(i, 7));
          if (!notified.ok()) return notified.status().WithPrefix("escalation " + e.group_key);
          e.notified = std::move(*notified);
          out.push_back(std::move(e));
          return Status::Ok();
        });
    if (!s.ok()) return s;
    return out;
  }
  void PutEscalation(EscalationState st, StoreDone done) override {
    w_.Write(
        [params =
             std::vector<PgParam>{PgParam::Text(st.route_key), PgParam::Text(st.group_key),
                                  PgParam::Text(st.policy), PgParam::Int(ToNanos(st.started_at)),
                                  PgParam::Int(st.round), PgParam::Int(ToNanos(st.round_start)),
                                  PgParam::Int(st.next_step),
                                  PgParam::Text(EncodeNames(st.notified))}](PgConn& c) {
          return c
              .Query(
                  "INSERT INTO escalations (route_id, group_key, policy, started_at, round, "
                  "round_start, next_step, notified) VALUES ($1, $2, $3, $4, "
                  "$5::BIGINT::INTEGER, $6, $7::BIGINT::INTEGER, $8) "
                  "ON CONFLICT (route_id, group_key) DO UPDATE SET policy = EXCLUDED.policy, "
                  "started_at = EXCLUDED.started_at, round = EXCLUDED.round, "
                  "round_start = EXCLUDED.round_start, next_step = EXCLUDED.next_step, "
                  "notified = EXCLUDED.notified",
                  params)
              .status();
        },
        std::move(done));
  }
  void DeleteEscalation(std::string route_key, std::string group_key, StoreDone done) override {
    w_.Write(
        [params =
             std::vector<PgParam>{PgParam::Text(route_key), PgParam::Text(group_key)}](PgConn& c) {
          return c.Query("DELETE FROM escalations WHERE route_id = $1 AND group_key = $2", params)
              .status();
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- heartbeats

  Result<std::vector<HeartbeatState>> LoadHeartbeats() override {
    std::vector<HeartbeatState> out;
    Status s = Load("SELECT name, since, last_ping, message, source FROM heartbeats", {},
                    [&out](const PgResult& r, int i) -> Status {
                      out.push_back(HeartbeatState{
                          std::string(r.Bytes(i, 0)), FromNanos(r.Int(i, 1)),
                          FromNanos(r.Int(i, 2)), std::string(r.Bytes(i, 3)),
                          std::string(r.Bytes(i, 4))});
                      return Status::Ok();
                    });
    if (!s.ok()) return s;
    return out;
  }
  void PutHeartbeat(HeartbeatState st, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{PgParam::Text(st.name), PgParam::Int(ToNanos(st.since)),
                                       PgParam::Int(ToNanos(st.last_ping)),
                                       PgParam::Text(st.message), PgParam::Text(st.source)}](
            PgConn& c) {
          return c
              .Query(
                  "INSERT INTO heartbeats (name, since, last_ping, message, source) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET "
                  "since = EXCLUDED.since, last_ping = EXCLUDED.last_ping, "
                  "message = EXCLUDED.message, source = EXCLUDED.source "
                  "WHERE EXCLUDED.last_ping >= heartbeats.last_ping",
                  params)
              .status();
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- history

  void AppendNotification(NotificationRecord rec, StoreDone done) override {
    std::vector<int64_t> fps;
    fps.reserve(rec.alerts.size());
    for (const auto& a : rec.alerts) fps.push_back(static_cast<int64_t>(a.fingerprint));
    std::vector<PgParam> params{
        PgParam::Int(ToNanos(rec.at)),  PgParam::Text(rec.receiver),
        PgParam::Text(rec.integration), PgParam::Int(rec.index),
        PgParam::Text(rec.group_key),   PgParam::Text(rec.kind),
        PgParam::Text(rec.reason),      PgParam::Text(rec.outcome),
        PgParam::Int(rec.attempt),      PgParam::Int(rec.code),
        PgParam::Text(rec.error),       PgParam::Int(rec.latency.count()),
        PgParam::Text(EncodeNotifiedAlerts(rec.alerts)), PgParam::Text(BigintArray(fps))};
    w_.Write(
        [params = std::move(params)](PgConn& c) {
          // The record and its alerts' index rows in one statement.
          return c
              .Query(
                  "WITH n AS (INSERT INTO notifications (at, receiver, integration, idx, "
                  "group_key, kind, reason, outcome, attempt, code, error, latency, alerts) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id) "
                  "INSERT INTO notification_alerts (fingerprint, notification) "
                  "SELECT DISTINCT f, n.id FROM n, unnest($14::bigint[]) AS f",
                  params)
              .status();
        },
        std::move(done));
  }
  void AppendAlertEvents(std::vector<AlertEvent> events, StoreDone done) override {
    std::vector<int64_t> fps, ats;
    std::vector<std::string_view> kinds, refs, bys, texts;
    for (const auto& e : events) {
      fps.push_back(static_cast<int64_t>(e.fingerprint));
      ats.push_back(ToNanos(e.at));
      kinds.push_back(e.kind);
      refs.push_back(e.ref);
      bys.push_back(e.by);
      texts.push_back(e.text);
    }
    std::vector<PgParam> params{PgParam::Text(BigintArray(fps)), PgParam::Text(BigintArray(ats)),
                                PgParam::Text(TextArray(kinds)), PgParam::Text(TextArray(refs)),
                                PgParam::Text(TextArray(bys)),   PgParam::Text(TextArray(texts))};
    w_.Write(
        [params = std::move(params)](PgConn& c) {
          return c
              .Query(
                  "INSERT INTO alert_events (fingerprint, at, kind, ref, actor, text) "
                  "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], "
                  "$5::text[], $6::text[])",
                  params)
              .status();
        },
        std::move(done));
  }
  Result<std::vector<NotificationRecord>> QueryNotifications(const NotificationQuery& q) override {
    const HistoryFilter f =
        NotificationFilter(q, [](int n) { return "$" + std::to_string(n); });
    std::vector<PgParam> params;
    for (const auto& a : f.args) {
      if (const auto* v = std::get_if<int64_t>(&a)) {
        params.push_back(PgParam::Int(*v));
      } else {
        params.push_back(PgParam::Text(std::get<std::string>(a)));
      }
    }
    std::vector<NotificationRecord> out;
    Status s = Load(
        "SELECT id, at, receiver, integration, idx::BIGINT, group_key, kind, reason, outcome, "
        "attempt::BIGINT, code, error, latency, alerts FROM notifications" +
            f.where + " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
        std::move(params), [&out](const PgResult& r, int i) -> Status {
          NotificationRecord rec;
          rec.id = r.Int(i, 0);
          rec.at = FromNanos(r.Int(i, 1));
          rec.receiver = std::string(r.Bytes(i, 2));
          rec.integration = std::string(r.Bytes(i, 3));
          rec.index = static_cast<int>(r.Int(i, 4));
          rec.group_key = std::string(r.Bytes(i, 5));
          rec.kind = std::string(r.Bytes(i, 6));
          rec.reason = std::string(r.Bytes(i, 7));
          rec.outcome = std::string(r.Bytes(i, 8));
          rec.attempt = static_cast<int>(r.Int(i, 9));
          rec.code = r.Int(i, 10);
          rec.error = std::string(r.Bytes(i, 11));
          rec.latency = Duration(r.Int(i, 12));
          auto alerts = DecodeNotifiedAlerts(r.Bytes(i, 13));
          if (!alerts.ok()) return alerts.status();
          rec.alerts = std::move(*alerts);
          out.push_back(std::move(rec));
          return Status::Ok();
        });
    if (!s.ok()) return s;
    return out;
  }
  Result<std::vector<AlertEvent>> LoadAlertEvents(uint64_t fingerprint, size_t limit) override {
    std::vector<AlertEvent> out;
    Status s = Load(
        "SELECT id, at, kind, ref, actor, text FROM alert_events WHERE fingerprint = $1 "
        "ORDER BY at DESC, id DESC LIMIT " + std::to_string(limit),
        {PgParam::Int(static_cast<int64_t>(fingerprint))},
        [&out, fingerprint](const PgResult& r, int i) -> Status {
          out.push_back(AlertEvent{r.Int(i, 0), fingerprint, FromNanos(r.Int(i, 1)),
                                   std::string(r.Bytes(i, 2)), std::string(r.Bytes(i, 3)),
                                   std::string(r.Bytes(i, 4)), std::string(r.Bytes(i, 5))});
          return Status::Ok();
        });
    if (!s.ok()) return s;
    std::reverse(out.begin(), out.end());
    return out;
  }
  void PruneHistory(Time before, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{PgParam::Int(ToNanos(before))}](PgConn& c) -> Status {
          for (const char* sql :
               {"DELETE FROM notification_alerts WHERE notification IN "
                "(SELECT id FROM notifications WHERE at < $1)",
                "DELETE FROM notifications WHERE at < $1", "DELETE FROM alert_events WHERE at < $1"}) {
            if (Status s = c.Query(sql, params).status(); !s.ok()) return s;
          }
          return Status::Ok();
        },
        std::move(done));
  }

  // ---------------------------------------------------------------- schedule overrides

  Result<std::vector<ScheduleOverride>> LoadOverrides() override {
    std::vector<ScheduleOverride> out;
    Status s = Load(
        "SELECT id, schedule, person, start_at, end_at, comment, created_by, created_at "
        "FROM schedule_overrides ORDER BY id",
        {}, [&out](const PgResult& r, int i) -> Status {
          out.push_back(ScheduleOverride{r.Int(i, 0), std::string(r.Bytes(i, 1)),
                                         std::string(r.Bytes(i, 2)), FromNanos(r.Int(i, 3)),
                                         FromNanos(r.Int(i, 4)), std::string(r.Bytes(i, 5)),
                                         std::string(r.Bytes(i, 6)), FromNanos(r.Int(i, 7))});
          return Status::Ok();
        });
    if (!s.ok()) return s;
    return out;
  }
  void PutOverride(ScheduleOverride o, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{
             PgParam::Int(o.id), PgParam::Text(o.schedule), PgParam::Text(o.person),
             PgParam::Int(ToNanos(o.start)), PgParam::Int(ToNanos(o.end)),
             PgParam::Text(o.comment), PgParam::Text(o.created_by),
             PgParam::Int(ToNanos(o.created_at))}](PgConn& c) -> Status {
          // An id the sequence did not give (alertd migrate copying a database's overrides)
          // moves the sequence past it; ids from NextOverrideId never do.
          auto r = c.Query(
              "INSERT INTO schedule_overrides (id, schedule, person, start_at, end_at, comment, "
              "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
              "ON CONFLICT (id) DO UPDATE SET schedule = EXCLUDED.schedule, "
              "person = EXCLUDED.person, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, "
              "comment = EXCLUDED.comment, created_by = EXCLUDED.created_by, "
              "created_at = EXCLUDED.created_at",
              params);
          if (!r.ok()) return r.status();
          return c
              .Query("SELECT setval('override_ids', $1) WHERE $1 >= (SELECT CASE WHEN is_called "
                     "THEN last_value + 1 ELSE last_value END FROM override_ids)",
                     {params[0]})
              .status();
        },
        std::move(done));
  }
  void DeleteOverride(int64_t id, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{PgParam::Int(id)}](PgConn& c) {
          return c.Query("DELETE FROM schedule_overrides WHERE id = $1", params).status();
        },
        std::move(done));
  }
  Result<int64_t> NextOverrideId() override {
    int64_t id = 0;
    Status s = Load("SELECT nextval('override_ids')", {},
                    [&id](const PgResult& r, int i) -> Status {
                      id = r.Int(i, 0);
                      return Status::Ok();
                    });
    if (!s.ok()) return s;
    return id;
  }

  // ---------------------------------------------------------------- aggregation-group timers

  Result<std::vector<GroupTimer>> LoadGroupTimers() override {
    std::vector<GroupTimer> out;
    Status s =
        Load("SELECT route_id, group_key, next_flush, has_flushed FROM aggregation_groups", {},
             [&out](const PgResult& r, int i) -> Status {
               out.push_back(GroupTimer{std::string(r.Bytes(i, 0)), std::string(r.Bytes(i, 1)),
                                        FromNanos(r.Int(i, 2)), r.Bool(i, 3)});
               return Status::Ok();
             });
    if (!s.ok()) return s;
    return out;
  }
  void PutGroupTimer(GroupTimer t, StoreDone done) override {
    w_.Write(
        [params = std::vector<PgParam>{PgParam::Text(t.route_id), PgParam::Text(t.group_key),
                                       PgParam::Int(ToNanos(t.next_flush)),
                                       PgParam::Bool(t.has_flushed)}](PgConn& c) {
          return c
              .Query(
                  "INSERT INTO aggregation_groups (route_id, group_key, next_flush, has_flushed) "
                  "VALUES ($1, $2, $3, $4) ON CONFLICT (route_id, group_key) DO UPDATE SET "
                  "next_flush = EXCLUDED.next_flush, has_flushed = EXCLUDED.has_flushed",
                  params)
              .status();
        },
        std::move(done));
  }
  void DeleteGroupTimer(std::string route_id, std::string group_key, StoreDone done) override {
    w_.Write(
        [params =
             std::vector<PgParam>{PgParam::Text(route_id), PgParam::Text(group_key)}](PgConn& c) {
          return c
              .Query("DELETE FROM aggregation_groups WHERE route_id = $1 AND group_key = $2",
                     params)
              .status();
        },
        std::move(done));
  }

 private:
  PgWriter w_;
};

}  // namespace

Result<std::unique_ptr<RouterStateBackend>> OpenPgRouterStores(const PgTarget& target,
                                                               size_t max_queued) {
  auto conn = PgConn::Connect(target, "router state");
  if (!conn.ok()) return conn.status();
  if (Status s = MigratePostgres(**conn); !s.ok()) return s;
  return std::unique_ptr<RouterStateBackend>(new PgRouterStores(std::move(*conn), max_queued));
}

}  // namespace alertd::storage
