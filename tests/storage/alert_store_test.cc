#include "storage/alert_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "storage/alert_persistence.h"
#include "storage/codec.h"
#include "storage/db.h"
#include "storage/pg_stores.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::storage;
using namespace std::chrono_literals;

namespace {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time t) : now_(t) {}
  Time Now() const override {
    std::lock_guard l(mu_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard l(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  Time now_;
};

const Time kT0 = *ParseRFC3339("2024-05-01T10:00:00Z");

struct TempDir {
  std::string path = testing::MakeTempDir("alertd-storage");
  ~TempDir() { testing::RemoveTree(path); }
  std::string File(const std::string& name) const { return path + "/" + name; }
};

Alert MakeAlert(LabelSet labels, Time starts, Time ends, Time updated, std::string summary = "") {
  Alert a;
  a.labels = std::move(labels);
  if (!summary.empty()) a.annotations.Set("summary", summary);
  a.starts_at = starts;
  a.ends_at = ends;
  a.updated_at = updated;
  a.generator_url = "http://prom/graph";
  return a;
}

std::unique_ptr<AlertStore> OpenStore(const std::string& path, const Clock* clock,
                                      AlertStoreOptions opts = {}) {
  auto db = Database::Open(path);
  REQUIRE_MESSAGE(db.ok(), db.status().message());
  auto store = OpenAlertStore(std::move(*db), clock, opts);
  REQUIRE_MESSAGE(store.ok(), store.status().message());
  return std::move(*store);
}

// The backends the store's behaviour must not depend on: SQLite at a file of `dir`, and a
// fresh database on the test binary's PostgreSQL. `open` opens the store again on the same
// data.
struct Backend {
  std::string name;
  std::function<std::unique_ptr<AlertStore>(const Clock*, AlertStoreOptions)> open;
};

std::vector<Backend> Backends(const TempDir& dir, const std::string& file) {
  const std::string path = dir.File(file);
  const PgTarget pg{testing::SharedPostgres().NewDatabase(), testing::PostgresServer::kPassword};
  return {
      {"sqlite",
       [path](const Clock* clock, AlertStoreOptions opts) { return OpenStore(path, clock, opts); }},
      {"postgresql",
       [pg](const Clock* clock, AlertStoreOptions opts) {
         auto store = OpenPgAlertStore(pg, clock, opts);
         REQUIRE_MESSAGE(store.ok(), store.status().message());
         return std::move(*store);
       }},
  };
}

}  // namespace

TEST_CASE("label set codec round-trips, and rejects damaged input") {
  struct Row {
    const char* name;
    LabelSet ls;
  };
  std::string big(300, 'x');
  std::vector<Row> rows = {
      {"empty", LabelSet{}},
      {"simple", LabelSet{{"alertname", "A"}, {"job", "node"}}},
      {"empty value", LabelSet{{"a", ""}}},
      {"unicode and NUL", LabelSet{{"msg", std::string("caf\xC3\xA9 \0 end", 11)}}},
      {"long value (multi-byte varint)", LabelSet{{"long", big}}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto enc = EncodeLabelSet(row.ls);
    auto dec = DecodeLabelSet(enc);
    REQUIRE(dec.ok());
    CHECK(*dec == row.ls);
    if (!enc.empty() && row.ls.size() > 0) {
      CHECK_FALSE(DecodeLabelSet(enc.substr(0, enc.size() - 1)).ok());
      CHECK_FALSE(DecodeLabelSet(enc + "z").ok());
    }
  }
}

TEST_CASE("migrations: fresh database gets the latest version, and reopening resumes it") {
  TempDir dir;
  const int latest = AllMigrations().back().version;
  {
    auto db = Database::Open(dir.File("a.db"));
    REQUIRE(db.ok());
    CHECK(*(*db)->SchemaVersion() == latest);
  }
  auto db = Database::Open(dir.File("a.db"));
  REQUIRE(db.ok());
  CHECK(*(*db)->SchemaVersion() == latest);
}

TEST_CASE("migrations apply only the new steps, each atomically") {
  TempDir dir;
  std::vector<Migration> v1 = {{1, "t1", "CREATE TABLE t1 (x INTEGER);"}};
  {
    auto db = Database::Open(dir.File("m.db"), {}, v1);
    REQUIRE(db.ok());
    REQUIRE((*db)->Exec("INSERT INTO t1 VALUES (7)").ok());
  }
  SUBCASE("a later release adds a table; data survives") {
    auto v2 = v1;
    v2.push_back({2, "t2", "CREATE TABLE t2 (y TEXT);"});
    auto db = Database::Open(dir.File("m.db"), {}, v2);
    REQUIRE(db.ok());
    CHECK(*(*db)->SchemaVersion() == 2);
    auto st = (*db)->Prepare("SELECT x FROM t1");
    REQUIRE(st.ok());
    REQUIRE(*st->Step());
    CHECK(st->ColumnInt64(0) == 7);
  }
  SUBCASE("a failing migration is rolled back and reported") {
    auto v2 = v1;
    v2.push_back({2, "broken", "CREATE TABLE t2 (y TEXT); CREATE TABLE t1 (dup INTEGER);"});
    auto db = Database::Open(dir.File("m.db"), {}, v2);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().message().find("schema migration 2 (broken)") != std::string::npos);
    auto again = Database::Open(dir.File("m.db"), {}, v1);
    REQUIRE(again.ok());
    CHECK(*(*again)->SchemaVersion() == 1);
    CHECK_FALSE((*again)->Prepare("SELECT y FROM t2").ok());  // t2 was rolled back
  }
}

TEST_CASE("a database from a newer alertd is refused with a clear message") {
  TempDir dir;
  {
    auto db = Database::Open(dir.File("new.db"));
    REQUIRE(db.ok());
    REQUIRE((*db)->Exec("PRAGMA user_version = 9999").ok());
  }
  auto db = Database::Open(dir.File("new.db"));
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().message().find("written by a newer alertd (schema version 9999") !=
        std::string::npos);
}

