// The router's stores (core/router_state.h), one suite run against every implementation:
// SQLite (storage/router_stores.h), PostgreSQL (storage/pg_stores.h, on a real server
// started for this binary) and the in-memory one the router's unit tests use
// (tests/fakes/router_stores.h). What one backend does, the others must do too: round trips,
// replace by key, deletes of several rows at once, expiry, write order, and what is left after
// a reopen.
#include "storage/router_stores.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "storage/db.h"
#include "storage/pg_stores.h"
#include "tests/fakes/router_stores.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;

Time T(int s) { return Time(std::chrono::seconds(1'700'000'000 + s)); }

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual RouterStores stores() = 0;
  virtual HeartbeatStore* heartbeats() = 0;
  virtual HistoryStore* history() = 0;
  virtual OverrideStore* overrides() = 0;
  // Closes and opens the store again on the same data (what a restart sees).
  virtual void Reopen() = 0;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() : dir_(MakeTempDir("router-stores")) { Open(); }
  ~SqliteBackend() override {
    db_.reset();
    RemoveTree(dir_);
  }
  std::string name() const override { return "sqlite"; }
  RouterStores stores() override { return db_->stores(); }
  HeartbeatStore* heartbeats() override { return db_.get(); }
  HistoryStore* history() override { return db_.get(); }
  OverrideStore* overrides() override { return db_.get(); }
  void Reopen() override {
    db_.reset();
    Open();
  }

 private:
  void Open() {
    auto db = storage::Database::Open(dir_ + "/alertd.db");
    REQUIRE(db.ok());
    db_ = std::make_unique<storage::SqliteRouterStores>(std::move(*db));
  }
  std::string dir_;
  std::unique_ptr<storage::SqliteRouterStores> db_;
};

PostgresServer& Server() { return SharedPostgres(); }

class PostgresBackend final : public Backend {
 public:
  PostgresBackend() : target_{Server().NewDatabase(), PostgresServer::kPassword} { Open(); }
  std::string name() const override { return "postgresql"; }
  RouterStores stores() override { return db_->stores(); }
  HeartbeatStore* heartbeats() override { return db_.get(); }
  HistoryStore* history() override { return db_.get(); }
  OverrideStore* overrides() override { return db_.get(); }
  void Reopen() override {
    db_.reset();
    Open();
  }

 private:
  void Open() {
    auto db = storage::OpenPgRouterStores(target_);
    INFO(db.status().message());
    REQUIRE(db.ok());
    db_ = std::move(*db);
  }
  storage::PgTarget target_;
  std::unique_ptr<storage::RouterStateBackend> db_;
};

class MemoryBackend final : public Backend {
 public:
  std::string name() const override { return "memory"; }
  RouterStores stores() override { return db_.stores(); }
  HeartbeatStore* heartbeats() override { return &db_; }
  HistoryStore* history() override { return &db_; }
  OverrideStore* overrides() override { return &db_; }
  void Reopen() override {}

 private:
  MemoryRouterStores db_;
};

std::vector<std::unique_ptr<Backend>> Backends() {
  std::vector<std::unique_ptr<Backend>> out;
  out.push_back(std::make_unique<SqliteBackend>());
  out.push_back(std::make_unique<PostgresBackend>());
  out.push_back(std::make_unique<MemoryBackend>());
  return out;
}

// Waits for one write and returns its status.
template <typename F>
Status Wait(F&& start) {
  return AwaitStore([&](StoreDone done) { start(std::move(done)); });
}

Silence MakeSilence(const std::string& id, int start) {
  Silence s;
  s.id = id;
  s.matchers = *ParseMatchers(R"({alertname="A", job=~"x|y", env!="dev"})");
  s.starts_at = T(start);
  s.ends_at = T(start + 3600);
  s.updated_at = T(start);
  s.created_by = "alice";
  s.comment = "maintenance of " + id;
  return s;
}

Ack MakeAck(int64_t id, uint64_t fp) {
  Ack a;
  a.id = id;
  a.fingerprint = fp;
  a.labels.Set("alertname", "A" + std::to_string(id));
  a.labels.Set("nul", std::string("a\0b", 3));
  a.starts_at = T(1);
  a.by = "bob";
  a.token = "ops";
  a.comment = "on it";
  a.at = T(2);
  a.expires_at = T(100);
  return a;
}

}  // namespace

TEST_CASE("silences round-trip, are replaced by id and deleted several at a time") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    SilenceStore* s = b->stores().silences;
    REQUIRE(Wait([&](StoreDone d) {
              s->PutSilences({MakeSilence("a", 0), MakeSilence("b", 10), MakeSilence("c", 20)},
                             std::move(d));
            }).ok());
    Silence changed = MakeSilence("b", 10);
    changed.comment = "longer";
    changed.ends_at = T(9000);
    REQUIRE(Wait([&](StoreDone d) { s->PutSilences({changed}, std::move(d)); }).ok());
    auto loaded = s->LoadSilences();
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 3);
    std::map<std::string, Silence> by_id;
    for (auto& x : *loaded) by_id[x.id] = x;
    CHECK(by_id["a"] == MakeSilence("a", 0));
    CHECK(by_id["b"] == changed);
    CHECK(MatchersString(by_id["c"].matchers) == R"({alertname="A",env!="dev",job=~"x|y"})");

    // Two ids in one delete: both go.
    REQUIRE(Wait([&](StoreDone d) { s->DeleteSilences({"a", "c"}, std::move(d)); }).ok());
    b->Reopen();
    s = b->stores().silences;
    loaded = s->LoadSilences();
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0] == changed);
  }
}

