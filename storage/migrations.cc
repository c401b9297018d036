// The schema, as a list of migrations. Append only: a released migration is never edited,
// because databases in the field have already applied it; change the schema with a new one.
#include "storage/db.h"

namespace alertd::storage {

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "alerts",
       // One row per fingerprint (Alertmanager's model.LabelSet.Fingerprint as a signed
       // 64-bit integer). Label sets are stored in storage/codec.h's compact binary form;
       // times are Unix nanoseconds, INT64_MIN meaning "not set" (Go's zero time).
       R"sql(
CREATE TABLE alerts (
  fingerprint   INTEGER PRIMARY KEY,
  labels        BLOB    NOT NULL,
  annotations   BLOB    NOT NULL,
  starts_at     INTEGER NOT NULL,
  ends_at       INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  generator_url TEXT    NOT NULL,
  timeout       INTEGER NOT NULL
);
CREATE INDEX alerts_ends_at ON alerts(ends_at);
)sql"},
      {2, "router_state",
       // The router's state (storage/router_stores.cc). Silences as Alertmanager's API shows them,
       // matchers as JSON [{"name","value","isRegex","isEqual"}]. The notification log: one
       // entry per (group key, receiver, integration, index), with the label-set fingerprints
       // of the firing and resolved alerts last delivered, packed as 8-byte little-endian
       // integers. Aggregation groups: the next flush time of each group, so
       // timers survive a restart. Times are Unix nanoseconds.
       R"sql(
CREATE TABLE silences (
  id         TEXT    PRIMARY KEY,
  matchers   TEXT    NOT NULL,
  starts_at  INTEGER NOT NULL,
  ends_at    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by TEXT    NOT NULL,
  comment    TEXT    NOT NULL
);
CREATE TABLE nflog (
  group_key   TEXT    NOT NULL,
  receiver    TEXT    NOT NULL,
  integration TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  firing      BLOB    NOT NULL,
  resolved    BLOB    NOT NULL,
  logged_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (group_key, receiver, integration, idx)
);
CREATE TABLE aggregation_groups (
  route_id    TEXT    NOT NULL,
  group_key   TEXT    NOT NULL,
  next_flush  INTEGER NOT NULL,
  has_flushed INTEGER NOT NULL,
  PRIMARY KEY (route_id, group_key)
);
)sql"},
      {3, "rule_alerts",
       // The rule engine's alert state (storage/rule_state_store.h): one row per alert of an
       // alerting rule; group_key is Prometheus's "<file>;<group>", rule_key "<alert>#<n>",
       // fingerprint the labels' Alertmanager fingerprint. State 0 inactive (resolved, still
       // re-sent), 1 pending, 2 firing. Value as text; times are Unix nanoseconds, INT64_MIN
       // meaning "not set".
       R"sql(
CREATE TABLE rule_alerts (
  group_key         TEXT    NOT NULL,
  rule_key          TEXT    NOT NULL,
  fingerprint       INTEGER NOT NULL,
  labels            BLOB    NOT NULL,
  annotations       BLOB    NOT NULL,
  state             INTEGER NOT NULL,
  value             TEXT    NOT NULL,
  active_at         INTEGER NOT NULL,
  fired_at          INTEGER NOT NULL,
  resolved_at       INTEGER NOT NULL,
  last_sent_at      INTEGER NOT NULL,
  valid_until       INTEGER NOT NULL,
  keep_firing_since INTEGER NOT NULL,
  PRIMARY KEY (group_key, rule_key, fingerprint)
);
)sql"},
      {4, "acks_escalations",
       // Acknowledgements (router/acks.h): one row per ack, current or ended. An ack belongs to
       // one incident of one alert: the alert's fingerprint and its startsAt when acknowledged.
       // ended_at INT64_MIN marks the current ack of a fingerprint; end_reason says why an
       // ended one ended ("resolved", "expired", "deleted", "replaced").
       // Escalations (router/escalation.h): one row per aggregation group whose escalation
       // policy started, with the group's first notification time, the round and its start,
       // the next step, and the step receivers notified so far (JSON array of names).
       // Times are Unix nanoseconds, INT64_MIN meaning "not set".
       R"sql(
CREATE TABLE acks (
  id          INTEGER PRIMARY KEY,
  fingerprint INTEGER NOT NULL,
  labels      BLOB    NOT NULL,
  starts_at   INTEGER NOT NULL,
  acked_by    TEXT    NOT NULL,
  comment     TEXT    NOT NULL,
  acked_at    INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  ended_at    INTEGER NOT NULL,
  end_reason  TEXT    NOT NULL
);
CREATE INDEX acks_fingerprint ON acks(fingerprint);
CREATE TABLE escalations (
  route_id    TEXT    NOT NULL,
  group_key   TEXT    NOT NULL,
  policy      TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  round       INTEGER NOT NULL,
  round_start INTEGER NOT NULL,
  next_step   INTEGER NOT NULL,
  notified    TEXT    NOT NULL,
  PRIMARY KEY (route_id, group_key)
);
)sql"},
      {5, "alert_log",
       // The alert log (storage/alert_store.cc): every ingestion commit appends one row whose
       // blob holds that commit's records (storage/codec.h), instead of rewriting a row of
       // `alerts` at a random position per alert. Compaction copies the current alerts into
       // `alerts` and deletes the log rows it covers; `log_seq` is the last log row an
       // `alerts` row already reflects, so replay at start applies only later records.
       // The ends_at index had no reader and cost a second page write per update.
       R"sql(
CREATE TABLE alert_log (
  seq     INTEGER PRIMARY KEY,
  records BLOB    NOT NULL
);
ALTER TABLE alerts ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;
DROP INDEX alerts_ends_at;
)sql"},
      {6, "ack_tokens",
       // The name of the auth token that made each ack (router/acks.h Ack::token), beside the
       // `by` its request gave; '' when auth was off.
       R"sql(
ALTER TABLE acks ADD COLUMN token TEXT NOT NULL DEFAULT '';
)sql"},
      {7, "heartbeats",
       // Each heartbeat's last ping (heartbeats/heartbeats.h); `since` is when alertd first
       // knew of it, its clock until the first ping. Times in Unix nanoseconds, 0: none.
       R"sql(
CREATE TABLE heartbeats (
  name      TEXT    PRIMARY KEY,
  since     INTEGER NOT NULL,
  last_ping INTEGER NOT NULL,
  message   TEXT    NOT NULL,
  source    TEXT    NOT NULL
);
)sql"},
      {8, "history",
       // What happened (core/history.h): every delivery attempt and every change of an alert,
       // pruned after storage.history_retention. `alerts` lists a notification's alerts as
       // "<16 hex digits><f|r>" joined by ","; notification_alerts indexes them by fingerprint.
       // Times and latencies in nanoseconds.
       R"sql(
CREATE TABLE notifications (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  receiver    TEXT    NOT NULL,
  integration TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  group_key   TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  outcome     TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  code        INTEGER NOT NULL,
  error       TEXT    NOT NULL,
  latency     INTEGER NOT NULL,
  alerts      TEXT    NOT NULL
);
CREATE INDEX notifications_at ON notifications(at);
CREATE TABLE notification_alerts (
  fingerprint  INTEGER NOT NULL,
  notification INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, notification)
) WITHOUT ROWID;
CREATE TABLE alert_events (
  id          INTEGER PRIMARY KEY,
  fingerprint INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  ref         TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  text        TEXT    NOT NULL
);
CREATE INDEX alert_events_fingerprint ON alert_events(fingerprint, at);
CREATE INDEX alert_events_at ON alert_events(at);
)sql"},
      {9, "schedule_overrides",
       // Someone else on call in a schedule for [start_at, end_at) (oncall/oncall.h), with who
       // made it. Times in Unix nanoseconds.
       R"sql(
CREATE TABLE schedule_overrides (
  id         INTEGER PRIMARY KEY,
  schedule   TEXT    NOT NULL,
  person     TEXT    NOT NULL,
  start_at   INTEGER NOT NULL,
  end_at     INTEGER NOT NULL,
  comment    TEXT    NOT NULL,
  created_by TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
  };
  return kMigrations;
}

}  // namespace alertd::storage
