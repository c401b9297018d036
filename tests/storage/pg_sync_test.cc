// Several alertd processes on one PostgreSQL database, played by two alert stores in this
// process, each with its own change feed (storage/pg_stores.h): what one commits reaches the
// other's memory and listeners, nothing committed is missed (a transaction with a lower id that
// commits later included), a lost notification and a deletion heal with the resync, and both
// end with the database's state.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "storage/alert_store.h"
#include "storage/pg_stores.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::storage;
using namespace std::chrono_literals;

namespace {

class SteadyClock final : public Clock {
 public:
  Time Now() const override { return std::chrono::system_clock::now(); }
};

const Time kT0 = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

Alert MakeAlert(const std::string& name, Time updated, const std::string& summary = "") {
  Alert a;
  a.labels.Set("alertname", name);
  if (!summary.empty()) a.annotations.Set("summary", summary);
  a.starts_at = kT0;
  a.ends_at = kT0 + 1h;
  a.updated_at = updated;
  a.generator_url = "http://prom/graph";
  return a;
}

std::string DbName(const std::string& dsn) {
  const size_t at = dsn.find("dbname=") + 7;
  return dsn.substr(at, dsn.find(' ', at) - at);
}

// One alertd process: its alert store, its change feed, and what its listeners were told.
struct Node {
  explicit Node(const PgTarget& pg, PgChangeFeedOptions opts = {}) {
    auto s = OpenPgAlertStore(pg, &clock);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    store = std::move(*s);
    store->Subscribe([this](const std::vector<AlertPtr>& changed) {
      std::lock_guard l(mu);
      for (const auto& a : changed) heard[a->labels.Get("alertname").data()].push_back(a);
    });
    auto f = StartPgChangeFeed(pg, store.get(), nullptr, opts);
    REQUIRE_MESSAGE(f.ok(), f.status().message());
    feed = std::move(*f);
  }
  ~Node() {
    feed->Stop();
    store->Close();
  }
  AlertPtr Find(const std::string& name) const {
    for (const auto& a : store->List()) {
      if (a->labels.Get("alertname") == name) return a;
    }
    return nullptr;
  }
  size_t Heard(const std::string& name) {
    std::lock_guard l(mu);
    return heard[name].size();
  }
  AlertPtr LastHeard(const std::string& name) {
    std::lock_guard l(mu);
    auto& v = heard[name];
    return v.empty() ? nullptr : v.back();
  }

  SteadyClock clock;
  std::unique_ptr<AlertStore> store;
  std::unique_ptr<PgChangeFeed> feed;
  std::mutex mu;
  std::map<std::string, std::vector<AlertPtr>> heard;
};

// What a store holds, comparable: fingerprint -> the alert.
std::map<uint64_t, Alert> Contents(const AlertStore& s) {
  std::map<uint64_t, Alert> out;
  for (const auto& a : s.List()) out.emplace(a->Fingerprint(), *a);
  return out;
}

}  // namespace

TEST_CASE("PostgreSQL: an alert put on one node is on the other within a second, via NOTIFY") {
  const PgTarget pg{testing::SharedPostgres().NewDatabase(), testing::PostgresServer::kPassword};
  // No polling to speak of: only the notification can bring the change in time.
  PgChangeFeedOptions opts;
  opts.poll_interval = 1h;
  opts.resync_interval = 1h;
  Node a(pg, opts), b(pg, opts);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(a.store->Put({MakeAlert("Disk", kT0, "full")}).ok());
  REQUIRE(testing::WaitFor([&] { return b.Heard("Disk") == 1; }, 10s));
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("seen on the other node after " << std::chrono::duration<double>(took).count() << " s");
  CHECK(took < 1s);
  REQUIRE(b.Find("Disk"));
  CHECK(b.Find("Disk")->annotations.Get("summary") == "full");
  CHECK(b.store->Size() == 1);
  // An update on the other node comes back the same way; the first node's listener hears it.
  REQUIRE(b.store->Put({MakeAlert("Disk", kT0 + 1s, "still full")}).ok());
  REQUIRE(testing::WaitFor([&] { return a.Heard("Disk") == 2; }, 10s));
  CHECK(a.Find("Disk")->annotations.Get("summary") == "still full");
  CHECK(a.LastHeard("Disk")->annotations.Get("summary") == "still full");
  // Each node's own commit came back to it too (before the other's, which it read after), and
  // changed nothing: every listener heard each version once.
  CHECK(a.Heard("Disk") == 2);
  CHECK(b.Heard("Disk") == 2);
  CHECK(a.store->Size() == 1);
}