TEST_CASE("notification log entries are upserted, loaded while unexpired and deleted on expiry") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    NotificationLogStore* s = b->stores().nflog;
    NflogKey k1{"{}:{alertname=\"A\"}", "team", "webhook", 0};
    NflogKey k2{"{}:{alertname=\"B\"}", "team", "slack", 1};
    NflogEntry e1{k1.group_key, {1, 2, 0xffffffffffffffffULL}, {9}, T(0), T(100)};
    NflogEntry e2{k2.group_key, {5}, {}, T(0), T(50)};
    s->PutNflog(k1, NflogEntry{k1.group_key, {7}, {}, T(0), T(10)});
    s->PutNflog(k2, e2);
    REQUIRE(Wait([&](StoreDone d) { s->PutNflog(k1, e1, std::move(d)); }).ok());
    auto loaded = s->LoadNflog(T(20));
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 2);
    for (const auto& [k, e] : *loaded) CHECK(e == (k == k1 ? e1 : e2));
    // Only the unexpired ones are loaded; DeleteExpired removes the expired for good.
    loaded = s->LoadNflog(T(50));
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0].first == k1);
    REQUIRE(Wait([&](StoreDone d) { s->DeleteExpiredNflog(T(60), std::move(d)); }).ok());
    b->Reopen();
    loaded = b->stores().nflog->LoadNflog(T(0));
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0].second == e1);
  }
}

TEST_CASE("acks round-trip with every field, in id order, and are deleted by id") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    AckStore* s = b->stores().acks;
    Ack ended = MakeAck(2, 0xfedcba9876543210ULL);
    ended.ended_at = T(50);
    ended.end_reason = "deleted";
    REQUIRE(Wait([&](StoreDone d) {
              s->PutAcks({MakeAck(3, 3), ended, MakeAck(1, 1), MakeAck(4, 4)}, std::move(d));
            }).ok());
    REQUIRE(Wait([&](StoreDone d) { s->DeleteAcks({1, 4}, std::move(d)); }).ok());
    b->Reopen();
    auto loaded = b->stores().acks->LoadAcks();
    REQUIRE(loaded.ok());
    REQUIRE(loaded->size() == 2);
    CHECK((*loaded)[0] == ended);
    CHECK((*loaded)[1] == MakeAck(3, 3));
  }
}

