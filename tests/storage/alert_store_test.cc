#include "storage/alert_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "storage/codec.h"
#include "storage/db.h"
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
         }
         // Checkpointed into the main file on close; scribble over a page in the middle.
         std::string bytes = testing::ReadFile(p);
         REQUIRE(bytes.size() > 4 * 4096);
         for (size_t i = 2 * 4096 + 100; i < 3 * 4096; ++i) bytes[i] = static_cast<char>(0xA5);
         testing::WriteFile(p, bytes);
       },
       "corrupt"},
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
  ManualClock clock(kT0);
  const std::string path = dir.File("alerts.db");
  LabelSet ls{{"alertname", "HighLatency"}, {"job", "api"}};
  {
    auto store = OpenStore(path, &clock);
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
  auto store = OpenStore(path, &clock);
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

TEST_CASE("a resolved alert that fires again is a new incident (replaced, not merged)") {
  TempDir dir;
  ManualClock clock(kT0);
  auto store = OpenStore(dir.File("a.db"), &clock);
  LabelSet ls{{"alertname", "Flap"}};
  REQUIRE(store->Put({MakeAlert(ls, kT0, kT0 + 1min, kT0)}).ok());
  clock.Advance(10min);
  REQUIRE(store->Put({MakeAlert(ls, kT0 + 10min, kT0 + 14min, kT0 + 10min)}).ok());
  auto a = store->Get(ls.Fingerprint());
  CHECK(a->starts_at == kT0 + 10min);
}

TEST_CASE("list is sorted by fingerprint; garbage collection drops old resolved alerts") {
  TempDir dir;
  ManualClock clock(kT0);
  AlertStoreOptions opts;
  opts.retention = 1h;
  const std::string path = dir.File("gc.db");
  {
    auto store = OpenStore(path, &clock, opts);
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
  auto store = OpenStore(path, &clock, opts);
  CHECK(store->Size() == 25);  // the deletions were committed
}

TEST_CASE("concurrent puts are all committed, listeners see every change after commit") {
  TempDir dir;
  ManualClock clock(kT0);
  const std::string path = dir.File("c.db");
  std::atomic<size_t> seen{0};
  {
    auto store = OpenStore(path, &clock);
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
  auto store = OpenStore(path, &clock);
  CHECK(store->Size() == 2000);
}

TEST_CASE("a failed commit is reported to the caller") {
  TempDir dir;
  ManualClock clock(kT0);
  auto db = Database::Open(dir.File("f.db"));
  REQUIRE(db.ok());
  // Make every write to the alerts table fail at the storage boundary.
  REQUIRE((*db)
              ->Exec("CREATE TRIGGER no_writes BEFORE INSERT ON alerts "
                     "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;")
              .ok());
  auto store = OpenAlertStore(std::move(*db), &clock);
  REQUIRE(store.ok());
  Status s = (*store)->Put({MakeAlert({{"alertname", "X"}}, kT0, kT0 + 1h, kT0)});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("disk says no") != std::string::npos);
}