TEST_CASE("a corrupt or foreign file gives a clear error and is never modified") {
  TempDir dir;
  struct Row {
    const char* name;
    std::function<void(const std::string&)> make;
    const char* expect;
  };
  std::vector<Row> rows = {
      {"not a database",
       [](const std::string& p) { testing::WriteFile(p, std::string(8192, 'g')); },
       "is not a valid alertd database"},
      {"damaged page",
       [&](const std::string& p) {
         {
           auto db = Database::Open(p);
           REQUIRE(db.ok());
           ManualClock clock(kT0);
           auto store = OpenAlertStore(std::move(*db), &clock);
           REQUIRE(store.ok());
           std::vector<Alert> many;
           for (int i = 0; i < 500; ++i) {
             many.push_back(MakeAlert({{"alertname", "A" + std::to_string(i)}}, kT0, kT0 + 1h, kT0,
                                      std::string(200, 's')));
           }
           REQUIRE((*store)->Put(many).ok());
           // Into the alerts table's B-tree, which PRAGMA quick_check walks.
           REQUIRE((*store)->Compact().ok());
         }
         // Checkpointed into the main file on close; scribble over its pages.
         std::string bytes = testing::ReadFile(p);
         REQUIRE(bytes.size() > 4 * 4096);
         // Every page after the schema's: the alerts' B-tree among them, whichever pages the
         // tables got.
         for (size_t i = 4096 + 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5);
         testing::WriteFile(p, bytes);
       },
       // The schema's own pages may be among them ("malformed"), or only the tables' pages
       // ("corrupt"): refused either way, as not alertd's database.
       "is not a valid alertd database"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const std::string p = dir.File(std::string(row.name) + ".db");
    row.make(p);
    const std::string before = testing::ReadFile(p);
    auto db = Database::Open(p);
    REQUIRE_FALSE(db.ok());
    CHECK_MESSAGE(db.status().message().find(row.expect) != std::string::npos,
                  db.status().message());
    CHECK(testing::ReadFile(p) == before);
  }
}

TEST_CASE("alert store merges by fingerprint as Alertmanager does and persists across restarts") {
  TempDir dir;
  for (const auto& b : Backends(dir, "alerts.db")) {
    CAPTURE(b.name);
    ManualClock clock(kT0);
    LabelSet ls{{"alertname", "HighLatency"}, {"job", "api"}};
    {
      auto store = b.open(&clock, {});
      // First firing, then a resend with a later endsAt and new annotations, then an older
      // startsAt from another replica: the earliest startsAt and the newest update win.
      REQUIRE(store->Put({MakeAlert(ls, kT0, kT0 + 4min, kT0, "first")}).ok());
      clock.Advance(1min);
      REQUIRE(store->Put({MakeAlert(ls, kT0 + 30s, kT0 + 5min, kT0 + 1min, "second")}).ok());
      clock.Advance(1min);
      REQUIRE(store->Put({MakeAlert(ls, kT0 - 1min, kT0 + 3min, kT0 + 2min, "third")}).ok());
      auto a = store->Get(ls.Fingerprint());
      REQUIRE(a);
      CHECK(a->starts_at == kT0 - 1min);
      CHECK(a->ends_at == kT0 + 5min);  // later non-timeout endsAt of the older update wins
      CHECK(a->annotations.Get("summary") == "third");
      CHECK(store->Size() == 1);
    }
    auto store = b.open(&clock, {});
    REQUIRE(store->Size() == 1);
    auto a = store->Get(ls.Fingerprint());
    REQUIRE(a);
    CHECK(a->starts_at == kT0 - 1min);
    CHECK(a->ends_at == kT0 + 5min);
    CHECK(a->updated_at == kT0 + 2min);
    CHECK(a->annotations.Get("summary") == "third");
    CHECK(a->generator_url == "http://prom/graph");
    CHECK(a->labels == ls);
  }
}

TEST_CASE("a resolved alert that fires again is a new incident (replaced, not merged)") {
  TempDir dir;
  for (const auto& b : Backends(dir, "a.db")) {
    CAPTURE(b.name);
    ManualClock clock(kT0);
    auto store = b.open(&clock, {});
    LabelSet ls{{"alertname", "Flap"}};
    REQUIRE(store->Put({MakeAlert(ls, kT0, kT0 + 1min, kT0)}).ok());
    clock.Advance(10min);
    REQUIRE(store->Put({MakeAlert(ls, kT0 + 10min, kT0 + 14min, kT0 + 10min)}).ok());
    auto a = store->Get(ls.Fingerprint());
    CHECK(a->starts_at == kT0 + 10min);
  }
}

TEST_CASE("list is sorted by fingerprint; garbage collection drops old resolved alerts") {
  TempDir dir;
  for (const auto& b : Backends(dir, "gc.db")) {
    CAPTURE(b.name);
    ManualClock clock(kT0);
    AlertStoreOptions opts;
    opts.retention = 1h;
    {
      auto store = b.open(&clock, opts);
      std::vector<Alert> batch;
      for (int i = 0; i < 50; ++i) {
        batch.push_back(MakeAlert({{"alertname", "A"}, {"i", std::to_string(i)}}, kT0,
                                  i % 2 ? kT0 + 10min : kT0 + 3h, kT0));
      }
      REQUIRE(store->Put(batch).ok());
      auto all = store->List();
      REQUIRE(all.size() == 50);
      for (size_t i = 1; i < all.size(); ++i)
        CHECK(all[i - 1]->Fingerprint() < all[i]->Fingerprint());

      clock.Advance(30min);  // odd ones resolved 20 minutes ago: within retention
      CHECK(*store->CollectGarbage() == 0);
      clock.Advance(1h);  // now resolved 80 minutes ago
      CHECK(*store->CollectGarbage() == 25);
      CHECK(store->Size() == 25);
    }
    auto store = b.open(&clock, opts);
    CHECK(store->Size() == 25);  // the deletions were committed
  }
}

TEST_CASE("concurrent puts are all committed, listeners see every change after commit") {
  TempDir dir;
  for (const auto& b : Backends(dir, "c.db")) {
    CAPTURE(b.name);
    ManualClock clock(kT0);
    std::atomic<size_t> seen{0};
    {
      auto store = b.open(&clock, {});
      store->Subscribe([&](const std::vector<AlertPtr>& changed) { seen += changed.size(); });
      std::vector<std::thread> threads;
      std::atomic<int> failures{0};
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
          for (int r = 0; r < 25; ++r) {
            std::vector<Alert> batch;
            for (int i = 0; i < 10; ++i) {
              batch.push_back(MakeAlert(
                  {{"alertname", "C"}, {"t", std::to_string(t)}, {"i", std::to_string(r * 10 + i)}},
                  kT0, kT0 + 1h, kT0));
            }
            if (!store->Put(std::move(batch)).ok()) ++failures;
          }
        });
      }
      for (auto& th : threads) th.join();
      CHECK(failures == 0);
      CHECK(store->Size() == 2000);
      CHECK(seen == 2000);
      store->Close();
      CHECK_FALSE(store->Put({MakeAlert({{"alertname", "late"}}, kT0, kT0 + 1h, kT0)}).ok());
    }
    auto store = b.open(&clock, {});
    CHECK(store->Size() == 2000);
  }
}

