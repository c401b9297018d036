#include "router/acks.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace alertd::router {

Status Acknowledgements::Load() {
  if (!store_) return Status::Ok();
  auto loaded = store_->LoadAcks();
  if (!loaded.ok()) return loaded.status();
  std::vector<Ack> rows = std::move(*loaded);
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
  // Ids from the database when several processes write it (waiting for the store holding
  // write_mu_ alone, as the commit below does); otherwise from next_id_.
  std::vector<int64_t> ids;
  if (store_) {
    auto got = store_->NextAckIds(alerts.size());
    if (!got.ok()) return got.status().WithPrefix("persisting acknowledgements");
    ids = std::move(*got);
    if (!ids.empty() && ids.size() != alerts.size()) {
      return Status::Internal(
          "persisting acknowledgements: the store gave the wrong number of ids");
    }
  }
  int64_t id;
  {
    MutexLock l(mu_);
    id = next_id_;
    for (size_t i = 0; i < alerts.size(); ++i) {
      const auto& alert = alerts[i];
      const uint64_t fp = alert->Fingerprint();
      if (auto it = current_.find(fp); it != current_.end()) {
        Ack old = it->second;
        old.ended_at = now;
        old.end_reason = "replaced";
        replaced.push_back(std::move(old));
      }
      Ack a;
      a.id = ids.empty() ? id++ : ids[i];
      id = std::max(id, a.id + 1);
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
  if (store_) {
    std::vector<Ack> rows = replaced;
    rows.insert(rows.end(), made.begin(), made.end());
    Status s =
        AwaitStore([&](StoreDone done) { store_->PutAcks(std::move(rows), std::move(done)); });
    if (!s.ok()) return s.WithPrefix("persisting acknowledgements");
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
  if (store_) {
    Status s = AwaitStore([&](StoreDone done) { store_->PutAcks({a}, std::move(done)); });
    if (!s.ok()) return s.WithPrefix("persisting acknowledgement");
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
  if (store_ && !ended.empty()) store_->PutAcks(ended);
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
  if (store_ && !gone.empty()) store_->DeleteAcks(std::move(gone));
}

Acknowledgements::Applied Acknowledgements::ApplyLocked(std::vector<Ack>& rows) {
  Applied news;
  std::unordered_map<int64_t, size_t> in_history;  // id -> index into history_
  for (size_t i = 0; i < history_.size(); ++i) in_history.emplace(history_[i].id, i);
  bool appended = false;
  const auto to_history = [&](Ack a) {
    mu_.AssertHeld();  // the lambda runs here, under the caller's lock
    in_history[a.id] = history_.size();
    history_.push_back(std::move(a));
    appended = true;
  };
  for (auto& r : rows) {
    next_id_ = std::max(next_id_, r.id + 1);
    auto cur = current_.find(r.fingerprint);
    const bool is_current = cur != current_.end() && cur->second.id == r.id;
    if (auto h = in_history.find(r.id); h != in_history.end()) {
      // Ended here already: stays ended; the committed end wins over the one held.
      if (r.ended() && !(history_[h->second] == r)) history_[h->second] = std::move(r);
      continue;
    }
    if (r.ended()) {
      if (is_current) {
        current_.erase(cur);
        news.ended.push_back(r);
      }
      to_history(std::move(r));
      continue;
    }
    if (is_current) {
      cur->second = std::move(r);
    } else if (cur == current_.end()) {
      news.made.push_back(r);
      current_.emplace(r.fingerprint, std::move(r));
    } else if (cur->second.id < r.id) {
      // Two processes acknowledged the alert at once: the later ack (higher id) is current.
      Ack old = std::move(cur->second);
      old.ended_at = r.at;
      old.end_reason = "replaced";
      news.made.push_back(r);
      cur->second = std::move(r);
      to_history(std::move(old));
    } else {
      Ack older = std::move(r);
      older.ended_at = cur->second.at;
      older.end_reason = "replaced";
      to_history(std::move(older));
    }
  }
  if (appended) {
    std::stable_sort(history_.begin(), history_.end(),
                     [](const Ack& x, const Ack& y) { return x.ended_at < y.ended_at; });
  }
  return news;
}

Acknowledgements::Applied Acknowledgements::ApplyCommitted(std::vector<Ack> rows) {
  // Not between an Add's commit and its update of memory.
  MutexLock w(write_mu_);
  MutexLock l(mu_);
  return ApplyLocked(rows);
}

Result<Acknowledgements::Applied> Acknowledgements::Resync(
    const std::function<Result<std::vector<Ack>>()>& load) {
  // With Add and End held back, every ack held was committed before `load` reads (Reconcile
  // and garbage collection change memory first and the database after, so they only ever
  // leave the database behind memory, never ahead of it).
  MutexLock w(write_mu_);
  auto rows = load();
  if (!rows.ok()) return rows.status();
  std::unordered_set<int64_t> ids;
  for (const auto& r : *rows) ids.insert(r.id);
  MutexLock l(mu_);
  std::erase_if(current_, [&ids](const auto& kv) { return !ids.count(kv.second.id); });
  std::erase_if(history_, [&ids](const Ack& a) { return !ids.count(a.id); });
  return ApplyLocked(*rows);
}

}  // namespace alertd::router
