// `alertd migrate`: every kind of state copied from SQLite into a real PostgreSQL and back is
// the same value for value (resolved alerts included); a target
// that holds anything is refused; a database in use by a running alertd is refused.
#include "app/migrate.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "core/clock.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;

// Times around the real now: the stores' garbage collection looks at the clock.
const Time kBase = SystemClock().Now();
Time T(int s) { return kBase + std::chrono::seconds(s); }

config::StorageConfig SqliteAt(const std::string& path) {
  config::StorageConfig c;
  c.path = path;
  c.retention = 1000h;  // the test's own opens keep the old resolved alert
  return c;
}

config::StorageConfig PostgresAt(const std::string& dsn, const std::string& password_file) {
  config::StorageConfig c;
  c.postgres.dsn = dsn;
  c.postgres.password_file = password_file;
  c.retention = 1000h;
  return c;
}

app::State Open(const config::StorageConfig& c, const Clock* clock) {
  auto st = app::OpenState(c, clock, nullptr);
  INFO(st.status().message());
  REQUIRE(st.ok());
  return std::move(*st);
}

// Everything a State holds, in a comparable order.
struct Snapshot {
  std::vector<Alert> alerts;
  std::vector<RuleAlertRecord> rules;
  std::vector<Silence> silences;
  std::vector<std::pair<NflogKey, NflogEntry>> nflog;
  std::vector<Ack> acks;
  std::vector<EscalationState> escalations;
  std::vector<GroupTimer> timers;
  std::vector<HeartbeatState> heartbeats;
  std::vector<ScheduleOverride> overrides;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(app::State& st, Time now) {
  Snapshot s;
  for (const auto& a : st.alerts->List()) s.alerts.push_back(*a);
  auto rules = st.open_rule_state();
  REQUIRE(rules.ok());
  s.rules = *(*rules)->LoadAll();
  std::sort(s.rules.begin(), s.rules.end(), [](const auto& a, const auto& b) {
    return std::tie(a.group_key, a.rule_key) < std::tie(b.group_key, b.rule_key);
  });
  s.silences = *st.router->LoadSilences();
  std::sort(s.silences.begin(), s.silences.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  s.nflog = *st.router->LoadNflog(now);
  std::sort(s.nflog.begin(), s.nflog.end(),
            [](const auto& a, const auto& b) { return a.first.String() < b.first.String(); });
  s.acks = *st.router->LoadAcks();
  s.escalations = *st.router->LoadEscalations();
  std::sort(s.escalations.begin(), s.escalations.end(),
            [](const auto& a, const auto& b) { return a.group_key < b.group_key; });
  s.timers = *st.router->LoadGroupTimers();
  std::sort(s.timers.begin(), s.timers.end(),
            [](const auto& a, const auto& b) { return a.group_key < b.group_key; });
  s.heartbeats = *st.router->LoadHeartbeats();
  std::sort(s.heartbeats.begin(), s.heartbeats.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  s.overrides = *st.router->LoadOverrides();
  return s;
}

void Fill(app::State& st) {
  Alert firing;
  firing.labels = LabelSet{{"alertname", "Disk"}, {"host", "a"}};
  firing.annotations = LabelSet{{"summary", "full"}};
  firing.starts_at = T(0);
  firing.ends_at = T(100000);
  firing.updated_at = T(10);
  firing.generator_url = "http://prom/graph";
  Alert resolved = firing;
  resolved.labels = LabelSet{{"alertname", "Old"}};
  // Resolved 48 h ago, and copied all the same.
  resolved.starts_at = T(-50 * 3600);
  resolved.ends_at = T(-48 * 3600);
  resolved.updated_at = resolved.ends_at;
  REQUIRE(st.alerts->Put({firing, resolved}).ok());

  auto rules = st.open_rule_state();
  REQUIRE(rules.ok());
  RuleAlertRecord r;
  r.group_key = "rules.yml;disk";
  r.rule_key = "DiskFull#0";
  r.labels = LabelSet{{"alertname", "DiskFull"}};
  r.state = RuleAlertRecord::State::kPending;
  r.value = 0.97;
  r.active_at = T(1);
  REQUIRE((*rules)->ReplaceGroup(r.group_key, {r}).ok());
  r.group_key = "rules.yml;cpu";
  r.state = RuleAlertRecord::State::kFiring;
  r.fired_at = T(2);
  REQUIRE((*rules)->ReplaceGroup(r.group_key, {r}).ok());

  Silence s;
  s.id = "5c6d";
  s.matchers = *ParseMatchers(R"({alertname="Cpu", env=~"prod|stage"})");
  s.starts_at = T(0);
  s.ends_at = T(100000);
  s.updated_at = T(0);
  s.created_by = "alice";
  s.comment = "maintenance";
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutSilences({s}, std::move(d)); }).ok());
  NflogEntry e;
  e.group_key = "{}:{alertname=\"Disk\"}";
  e.firing = {1, 7};
  e.logged_at = T(3);
  e.expires_at = T(100000);
  REQUIRE(AwaitStore([&](StoreDone d) {
            st.router->PutNflog({e.group_key, "default", "webhook", 0}, e, std::move(d));
          }).ok());
  Ack current;
  current.id = 1;
  current.fingerprint = firing.labels.Fingerprint();
  current.labels = firing.labels;
  current.starts_at = T(0);
  current.by = "alice";
  current.token = "ops";
  current.comment = "looking";
  current.at = T(4);
  Ack ended = current;
  ended.id = 2;
  ended.ended_at = T(5);
  ended.end_reason = "resolved";
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutAcks({current, ended}, std::move(d)); })
              .ok());
  EscalationState esc;
  esc.route_key = "{}/{severity=\"page\"}";
  esc.group_key = e.group_key;
  esc.policy = "critical";
  esc.started_at = T(3);
  esc.round_start = T(3);
  esc.next_step = 1;
  esc.notified = {"leads"};
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutEscalation(esc, std::move(d)); }).ok());
  GroupTimer t{"{}", e.group_key, T(60), true};
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutGroupTimer(t, std::move(d)); }).ok());
  HeartbeatState hb{"nightly-backup", T(1), T(5), "backup done", "api"};
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutHeartbeat(hb, std::move(d)); }).ok());
  ScheduleOverride ov{4, "primary", "bob", T(10), T(20), "swap", "alice", T(2)};
  REQUIRE(AwaitStore([&](StoreDone d) { st.router->PutOverride(ov, std::move(d)); }).ok());
}

}  // namespace