TEST_CASE("escalation states and group timers are replaced by key and deleted") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    RouterStores st = b->stores();
    EscalationState e{"{}/0", "{}:{a=\"1\"}", "oncall", T(0), 1, T(30), 2, {"lead", "team"}};
    EscalationState other{"{}/1", "{}:{a=\"1\"}", "oncall", T(0), 0, T(0), 0, {}};
    st.escalations->PutEscalation(EscalationState{e.route_key, e.group_key, "old"});
    st.escalations->PutEscalation(e);
    REQUIRE(Wait([&](StoreDone d) { st.escalations->PutEscalation(other, std::move(d)); }).ok());
    REQUIRE(Wait([&](StoreDone d) {
              st.escalations->DeleteEscalation(other.route_key, other.group_key, std::move(d));
            }).ok());

    GroupTimer t1{"{}", "{}:{a=\"1\"}", T(30), false};
    GroupTimer t2{"{}/0", "{}:{a=\"1\"}", T(60), true};
    st.group_timers->PutGroupTimer(t1);
    st.group_timers->PutGroupTimer(t2);
    t1.next_flush = T(90);
    t1.has_flushed = true;
    st.group_timers->PutGroupTimer(t1);
    REQUIRE(Wait([&](StoreDone d) {
              st.group_timers->DeleteGroupTimer(t2.route_id, t2.group_key, std::move(d));
            }).ok());
    b->Reopen();
    st = b->stores();
    auto es = st.escalations->LoadEscalations();
    REQUIRE(es.ok());
    REQUIRE(es->size() == 1);
    CHECK((*es)[0] == e);
    auto ts = st.group_timers->LoadGroupTimers();
    REQUIRE(ts.ok());
    REQUIRE(ts->size() == 1);
    CHECK((*ts)[0] == t1);
  }
}

TEST_CASE("heartbeats round-trip; of two pings the later one wins, whatever the order") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    HeartbeatStore* h = b->heartbeats();
    HeartbeatState never{"never", T(0), kZeroTime, "", ""};
    HeartbeatState backup{"backup", T(0), T(50), "done in 3m", "api"};
    h->PutHeartbeat(never);
    h->PutHeartbeat(backup);
    // An older ping arriving late (another process) does not go back in time.
    h->PutHeartbeat(HeartbeatState{"backup", T(0), T(40), "older", "api"});
    REQUIRE(Wait([&](StoreDone d) {
              h->PutHeartbeat(HeartbeatState{"never", T(0), T(10), "", "0123456789abcdef"},
                              std::move(d));
            }).ok());
    b->Reopen();
    h = b->heartbeats();
    auto got = h->LoadHeartbeats();
    REQUIRE(got.ok());
    std::sort(got->begin(), got->end(),
              [](const auto& x, const auto& y) { return x.name < y.name; });
    REQUIRE(got->size() == 2);
    CHECK((*got)[0] == backup);
    CHECK((*got)[1] == HeartbeatState{"never", T(0), T(10), "", "0123456789abcdef"});
  }
}

NotificationRecord MakeRecord(int at, const std::string& receiver, const std::string& outcome,
                              std::vector<NotifiedAlert> alerts) {
  NotificationRecord r;
  r.at = T(at);
  r.receiver = receiver;
  r.integration = "webhook";
  r.index = 1;
  r.group_key = "{}:{alertname=\"" + receiver + "\"}";
  r.kind = "alerts";
  r.reason = "first notification";
  r.alerts = std::move(alerts);
  r.outcome = outcome;
  r.attempt = outcome == "sent" ? 2 : 1;
  r.code = outcome == "sent" ? 200 : 503;
  r.error = outcome == "sent" ? "" : "unexpected status code 503: \"quoted\", {braces}";
  r.latency = 12ms;
  return r;
}

