#include "storage/state_db.h"

#include <spdlog/spdlog.h>

#include <future>
#include <vector>

namespace alertd::storage {

Result<Statement*> StateDb::Conn::Stmt(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto st = db_->Prepare(sql);
    if (!st.ok()) return st.status();
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(*st))).first;
  }
  it->second->Reset();
  return it->second.get();
}

StateDb::StateDb(std::unique_ptr<Database> db, size_t max_queued)
    : max_queued_(std::max<size_t>(1, max_queued)),
      db_(std::move(db)),
      conn_(db_.get()),
      thread_([this] { Loop(); }) {
  stats_.capacity = static_cast<int64_t>(max_queued_);
}

StateDb::~StateDb() { Close(); }

void StateDb::Write(Op op, Done done) {
  {
    MutexLock l(mu_);
    if (!closed_ && queue_.size() >= max_queued_ &&
        std::this_thread::get_id() != thread_.get_id()) {
      stats_.delayed++;
      room_cv_.Wait(mu_, [&] {
        mu_.AssertHeld();
        return closed_ || queue_.size() < max_queued_;
      });
    }
    if (!closed_) {
      queue_.push_back(Item{std::move(op), std::move(done), false});
      stats_.length = static_cast<int64_t>(queue_.size());
      cv_.NotifyOne();
      return;
    }
  }
  if (done) done(Status::Unavailable("router state database is closed"));
}

Status StateDb::WriteSync(Op op) {
  std::promise<Status> p;
  auto f = p.get_future();
  Write(std::move(op), [&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

Status StateDb::Read(Op op) {
  std::promise<Status> p;
  auto f = p.get_future();
  {
    MutexLock l(mu_);
    if (closed_) return Status::Unavailable("router state database is closed");
    queue_.push_back(Item{std::move(op), [&p](Status s) { p.set_value(std::move(s)); }, true});
    stats_.length = static_cast<int64_t>(queue_.size());
    cv_.NotifyOne();
  }
  return f.get();
}

Status StateDb::Query(const std::string& sql, const RowFn& row, const Binder& bind) {
  return Read([&](Conn& c) -> Status {
    auto st = c.Stmt(sql);
    if (!st.ok()) return st.status();
    Statement* q = *st;
    if (bind) bind(*q);
    Status s = Status::Ok();
    for (;;) {
      auto more = q->Step();
      if (!more.ok()) {
        s = more.status();
        break;
      }
      if (!*more) break;
      s = row(*q);
      if (!s.ok()) break;
    }
    q->Reset();
    return s;
  });
}

void StateDb::Close() {
  {
    MutexLock l(mu_);
    if (closed_) return;
    closed_ = true;
    cv_.NotifyAll();
    room_cv_.NotifyAll();
  }
  thread_.join();
}

void StateDb::Loop() {
  mu_.lock();
  for (;;) {
    cv_.Wait(mu_, [this] {
      mu_.AssertHeld();
      return closed_ || !queue_.empty();
    });
    if (queue_.empty()) {
      if (closed_) break;
      continue;
    }
    if (queue_.front().read) {
      Item it = std::move(queue_.front());
      queue_.pop_front();
      stats_.length = static_cast<int64_t>(queue_.size());
      room_cv_.NotifyAll();
      mu_.unlock();
      Status s = it.op(conn_);
      it.done(std::move(s));
      mu_.lock();
      continue;
    }
    // Take every write queued up to the next read: one transaction.
    std::vector<Item> batch;
    while (!queue_.empty() && !queue_.front().read) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    stats_.length = static_cast<int64_t>(queue_.size());
    room_cv_.NotifyAll();
    mu_.unlock();
    std::vector<Status> results(batch.size());
    // Each operation runs in its own savepoint: one that fails is rolled back alone (its
    // partial writes undone) and reports its error; the others still commit together.
    Status s = db_->Begin();
    if (s.ok()) {
      for (size_t i = 0; i < batch.size() && s.ok(); ++i) {
        s = db_->Exec("SAVEPOINT op");
        if (!s.ok()) break;
        results[i] = batch[i].op(conn_);
        if (results[i].ok()) {
          s = db_->Exec("RELEASE op");
        } else {
          spdlog::error("router state: {} (rolled back)", results[i].message());
          s = db_->Exec("ROLLBACK TO op");
          if (s.ok()) s = db_->Exec("RELEASE op");
        }
      }
      if (s.ok()) s = db_->Commit();
      if (!s.ok()) db_->Rollback();
    }
    if (!s.ok()) spdlog::error("router state: commit failed: {}", s.message());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(s.ok() ? results[i] : s);
    }
    mu_.lock();
  }
  mu_.unlock();
}

}  // namespace alertd::storage