TEST_CASE("PostgreSQL: an older version never overwrites a newer one in memory") {
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  Node a(pg), b(pg);
  REQUIRE(a.store->Put({MakeAlert("X", kT0 + 10s, "new")}).ok());
  REQUIRE(testing::WaitFor([&] { return b.Find("X") != nullptr; }, 10s));
  // A writer with an older version (a node that merged a late resend) commits after it: the
  // database keeps the newer version, and both nodes keep it too.
  REQUIRE(b.store->Put({MakeAlert("Y", kT0)}).ok());
  auto old_writer = OpenPgAlertStore(pg, &a.clock);
  REQUIRE(old_writer.ok());
  REQUIRE((*old_writer)->Put({MakeAlert("X", kT0 + 5s, "old")}).ok());
  (*old_writer)->Close();
  // A marker committed after the older write: once both nodes have it, they have read past it.
  REQUIRE(b.store->Put({MakeAlert("Marker", kT0)}).ok());
  REQUIRE(testing::WaitFor([&] { return a.Find("Marker") && b.Find("Marker"); }, 10s));
  CHECK(a.Find("X")->annotations.Get("summary") == "new");
  CHECK(b.Find("X")->annotations.Get("summary") == "new");
  CHECK(testing::SharedPostgres().Psql(
            "SELECT updated_at FROM alerts WHERE fingerprint = " +
                std::to_string(static_cast<int64_t>(MakeAlert("X", kT0).Fingerprint())),
            DbName(dsn)) ==
        std::to_string(
            std::chrono::duration_cast<std::chrono::nanoseconds>((kT0 + 10s).time_since_epoch())
                .count()) +
            "\n");
}

TEST_CASE("PostgreSQL: a transaction with a lower id that commits later is not missed") {
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  Node a(pg), b(pg);
  REQUIRE(a.store->Put({MakeAlert("Early", kT0), MakeAlert("Late", kT0)}).ok());
  REQUIRE(testing::WaitFor([&] { return b.Find("Early") && b.Find("Late"); }, 10s));
  const auto fp = [](const char* name) {
    return std::to_string(static_cast<int64_t>(MakeAlert(name, kT0).Fingerprint()));
  };
  // T1 takes its transaction id first and commits last; T2 takes a higher one and commits
  // first. Neither notifies: only the feed's reads can find them.
  auto t1 = PgConn::Connect(pg, "t1");
  auto t2 = PgConn::Connect(pg, "t2");
  REQUIRE(t1.ok());
  REQUIRE(t2.ok());
  REQUIRE((*t1)->Exec("BEGIN").ok());
  REQUIRE((*t1)
              ->Exec("UPDATE alerts SET generator_url = 'http://t1', updated_at = updated_at + 1, "
                     "xact = pg_current_xact_id() WHERE fingerprint = " +
                     fp("Early"))
              .ok());
  REQUIRE((*t2)
              ->Exec("UPDATE alerts SET generator_url = 'http://t2', updated_at = updated_at + 1, "
                     "xact = pg_current_xact_id() WHERE fingerprint = " +
                     fp("Late"))
              .ok());
  REQUIRE(testing::WaitFor([&] { return b.Find("Late")->generator_url == "http://t2"; }, 10s));
  CHECK(b.Find("Early")->generator_url == "http://prom/graph");
  REQUIRE((*t1)->Exec("COMMIT").ok());
  CHECK(testing::WaitFor([&] { return b.Find("Early")->generator_url == "http://t1"; }, 10s));
  CHECK(testing::WaitFor([&] { return a.Find("Early")->generator_url == "http://t1"; }, 10s));
}

