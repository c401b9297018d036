// The router's durable state, one narrow interface per kind: silences, the notification log,
// acknowledgements, escalations and aggregation-group timers (and beside them heartbeats and
// schedule overrides). The router keeps each kind in memory and writes every change through
// these interfaces; storage/ implements them (SQLite, storage/router_stores.h) and tests use
// in-memory ones (tests/fakes/router_stores.h). The router never sees a table or a statement.
//
// Contract shared by every store below:
//   - Writes are asynchronous: a write is queued and `done` (may be empty) runs exactly once,
//     after the write is durable (committed) with OK, or with the error that kept it from
//     being written; then nothing of that one call was written (a call is all or nothing).
//     `done` may run on the store's own thread, before or after the call returns; it must be
//     quick and must not wait for the same store (AwaitStore from a `done` would wait for
//     itself).
//   - Writes are applied in the order they were queued, across every store of one
//     RouterStores: a write queued after another never becomes durable before it.
//   - A Load sees every write queued before it (read after write), and only durable data: after
//     a crash, a Load returns what was committed.
//   - Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "core/alert.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd {

using StoreDone = std::function<void(Status)>;

// Starts an asynchronous store write (`start` passes the callback it is given to the store)
// and waits for its outcome. Not from a `done` callback (see above).
inline Status AwaitStore(const std::function<void(StoreDone)>& start) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  start([p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

// ---------------------------------------------------------------- silences

// A silence (Alertmanager's silencepb.Silence): matchers and a time range.
struct Silence {
  std::string id;  // empty when creating
  Matchers matchers;
  Time starts_at = kZeroTime;
  Time ends_at = kZeroTime;
  Time updated_at = kZeroTime;
  std::string created_by;
  std::string comment;

  bool operator==(const Silence&) const = default;
};

class SilenceStore {
 public:
  virtual ~SilenceStore() = default;
  // Every stored silence.
  virtual Result<std::vector<Silence>> LoadSilences() = 0;
  // Inserts or replaces (by id) every silence of `rows`.
  virtual void PutSilences(std::vector<Silence> rows, StoreDone done = nullptr) = 0;
  virtual void DeleteSilences(std::vector<std::string> ids, StoreDone done = nullptr) = 0;
};

// ---------------------------------------------------------------- notification log

// Which notification log entry: "<groupKey>:<receiver>/<integration>/<idx>" as Alertmanager's
// nflog.go stateKey.
struct NflogKey {
  std::string group_key;
  std::string receiver;
  std::string integration;
  int index = 0;
  std::string String() const {
    return group_key + ":" + receiver + "/" + integration + "/" + std::to_string(index);
  }
  bool operator==(const NflogKey&) const = default;
};

// What the last notification delivered for a key said, by alert fingerprint.
struct NflogEntry {
  std::string group_key;
  std::vector<uint64_t> firing;    // sorted
  std::vector<uint64_t> resolved;  // sorted
  Time logged_at = kZeroTime;
  Time expires_at = kZeroTime;

  // Whether every element of `subset` (sorted) was firing / resolved in this entry.
  bool IsFiringSubset(const std::vector<uint64_t>& subset) const;
  bool IsResolvedSubset(const std::vector<uint64_t>& subset) const;
  bool operator==(const NflogEntry&) const = default;
};

class NotificationLogStore {
 public:
  virtual ~NotificationLogStore() = default;
  // The entries that have not expired at `now`.
  virtual Result<std::vector<std::pair<NflogKey, NflogEntry>>> LoadNflog(Time now) = 0;
  // Inserts or replaces the entry of `key`.
  virtual void PutNflog(NflogKey key, NflogEntry entry, StoreDone done = nullptr) = 0;
  // Deletes the entries expired at `now` (expires_at <= now).
  virtual void DeleteExpiredNflog(Time now, StoreDone done = nullptr) = 0;
};

// ---------------------------------------------------------------- acknowledgements

// An acknowledgement of one incident of one alert (router/acks.h says what it means).
struct Ack {
  int64_t id = 0;
  uint64_t fingerprint = 0;
  LabelSet labels;
  Time starts_at = kZeroTime;  // the acknowledged incident: the alert's startsAt then
  std::string by;              // who the request says acknowledged (its `by`, or the token's name)
  std::string token;           // the name of the auth token that made the ack; empty: auth was off
  std::string comment;
  Time at = kZeroTime;          // when it was made
  Time expires_at = kZeroTime;  // kZeroTime: never
  Time ended_at = kZeroTime;    // kZeroTime: not ended
  std::string end_reason;       // "resolved", "expired", "deleted", "replaced"

  bool ended() const { return !IsZero(ended_at); }
  // Whether this (not ended) ack covers `alert` at `now`: the same incident, not resolved,
  // not expired. The incident is the same while the alert's startsAt is not later than both
  // the startsAt acknowledged and the time of the ack (a merge may move startsAt earlier; a
  // re-fire after a resolve starts later).
  bool Covers(const Alert& alert, Time now) const;
  bool operator==(const Ack&) const = default;
};

class AckStore {
 public:
  virtual ~AckStore() = default;
  // Every stored ack, current and ended, by id.
  virtual Result<std::vector<Ack>> LoadAcks() = 0;
  // Inserts or replaces (by id) every ack of `rows`.
  virtual void PutAcks(std::vector<Ack> rows, StoreDone done = nullptr) = 0;
  virtual void DeleteAcks(std::vector<int64_t> ids, StoreDone done = nullptr) = 0;
  // `n` ids for new acks, taken from the database so that no two writers of it (alertd
  // processes sharing PostgreSQL) ever get the same one; each id is given out once, never
  // again, whether or not an ack is then stored under it. Waits for the store (as a Load
  // does). An empty result: this store leaves ids to its one writer, which takes the next
  // after the highest it has loaded or made (SQLite, where one alertd owns the database).
  // Errors: why the database could not give them (Unavailable: unreachable).
  virtual Result<std::vector<int64_t>> NextAckIds(size_t /*n*/) { return std::vector<int64_t>{}; }
};

// ---------------------------------------------------------------- escalations

// Where an aggregation group's escalation stands (router/escalation.h).
struct EscalationState {
  std::string route_key;  // the route's Alertmanager key (RouteNode::key)
  std::string group_key;
  std::string policy;
  Time started_at = kZeroTime;        // the group's first notification
  int round = 0;                      // 0: the first run through the steps
  Time round_start = kZeroTime;       // the `after`s of this round count from here
  int next_step = 0;                  // index into the policy's steps
  std::vector<std::string> notified;  // step receivers notified so far, sorted, unique

  bool operator==(const EscalationState&) const = default;
};

class EscalationStore {
 public:
  virtual ~EscalationStore() = default;
  virtual Result<std::vector<EscalationState>> LoadEscalations() = 0;
  // Inserts or replaces the state of (st.route_key, st.group_key).
  virtual void PutEscalation(EscalationState st, StoreDone done = nullptr) = 0;
  virtual void DeleteEscalation(std::string route_key, std::string group_key,
                                StoreDone done = nullptr) = 0;
};

// ---------------------------------------------------------------- aggregation-group timers

// When an aggregation group flushes next, so a restart keeps its group_wait/group_interval.
struct GroupTimer {
  std::string route_id;
  std::string group_key;
  Time next_flush = kZeroTime;
  bool has_flushed = false;

  bool operator==(const GroupTimer&) const = default;
};

class GroupTimerStore {
 public:
  virtual ~GroupTimerStore() = default;
  virtual Result<std::vector<GroupTimer>> LoadGroupTimers() = 0;
  // Inserts or replaces the timer of (t.route_id, t.group_key).
  virtual void PutGroupTimer(GroupTimer t, StoreDone done = nullptr) = 0;
  virtual void DeleteGroupTimer(std::string route_id, std::string group_key,
                                StoreDone done = nullptr) = 0;
};

// ---------------------------------------------------------------- heartbeats

// A heartbeat's last ping (heartbeats/heartbeats.h), so a restart does not reset its clock.
struct HeartbeatState {
  std::string name;
  Time since = kZeroTime;      // when alertd first knew of it: its clock runs from here until a ping
  Time last_ping = kZeroTime;  // zero: never pinged
  std::string message;         // the last ping's, if it had one
  std::string source;          // who pinged: "api" or the fingerprint of the alert that did

  bool operator==(const HeartbeatState&) const = default;
};

class HeartbeatStore {
 public:
  virtual ~HeartbeatStore() = default;
  virtual Result<std::vector<HeartbeatState>> LoadHeartbeats() = 0;
  // Inserts or replaces the state of st.name, unless the stored one has a later last_ping
  // (several processes may ping at once: the latest ping wins).
  virtual void PutHeartbeat(HeartbeatState st, StoreDone done = nullptr) = 0;
};

// ---------------------------------------------------------------- schedule overrides
// Someone else on call in a schedule for [start, end) (POST /api/v1/schedules/{name}/overrides);
// wins over the schedule's rotations (oncall/oncall.h).
struct ScheduleOverride {
  int64_t id = 0;        // assigned by the store, > 0, never reused
  std::string schedule;  // a config schedule's name (may no longer be in the config)
  std::string person;    // a config person's name (may no longer be in the config)
  Time start = kZeroTime;
  Time end = kZeroTime;  // > start
  std::string comment;
  std::string created_by;  // the token's name, or what the request said
  Time created_at = kZeroTime;
  bool operator==(const ScheduleOverride&) const = default;
};

class OverrideStore {
 public:
  virtual ~OverrideStore() = default;
  // Every stored override, by id.
  virtual Result<std::vector<ScheduleOverride>> LoadOverrides() = 0;
  // Inserts or replaces the override o.id. REQUIRES: o.id > 0.
  virtual void PutOverride(ScheduleOverride o, StoreDone done = nullptr) = 0;
  // Deletes the override `id`; deleting one not stored is OK.
  virtual void DeleteOverride(int64_t id, StoreDone done = nullptr) = 0;
  // A new override id, unique among every process sharing the store, greater than every id it
  // gave before. nullopt-like empty result (0): the store has no shared sequence (SQLite, one
  // process) and the caller picks max(stored ids) + 1 itself.
  virtual Result<int64_t> NextOverrideId() { return int64_t{0}; }
};

// ---------------------------------------------------------------- other writers' changes

// Where a backend that several alertd processes share (PostgreSQL) delivers the silences and
// acks committed to it, by any of them: the router implements it and keeps its memory in step,
// so every process serves what any of them wrote. The backend calls it from one thread of its
// own, one call at a time, holding none of its locks; a call may wait for the router's writes
// in progress (they hold back what they are about to change until their commit is done).
//
// Applying is idempotent and never writes anything back: a process's own writes come back
// too, and a row may come back more than once, or after a newer version of it.
class RemoteChanges {
 public:
  virtual ~RemoteChanges() = default;
  // Silences committed since the last call. Each replaces the one of its id held in memory
  // unless that one has a later updated_at (equal: the committed row wins).
  virtual void SilencesCommitted(std::vector<Silence> rows) = 0;
  // Acks committed since the last call. Each replaces the one of its id held in memory, except
  // that an ended ack never becomes current again; of two current acks of one alert, the one
  // with the higher id is current and the other is retired as "replaced" (in memory only).
  virtual void AcksCommitted(std::vector<Ack> rows) = 0;

  // A full resync: `load` reads every row from the database. The router calls it with its
  // own changes of that kind held back (so none commits while it reads), applies the rows as
  // the calls above do and drops what it holds that `load` did not return (deleted by
  // another process). A failed load changes nothing and is returned.
  template <typename T>
  using Load = std::function<Result<std::vector<T>>()>;
  virtual Status ResyncSilences(const Load<Silence>& load) = 0;
  virtual Status ResyncAcks(const Load<Ack>& load) = 0;
};

// ---------------------------------------------------------------- all of them

// The router's stores, each implemented by the same backend (so the ordering above holds
// across them). A null pointer: that kind is kept in memory only (tests, tools).
struct RouterStores {
  SilenceStore* silences = nullptr;
  NotificationLogStore* nflog = nullptr;
  AckStore* acks = nullptr;
  EscalationStore* escalations = nullptr;
  GroupTimerStore* group_timers = nullptr;
};

}  // namespace alertd
