// Silences (silence/silence.go): matchers and a time range that mute matching alerts while
// active. Create and update follow Alertmanager's rule (canUpdate): a silence is changed in
// place only if its matchers are unchanged and either it is active, keeps its startsAt and
// the new endsAt is not in the past, or it is pending and the new startsAt is not in the
// past; otherwise the old silence is expired and a new one (new ID) is created. Silences are
// kept in memory and persisted through a SilenceStore (core/router_state.h) before a change is
// reported.
//
// Thread-safe. Changes are serialized among themselves and committed without holding the lock
// that matching takes, so Mutes() never waits behind a disk write (lock order:
// router/lock_order.h).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/result.h"
#include "core/router_state.h"
#include "core/thread_annotations.h"

namespace alertd::router {

enum class SilenceState { kExpired, kActive, kPending };
std::string_view SilenceStateString(SilenceState s);  // "expired", "active", "pending"

// pending before starts_at, active before ends_at, expired from then on.
SilenceState StateOf(const Silence& s, Time now);

// Alertmanager's validateSilence, with its messages.
Status ValidateSilence(const Silence& s);

class Silences {
 public:
  // `store` may be null (nothing persisted). Both must outlive this.
  Silences(const Clock* clock, SilenceStore* store) : clock_(clock), store_(store) {}

  // Loads the persisted silences. Call once, before use.
  Status Load();

  // Creates (empty id) or updates a silence; returns its ID, which is new unless the update
  // could be done in place. Errors: NotFound for an unknown id ("silence not found");
  // InvalidArgument ("silence invalid: ...") when the result would be invalid; Internal when
  // it could not be persisted. A new silence starting in the past starts now.
  Result<std::string> Set(Silence s) EXCLUDES(write_mu_, mu_);
  // Expires a silence now (a pending one gets starts_at = ends_at = now). NotFound for an
  // unknown id; OK, changing nothing, for an already expired one.
  Status Expire(const std::string& id) EXCLUDES(write_mu_, mu_);

  std::optional<Silence> Get(const std::string& id) const;
  std::vector<Silence> List() const;
  // The IDs of the silences active at `now` whose matchers all match `labels`, sorted.
  std::vector<std::string> Mutes(const LabelSet& labels, Time now) const;
  // Deletes silences expired for longer than `retention`.
  void CollectGarbage(Duration retention);

  // Silences committed by any alertd sharing the database (RemoteChanges::SilencesCommitted,
  // core/router_state.h): each replaces the held one of its id unless that one has a later
  // updated_at. Waits for a Set or Expire in progress; writes nothing.
  void ApplyCommitted(std::vector<Silence> rows) EXCLUDES(write_mu_, mu_);
  // RemoteChanges::ResyncSilences: `load` runs with Set and Expire held back; what it does not
  // return is dropped, what it returns applied as by ApplyCommitted.
  Status Resync(const std::function<Result<std::vector<Silence>>()>& load) EXCLUDES(write_mu_, mu_);

 private:
  void ApplyLocked(std::vector<Silence>& rows) REQUIRES(mu_);
  // Writes `rows` in one transaction and waits for its commit. REQUIRES: write_mu_ held.
  Status Persist(std::vector<Silence> rows) REQUIRES(write_mu_) EXCLUDES(mu_);
  static std::string NewId();

  const Clock* clock_;
  SilenceStore* store_;
  Mutex write_mu_ ACQUIRED_BEFORE(mu_);  // held by Set and Expire, across their commit
  mutable Mutex mu_;
  std::map<std::string, Silence> by_id_ GUARDED_BY(mu_);
};

}  // namespace alertd::router