TEST_CASE("history: records round-trip, filters, the cursor, alert timelines and pruning") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    HistoryStore* h = b->history();
    const uint64_t fa = 0xfedcba9876543210ULL;  // above INT64_MAX: stored as a negative BIGINT
    const uint64_t fb = 0x0000000000000abcULL;
    h->AppendNotification(MakeRecord(10, "pager", "failed", {{fa, true}, {fb, true}}));
    h->AppendNotification(MakeRecord(11, "pager", "sent", {{fa, true}, {fb, true}}));
    h->AppendNotification(MakeRecord(20, "chat", "sent", {{fb, false}}));
    h->AppendAlertEvents({AlertEvent{0, fa, T(5), "received", "rule", "", ""},
                          AlertEvent{0, fa, T(8), "silenced", "s-1", "alice", "a \"comment\", {x}"},
                          AlertEvent{0, fb, T(6), "received", "api", "", ""}});
    REQUIRE(Wait([&](StoreDone d) {
              h->AppendAlertEvents({AlertEvent{0, fa, T(9), "unsilenced", "s-1", "", ""}},
                                   std::move(d));
            }).ok());
    b->Reopen();
    h = b->history();

    auto all = h->QueryNotifications(NotificationQuery{});
    REQUIRE(all.ok());
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].receiver == "chat");  // newest first
    CHECK((*all)[2].id < (*all)[1].id);
    NotificationRecord want = MakeRecord(10, "pager", "failed", {{fa, true}, {fb, true}});
    want.id = (*all)[2].id;
    CHECK((*all)[2] == want);

    NotificationQuery q;
    q.fingerprint = fa;
    auto by_fp = h->QueryNotifications(q);
    REQUIRE(by_fp.ok());
    CHECK(by_fp->size() == 2);
    q = NotificationQuery{};
    q.receiver = "pager";
    q.outcome = "sent";
    auto sent = h->QueryNotifications(q);
    REQUIRE(sent.ok());
    REQUIRE(sent->size() == 1);
    CHECK((*sent)[0].attempt == 2);
    q = NotificationQuery{};
    q.since = T(11);
    q.until = T(20);
    auto window = h->QueryNotifications(q);
    REQUIRE(window.ok());
    REQUIRE(window->size() == 1);
    CHECK((*window)[0].at == T(11));
    // Pages of one, following the cursor, list everything once.
    q = NotificationQuery{};
    q.limit = 1;
    std::vector<std::string> pages;
    for (int i = 0; i < 4; ++i) {
      auto page = h->QueryNotifications(q);
      REQUIRE(page.ok());
      if (page->empty()) break;
      pages.push_back((*page)[0].receiver + "@" + std::to_string((*page)[0].attempt));
      q.before_id = (*page)[0].id;
    }
    CHECK(pages == std::vector<std::string>{"chat@2", "pager@2", "pager@1"});

    auto events = h->LoadAlertEvents(fa, 100);
    REQUIRE(events.ok());
    REQUIRE(events->size() == 3);
    CHECK((*events)[0].kind == "received");
    CHECK((*events)[1].by == "alice");
    CHECK((*events)[1].text == "a \"comment\", {x}");
    CHECK((*events)[2].kind == "unsilenced");
    auto latest = h->LoadAlertEvents(fa, 1);
    REQUIRE(latest.ok());
    REQUIRE(latest->size() == 1);
    CHECK((*latest)[0].kind == "unsilenced");

    REQUIRE(Wait([&](StoreDone d) { h->PruneHistory(T(11), std::move(d)); }).ok());
    all = h->QueryNotifications(NotificationQuery{});
    REQUIRE(all.ok());
    CHECK(all->size() == 2);
    q = NotificationQuery{};
    q.fingerprint = fa;
    by_fp = h->QueryNotifications(q);
    REQUIRE(by_fp.ok());
    CHECK(by_fp->size() == 1);
    events = h->LoadAlertEvents(fa, 100);
    REQUIRE(events.ok());
    CHECK(events->empty());
  }
}