TEST_CASE("a failed commit is reported to the caller") {
  TempDir dir;
  ManualClock clock(kT0);
  auto db = Database::Open(dir.File("f.db"));
  REQUIRE(db.ok());
  // Make every write of the alert log fail at the storage boundary.
  REQUIRE((*db)
              ->Exec("CREATE TRIGGER no_writes BEFORE INSERT ON alert_log "
                     "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;")
              .ok());
  auto store = OpenAlertStore(std::move(*db), &clock);
  REQUIRE(store.ok());
  Status s = (*store)->Put({MakeAlert({{"alertname", "X"}}, kT0, kT0 + 1h, kT0)});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("disk says no") != std::string::npos);
}

namespace {

// Rows in a table of the database at `path`, read through a second connection.
int64_t CountRows(const std::string& path, const std::string& table) {
  DatabaseOptions ro;
  ro.read_only = true;
  auto db = Database::Open(path, ro);
  REQUIRE_MESSAGE(db.ok(), db.status().message());
  auto st = (*db)->Prepare("SELECT count(*) FROM " + table);
  REQUIRE(st.ok());
  auto row = st->Step();
  REQUIRE((row.ok() && *row));
  return st->ColumnInt64(0);
}

std::vector<Alert> Round(int n, Time starts, Time ends, Time updated, const std::string& summary) {
  std::vector<Alert> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(MakeAlert({{"alertname", "Log"}, {"i", std::to_string(i)}}, starts, ends, updated,
                            summary));
  }
  return out;
}