TEST_CASE("PostgreSQL: a notification lost with the listener's connection heals") {
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  PgChangeFeedOptions opts;
  opts.poll_interval = 1h;  // only the reconnection's resync can bring what was missed
  opts.resync_interval = 1h;
  Node a(pg, opts), b(pg, opts);
  const int pid = b.feed->backend_pid();
  REQUIRE(pid != 0);
  testing::SharedPostgres().Psql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")",
                                 DbName(dsn));
  // Committed (and notified) while the other node's listener is gone.
  REQUIRE(a.store->Put({MakeAlert("WhileAway", kT0)}).ok());
  CHECK(testing::WaitFor([&] { return b.Find("WhileAway") != nullptr; }, 20s));
  CHECK(b.Heard("WhileAway") == 1);
  CHECK(testing::WaitFor([&] { return b.feed->backend_pid() != 0; }, 10s));
  CHECK(b.feed->backend_pid() != pid);
  // Listening again: the next change comes by notification.
  REQUIRE(a.store->Put({MakeAlert("AfterReconnect", kT0)}).ok());
  CHECK(testing::WaitFor([&] { return b.Find("AfterReconnect") != nullptr; }, 10s));
}

TEST_CASE("PostgreSQL: changes that notify nobody arrive with the next poll") {
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  PgChangeFeedOptions opts;
  opts.resync_interval = 1h;
  Node a(pg, opts), b(pg, opts);
  REQUIRE(a.store->Put({MakeAlert("Quiet", kT0)}).ok());
  REQUIRE(testing::WaitFor([&] { return b.Find("Quiet") != nullptr; }, 10s));
  const auto start = std::chrono::steady_clock::now();
  testing::SharedPostgres().Psql(
      "UPDATE alerts SET generator_url = 'http://quiet', updated_at = updated_at + 1, "
      "xact = pg_current_xact_id()",
      DbName(dsn));
  REQUIRE(testing::WaitFor([&] { return b.Find("Quiet")->generator_url == "http://quiet"; }, 10s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE(
    "PostgreSQL: an alert deleted from the database disappears from every node at the resync") {
  const std::string dsn = testing::SharedPostgres().NewDatabase();
  const PgTarget pg{dsn, testing::PostgresServer::kPassword};
  PgChangeFeedOptions opts;
  opts.resync_interval = 2s;
  Node a(pg, opts), b(pg, opts);
  REQUIRE(a.store->Put({MakeAlert("Gone", kT0), MakeAlert("Kept", kT0)}).ok());
  REQUIRE(testing::WaitFor([&] { return b.Find("Gone") && b.Find("Kept"); }, 10s));
  testing::SharedPostgres().Psql(
      "DELETE FROM alerts WHERE fingerprint = " +
          std::to_string(static_cast<int64_t>(MakeAlert("Gone", kT0).Fingerprint())),
      DbName(dsn));
  CHECK(testing::WaitFor([&] { return !a.Find("Gone") && !b.Find("Gone"); }, 15s));
  CHECK(a.Find("Kept"));
  CHECK(b.Find("Kept"));
}

TEST_CASE("PostgreSQL: concurrent writers on two nodes end with the same alerts everywhere") {
  const PgTarget pg{testing::SharedPostgres().NewDatabase(), testing::PostgresServer::kPassword};
  Node a(pg), b(pg);
  constexpr int kAlerts = 50, kRounds = 20;
  // Both nodes write the same alerts at once, each with its own summaries and times, as two
  // replicas that both receive a Prometheus's resends.
  auto writer = [&](Node& n, const std::string& who, int offset_ms) {
    for (int r = 0; r < kRounds; ++r) {
      std::vector<Alert> batch;
      for (int i = 0; i < kAlerts; ++i) {
        batch.push_back(MakeAlert("A" + std::to_string(i),
                                  kT0 + std::chrono::milliseconds(r * 10 + offset_ms),
                                  who + " round " + std::to_string(r)));
      }
      REQUIRE(n.store->Put(std::move(batch)).ok());
    }
  };
  std::thread ta([&] { writer(a, "a", 0); });
  std::thread tb([&] { writer(b, "b", 5); });
  ta.join();
  tb.join();
  auto fresh = OpenPgAlertStore(pg, &a.clock);
  REQUIRE(fresh.ok());
  const auto db = Contents(**fresh);
  REQUIRE(db.size() == static_cast<size_t>(kAlerts));
  CHECK(
      testing::WaitFor([&] { return Contents(*a.store) == db && Contents(*b.store) == db; }, 15s));
  // The newest version won everywhere: the last round of the writer whose times are later.
  for (const auto& [fp, alert] : db) CHECK(alert.annotations.Get("summary") == "b round 19");
}