TEST_CASE("migrate copies every kind of state SQLite -> PostgreSQL -> SQLite, value for value") {
  SystemClock clock;
  const std::string dir = MakeTempDir("alertd-migrate");
  WriteFile(dir + "/pgpass", std::string(PostgresServer::kPassword) + "\n");
  const std::string dsn = SharedPostgres().NewDatabase();
  const Time now = T(0);
  Snapshot original;
  {
    app::State src = Open(SqliteAt(dir + "/a.db"), &clock);
    Fill(src);
    original = Take(src, now);
  }
  REQUIRE(original.alerts.size() == 2);
  REQUIRE(original.rules.size() == 2);
  REQUIRE(original.acks.size() == 2);

  // The command itself, SQLite -> PostgreSQL.
  app::MigrateOptions to_pg;
  to_pg.from = dir + "/a.db";
  to_pg.to = dsn;
  to_pg.to_password_file = dir + "/pgpass";
  REQUIRE(app::RunMigrate(to_pg) == 0);
  {
    app::State pg = Open(PostgresAt(dsn, dir + "/pgpass"), &clock);
    CHECK(Take(pg, now) == original);
  }
  // A second run finds the target holding state and changes nothing.
  CHECK(app::RunMigrate(to_pg) == 1);
  {
    app::State src = Open(SqliteAt(dir + "/a.db"), &clock);
    app::State pg = Open(PostgresAt(dsn, dir + "/pgpass"), &clock);
    auto again = app::CopyState(src, pg, now);
    REQUIRE(!again.ok());
    CHECK(again.status().code() == Status::Code::kConflict);
    CHECK(again.status().message().find("already holds state (2 alerts, 2 rule alerts, 1 silence")
          != std::string::npos);
    CHECK(Take(pg, now) == original);
  }

  // And back: PostgreSQL -> a new SQLite file, through the interfaces alone.
  {
    app::State pg = Open(PostgresAt(dsn, dir + "/pgpass"), &clock);
    app::State back = Open(SqliteAt(dir + "/b.db"), &clock);
    auto copied = app::CopyState(pg, back, now);
    REQUIRE_MESSAGE(copied.ok(), copied.status().message());
    CHECK(copied->alerts == 2);
    CHECK(copied->nflog == 1);
    CHECK(copied->group_timers == 1);
    CHECK(copied->heartbeats == 1);
    CHECK(copied->overrides == 1);
    CHECK(Take(back, now) == original);
  }
  RemoveTree(dir);
}

TEST_CASE("migrate refuses a database a running alertd holds, and names it") {
  SystemClock clock;
  const std::string dir = MakeTempDir("alertd-migrate-busy");
  app::State running = Open(SqliteAt(dir + "/a.db"), &clock);
  auto held = app::OpenState(SqliteAt(dir + "/a.db"), &clock, nullptr);
  REQUIRE(!held.ok());
  CHECK(held.status().message().find("in use by another alertd") != std::string::npos);
  app::MigrateOptions opts;
  opts.from = dir + "/a.db";
  opts.to = dir + "/b.db";
  CHECK(app::RunMigrate(opts) == 1);
  RemoveTree(dir);
}

}  // namespace alertd::testing