void CheckSame(const std::vector<AlertPtr>& want, const std::vector<AlertPtr>& got) {
  REQUIRE(want.size() == got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(want[i]->labels.String());
    CHECK(*want[i] == *got[i]);
  }
}

}  // namespace

TEST_CASE("alert log records round-trip, and damaged ones are refused") {
  Alert a = MakeAlert({{"alertname", "X"}, {"job", "api"}}, kT0, kT0 + 5min, kT0 + 1s, "hi");
  a.timeout = true;
  std::string blob;
  AppendFullRecord(a.Fingerprint(), a, &blob);
  AppendEndsRecord(42, a, &blob);
  AppendDeleteRecord(7, &blob);
  std::string_view in = blob;
  auto full = DecodeLogRecord(&in);
  REQUIRE(full.ok());
  CHECK(full->kind == LogRecordKind::kFull);
  CHECK(full->fingerprint == a.Fingerprint());
  CHECK(full->alert == a);
  auto ends = DecodeLogRecord(&in);
  REQUIRE(ends.ok());
  CHECK(ends->kind == LogRecordKind::kEnds);
  CHECK(ends->fingerprint == 42);
  CHECK(ends->alert.ends_at == a.ends_at);
  CHECK(ends->alert.updated_at == a.updated_at);
  CHECK(ends->alert.timeout);
  auto del = DecodeLogRecord(&in);
  REQUIRE(del.ok());
  CHECK(del->kind == LogRecordKind::kDelete);
  CHECK(del->fingerprint == 7);
  CHECK(in.empty());

  std::string full_only;
  AppendFullRecord(1, a, &full_only);
  for (size_t cut = 0; cut < full_only.size(); ++cut) {
    INFO("cut at " << cut);
    std::string_view part(full_only.data(), cut);
    CHECK_FALSE(DecodeLogRecord(&part).ok());
  }
  std::string bad_kind = full_only;
  bad_kind[0] = 9;
  std::string_view bk = bad_kind;
  CHECK_FALSE(DecodeLogRecord(&bk).ok());
}

TEST_CASE("resends are logged as endsAt updates and replayed over the table at start") {
  TempDir dir;
  ManualClock clock(kT0);
  const std::string path = dir.File("log.db");
  std::vector<AlertPtr> before;
  {
    auto store = OpenStore(path, &clock);
    REQUIRE(store->Put(Round(20, kT0, kT0 + 4min, kT0, "s")).ok());
    clock.Advance(1min);
    // A resend: only endsAt (and the update time) move.
    REQUIRE(store->Put(Round(20, kT0, kT0 + 5min, kT0 + 1min, "s")).ok());
    auto st = store->Stats();
    CHECK(st.full_records == 20);
    CHECK(st.ends_records == 20);
    clock.Advance(1min);
    // New annotations: whole alerts again.
    REQUIRE(store->Put(Round(10, kT0, kT0 + 6min, kT0 + 2min, "changed")).ok());
    st = store->Stats();
    CHECK(st.full_records == 30);
    CHECK(st.ends_records == 20);
    CHECK(st.log_rows_written == 3);
    before = store->List();
    CHECK(CountRows(path, "alerts") == 0);  // nothing compacted yet: all of it is in the log
  }
  auto store = OpenStore(path, &clock);
  CHECK(store->Stats().replayed_records == 50);
  CheckSame(before, store->List());
  auto a = store->Get(LabelSet{{"alertname", "Log"}, {"i", "15"}}.Fingerprint());
  REQUIRE(a);
  CHECK(a->ends_at == kT0 + 5min);
  CHECK(a->updated_at == kT0 + 1min);
  CHECK(a->annotations.Get("summary") == "s");
}

TEST_CASE("compaction moves the log into the alerts table; later records replay on top") {
  TempDir dir;
  ManualClock clock(kT0);
  const std::string path = dir.File("compact.db");
  AlertStoreOptions opts;
  opts.compact_chunk = 7;  // several transactions per pass
  std::vector<AlertPtr> before;
  {
    auto store = OpenStore(path, &clock, opts);
    for (int r = 0; r < 3; ++r) {
      REQUIRE(store->Put(Round(50, kT0, kT0 + 4min + r * 1min, kT0 + r * 1s, "s")).ok());
    }
    REQUIRE(store->Compact().ok());
    CHECK(CountRows(path, "alert_log") == 0);
    CHECK(CountRows(path, "alerts") == 50);
    auto st = store->Stats();
    CHECK(st.compactions == 1);
    CHECK(st.compacted_alerts == 50);
    // After compaction, a resend of half of them is only in the log again.
    REQUIRE(store->Put(Round(25, kT0, kT0 + 10min, kT0 + 10s, "s")).ok());
    CHECK(CountRows(path, "alert_log") == 1);
    before = store->List();
  }
  auto store = OpenStore(path, &clock, opts);
  CHECK(store->Stats().replayed_records == 25);
  CheckSame(before, store->List());
  CHECK(store->Get(LabelSet{{"alertname", "Log"}, {"i", "3"}}.Fingerprint())->ends_at ==
        kT0 + 10min);
  CHECK(store->Get(LabelSet{{"alertname", "Log"}, {"i", "40"}}.Fingerprint())->ends_at ==
        kT0 + 6min);
}

