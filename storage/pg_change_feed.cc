// The change feed (storage/pg_stores.h): what other alertd processes sharing the PostgreSQL
// database commit reaches this one within a second.
//
// Why nothing committed is missed. Every row of `alerts`, `silences` and `acks` carries in
// `xact` the top-level transaction id (xid8: 64 bits, never wraps) of the transaction that
// wrote it last: the column's default sets it on insert, and every upsert sets it again in
// ON CONFLICT DO UPDATE. The feed reads, in one REPEATABLE READ transaction (one snapshot S),
//   X = pg_snapshot_xmin(S), then the rows with xact >= prev,
// and takes X as the next `prev`. By definition of a snapshot's xmin, every transaction whose
// id is below X had ended (committed or aborted) when S was taken, so S shows every row
// version those transactions committed; and no transaction whose id is below X can write
// anything later (transaction ids are handed out in increasing order, and X is at most the
// next one to be given out). So once a round has read under S, no row version with an xact
// below X that it has not read can ever appear. Anything a transaction with an id >= X
// commits (running at S, or started since) is read by a later round, whose range begins at
// X; where it overwrote a row before this round read it, this round reads the newer version
// (or the older, which the newer one then follows). Sequences or commit timestamps as
// high-water marks would not do: a transaction that took a lower value can commit after one
// with a higher value, and the reader would step over it for good.
//
// The rows at or above X that S shows are read too, not left to a later round: a transaction
// that stays open (a long report, a session idle in a transaction) holds X back for as long
// as it lasts, and what others commit meanwhile must not wait for it. Those rows are read
// again each round until X passes them, which applying tolerates (idempotent; an equal
// version changes nothing).
//
// Deletions leave nothing to read: each process runs the same garbage collection itself, and
// the full resync (every resync_interval and after every reconnection) reads every row, so
// whatever another process deleted is dropped here too. The full resync of a kind is its own
// REPEATABLE READ transaction and sets that kind's `prev` to its own snapshot's xmin, by the
// same argument.
//
// Notifications only say when to look: a lost one (a dropped connection, a notification sent
// while the feed reconnected) costs at most poll_interval.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "storage/pg_rows.h"
#include "storage/pg_stores.h"

namespace alertd::storage {
namespace {

// How long one wait for a notification lasts at most, so Stop() is not kept waiting.
constexpr std::chrono::milliseconds kWaitSlice{200};
// Reads follow each other at least this far apart: a burst of commits (and notifications)
// costs one read per gap, not one per commit.
constexpr std::chrono::milliseconds kMinFetchGap{50};

constexpr const char* kBeginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// The snapshot's xmin, as text (the form xid8 parameters are given back in).
constexpr const char* kHorizon = "SELECT pg_snapshot_xmin(pg_current_snapshot())::TEXT";

class Feed final : public PgChangeFeed {
 public:
  Feed(std::unique_ptr<PgConn> conn, AlertStore* alerts, RemoteChanges* router,
       PgChangeFeedOptions opts)
      : conn_(std::move(conn)), alerts_(alerts), router_(router), opts_(opts) {}
  ~Feed() override { Stop(); }

