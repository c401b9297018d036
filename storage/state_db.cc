#include "storage/state_db.h"

namespace alertd::storage {

Result<Statement*> SqliteConn::Stmt(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto st = db_->Prepare(sql);
    if (!st.ok()) return st.status();
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(*st))).first;
  }
  it->second->Reset();
  return it->second.get();
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

}  // namespace alertd::storage