TEST_CASE("garbage-collected alerts do not come back from the log, compacted or not") {
  for (bool compact_first : {false, true}) {
    INFO("compacted before GC: " << compact_first);
    TempDir dir;
    ManualClock clock(kT0);
    const std::string path = dir.File("gc-log.db");
    AlertStoreOptions opts;
    opts.retention = 1h;
    {
      auto store = OpenStore(path, &clock, opts);
      REQUIRE(store->Put(Round(10, kT0, kT0 + 5min, kT0, "s")).ok());
      REQUIRE(store->Put({MakeAlert({{"alertname", "Stays"}}, kT0, kT0 + 48h, kT0)}).ok());
      if (compact_first) REQUIRE(store->Compact().ok());
      clock.Advance(2h);
      CHECK(*store->CollectGarbage() == 10);
    }
    {
      auto store = OpenStore(path, &clock, opts);
      CHECK(store->Size() == 1);
      // The same alert fires again after its deletion: a new incident, kept after restart.
      REQUIRE(
          store->Put({MakeAlert({{"alertname", "Log"}, {"i", "4"}}, kT0 + 2h, kT0 + 3h, kT0 + 2h)})
              .ok());
      REQUIRE(store->Compact().ok());
    }
    auto store = OpenStore(path, &clock, opts);
    CHECK(store->Size() == 2);
    CHECK(CountRows(path, "alerts") == 2);
  }
}

TEST_CASE("background compaction interleaves with puts, and a restart mid-pass loses nothing") {
  TempDir dir;
  ManualClock clock(kT0);
  const std::string path = dir.File("bg.db");
  AlertStoreOptions opts;
  opts.compact_min_records = 1;  // a pass after every commit
  opts.compact_records_per_alert = 1;
  opts.compact_chunk = 3;
  std::vector<AlertPtr> before;
  {
    auto store = OpenStore(path, &clock, opts);
    for (int r = 0; r < 30; ++r) {
      // Alternate resends with changes, so both kinds of record are compacted.
      REQUIRE(store
                  ->Put(Round(40, kT0, kT0 + 5min + r * 1s, kT0 + r * 1s,
                              r % 5 == 0 ? "v" + std::to_string(r) : "v0"))
                  .ok());
    }
    const auto st = store->Stats();
    CHECK(st.compacted_alerts > 0);
    CHECK(st.ends_records > 0);
    before = store->List();
    // Closing does not wait for the pass to finish.
  }
  auto store = OpenStore(path, &clock, opts);
  CheckSame(before, store->List());
  REQUIRE(store->Compact().ok());
  CHECK(CountRows(path, "alert_log") == 0);
  CheckSame(before, store->List());
}

TEST_CASE("a full alert store queue delays producers; every alert is stored") {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  REQUIRE(db.ok());
  ManualClock clock(kT0);
  AlertStoreOptions opts;
  opts.max_pending_alerts = 1;
  auto store = OpenAlertStore(std::move(*db), &clock, opts);
  REQUIRE(store.ok());
  AlertStore& s = **store;
  CHECK(s.WriteQueue().capacity == 1);
  // A listener (it runs on the writer thread) holds the writer after the first commit.
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, held = false;
  s.Subscribe([&](const std::vector<AlertPtr>&) {
    std::unique_lock l(mu);
    if (open) return;
    held = true;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
  });
  std::atomic<int> committed{0};
  const auto count = [&](Status st) {
    if (st.ok()) ++committed;
  };
  s.PutAsync({MakeAlert({{"alertname", "A"}}, kT0, kT0 + 1h, kT0)}, count);
  {
    std::unique_lock l(mu);
    REQUIRE(cv.wait_for(l, 10s, [&] { return held; }));
  }
  s.PutAsync({MakeAlert({{"alertname", "B"}}, kT0, kT0 + 1h, kT0)}, count);  // fills the queue
  CHECK(s.WriteQueue().length == 1);
  std::atomic<bool> queued{false};
  std::thread producer([&] {
    s.PutAsync({MakeAlert({{"alertname", "C"}}, kT0, kT0 + 1h, kT0)}, count);
    queued = true;
  });
  REQUIRE(testing::WaitFor([&] { return s.WriteQueue().delayed == 1; }, 10s));
  CHECK_FALSE(queued.load());
  {
    std::lock_guard l(mu);
    open = true;
    cv.notify_all();
  }
  producer.join();
  REQUIRE(testing::WaitFor([&] { return committed == 3; }, 10s));
  CHECK(s.Size() == 3);
  s.Close();
}