TEST_CASE("schedule overrides round-trip, replace by id, delete, and survive a reopen") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    OverrideStore* o = b->overrides();
    // A store with a shared sequence gives increasing ids; one without answers 0.
    auto id1 = o->NextOverrideId();
    REQUIRE(id1.ok());
    auto id2 = o->NextOverrideId();
    REQUIRE(id2.ok());
    if (*id1 != 0) CHECK(*id2 > *id1);
    ScheduleOverride a{1, "primary", "bob", T(100), T(200), "swap, with; \\ chars", "alice",
                       T(50)};
    ScheduleOverride c{3, "primary", "carol", T(300), T(400), "", "token-x", T(60)};
    ScheduleOverride d{7, "secondary", "dave", T(0), T(10), "", "", T(0)};
    o->PutOverride(a);
    o->PutOverride(c);
    o->PutOverride(d);
    a.end = T(250);  // replaced by id
    o->PutOverride(a);
    REQUIRE(Wait([&](StoreDone done) { o->DeleteOverride(7, std::move(done)); }).ok());
    REQUIRE(Wait([&](StoreDone done) { o->DeleteOverride(99, std::move(done)); }).ok());
    b->Reopen();
    o = b->overrides();
    auto got = o->LoadOverrides();
    REQUIRE(got.ok());
    REQUIRE(got->size() == 2);
    CHECK((*got)[0] == a);
    CHECK((*got)[1] == c);
    // An id written from elsewhere (alertd migrate) is never given out again.
    REQUIRE(Wait([&](StoreDone done) {
              o->PutOverride(ScheduleOverride{1000, "p", "x", T(0), T(1), "", "", T(0)},
                             std::move(done));
            }).ok());
    auto next = o->NextOverrideId();
    REQUIRE(next.ok());
    if (*next != 0) CHECK(*next > 1000);
  }
}

TEST_CASE("writes apply in the order queued across stores, and a load sees earlier writes") {
  for (auto& b : Backends()) {
    CAPTURE(b->name());
    RouterStores st = b->stores();
    std::atomic<int> order{0};
    std::vector<int> seen(200, -1);
    for (int i = 0; i < 200; ++i) {
      auto done = [&, i](Status s) {
        CHECK(s.ok());
        seen[i] = order.fetch_add(1);
      };
      if (i % 2 == 0) {
        st.silences->PutSilences({MakeSilence("s" + std::to_string(i), i)}, done);
      } else {
        st.acks->PutAcks({MakeAck(i, i)}, done);
      }
    }
    st.silences->DeleteSilences({"s0"});
    // No wait for the writes: the loads come after them.
    auto silences = st.silences->LoadSilences();
    auto acks = st.acks->LoadAcks();
    REQUIRE(silences.ok());
    REQUIRE(acks.ok());
    CHECK(silences->size() == 99);
    CHECK(acks->size() == 100);
    // Every `done` ran once, in the order of the writes.
    for (int i = 0; i < 200; ++i) CHECK(seen[i] == i);
  }
}

TEST_CASE("the SQLite stores refuse writes after Close and lose none queued before it") {
  const std::string dir = MakeTempDir("router-stores-close");
  {
    auto db = storage::Database::Open(dir + "/alertd.db");
    REQUIRE(db.ok());
    storage::SqliteRouterStores st(std::move(*db));
    for (int i = 0; i < 50; ++i) st.PutSilences({MakeSilence("s" + std::to_string(i), i)}, {});
    st.Close();
    Status late =
        Wait([&](StoreDone d) { st.PutSilences({MakeSilence("late", 0)}, std::move(d)); });
    CHECK(late.code() == Status::Code::kUnavailable);
  }
  auto db = storage::Database::Open(dir + "/alertd.db");
  REQUIRE(db.ok());
  storage::SqliteRouterStores st(std::move(*db));
  auto loaded = st.LoadSilences();
  REQUIRE(loaded.ok());
  CHECK(loaded->size() == 50);
  RemoveTree(dir);
}

TEST_CASE("a PostgreSQL schema newer than this alertd is refused, naming both versions") {
  const std::string dsn = Server().NewDatabase();
  storage::PgTarget target{dsn, PostgresServer::kPassword};
  { REQUIRE(storage::OpenPgRouterStores(target).ok()); }
  Server().Psql("INSERT INTO alertd_schema (version) VALUES (99)",
                dsn.substr(dsn.find("dbname=") + 7, dsn.find(" user=") - dsn.find("dbname=") - 7));
  auto again = storage::OpenPgRouterStores(target);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message().find("schema version 99") != std::string::npos);
  CHECK(again.status().message().find("up to version 7") != std::string::npos);
}

