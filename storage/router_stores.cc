#include "storage/router_stores.h"

#include <algorithm>

#include "storage/codec.h"

namespace alertd::storage {
namespace {

// Runs `sql` once per element of `rows`, `bind` setting its parameters.
template <typename T, typename Bind>
Status RunEach(StateDb::Conn& c, const std::string& sql, const std::vector<T>& rows, Bind bind) {
  auto st = c.Stmt(sql);
  if (!st.ok()) return st.status();
  Statement* s = *st;
  for (const auto& row : rows) {
    s->Reset();
    bind(*s, row);
    if (Status r = s->Run(); !r.ok()) return r;
  }
  return Status::Ok();
}

}  // namespace

SqliteRouterStores::SqliteRouterStores(std::unique_ptr<Database> db, size_t max_queued)
    : db_(std::move(db), max_queued) {}

SqliteRouterStores::~SqliteRouterStores() { Close(); }

// ---------------------------------------------------------------- silences

Result<std::vector<Silence>> SqliteRouterStores::LoadSilences() {
  std::vector<Silence> out;
  Status s = db_.Query(
      "SELECT id, matchers, starts_at, ends_at, updated_at, created_by, comment FROM silences "
      "ORDER BY id",
      [&out](const Statement& q) -> Status {
        Silence sil;
        sil.id = std::string(q.ColumnText(0));
        auto ms = DecodeMatchers(q.ColumnText(1));
        if (!ms.ok()) return ms.status().WithPrefix("silence " + sil.id);
        sil.matchers = std::move(*ms);
        sil.starts_at = FromNanos(q.ColumnInt64(2));
        sil.ends_at = FromNanos(q.ColumnInt64(3));
        sil.updated_at = FromNanos(q.ColumnInt64(4));
        sil.created_by = std::string(q.ColumnText(5));
        sil.comment = std::string(q.ColumnText(6));
        out.push_back(std::move(sil));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutSilences(std::vector<Silence> rows, StoreDone done) {
  db_.Write(
      [rows = std::move(rows)](StateDb::Conn& c) {
        return RunEach(c,
                       "INSERT OR REPLACE INTO silences (id, matchers, starts_at, ends_at, "
                       "updated_at, created_by, comment) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       rows, [](Statement& s, const Silence& sil) {
                         s.BindText(1, sil.id);
                         s.BindText(2, EncodeMatchers(sil.matchers));
                         s.BindInt64(3, ToNanos(sil.starts_at));
                         s.BindInt64(4, ToNanos(sil.ends_at));
                         s.BindInt64(5, ToNanos(sil.updated_at));
                         s.BindText(6, sil.created_by);
                         s.BindText(7, sil.comment);
                       });
      },
      std::move(done));
}

void SqliteRouterStores::DeleteSilences(std::vector<std::string> ids, StoreDone done) {
  db_.Write(
      [ids = std::move(ids)](StateDb::Conn& c) {
        return RunEach(c, "DELETE FROM silences WHERE id = ?", ids,
                       [](Statement& s, const std::string& id) { s.BindText(1, id); });
      },
      std::move(done));
}

// ---------------------------------------------------------------- notification log

Result<std::vector<std::pair<NflogKey, NflogEntry>>> SqliteRouterStores::LoadNflog(Time now) {
  std::vector<std::pair<NflogKey, NflogEntry>> out;
  Status s = db_.Query(
      "SELECT group_key, receiver, integration, idx, firing, resolved, logged_at, expires_at "
      "FROM nflog WHERE expires_at > ?",
      [&out](const Statement& q) -> Status {
        NflogKey k{std::string(q.ColumnText(0)), std::string(q.ColumnText(1)),
                   std::string(q.ColumnText(2)), static_cast<int>(q.ColumnInt64(3))};
        NflogEntry e;
        e.group_key = k.group_key;
        e.firing = DecodeFingerprints(q.ColumnBlob(4));
        e.resolved = DecodeFingerprints(q.ColumnBlob(5));
        e.logged_at = FromNanos(q.ColumnInt64(6));
        e.expires_at = FromNanos(q.ColumnInt64(7));
        out.emplace_back(std::move(k), std::move(e));
        return Status::Ok();
      },
      [now](Statement& q) { q.BindInt64(1, ToNanos(now)); });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutNflog(NflogKey key, NflogEntry e, StoreDone done) {
  db_.Write(
      [key = std::move(key), f = EncodeFingerprints(e.firing), r = EncodeFingerprints(e.resolved),
       logged = ToNanos(e.logged_at), exp = ToNanos(e.expires_at)](StateDb::Conn& c) -> Status {
        // An upsert updates the row in place (INSERT OR REPLACE deletes and re-inserts it).
        static const std::string kSql =
            "INSERT INTO nflog (group_key, receiver, integration, idx, firing, resolved, "
            "logged_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (group_key, receiver, integration, idx) DO UPDATE SET "
            "firing = excluded.firing, resolved = excluded.resolved, "
            "logged_at = excluded.logged_at, expires_at = excluded.expires_at";
        auto st = c.Stmt(kSql);
        if (!st.ok()) return st.status();
        Statement* s = *st;
        s->BindText(1, key.group_key);
        s->BindText(2, key.receiver);
        s->BindText(3, key.integration);
        s->BindInt64(4, key.index);
        s->BindBlob(5, f);
        s->BindBlob(6, r);
        s->BindInt64(7, logged);
        s->BindInt64(8, exp);
        return s->Run();
      },
      std::move(done));
}

void SqliteRouterStores::DeleteExpiredNflog(Time now, StoreDone done) {
  db_.Write(
      [n = ToNanos(now)](StateDb::Conn& c) -> Status {
        auto st = c.Stmt("DELETE FROM nflog WHERE expires_at <= ?");
        if (!st.ok()) return st.status();
        (*st)->BindInt64(1, n);
        return (*st)->Run();
      },
      std::move(done));
}

// ---------------------------------------------------------------- acknowledgements

Result<std::vector<Ack>> SqliteRouterStores::LoadAcks() {
  std::vector<Ack> out;
  Status s = db_.Query(
      "SELECT id, fingerprint, labels, starts_at, acked_by, comment, acked_at, expires_at, "
      "ended_at, end_reason, token FROM acks ORDER BY id",
      [&out](const Statement& q) -> Status {
        Ack a;
        a.id = q.ColumnInt64(0);
        a.fingerprint = static_cast<uint64_t>(q.ColumnInt64(1));
        auto labels = DecodeLabelSet(q.ColumnBlob(2));
        if (!labels.ok()) return labels.status().WithPrefix("ack " + std::to_string(a.id));
        a.labels = std::move(*labels);
        a.starts_at = FromNanos(q.ColumnInt64(3));
        a.by = std::string(q.ColumnText(4));
        a.comment = std::string(q.ColumnText(5));
        a.at = FromNanos(q.ColumnInt64(6));
        a.expires_at = FromNanos(q.ColumnInt64(7));
        a.ended_at = FromNanos(q.ColumnInt64(8));
        a.end_reason = std::string(q.ColumnText(9));
        a.token = std::string(q.ColumnText(10));
        out.push_back(std::move(a));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutAcks(std::vector<Ack> rows, StoreDone done) {
  db_.Write(
      [rows = std::move(rows)](StateDb::Conn& c) {
        return RunEach(c,
                       "INSERT OR REPLACE INTO acks (id, fingerprint, labels, starts_at, "
                       "acked_by, comment, acked_at, expires_at, ended_at, end_reason, token) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       rows, [](Statement& s, const Ack& a) {
                         s.BindInt64(1, a.id);
                         s.BindInt64(2, static_cast<int64_t>(a.fingerprint));
                         s.BindBlob(3, EncodeLabelSet(a.labels));
                         s.BindInt64(4, ToNanos(a.starts_at));
                         s.BindText(5, a.by);
                         s.BindText(6, a.comment);
                         s.BindInt64(7, ToNanos(a.at));
                         s.BindInt64(8, ToNanos(a.expires_at));
                         s.BindInt64(9, ToNanos(a.ended_at));
                         s.BindText(10, a.end_reason);
                         s.BindText(11, a.token);
                       });
      },
      std::move(done));
}

void SqliteRouterStores::DeleteAcks(std::vector<int64_t> ids, StoreDone done) {
  db_.Write(
      [ids = std::move(ids)](StateDb::Conn& c) {
        return RunEach(c, "DELETE FROM acks WHERE id = ?", ids,
                       [](Statement& s, int64_t id) { s.BindInt64(1, id); });
      },
      std::move(done));
}

// ---------------------------------------------------------------- escalations

Result<std::vector<EscalationState>> SqliteRouterStores::LoadEscalations() {
  std::vector<EscalationState> out;
  Status s = db_.Query(
      "SELECT route_id, group_key, policy, started_at, round, round_start, next_step, notified "
      "FROM escalations",
      [&out](const Statement& q) -> Status {
        EscalationState e;
        e.route_key = std::string(q.ColumnText(0));
        e.group_key = std::string(q.ColumnText(1));
        e.policy = std::string(q.ColumnText(2));
        e.started_at = FromNanos(q.ColumnInt64(3));
        e.round = static_cast<int>(q.ColumnInt64(4));
        e.round_start = FromNanos(q.ColumnInt64(5));
        e.next_step = static_cast<int>(q.ColumnInt64(6));
        auto notified = DecodeNames(q.ColumnText(7));
        if (!notified.ok()) return notified.status().WithPrefix("escalation " + e.group_key);
        e.notified = std::move(*notified);
        out.push_back(std::move(e));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutEscalation(EscalationState st, StoreDone done) {
  db_.Write(
      [st = std::move(st)](StateDb::Conn& c) -> Status {
        auto q = c.Stmt(
            "INSERT OR REPLACE INTO escalations (route_id, group_key, policy, started_at, round, "
            "round_start, next_step, notified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q.ok()) return q.status();
        (*q)->BindText(1, st.route_key);
        (*q)->BindText(2, st.group_key);
        (*q)->BindText(3, st.policy);
        (*q)->BindInt64(4, ToNanos(st.started_at));
        (*q)->BindInt64(5, st.round);
        (*q)->BindInt64(6, ToNanos(st.round_start));
        (*q)->BindInt64(7, st.next_step);
        (*q)->BindText(8, EncodeNames(st.notified));
        return (*q)->Run();
      },
      std::move(done));
}

void SqliteRouterStores::DeleteEscalation(std::string route_key, std::string group_key,
                                          StoreDone done) {
  db_.Write(
      [route_key = std::move(route_key), group_key = std::move(group_key)](StateDb::Conn& c) {
        auto q = c.Stmt("DELETE FROM escalations WHERE route_id = ? AND group_key = ?");
        if (!q.ok()) return q.status();
        (*q)->BindText(1, route_key);
        (*q)->BindText(2, group_key);
        return (*q)->Run();
      },
      std::move(done));
}

// ---------------------------------------------------------------- aggregation-group timers

Result<std::vector<GroupTimer>> SqliteRouterStores::LoadGroupTimers() {
  std::vector<GroupTimer> out;
  Status s = db_.Query(
      "SELECT route_id, group_key, next_flush, has_flushed FROM aggregation_groups",
      [&out](const Statement& q) -> Status {
        out.push_back(GroupTimer{std::string(q.ColumnText(0)), std::string(q.ColumnText(1)),
                                 FromNanos(q.ColumnInt64(2)), q.ColumnInt64(3) != 0});
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutGroupTimer(GroupTimer t, StoreDone done) {
  db_.Write(
      [t = std::move(t)](StateDb::Conn& c) -> Status {
        // An upsert updates the row in place; INSERT OR REPLACE deleted and re-inserted it (and
        // its primary-key index entry), twice the B-tree work for the first tick's write.
        static const std::string kSql =
            "INSERT INTO aggregation_groups (route_id, group_key, next_flush, has_flushed) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (route_id, group_key) DO UPDATE SET "
            "next_flush = excluded.next_flush, has_flushed = excluded.has_flushed";
        auto st = c.Stmt(kSql);
        if (!st.ok()) return st.status();
        (*st)->BindText(1, t.route_id);
        (*st)->BindText(2, t.group_key);
        (*st)->BindInt64(3, ToNanos(t.next_flush));
        (*st)->BindInt64(4, t.has_flushed ? 1 : 0);
        return (*st)->Run();
      },
      std::move(done));
}

void SqliteRouterStores::DeleteGroupTimer(std::string route_id, std::string group_key,
                                          StoreDone done) {
  db_.Write(
      [route_id = std::move(route_id), group_key = std::move(group_key)](StateDb::Conn& c) {
        auto st = c.Stmt("DELETE FROM aggregation_groups WHERE route_id = ? AND group_key = ?");
        if (!st.ok()) return st.status();
        (*st)->BindText(1, route_id);
        (*st)->BindText(2, group_key);
        return (*st)->Run();
      },
      std::move(done));
}

// ---------------------------------------------------------------- heartbeats

Result<std::vector<HeartbeatState>> SqliteRouterStores::LoadHeartbeats() {
  std::vector<HeartbeatState> out;
  Status s = db_.Query("SELECT name, since, last_ping, message, source FROM heartbeats",
                       [&out](const Statement& q) -> Status {
                         HeartbeatState h;
                         h.name = std::string(q.ColumnText(0));
                         h.since = FromNanos(q.ColumnInt64(1));
                         h.last_ping = FromNanos(q.ColumnInt64(2));
                         h.message = std::string(q.ColumnText(3));
                         h.source = std::string(q.ColumnText(4));
                         out.push_back(std::move(h));
                         return Status::Ok();
                       });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutHeartbeat(HeartbeatState st, StoreDone done) {
  db_.Write(
      [st = std::move(st)](StateDb::Conn& c) -> Status {
        auto q = c.Stmt(
            "INSERT INTO heartbeats (name, since, last_ping, message, source) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET since = excluded.since, "
            "last_ping = excluded.last_ping, message = excluded.message, "
            "source = excluded.source WHERE excluded.last_ping >= heartbeats.last_ping");
        if (!q.ok()) return q.status();
        (*q)->BindText(1, st.name);
        (*q)->BindInt64(2, ToNanos(st.since));
        (*q)->BindInt64(3, ToNanos(st.last_ping));
        (*q)->BindText(4, st.message);
        (*q)->BindText(5, st.source);
        return (*q)->Run();
      },
      std::move(done));
}

// ---------------------------------------------------------------- history

void SqliteRouterStores::AppendNotification(NotificationRecord rec, StoreDone done) {
  db_.Write(
      [rec = std::move(rec)](StateDb::Conn& c) -> Status {
        auto q = c.Stmt(
            "INSERT INTO notifications (at, receiver, integration, idx, group_key, kind, reason, "
            "outcome, attempt, code, error, latency, alerts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q.ok()) return q.status();
        Statement& s = **q;
        s.BindInt64(1, ToNanos(rec.at));
        s.BindText(2, rec.receiver);
        s.BindText(3, rec.integration);
        s.BindInt64(4, rec.index);
        s.BindText(5, rec.group_key);
        s.BindText(6, rec.kind);
        s.BindText(7, rec.reason);
        s.BindText(8, rec.outcome);
        s.BindInt64(9, rec.attempt);
        s.BindInt64(10, rec.code);
        s.BindText(11, rec.error);
        s.BindInt64(12, rec.latency.count());
        s.BindText(13, EncodeNotifiedAlerts(rec.alerts));
        if (Status r = s.Run(); !r.ok()) return r;
        const int64_t id = c.db().LastInsertRowid();
        return RunEach(c,
                       "INSERT OR IGNORE INTO notification_alerts (fingerprint, notification) "
                       "VALUES (?, ?)",
                       rec.alerts, [id](Statement& st, const NotifiedAlert& a) {
                         st.BindInt64(1, static_cast<int64_t>(a.fingerprint));
                         st.BindInt64(2, id);
                       });
      },
      std::move(done));
}

void SqliteRouterStores::AppendAlertEvents(std::vector<AlertEvent> events, StoreDone done) {
  db_.Write(
      [events = std::move(events)](StateDb::Conn& c) {
        return RunEach(c,
                       "INSERT INTO alert_events (fingerprint, at, kind, ref, actor, text) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       events, [](Statement& s, const AlertEvent& e) {
                         s.BindInt64(1, static_cast<int64_t>(e.fingerprint));
                         s.BindInt64(2, ToNanos(e.at));
                         s.BindText(3, e.kind);
                         s.BindText(4, e.ref);
                         s.BindText(5, e.by);
                         s.BindText(6, e.text);
                       });
      },
      std::move(done));
}

Result<std::vector<NotificationRecord>> SqliteRouterStores::QueryNotifications(
    const NotificationQuery& q) {
  const HistoryFilter f = NotificationFilter(q, [](int) { return std::string("?"); });
  std::vector<NotificationRecord> out;
  Status s = db_.Query(
      "SELECT id, at, receiver, integration, idx, group_key, kind, reason, outcome, attempt, "
      "code, error, latency, alerts FROM notifications" +
          f.where + " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
      [&out](const Statement& r) -> Status {
        NotificationRecord rec;
        rec.id = r.ColumnInt64(0);
        rec.at = FromNanos(r.ColumnInt64(1));
        rec.receiver = std::string(r.ColumnText(2));
        rec.integration = std::string(r.ColumnText(3));
        rec.index = static_cast<int>(r.ColumnInt64(4));
        rec.group_key = std::string(r.ColumnText(5));
        rec.kind = std::string(r.ColumnText(6));
        rec.reason = std::string(r.ColumnText(7));
        rec.outcome = std::string(r.ColumnText(8));
        rec.attempt = static_cast<int>(r.ColumnInt64(9));
        rec.code = r.ColumnInt64(10);
        rec.error = std::string(r.ColumnText(11));
        rec.latency = Duration(r.ColumnInt64(12));
        auto alerts = DecodeNotifiedAlerts(r.ColumnText(13));
        if (!alerts.ok()) return alerts.status();
        rec.alerts = std::move(*alerts);
        out.push_back(std::move(rec));
        return Status::Ok();
      },
      [&f](Statement& st) {
        for (size_t i = 0; i < f.args.size(); ++i) {
          const int n = static_cast<int>(i + 1);
          if (const auto* v = std::get_if<int64_t>(&f.args[i])) {
            st.BindInt64(n, *v);
          } else {
            st.BindText(n, std::get<std::string>(f.args[i]));
          }
        }
      });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<AlertEvent>> SqliteRouterStores::LoadAlertEvents(uint64_t fingerprint,
                                                                    size_t limit) {
  std::vector<AlertEvent> out;
  Status s = db_.Query(
      "SELECT id, at, kind, ref, actor, text FROM alert_events WHERE fingerprint = ? "
      "ORDER BY at DESC, id DESC LIMIT " + std::to_string(limit),
      [&out, fingerprint](const Statement& r) -> Status {
        out.push_back(AlertEvent{r.ColumnInt64(0), fingerprint, FromNanos(r.ColumnInt64(1)),
                                 std::string(r.ColumnText(2)), std::string(r.ColumnText(3)),
                                 std::string(r.ColumnText(4)), std::string(r.ColumnText(5))});
        return Status::Ok();
      },
      [fingerprint](Statement& st) { st.BindInt64(1, static_cast<int64_t>(fingerprint)); });
  if (!s.ok()) return s;
  std::reverse(out.begin(), out.end());
  return out;
}

void SqliteRouterStores::PruneHistory(Time before, StoreDone done) {
  db_.Write(
      [before](StateDb::Conn& c) -> Status {
        for (const char* sql :
             {"DELETE FROM notification_alerts WHERE notification IN "
              "(SELECT id FROM notifications WHERE at < ?)",
              "DELETE FROM notifications WHERE at < ?", "DELETE FROM alert_events WHERE at < ?"}) {
          auto q = c.Stmt(sql);
          if (!q.ok()) return q.status();
          (*q)->BindInt64(1, ToNanos(before));
          if (Status s = (*q)->Run(); !s.ok()) return s;
        }
        return Status::Ok();
      },
      std::move(done));
}

// ---------------------------------------------------------------- schedule overrides

Result<std::vector<ScheduleOverride>> SqliteRouterStores::LoadOverrides() {
  std::vector<ScheduleOverride> out;
  Status s = db_.Query(
      "SELECT id, schedule, person, start_at, end_at, comment, created_by, created_at "
      "FROM schedule_overrides ORDER BY id",
      [&out](const Statement& q) -> Status {
        ScheduleOverride o;
        o.id = q.ColumnInt64(0);
        o.schedule = std::string(q.ColumnText(1));
        o.person = std::string(q.ColumnText(2));
        o.start = FromNanos(q.ColumnInt64(3));
        o.end = FromNanos(q.ColumnInt64(4));
        o.comment = std::string(q.ColumnText(5));
        o.created_by = std::string(q.ColumnText(6));
        o.created_at = FromNanos(q.ColumnInt64(7));
        out.push_back(std::move(o));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

void SqliteRouterStores::PutOverride(ScheduleOverride o, StoreDone done) {
  db_.Write(
      [o = std::move(o)](StateDb::Conn& c) -> Status {
        auto q = c.Stmt(
            "INSERT OR REPLACE INTO schedule_overrides (id, schedule, person, start_at, end_at, "
            "comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q.ok()) return q.status();
        (*q)->BindInt64(1, o.id);
        (*q)->BindText(2, o.schedule);
        (*q)->BindText(3, o.person);
        (*q)->BindInt64(4, ToNanos(o.start));
        (*q)->BindInt64(5, ToNanos(o.end));
        (*q)->BindText(6, o.comment);
        (*q)->BindText(7, o.created_by);
        (*q)->BindInt64(8, ToNanos(o.created_at));
        return (*q)->Run();
      },
      std::move(done));
}

void SqliteRouterStores::DeleteOverride(int64_t id, StoreDone done) {
  db_.Write(
      [id](StateDb::Conn& c) -> Status {
        auto q = c.Stmt("DELETE FROM schedule_overrides WHERE id = ?");
        if (!q.ok()) return q.status();
        (*q)->BindInt64(1, id);
        return (*q)->Run();
      },
      std::move(done));
}

}  // namespace alertd::storage
