// The router's stores (core/router_state.h) in memory, for unit tests of the router's logic
// without a database. Faithful to the interfaces' contract: writes are applied and their
// `done` run on the fake's own writer thread, in the order queued; a Load runs after the
// writes queued before it. Tests can hold the writer (Hold/Release: what is queued meanwhile
// waits, as behind a slow fsync) and make writes fail (FailWrites: nothing of a failed call is
// applied, as a rolled-back savepoint). Reopen() forgets nothing: the maps are what a
// database would have committed.
//
// Several alertd processes sharing one database: routers Subscribe() as RemoteChanges
// (core/router_state.h), and every committed write of silences or acks is delivered to all of
// them, the writer included, on a feed thread of the fake's own (as PostgreSQL's change feed
// does); a deletion is delivered as a full resync. NextAckIds hands out ids from one counter,
// as a database sequence does.
//
// Thread-safe.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/history.h"
#include "core/router_state.h"

namespace alertd::testing {

class MemoryRouterStores final : public SilenceStore,
                                 public NotificationLogStore,
                                 public AckStore,
                                 public EscalationStore,
                                 public GroupTimerStore,
                                 public HeartbeatStore,
                                 public HistoryStore,
                                 public OverrideStore {
 public:
  MemoryRouterStores() : thread_([this] { Loop(); }), feed_thread_([this] { FeedLoop(); }) {}
  ~MemoryRouterStores() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
      held_ = false;
    }
    cv_.notify_all();
    thread_.join();
    {
      std::lock_guard l(feed_mu_);
      feed_stop_ = true;
    }
    feed_cv_.notify_all();
    feed_thread_.join();
  }

  // Delivers every later committed write of silences and acks to `sink` until Unsubscribe,
  // which waits for a delivery in progress. `sink` must stay valid until then.
  void Subscribe(RemoteChanges* sink) {
    std::lock_guard l(sinks_mu_);
    sinks_.push_back(sink);
  }
  void Unsubscribe(RemoteChanges* sink) {
    std::lock_guard l(sinks_mu_);
    std::erase(sinks_, sink);
  }
  // While true, deliveries are dropped (a lost notification); Resync() heals.
  void DropDeliveries(bool drop) {
    std::lock_guard l(feed_mu_);
    drop_ = drop;
  }
  // A full resync of every subscriber, on the feed thread.
  void Resync() {
    Deliver(
        [this](RemoteChanges* s) {
          (void)s->ResyncSilences([this] { return LoadSilences(); });
          (void)s->ResyncAcks([this] { return LoadAcks(); });
        },
        /*always=*/true);
  }

  // After every id used so far, stored or handed out (a sequence that starts after the acks
  // already written, as PostgreSQL's migration sets it).
  Result<std::vector<int64_t>> NextAckIds(size_t n) override {
    return Read<std::vector<int64_t>>([this, n] {
      if (!acks_.empty()) next_ack_id_ = std::max(next_ack_id_, acks_.rbegin()->first + 1);
      std::vector<int64_t> ids;
      for (size_t i = 0; i < n; ++i) ids.push_back(next_ack_id_++);
      return ids;
    });
  }

  RouterStores stores() { return RouterStores{this, this, this, this, this}; }

  // Holds the writer (after what is queued now) until Release(); returns once it is held.
  void Hold() {
    std::promise<void> holding;
    auto f = holding.get_future();
    {
      std::lock_guard l(mu_);
      held_ = true;
      queue_.push_back([this, &holding] {
        holding.set_value();
        std::unique_lock w(mu_);
        cv_.wait(w, [this] { return !held_; });
        return Status::Ok();
      });
      done_.push_back(nullptr);
    }
    cv_.notify_all();
    f.wait();
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  // While true, every write fails with Unavailable and changes nothing.
  void FailWrites(bool fail) {
    std::lock_guard l(mu_);
    fail_ = fail;
  }

  Result<std::vector<Silence>> LoadSilences() override {
    return Read<std::vector<Silence>>([this] {
      std::vector<Silence> out;
      for (const auto& [id, s] : silences_) out.push_back(s);
      return out;
    });
  }
  void PutSilences(std::vector<Silence> rows, StoreDone done) override {
    Write(
        [this, rows = std::move(rows)] {
          for (const auto& s : rows) silences_[s.id] = s;
          Deliver([rows](RemoteChanges* sink) { sink->SilencesCommitted(rows); });
        },
        std::move(done));
  }
  void DeleteSilences(std::vector<std::string> ids, StoreDone done) override {
    Write(
        [this, ids = std::move(ids)] {
          for (const auto& id : ids) silences_.erase(id);
          Deliver([this](RemoteChanges* sink) {
            (void)sink->ResyncSilences([this] { return LoadSilences(); });
          });
        },
        std::move(done));
  }

  Result<std::vector<std::pair<NflogKey, NflogEntry>>> LoadNflog(Time now) override {
    return Read<std::vector<std::pair<NflogKey, NflogEntry>>>([this, now] {
      std::vector<std::pair<NflogKey, NflogEntry>> out;
      for (const auto& [k, v] : nflog_) {
        if (v.second.expires_at > now) out.push_back(v);
      }
      return out;
    });
  }
  void PutNflog(NflogKey key, NflogEntry entry, StoreDone done) override {
    Write(
        [this, key = std::move(key), entry = std::move(entry)] {
          nflog_[key.String()] = {key, entry};
        },
        std::move(done));
  }
  void DeleteExpiredNflog(Time now, StoreDone done) override {
    Write(
        [this, now] {
          std::erase_if(nflog_,
                        [now](const auto& kv) { return kv.second.second.expires_at <= now; });
        },
        std::move(done));
  }

  Result<std::vector<Ack>> LoadAcks() override {
    return Read<std::vector<Ack>>([this] {
      std::vector<Ack> out;
      for (const auto& [id, a] : acks_) out.push_back(a);
      return out;
    });
  }
  void PutAcks(std::vector<Ack> rows, StoreDone done) override {
    Write(
        [this, rows = std::move(rows)] {
          for (const auto& a : rows) acks_[a.id] = a;
          Deliver([rows](RemoteChanges* sink) { sink->AcksCommitted(rows); });
        },
        std::move(done));
  }
  void DeleteAcks(std::vector<int64_t> ids, StoreDone done) override {
    Write(
        [this, ids = std::move(ids)] {
          for (int64_t id : ids) acks_.erase(id);
          Deliver([this](RemoteChanges* sink) {
            (void)sink->ResyncAcks([this] { return LoadAcks(); });
          });
        },
        std::move(done));
  }

  Result<std::vector<EscalationState>> LoadEscalations() override {
    return Read<std::vector<EscalationState>>([this] {
      std::vector<EscalationState> out;
      for (const auto& [k, e] : escalations_) out.push_back(e);
      return out;
    });
  }
  void PutEscalation(EscalationState st, StoreDone done) override {
    Write(
        [this, st = std::move(st)] {
          escalations_[{st.route_key, st.group_key}] = st;
        },
        std::move(done));
  }
  void DeleteEscalation(std::string route_key, std::string group_key, StoreDone done) override {
    Write([this, k = std::make_pair(std::move(route_key),
                                    std::move(group_key))] { escalations_.erase(k); },
          std::move(done));
  }

  Result<std::vector<GroupTimer>> LoadGroupTimers() override {
    return Read<std::vector<GroupTimer>>([this] {
      std::vector<GroupTimer> out;
      for (const auto& [k, t] : timers_) out.push_back(t);
      return out;
    });
  }
  void PutGroupTimer(GroupTimer t, StoreDone done) override {
    Write([this, t = std::move(t)] { timers_[{t.route_id, t.group_key}] = t; }, std::move(done));
  }
  void DeleteGroupTimer(std::string route_id, std::string group_key, StoreDone done) override {
    Write(
        [this, k = std::make_pair(std::move(route_id), std::move(group_key))] { timers_.erase(k); },
        std::move(done));
  }

  Result<std::vector<HeartbeatState>> LoadHeartbeats() override {
    return Read<std::vector<HeartbeatState>>([this] {
      std::vector<HeartbeatState> out;
      for (const auto& [k, h] : heartbeats_) out.push_back(h);
      return out;
    });
  }
  void PutHeartbeat(HeartbeatState st, StoreDone done) override {
    Write(
        [this, st = std::move(st)] {
          auto it = heartbeats_.find(st.name);
          if (it == heartbeats_.end() || st.last_ping >= it->second.last_ping) heartbeats_[st.name] = st;
        },
        std::move(done));
  }

  void AppendNotification(NotificationRecord rec, StoreDone done) override {
    Write(
        [this, rec = std::move(rec)]() mutable {
          rec.id = next_history_id_++;
          notifications_.push_back(std::move(rec));
        },
        std::move(done));
  }
  void AppendAlertEvents(std::vector<AlertEvent> events, StoreDone done) override {
    Write(
        [this, events = std::move(events)]() mutable {
          for (auto& e : events) {
            e.id = next_history_id_++;
            alert_events_.push_back(std::move(e));
          }
        },
        std::move(done));
  }
  Result<std::vector<NotificationRecord>> QueryNotifications(const NotificationQuery& q) override {
    return Read<std::vector<NotificationRecord>>([this, &q] {
      std::vector<NotificationRecord> out;
      for (auto it = notifications_.rbegin(); it != notifications_.rend() && out.size() < q.limit;
           ++it) {
        const NotificationRecord& r = *it;
        auto carried = [&](uint64_t fp) {
          return std::any_of(r.alerts.begin(), r.alerts.end(),
                             [fp](const NotifiedAlert& a) { return a.fingerprint == fp; });
        };
        if ((!q.receiver.empty() && r.receiver != q.receiver) ||
            (!q.integration.empty() && r.integration != q.integration) ||
            (!q.group_key.empty() && r.group_key != q.group_key) ||
            (!q.outcome.empty() && r.outcome != q.outcome) ||
            (q.fingerprint && !carried(*q.fingerprint)) ||
            (!IsZero(q.since) && r.at < q.since) || (!IsZero(q.until) && r.at >= q.until) ||
            (q.before_id > 0 && r.id >= q.before_id)) {
          continue;
        }
        out.push_back(r);
      }
      return out;
    });
  }
  Result<std::vector<AlertEvent>> LoadAlertEvents(uint64_t fingerprint, size_t limit) override {
    return Read<std::vector<AlertEvent>>([this, fingerprint, limit] {
      std::vector<AlertEvent> out;
      for (const auto& e : alert_events_) {
        if (e.fingerprint == fingerprint) out.push_back(e);
      }
      std::stable_sort(out.begin(), out.end(),
                       [](const AlertEvent& a, const AlertEvent& b) { return a.at < b.at; });
      if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<ptrdiff_t>(limit));
      return out;
    });
  }
  void PruneHistory(Time before, StoreDone done) override {
    Write(
        [this, before] {
          std::erase_if(notifications_, [&](const NotificationRecord& r) { return r.at < before; });
          std::erase_if(alert_events_, [&](const AlertEvent& e) { return e.at < before; });
        },
        std::move(done));
  }

  Result<std::vector<ScheduleOverride>> LoadOverrides() override {
    return Read<std::vector<ScheduleOverride>>([this] {
      std::vector<ScheduleOverride> out;
      for (const auto& [id, o] : overrides_) out.push_back(o);
      return out;
    });
  }
  void PutOverride(ScheduleOverride o, StoreDone done) override {
    Write([this, o = std::move(o)] { overrides_[o.id] = o; }, std::move(done));
  }
  void DeleteOverride(int64_t id, StoreDone done) override {
    Write([this, id] { overrides_.erase(id); }, std::move(done));
  }

 private:
  using Op = std::function<Status()>;

  void Write(std::function<void()> apply, StoreDone done) {
    Enqueue(
        [this, apply = std::move(apply)] {
          // Runs on the writer thread, the only one touching the maps.
          bool fail;
          {
            std::lock_guard l(mu_);
            fail = fail_;
          }
          if (fail) return Status::Unavailable("memory store: writes fail");
          apply();
          return Status::Ok();
        },
        std::move(done));
  }

  template <typename T>
  Result<T> Read(std::function<T()> read) {
    std::promise<T> p;
    auto f = p.get_future();
    Enqueue(
        [&p, &read] {
          p.set_value(read());
          return Status::Ok();
        },
        nullptr);
    return f.get();
  }

  void Enqueue(Op op, StoreDone done) {
    {
      std::lock_guard l(mu_);
      queue_.push_back(std::move(op));
      done_.push_back(std::move(done));
    }
    cv_.notify_all();
  }

  void Loop() {
    std::unique_lock l(mu_);
    while (true) {
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      Op op = std::move(queue_.front());
      StoreDone done = std::move(done_.front());
      queue_.pop_front();
      done_.pop_front();
      l.unlock();
      Status s = op();
      if (done) done(s);
      l.lock();
    }
  }

  // Queues `d` for every subscriber on the feed thread (after the write that calls it has
  // been applied: a Write's op runs before its commit is reported, as a NOTIFY is delivered
  // once its transaction commits).
  void Deliver(std::function<void(RemoteChanges*)> d, bool always = false) {
    {
      std::lock_guard l(feed_mu_);
      if (drop_ && !always) return;
      feed_.push_back(std::move(d));
    }
    feed_cv_.notify_all();
  }

  void FeedLoop() {
    std::unique_lock l(feed_mu_);
    while (true) {
      feed_cv_.wait(l, [this] { return feed_stop_ || !feed_.empty(); });
      if (feed_.empty()) return;
      auto d = std::move(feed_.front());
      feed_.pop_front();
      l.unlock();
      {
        std::lock_guard s(sinks_mu_);
        for (RemoteChanges* sink : sinks_) d(sink);
      }
      l.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> queue_;
  std::deque<StoreDone> done_;
  bool stop_ = false;
  bool held_ = false;  // Hold() was called and not released: the writer waits in its op
  bool fail_ = false;
  // Writer thread only.
  std::map<std::string, Silence> silences_;
  std::map<std::string, std::pair<NflogKey, NflogEntry>> nflog_;
  std::map<int64_t, Ack> acks_;
  std::map<std::pair<std::string, std::string>, EscalationState> escalations_;
  std::map<std::pair<std::string, std::string>, GroupTimer> timers_;
  std::map<std::string, HeartbeatState> heartbeats_;
  std::map<int64_t, ScheduleOverride> overrides_;
  std::vector<NotificationRecord> notifications_;
  std::vector<AlertEvent> alert_events_;
  int64_t next_history_id_ = 1;
  int64_t next_ack_id_ = 1;
  // The feed: deliveries waiting, and the subscribers.
  std::mutex feed_mu_;
  std::condition_variable feed_cv_;
  std::deque<std::function<void(RemoteChanges*)>> feed_;
  bool feed_stop_ = false;
  bool drop_ = false;
  std::mutex sinks_mu_;
  std::vector<RemoteChanges*> sinks_;
  std::thread thread_;  // last: start after the members they use
  std::thread feed_thread_;
};

}  // namespace alertd::testing