  // Listens and resyncs everything; the thread starts once that succeeded.
  Status Start() {
    if (Status s = Listen(); !s.ok()) return s;
    if (Status s = ResyncAll(); !s.ok()) return s;
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() override {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  int backend_pid() const override { return pid_.load(); }

 private:
  enum Kind { kAlerts, kSilences, kAcks };

  Status Listen() {
    Status s = conn_->Exec(std::string("LISTEN ") + kChangeChannel);
    pid_.store(s.ok() ? conn_->backend_pid() : 0);
    return s;
  }

  // Runs `read` in a REPEATABLE READ transaction; `*horizon` gets its snapshot's xmin.
  template <typename F>
  Status InSnapshot(std::string* horizon, F read) {
    if (Status s = conn_->Exec(kBeginSnapshot); !s.ok()) return s;
    Status s = Status::Ok();
    auto x = conn_->Query(kHorizon);
    if (!x.ok()) s = x.status();
    if (s.ok()) s = read();
    if (s.ok()) s = conn_->Commit();
    if (!s.ok()) {
      if (conn_->connected()) conn_->Rollback();
      return s;
    }
    *horizon = std::string(x->Bytes(0, 0));
    return Status::Ok();
  }

  // `cols` FROM `table`: the rows written from `prev` on, or (without) every row.
  static std::string Select(const char* cols, const char* table, bool since) {
    std::string sql = fmt::format("SELECT {} FROM {}", cols, table);
    if (since) sql += " WHERE xact >= $1::TEXT::xid8";
    return sql;
  }

  // Rows of one kind, decoded; a row that does not decode is logged and left out (it would
  // fail every later round the same way).
  template <typename T, typename Decode>
  Status ReadRows(const std::string& sql, const std::string& prev, Decode decode,
                  std::vector<T>* out) {
    std::vector<PgParam> params;
    if (!prev.empty()) params.push_back(PgParam::Text(prev));
    auto r = conn_->Query(sql, params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      auto row = decode(*r, i);
      if (!row.ok()) {
        spdlog::error("change feed: {}", row.status().message());
        continue;
      }
      out->push_back(std::move(*row));
    }
    return Status::Ok();
  }

  Status ReadAlerts(const std::string& prev, std::vector<std::pair<uint64_t, AlertPtr>>* out) {
    return ReadRows(
        Select(kAlertColumns, "alerts", !prev.empty()), prev,
        [](const PgResult& r, int i) { return AlertFromRow(r, i); }, out);
  }
  Status ReadSilences(const std::string& prev, std::vector<Silence>* out) {
    return ReadRows(
        Select(kSilenceColumns, "silences", !prev.empty()), prev,
        [](const PgResult& r, int i) { return SilenceFromRow(r, i); }, out);
  }
  Status ReadAcks(const std::string& prev, std::vector<Ack>* out) {
    return ReadRows(
        Select(kAckColumns, "acks", !prev.empty()), prev,
        [](const PgResult& r, int i) { return AckFromRow(r, i); }, out);
  }

  // What was committed since the last round, then applied (after the read transaction ends:
  // applying may wait for this process's own writes in progress).
  Status FetchChanges() {
    std::vector<std::pair<uint64_t, AlertPtr>> alerts;
    std::vector<Silence> silences;
    std::vector<Ack> acks;
    std::string x;
    Status s = InSnapshot(&x, [&]() -> Status {
      if (alerts_) {
        if (Status st = ReadAlerts(horizon_[kAlerts], &alerts); !st.ok()) return st;
      }
      if (router_) {
        if (Status st = ReadSilences(horizon_[kSilences], &silences); !st.ok()) return st;
        if (Status st = ReadAcks(horizon_[kAcks], &acks); !st.ok()) return st;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (alerts_ && !alerts.empty()) alerts_->ApplyCommitted(std::move(alerts));
    if (router_ && !silences.empty()) router_->SilencesCommitted(std::move(silences));
    if (router_ && !acks.empty()) router_->AcksCommitted(std::move(acks));
    for (auto& h : horizon_) h = x;
    return Status::Ok();
  }

  // Every row of every kind followed; each kind's horizon from its own read.
  Status ResyncAll() {
    if (alerts_) {
      std::string x;
      Status s = alerts_->Resync([&](std::vector<std::pair<uint64_t, AlertPtr>>* rows) {
        return InSnapshot(&x, [&] { return ReadAlerts("", rows); });
      });
      if (!s.ok()) return s.WithPrefix("change feed: resync of alerts");
      horizon_[kAlerts] = x;
    }
    if (router_) {
      std::string x;
      Status s = router_->ResyncSilences([&]() -> Result<std::vector<Silence>> {
        std::vector<Silence> rows;
        Status st = InSnapshot(&x, [&] { return ReadSilences("", &rows); });
        if (!st.ok()) return st;
        return rows;
      });
      if (!s.ok()) return s.WithPrefix("change feed: resync of silences");
      horizon_[kSilences] = x;
      s = router_->ResyncAcks([&]() -> Result<std::vector<Ack>> {
        std::vector<Ack> rows;
        Status st = InSnapshot(&x, [&] { return ReadAcks("", &rows); });
        if (!st.ok()) return st;
        return rows;
      });
      if (!s.ok()) return s.WithPrefix("change feed: resync of acks");
      horizon_[kAcks] = x;
    }
    return Status::Ok();
  }

  // Records whether the last step reached the database; logged when that changes only.
  void Note(const Status& s) {
    const bool up = s.ok();
    if (up && !up_) spdlog::info("change feed: following PostgreSQL again");
    if (!up && up_) spdlog::error("change feed: {}", s.message());
    up_ = up;
  }

  void Loop() {
    using Clock = std::chrono::steady_clock;
    auto last_fetch = Clock::now();
    auto next_resync = Clock::now() + opts_.resync_interval;
    bool resync = false;  // after a reconnection or a failed resync
    bool notified = false;
    while (!stop_.load()) {
      if (!conn_->connected()) {
        pid_.store(0);
        // Ready() tries at most once per back-off interval and fails at once in between.
        Status s = conn_->Ready();
        if (s.ok()) s = Listen();
        Note(s);
        if (!s.ok()) {
          std::this_thread::sleep_for(kWaitSlice);
          continue;
        }
        resync = true;
      }
      const auto now = Clock::now();
      if (resync || now >= next_resync) {
        Status s = ResyncAll();
        Note(s);
        resync = !s.ok();
        next_resync = Clock::now() + opts_.resync_interval;
        last_fetch = Clock::now();
        if (!s.ok() && conn_->connected()) std::this_thread::sleep_for(kWaitSlice);
        continue;
      }
      const auto until_fetch =
          last_fetch + (notified ? Clock::duration(kMinFetchGap) : opts_.poll_interval) - now;
      if (until_fetch <= Clock::duration::zero()) {
        Status s = FetchChanges();
        Note(s);
        notified = false;
        last_fetch = Clock::now();
        if (!s.ok() && conn_->connected()) std::this_thread::sleep_for(kWaitSlice);
        continue;
      }
      const auto wait = std::min<std::chrono::milliseconds>(
          kWaitSlice, std::chrono::ceil<std::chrono::milliseconds>(until_fetch));
      auto got = conn_->WaitForNotifications(wait);
      if (!got.ok()) {
        Note(got.status());
        continue;  // disconnected: the top of the loop reconnects
      }
      if (!got->empty()) notified = true;
    }
  }

  std::unique_ptr<PgConn> conn_;  // the feed thread's (Start's before it runs)
  AlertStore* alerts_;
  RemoteChanges* router_;
  const PgChangeFeedOptions opts_;
  // Per kind: the xmin of the snapshot it was last read under (the next round reads from it).
  std::string horizon_[3];
  bool up_ = true;
  std::atomic<bool> stop_{false};
  std::atomic<int> pid_{0};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<PgChangeFeed>> StartPgChangeFeed(const PgTarget& target, AlertStore* alerts,
                                                        RemoteChanges* router,
                                                        const PgChangeFeedOptions& opts) {
  auto conn = PgConn::Connect(target, "change feed");
  if (!conn.ok()) return conn.status();
  auto feed = std::make_unique<Feed>(std::move(*conn), alerts, router, opts);
  if (Status s = feed->Start(); !s.ok()) return s;
  return std::unique_ptr<PgChangeFeed>(std::move(feed));
}

}  // namespace alertd::storage
