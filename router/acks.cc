#include "router/acks.h"

#include <algorithm>

#include "storage/codec.h"

namespace alertd::router {
namespace {

int64_t ToNanos(Time t) { return t.time_since_epoch().count(); }
Time FromNanos(int64_t n) { return Time(Duration(n)); }

constexpr const char* kUpsert =
    "INSERT OR REPLACE INTO acks (id, fingerprint, labels, starts_at, acked_by, comment, "
    "acked_at, expires_at, ended_at, end_reason, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

Status WriteRows(StateDb::Conn& c, const std::vector<Ack>& rows) {
  auto st = c.Stmt(kUpsert);
  if (!st.ok()) return st.status();
  storage::Statement* s = *st;
  for (const auto& a : rows) {
    s->Reset();
    s->BindInt64(1, a.id);
    s->BindInt64(2, static_cast<int64_t>(a.fingerprint));
    s->BindBlob(3, storage::EncodeLabelSet(a.labels));
    s->BindInt64(4, ToNanos(a.starts_at));
    s->BindText(5, a.by);
    s->BindText(6, a.comment);
    s->BindInt64(7, ToNanos(a.at));
    s->BindInt64(8, ToNanos(a.expires_at));
    s->BindInt64(9, ToNanos(a.ended_at));
    s->BindText(10, a.end_reason);
    s->BindText(11, a.token);
    if (Status r = s->Run(); !r.ok()) return r;
  }
  return Status::Ok();
}

}  // namespace

bool Ack::Covers(const Alert& alert, Time now) const {
  if (ended() || alert.Fingerprint() != fingerprint) return false;
  if (alert.ResolvedAt(now)) return false;
  if (!IsZero(expires_at) && now >= expires_at) return false;
  return alert.starts_at <= std::max(starts_at, at);
}

Status Acknowledgements::Load() {
  if (!db_) return Status::Ok();
  std::vector<Ack> rows;
  Status s = db_->Query(
      "SELECT id, fingerprint, labels, starts_at, acked_by, comment, acked_at, expires_at, "
      "ended_at, end_reason, token FROM acks ORDER BY id",
      [&rows](const storage::Statement& q) -> Status {
        Ack a;
        a.id = q.ColumnInt64(0);
        a.fingerprint = static_cast<uint64_t>(q.ColumnInt64(1));
        auto labels = storage::DecodeLabelSet(q.ColumnBlob(2));
        if (!labels.ok()) return labels.status().WithPrefix("ack " + std::to_string(a.id));
        a.labels = std::move(*labels);
        a.starts_at = FromNanos(q.ColumnInt64(3));
        a.by = std::string(q.ColumnText(4));
        a.comment = std::string(q.ColumnText(5));
        a.at = FromNanos(q.ColumnInt64(6));
        a.expires_at = FromNanos(q.ColumnInt64(7));
        a.ended_at = FromNanos(q.ColumnInt64(8));
        a.end_reason = std::string(q.ColumnText(9));
        a.token = std::string(q.ColumnText(10));
        rows.push_back(std::move(a));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  MutexLock l(mu_);
  for (auto& a : rows) {
    next_id_ = std::max(next_id_, a.id + 1);
    if (a.ended()) {
      history_.push_back(std::move(a));
    } else {
      current_[a.fingerprint] = std::move(a);
    }
  }
  std::stable_sort(history_.begin(), history_.end(),
                   [](const Ack& x, const Ack& y) { return x.ended_at < y.ended_at; });
  return Status::Ok();
}

Result<std::vector<Ack>> Acknowledgements::Add(
    const std::vector<std::shared_ptr<const Alert>>& alerts, const AckRequest& req, Time now) {
  // Changes are serialized by write_mu_ and committed without mu_: flushes ask CoveringAck for
  // every alert and must not wait behind the disk.
  MutexLock w(write_mu_);
  std::vector<Ack> made, replaced;
  int64_t id;
  {
    MutexLock l(mu_);
    id = next_id_;
    for (const auto& alert : alerts) {
      const uint64_t fp = alert->Fingerprint();
      if (auto it = current_.find(fp); it != current_.end()) {
        Ack old = it->second;
        old.ended_at = now;
        old.end_reason = "replaced";
        replaced.push_back(std::move(old));
      }
      Ack a;
      a.id = id++;
      a.fingerprint = fp;
      a.labels = alert->labels;
      a.starts_at = alert->starts_at;
      a.by = req.by;
      a.token = req.token;
      a.comment = req.comment;
      a.at = now;
      if (req.expires_in > Duration::zero()) a.expires_at = SaturatingAdd(now, req.expires_in);
      made.push_back(std::move(a));
    }
    // Ids are taken now, so a concurrent Reconcile never sees them reused.
    next_id_ = id;
  }
  if (db_) {
    std::vector<Ack> rows = replaced;
    rows.insert(rows.end(), made.begin(), made.end());
    Status s = db_->WriteSync([rows](StateDb::Conn& c) { return WriteRows(c, rows); });
    if (!s.ok()) return Status::Internal("persisting acknowledgements: " + s.message());
  }
  MutexLock l(mu_);
  for (auto& r : replaced) {
    // Reconcile may have ended it meanwhile (expired, resolved): then it is in the history
    // already, with that reason, which its later database write also says.
    auto it = current_.find(r.fingerprint);
    if (it == current_.end() || it->second.id != r.id) continue;
    current_.erase(it);
    RetireLocked(std::move(r));
  }
  for (const auto& a : made) current_[a.fingerprint] = a;
  made_ += made.size();
  return made;
}

Result<Ack> Acknowledgements::End(uint64_t fingerprint, const std::string& reason, Time now) {
  MutexLock w(write_mu_);
  Ack a;
  {
    MutexLock l(mu_);
    auto it = current_.find(fingerprint);
    if (it == current_.end()) return Status::NotFound("alert is not acknowledged");
    a = it->second;
  }
  a.ended_at = now;
  a.end_reason = reason;
  if (db_) {
    Status s = db_->WriteSync([a](StateDb::Conn& c) { return WriteRows(c, {a}); });
    if (!s.ok()) return Status::Internal("persisting acknowledgement: " + s.message());
  }
  MutexLock l(mu_);
  auto it = current_.find(fingerprint);
  // Ended by Reconcile meanwhile: that end (written after this one) stands.
  if (it == current_.end() || it->second.id != a.id) {
    return Status::NotFound("alert is not acknowledged");
  }
  current_.erase(it);
  RetireLocked(a);
  return a;
}

void Acknowledgements::RetireLocked(Ack a) {
  ++ended_counts_[a.end_reason];
  history_.push_back(std::move(a));
}

Acknowledgements::Counts Acknowledgements::GetCounts() const {
  MutexLock l(mu_);
  return Counts{made_, ended_counts_, current_.size()};
}

std::optional<Ack> Acknowledgements::Current(uint64_t fingerprint) const {
  MutexLock l(mu_);
  auto it = current_.find(fingerprint);
  if (it == current_.end()) return std::nullopt;
  return it->second;
}

std::optional<Ack> Acknowledgements::CoveringAck(const Alert& alert, Time now) const {
  MutexLock l(mu_);
  auto it = current_.find(alert.Fingerprint());
  if (it == current_.end() || !it->second.Covers(alert, now)) return std::nullopt;
  return it->second;
}

std::vector<Ack> Acknowledgements::Reconcile(const Lookup& lookup, Time now) {
  std::vector<uint64_t> fps;
  {
    MutexLock l(mu_);
    for (const auto& [fp, a] : current_) fps.push_back(fp);
  }
  // Alerts are looked up without the lock: the lookup may take the store's.
  std::vector<std::pair<uint64_t, std::shared_ptr<const Alert>>> alerts;
  alerts.reserve(fps.size());
  for (uint64_t fp : fps) {
    if (auto a = lookup(fp)) alerts.emplace_back(fp, std::move(*a));
  }

  std::vector<Ack> ended;
  MutexLock l(mu_);
  for (const auto& [fp, alert] : alerts) {
    auto it = current_.find(fp);
    if (it == current_.end()) continue;
    Ack a = it->second;
    if (alert && a.Covers(*alert, now)) continue;
    if (alert && alert->ResolvedAt(now)) {
      a.ended_at = std::max(a.at, alert->ends_at);
      a.end_reason = "resolved";
    } else if (!alert || alert->starts_at > std::max(a.starts_at, a.at)) {
      // Gone from the store, or a new incident started: the acknowledged one resolved.
      a.ended_at = now;
      a.end_reason = "resolved";
    } else {
      a.ended_at = a.expires_at;
      a.end_reason = "expired";
    }
    current_.erase(it);
    RetireLocked(a);
    ended.push_back(std::move(a));
  }
  if (db_ && !ended.empty()) {
    db_->Write([rows = ended](StateDb::Conn& c) { return WriteRows(c, rows); });
  }
  return ended;
}

std::vector<Ack> Acknowledgements::List(bool history) const {
  MutexLock l(mu_);
  std::vector<Ack> out;
  out.reserve(current_.size() + (history ? history_.size() : 0));
  for (const auto& [fp, a] : current_) out.push_back(a);
  if (history) out.insert(out.end(), history_.rbegin(), history_.rend());
  return out;
}

void Acknowledgements::CollectGarbage(Time now, Duration retention) {
  std::vector<int64_t> gone;
  {
    MutexLock l(mu_);
    auto keep = std::remove_if(history_.begin(), history_.end(), [&](const Ack& a) {
      if (a.ended_at + retention >= now) return false;
      gone.push_back(a.id);
      return true;
    });
    history_.erase(keep, history_.end());
  }
  if (db_ && !gone.empty()) {
    db_->Write([gone](StateDb::Conn& c) -> Status {
      auto st = c.Stmt("DELETE FROM acks WHERE id = ?");
      if (!st.ok()) return st.status();
      for (int64_t id : gone) {
        (*st)->Reset();
        (*st)->BindInt64(1, id);
        if (Status s = (*st)->Run(); !s.ok()) return s;
      }
      return Status::Ok();
    });
  }
}

}  // namespace alertd::router