TEST_CASE("PostgreSQL down: puts fail with Unavailable, and the alerts go with the next commit") {
  ManualClock clock(kT0);
  const PgTarget pg{testing::SharedPostgres().NewDatabase(), testing::PostgresServer::kPassword};
  auto opened = OpenPgAlertStore(pg, &clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  REQUIRE(store.Put({MakeAlert({{"alertname", "Before"}}, kT0, kT0 + 1h, kT0)}).ok());
  testing::SharedPostgres().Stop();
  Status down = store.Put({MakeAlert({{"alertname", "During"}}, kT0, kT0 + 1h, kT0)});
  CHECK(down.code() == Status::Code::kUnavailable);
  // Still served from memory meanwhile.
  CHECK(store.Size() == 2);
  testing::SharedPostgres().Start();
  REQUIRE(testing::WaitFor(
      [&] { return store.Put({MakeAlert({{"alertname", "After"}}, kT0, kT0 + 1h, kT0)}).ok(); },
      60s));
  store.Close();
  auto again = OpenPgAlertStore(pg, &clock);
  REQUIRE(again.ok());
  std::vector<std::string> names;
  for (const auto& a : (*again)->List()) names.emplace_back(a->labels.Get("alertname"));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"After", "Before", "During"});
}

namespace {

// The database name in a DSN from PostgresServer::NewDatabase ("... dbname=alertd_3 ...").
std::string DbName(const std::string& dsn) {
  const size_t at = dsn.find("dbname=") + 7;
  return dsn.substr(at, dsn.find(' ', at) - at);
}

std::unique_ptr<PgConn> ConnectPg(const PgTarget& pg) {
  auto c = PgConn::Connect(pg, "test");
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  return std::move(*c);
}

PgStatement InsertKv(int64_t k, const std::string& v) {
  return {"INSERT INTO kv (k, v) VALUES ($1, $2)", {PgParam::Int(k), PgParam::Text(v)}};
}

int64_t CountKv(PgConn& c) {
  auto r = c.Query("SELECT count(*) FROM kv");
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r->Int(0, 0);
}

}  // namespace

TEST_CASE("PostgreSQL pipeline: all or nothing, the failing statement named, the connection kept") {
  const PgTarget pg{testing::SharedPostgres().NewDatabase(), testing::PostgresServer::kPassword};
  auto c = ConnectPg(pg);
  REQUIRE(c->Exec("CREATE TABLE kv (k BIGINT PRIMARY KEY, v TEXT NOT NULL)").ok());
  CHECK(c->Pipeline({}).ok());

  SUBCASE("a constraint violation in the middle rolls back the statements before it") {
    // The INSERT is prepared inside this pipeline, which then fails.
    Status s =
        c->Pipeline({InsertKv(1, "a"), InsertKv(2, "b"), InsertKv(1, "again"), InsertKv(3, "c")});
    CHECK(s.code() == Status::Code::kConflict);
    CHECK(s.message().find("pipeline: statement 3") != std::string::npos);
    CHECK(s.message().find("duplicate key") != std::string::npos);
    CHECK(CountKv(*c) == 0);
    // Usable again at once, the same statement included; the second pipeline commits.
    REQUIRE(c->Pipeline({InsertKv(1, "a"), InsertKv(2, "b")}).ok());
    REQUIRE(c->Pipeline({InsertKv(3, "c")}).ok());
    CHECK(CountKv(*c) == 3);
  }
  SUBCASE("a statement the server cannot prepare fails the pipeline, nothing runs") {
    Status s =
        c->Pipeline({InsertKv(1, "a"), {"INSERT INTO nowhere VALUES ($1)", {PgParam::Int(1)}}});
    CHECK(s.code() == Status::Code::kInternal);
    CHECK(s.message().find("pipeline: statement 2") != std::string::npos);
    CHECK(s.message().find("\"nowhere\" does not exist") != std::string::npos);
    CHECK(CountKv(*c) == 0);
  }
  SUBCASE("more parameters than the protocol carries are refused before anything is sent") {
    PgStatement big{"INSERT INTO kv (k, v) VALUES ($1, $2)", {}};
    big.params.assign(65536, PgParam::Int(1));
    Status s = c->Pipeline({InsertKv(1, "a"), big});
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(CountKv(*c) == 0);
  }
  SUBCASE("a lost connection is Unavailable; after Ready() pipelines work again") {
    REQUIRE(c->Pipeline({InsertKv(1, "a")}).ok());
    auto pid = c->Query("SELECT pg_backend_pid()");
    REQUIRE(pid.ok());
    auto other = ConnectPg(pg);
    auto killed =
        other->Query("SELECT pg_terminate_backend($1::INTEGER)", {PgParam::Int(pid->Int(0, 0))});
    REQUIRE_MESSAGE(killed.ok(), killed.status().message());
    REQUIRE(killed->Bool(0, 0));
    Status s = c->Pipeline({InsertKv(2, "b")});
    CHECK(s.code() == Status::Code::kUnavailable);
    REQUIRE(testing::WaitFor([&] { return c->Ready().ok(); }, 30s));
    REQUIRE(c->Pipeline({InsertKv(2, "b"), InsertKv(3, "c")}).ok());
    CHECK(CountKv(*other) == 3);
  }
}

