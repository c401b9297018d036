// Acknowledgements: a person's statement "I have this alert", made through the REST API
// (api/acks_v1.cc). An ack belongs to one incident of one alert: the alert's fingerprint and
// the startsAt it had when acknowledged. It stops being current when that incident resolves
// (a re-fire is a new, unacknowledged incident), when it expires, when it is taken back
// (DELETE) or replaced by a newer ack; ended acks stay in the history. Acks are kept in memory
// and persisted through an AckStore (core/router_state.h) before a change is reported.
//
// This class only keeps the records; the Router (router/router.h) checks the alert exists
// and is firing, tells the pipeline (acknowledge events, escalation) and implements the
// AckService the API calls.
//
// Thread-safe. Changes (Add, End) are serialized among themselves and committed without
// holding the lock readers take, so CoveringAck (every flush) never waits behind a disk write
// (lock order: router/lock_order.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/alert.h"
#include "core/matcher.h"
#include "core/result.h"
#include "core/router_state.h"
#include "core/thread_annotations.h"

namespace alertd::router {

struct AckRequest {
  std::string by;     // REQUIRES: not empty (the API fills in the default)
  std::string token;  // the authenticated token's name (api Request::principal); may be empty
  std::string comment;
  Duration expires_in = Duration::zero();  // zero: never expires
};

// What the API needs: implemented by the Router. Thread-safe.
class AckService {
 public:
  virtual ~AckService() = default;
  // Acknowledges the alert with this fingerprint, replacing its current ack if any. Errors:
  // NotFound (no such alert), Conflict (the alert is resolved), Internal or Unavailable (not
  // persisted; Unavailable: the database is unreachable).
  virtual Result<Ack> Acknowledge(uint64_t fingerprint, const AckRequest& req) = 0;
  // Takes the current ack back. NotFound when the alert is not acknowledged.
  virtual Result<Ack> Unacknowledge(uint64_t fingerprint) = 0;
  // Acknowledges every firing alert whose labels match `matchers` now (not a standing rule).
  // Returns the acks made, by fingerprint. Internal or Unavailable when they could not be
  // persisted.
  virtual Result<std::vector<Ack>> AcknowledgeMatching(const Matchers& matchers,
                                                       const AckRequest& req) = 0;
  // Acknowledges those of the listed alerts that are firing now (the alerts of a group, as
  // the web page sends them), in one write; unknown and resolved ones are left out of the
  // result. Errors as AcknowledgeMatching.
  virtual Result<std::vector<Ack>> AcknowledgeAll(const std::vector<uint64_t>& fingerprints,
                                                  const AckRequest& req) = 0;
  // Current acks (sorted by fingerprint), and with `history` the ended ones too (newest
  // first, after the current ones).
  virtual std::vector<Ack> ListAcks(bool history) = 0;
  // The ack covering this alert now, if any.
  virtual std::optional<Ack> AckOf(const Alert& alert) const = 0;
};

class Acknowledgements {
 public:
  // `store` may be null (nothing persisted). It must outlive this.
  explicit Acknowledgements(AckStore* store) : store_(store) {}

  // Loads current acks and the history. Call once, before use.
  Status Load();

  // Records acks for `alerts` (each firing at `now`), ending any current ack of the same
  // fingerprints as "replaced". Persists before returning; on error nothing changes.
  Result<std::vector<Ack>> Add(const std::vector<std::shared_ptr<const Alert>>& alerts,
                               const AckRequest& req, Time now) EXCLUDES(write_mu_, mu_);
  // Ends the current ack of `fingerprint` with `reason` at `now`. NotFound when there is none.
  // Persists before returning.
  Result<Ack> End(uint64_t fingerprint, const std::string& reason, Time now)
      EXCLUDES(write_mu_, mu_);

  // The current ack of `fingerprint` (not ended; it may no longer cover its alert).
  std::optional<Ack> Current(uint64_t fingerprint) const;
  // The ack covering `alert` at `now`.
  std::optional<Ack> CoveringAck(const Alert& alert, Time now) const;

  // Ends the current acks that no longer cover their alert. `lookup` gives the stored alert
  // (nullptr: gone, ended as "resolved"; nullopt: not known to the caller, left alone).
  // Persists in the background. Returns the acks ended.
  using Lookup = std::function<std::optional<std::shared_ptr<const Alert>>(uint64_t)>;
  std::vector<Ack> Reconcile(const Lookup& lookup, Time now);

  // Current acks by fingerprint; with `history`, then the ended ones, newest first.
  std::vector<Ack> List(bool history) const;
  // Deletes ended acks that ended more than `retention` before `now`.
  void CollectGarbage(Time now, Duration retention);

  // For /metrics: acks made since start, acks ended since start by end reason ("replaced",
  // "deleted", "resolved", "expired"), and the current ones.
  struct Counts {
    uint64_t made = 0;
    std::map<std::string, uint64_t> ended;
    size_t current = 0;
  };
  Counts GetCounts() const;

  // Acks committed by any alertd sharing the database (RemoteChanges::AcksCommitted,
  // core/router_state.h): each replaces the held one of its id, except that an ended ack never
  // becomes current again; of two current acks of one alert the higher id stays current and
  // the other moves to the history as "replaced" (in memory only: the counts of GetCounts are
  // this process's own). Waits for an Add or End in progress; writes nothing. Returns what
  // was news to this process (made or ended by another one), so the router can act on it
  // for the groups it owns.
  struct Applied {
    std::vector<Ack> made;   // current now, not held before
    std::vector<Ack> ended;  // held as current before, ended now
  };
  Applied ApplyCommitted(std::vector<Ack> rows) EXCLUDES(write_mu_, mu_);
  // RemoteChanges::ResyncAcks: `load` runs with Add and End held back; what it does not return
  // is dropped (current and history), what it returns applied as by ApplyCommitted.
  Result<Applied> Resync(const std::function<Result<std::vector<Ack>>()>& load)
      EXCLUDES(write_mu_, mu_);

 private:
  // Moves an ended ack to the history.
  void RetireLocked(Ack a) REQUIRES(mu_);
  Applied ApplyLocked(std::vector<Ack>& rows) REQUIRES(mu_);

  AckStore* store_;
  Mutex write_mu_ ACQUIRED_BEFORE(mu_);  // held by Add and End, across their commit
  mutable Mutex mu_;
  // The next id when the store leaves ids to this process (AckStore::NextAckIds).
  int64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Ack> current_ GUARDED_BY(mu_);  // by fingerprint
  std::vector<Ack> history_ GUARDED_BY(mu_);         // in the order they ended
  uint64_t made_ GUARDED_BY(mu_) = 0;
  std::map<std::string, uint64_t> ended_counts_ GUARDED_BY(mu_);  // by end reason
};

}  // namespace alertd::router