TEST_CASE("a PostgreSQL migration not recorded yet runs even when a later one is recorded") {
  const std::string dsn = Server().NewDatabase();
  const std::string db =
      dsn.substr(dsn.find("dbname=") + 7, dsn.find(" user=") - dsn.find("dbname=") - 7);
  storage::PgTarget target{dsn, PostgresServer::kPassword};
  { REQUIRE(storage::OpenPgRouterStores(target).ok()); }
  CHECK(Server().Psql("SELECT string_agg(version::TEXT, ',' ORDER BY version) FROM alertd_schema",
                      db) == "1,2,3,4,5,6,7\n");
  // As a database migrated by an alertd that had version 4 and not yet version 2 would be.
  Server().Psql(
      "DELETE FROM alertd_schema WHERE version = 2; ALTER TABLE alerts RESET (fillfactor)", db);
  { REQUIRE(storage::OpenPgRouterStores(target).ok()); }
  CHECK(Server().Psql("SELECT string_agg(version::TEXT, ',' ORDER BY version) FROM alertd_schema",
                      db) == "1,2,3,4,5,6,7\n");
  CHECK(Server().Psql(
            "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'alerts'", db) ==
        "fillfactor=50\n");
}

TEST_CASE("a wrong PostgreSQL password is refused without the password in the error") {
  auto db = storage::OpenPgRouterStores({Server().dsn(), "not-the-Password-123"});
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().code() == Status::Code::kUnavailable);
  CHECK(db.status().message().find("password authentication failed") != std::string::npos);
  CHECK(db.status().message().find("not-the-Password-123") == std::string::npos);
}

TEST_CASE("with PostgreSQL down, writes fail at once; the store reconnects when it is back") {
  storage::PgTarget target{Server().NewDatabase(), PostgresServer::kPassword};
  auto opened = storage::OpenPgRouterStores(target);
  REQUIRE(opened.ok());
  auto& db = **opened;
  REQUIRE(
      Wait([&](StoreDone d) { db.PutSilences({MakeSilence("before", 0)}, std::move(d)); }).ok());
  Server().Stop();
  const auto t0 = std::chrono::steady_clock::now();
  Status down = Wait([&](StoreDone d) { db.PutSilences({MakeSilence("lost", 0)}, std::move(d)); });
  CHECK(down.code() == Status::Code::kUnavailable);
  CHECK(down.message().find(PostgresServer::kPassword) == std::string::npos);
  // Later writes fail fast too (the reconnection waits for its back-off, not each write).
  for (int i = 0; i < 20; ++i) {
    CHECK(Wait([&](StoreDone d) {
            db.PutSilences({MakeSilence("lost", 0)}, std::move(d));
          }).code() == Status::Code::kUnavailable);
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
  Server().Start();
  // Back within the back-off (1 s, doubling): a write succeeds again without a restart.
  REQUIRE(WaitFor(
      [&] {
        return Wait([&](StoreDone d) { db.PutSilences({MakeSilence("after", 0)}, std::move(d)); })
            .ok();
      },
      60s));
  auto loaded = db.LoadSilences();
  REQUIRE(loaded.ok());
  std::vector<std::string> ids;
  for (const auto& s : *loaded) ids.push_back(s.id);
  CHECK(ids == std::vector<std::string>{"after", "before"});
}

TEST_CASE("PostgreSQL ack ids: never the same from two stores, and after acks copied in") {
  storage::PgTarget target{Server().NewDatabase(), PostgresServer::kPassword};
  auto one = storage::OpenPgRouterStores(target);
  auto two = storage::OpenPgRouterStores(target);
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  auto a = (*one)->NextAckIds(3);
  auto b = (*two)->NextAckIds(3);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  std::set<int64_t> ids(a->begin(), a->end());
  ids.insert(b->begin(), b->end());
  CHECK(ids.size() == 6);
  // As alertd migrate writes them: ids of the source database, above the sequence.
  REQUIRE(Wait([&](StoreDone d) { (*one)->PutAcks({MakeAck(100, 7)}, std::move(d)); }).ok());
  auto next = (*two)->NextAckIds(1);
  REQUIRE(next.ok());
  REQUIRE(next->size() == 1);
  CHECK(next->front() == 101);
  // The SQLite stores leave ids to their one writer.
  SqliteBackend sqlite;
  auto none = sqlite.stores().acks->NextAckIds(2);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

}  // namespace alertd::testing
