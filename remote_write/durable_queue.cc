#include "remote_write/durable_queue.h"

namespace alertd::remote_write {
namespace {

const std::vector<storage::Migration>& QueueMigrations() {
  static const std::vector<storage::Migration> m = {
      {1, "remote write queue",
       "CREATE TABLE remote_write_samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
       "queue TEXT NOT NULL, ts_ms INTEGER NOT NULL, series BLOB NOT NULL);"
       "CREATE INDEX remote_write_samples_queue ON remote_write_samples (queue, seq);"},
  };
  return m;
}

}  // namespace

Result<std::unique_ptr<DurableQueue>> DurableQueue::Open(const std::string& path) {
  storage::DatabaseOptions opts;
  // Survives kill -9; a power loss may lose the last commits (samples, not alert state).
  opts.synchronous = storage::Synchronous::kNormal;
  auto db = storage::Database::Open(path, opts, QueueMigrations());
  if (!db.ok()) return db.status().WithPrefix("remote write queue");
  return std::unique_ptr<DurableQueue>(new DurableQueue(std::move(*db)));
}

Result<int64_t> DurableQueue::Changes() {
  auto st = db_->Prepare("SELECT changes()");
  if (!st.ok()) return st.status();
  auto row = st->Step();
  if (!row.ok()) return row.status();
  return st->ColumnInt64(0);
}

Result<int64_t> DurableQueue::Count(const std::string& queue) {
  auto it = pending_.find(queue);
  if (it != pending_.end()) return static_cast<int64_t>(it->second);
  auto st = db_->Prepare("SELECT COUNT(*) FROM remote_write_samples WHERE queue = ?");
  if (!st.ok()) return st.status();
  st->BindText(1, queue);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  const int64_t n = st->ColumnInt64(0);
  pending_[queue] = static_cast<size_t>(n);
  return n;
}

Result<uint64_t> DurableQueue::Append(const std::string& queue,
                                      const std::vector<QueuedSample>& samples, size_t capacity) {
  std::lock_guard l(mu_);
  auto count = Count(queue);
  if (!count.ok()) return count.status();
  if (Status s = db_->Begin(); !s.ok()) return s;
  auto fail = [&](Status s) -> Result<uint64_t> {
    db_->Rollback();
    pending_.erase(queue);
    return s;
  };
  auto ins =
      db_->Prepare("INSERT INTO remote_write_samples (queue, ts_ms, series) VALUES (?, ?, ?)");
  if (!ins.ok()) return fail(ins.status());
  for (const auto& s : samples) {
    ins->BindText(1, queue);
    ins->BindInt64(2, s.ts_ms);
    ins->BindBlob(3, s.series);
    if (Status st = ins->Run(); !st.ok()) return fail(st);
    ins->Reset();
  }
  int64_t pending = *count + static_cast<int64_t>(samples.size());
  uint64_t dropped = 0;
  if (pending > static_cast<int64_t>(capacity)) {
    auto del = db_->Prepare(
        "DELETE FROM remote_write_samples WHERE seq IN (SELECT seq FROM remote_write_samples "
        "WHERE queue = ? ORDER BY seq LIMIT ?)");
    if (!del.ok()) return fail(del.status());
    del->BindText(1, queue);
    del->BindInt64(2, pending - static_cast<int64_t>(capacity));
    if (Status st = del->Run(); !st.ok()) return fail(st);
    auto n = Changes();
    if (!n.ok()) return fail(n.status());
    dropped = static_cast<uint64_t>(*n);
    pending -= *n;
  }
  if (Status s = db_->Commit(); !s.ok()) return fail(s);
  pending_[queue] = static_cast<size_t>(pending);
  return dropped;
}

Result<std::vector<QueuedSample>> DurableQueue::Peek(const std::string& queue, size_t n) {
  std::lock_guard l(mu_);
  auto st = db_->Prepare(
      "SELECT seq, ts_ms, series FROM remote_write_samples WHERE queue = ? ORDER BY seq "
      "LIMIT ?");
  if (!st.ok()) return st.status();
  st->BindText(1, queue);
  st->BindInt64(2, static_cast<int64_t>(n));
  std::vector<QueuedSample> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({st->ColumnInt64(0), st->ColumnInt64(1), std::string(st->ColumnBlob(2))});
  }
  return out;
}

Status DurableQueue::RemoveThrough(const std::string& queue, int64_t last_seq) {
  std::lock_guard l(mu_);
  auto count = Count(queue);
  if (!count.ok()) return count.status();
  auto st = db_->Prepare("DELETE FROM remote_write_samples WHERE queue = ? AND seq <= ?");
  if (!st.ok()) return st.status();
  st->BindText(1, queue);
  st->BindInt64(2, last_seq);
  if (Status s = st->Run(); !s.ok()) return s;
  auto n = Changes();
  if (!n.ok()) {
    pending_.erase(queue);
    return n.status();
  }
  pending_[queue] = static_cast<size_t>(std::max<int64_t>(0, *count - *n));
  return Status::Ok();
}

size_t DurableQueue::Pending(const std::string& queue) {
  std::lock_guard l(mu_);
  auto n = Count(queue);
  return n.ok() ? static_cast<size_t>(*n) : 0;
}

}  // namespace alertd::remote_write
