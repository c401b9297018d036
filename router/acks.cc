#include "router/acks.h"

#include <algorithm>

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

}  // namespace alertd::router