TEST_CASE("PostgreSQL: a group commit whose second statement fails commits none of its alerts") {
  ManualClock clock(kT0);
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  auto opened = OpenPgAlertStore(pg, &clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  // The server refuses one alert; it is the 300th, so in the batch's second INSERT (256 rows
  // per statement).
  testing::SharedPostgres().Psql(
      "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.generator_url = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
      "RETURN NEW; END $$; "
      "CREATE TRIGGER refuse BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse()",
      DbName(dsn));
  std::vector<Alert> batch = Round(300, kT0, kT0 + 1h, kT0, "s");
  batch[299].generator_url = "boom";
  Status s = store.Put(batch);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("pipeline: statement 2") != std::string::npos);
  CHECK(s.message().find("refused by the test") != std::string::npos);
  CHECK(testing::SharedPostgres().Psql("SELECT count(*) FROM alerts", DbName(dsn)) == "0\n");
  // Once the server accepts them, the next commit carries the whole batch.
  testing::SharedPostgres().Psql("DROP TRIGGER refuse ON alerts", DbName(dsn));
  REQUIRE(store.Put({MakeAlert({{"alertname", "After"}}, kT0, kT0 + 1h, kT0)}).ok());
  CHECK(testing::SharedPostgres().Psql("SELECT count(*) FROM alerts", DbName(dsn)) == "301\n");
  store.Close();
}

TEST_CASE("PostgreSQL: resends rewrite alerts in place; the alerts table does not grow") {
  ManualClock clock(kT0);
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  auto opened = OpenPgAlertStore({dsn, testing::PostgresServer::kPassword}, &clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  auto table_bytes = [&] {
    return std::stoll(
        testing::SharedPostgres().Psql("SELECT pg_relation_size('alerts')", DbName(dsn)));
  };
  REQUIRE(store.Put(Round(1000, kT0, kT0 + 1h, kT0, "s")).ok());
  const int64_t first = table_bytes();
  // Prometheus resends every alert with a later endsAt: each resend is a new row version.
  for (int r = 1; r <= 9; ++r) {
    clock.Advance(1min);
    REQUIRE(store.Put(Round(1000, kT0, kT0 + 1h + r * 1min, kT0 + r * 1min, "s")).ok());
  }
  const int64_t after = table_bytes();
  INFO("alerts table: " << first << " bytes after the first round, " << after << " after ten");
  // On full pages each update moves its row to another page (the table doubles at the first
  // resend and keeps growing until vacuumed); with room on the page it stays where it was.
  CHECK(after * 4 <= first * 5);
  store.Close();
}

namespace {

// A persistence with two commit slots whose commits each wait until the test releases them (by
// number, in the order they started), and which records any fingerprint that two commits in
// flight share.
class GatedPersistence final : public AlertPersistence {
 public:
  struct Started {
    size_t slot;
    std::vector<AlertPtr> alerts;
  };

  size_t commit_slots() const override { return 2; }
  Status Load(std::unordered_map<uint64_t, AlertPtr>*) override { return Status::Ok(); }
  Status Commit(size_t slot, const std::vector<Change>& changes,
                const std::unordered_set<uint64_t>& /*deletes*/) override {
    std::unique_lock l(mu_);
    const size_t n = started_.size();
    Started& st = started_.emplace_back();
    st.slot = slot;
    for (const auto& c : changes) {
      st.alerts.push_back(c.alert);
      if (!in_flight_.insert(c.fingerprint).second) ++shared_;
    }
    cv_.notify_all();
    cv_.wait(l, [&] { return released_.count(n) > 0; });
    for (const auto& c : changes) in_flight_.erase(c.fingerprint);
    return Status::Ok();
  }

  // Waits until `n` commits have started; a copy of them.
  std::vector<Started> WaitStarted(size_t n) {
    std::unique_lock l(mu_);
    REQUIRE(cv_.wait_for(l, 10s, [&] { return started_.size() >= n; }));
    return started_;
  }
  // Whether `n` commits start within `d`.
  bool StartsWithin(size_t n, Duration d) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, d, [&] { return started_.size() >= n; });
  }
  void Release(size_t n) {
    std::lock_guard l(mu_);
    released_.insert(n);
    cv_.notify_all();
  }
  // Lets every commit through from now on (so a failed test can close its store).
  void ReleaseAll() {
    std::lock_guard l(mu_);
    for (size_t i = 0; i < 1000; ++i) released_.insert(i);
    cv_.notify_all();
  }
  int shared() {
    std::lock_guard l(mu_);
    return shared_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Started> started_;
  std::set<size_t> released_;
  std::unordered_set<uint64_t> in_flight_;
  int shared_ = 0;
};

}  // namespace

TEST_CASE("with two commit slots a batch commits while the one before waits, never the same alert") {
  ManualClock clock(kT0);
  std::promise<Status> a_done, b_done, a2_done;  // before the store: it may still call them
  auto owned = std::make_unique<GatedPersistence>();
  GatedPersistence& p = *owned;
  auto opened = OpenAlertStoreOn(std::move(owned), &clock, {});
  REQUIRE(opened.ok());
  AlertStore& store = **opened;
  struct Opener {
    GatedPersistence& p;
    ~Opener() { p.ReleaseAll(); }
  } opener{p};
  store.PutAsync({MakeAlert({{"alertname", "A"}}, kT0, kT0 + 1h, kT0, "first")},
                 [&](Status s) { a_done.set_value(s); });
  p.WaitStarted(1);
  // The first commit is held: the next batch goes out on the other slot meanwhile.
  store.PutAsync({MakeAlert({{"alertname", "B"}}, kT0, kT0 + 1h, kT0)},
                 [&](Status s) { b_done.set_value(s); });
  auto started = p.WaitStarted(2);
  CHECK(started[0].slot != started[1].slot);
  p.Release(1);
  auto b = b_done.get_future();
  REQUIRE(b.wait_for(10s) == std::future_status::ready);
  CHECK(b.get().ok());
  auto a = a_done.get_future();
  CHECK(a.wait_for(0s) == std::future_status::timeout);  // still in flight
  // A new version of A waits for the commit of the old one, though a slot is free.
  store.PutAsync({MakeAlert({{"alertname", "A"}}, kT0, kT0 + 2h, kT0 + 1min, "second")},
                 [&](Status s) { a2_done.set_value(s); });
  // Something that must not happen is given a moment to: a writer that took the batch would
  // start its commit at once.
  CHECK_FALSE(p.StartsWithin(3, 500ms));
  p.Release(0);
  REQUIRE(a.wait_for(10s) == std::future_status::ready);
  CHECK(a.get().ok());
  started = p.WaitStarted(3);
  REQUIRE(started[2].alerts.size() == 1);
  CHECK(started[2].alerts[0]->annotations.Get("summary") == "second");
  p.Release(2);
  auto a2 = a2_done.get_future();
  REQUIRE(a2.wait_for(10s) == std::future_status::ready);
  CHECK(a2.get().ok());
  CHECK(p.shared() == 0);
  store.Close();
}

TEST_CASE("PostgreSQL: a commit waiting on the server does not hold back the next batch") {
  ManualClock clock(kT0);
  std::promise<Status> x2_done, y_done;  // before the store: it may still call them
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  auto opened = OpenPgAlertStore(pg, &clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  const Alert x = MakeAlert({{"alertname", "X"}}, kT0, kT0 + 1h, kT0, "first");
  REQUIRE(store.Put({x}).ok());
  // Another session holds X's row: the commit of X's next version waits for it.
  auto other = ConnectPg(pg);
  REQUIRE(other->Exec("BEGIN").ok());
  REQUIRE(other
              ->Query("SELECT 1 FROM alerts WHERE fingerprint = $1 FOR UPDATE",
                      {PgParam::Int(static_cast<int64_t>(x.Fingerprint()))})
              .ok());
  store.PutAsync({MakeAlert({{"alertname", "X"}}, kT0, kT0 + 2h, kT0 + 1min, "second")},
                 [&](Status s) { x2_done.set_value(s); });
  REQUIRE(testing::WaitFor(
      [&] {
        return testing::SharedPostgres().Psql(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND datname = current_database()",
                   DbName(dsn)) == "1\n";
      },
      10s));
  store.PutAsync({MakeAlert({{"alertname", "Y"}}, kT0, kT0 + 1h, kT0)},
                 [&](Status s) { y_done.set_value(s); });
  auto y = y_done.get_future();
  REQUIRE(y.wait_for(10s) == std::future_status::ready);
  CHECK(y.get().ok());
  auto x2 = x2_done.get_future();
  CHECK(x2.wait_for(0s) == std::future_status::timeout);
  REQUIRE(other->Exec("COMMIT").ok());
  REQUIRE(x2.wait_for(10s) == std::future_status::ready);
  CHECK(x2.get().ok());
  store.Close();
  auto again = OpenPgAlertStore(pg, &clock);
  REQUIRE(again.ok());
  REQUIRE((*again)->Size() == 2);
  CHECK((*again)->Get(x.Fingerprint())->annotations.Get("summary") == "second");
}
