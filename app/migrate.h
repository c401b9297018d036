// `alertd migrate --from SRC --to DST`: copies alertd's whole state (alerts, rule state,
// silences, the notification log, acknowledgements with their history, escalations and
// aggregation-group timers) from one database to another, so an installation moves from SQLite
// to PostgreSQL (or back) without losing an ack or sending a notification again: the daemon
// started on DST continues the same timeline. Both ends are taken with the lock a running
// alertd holds, so alertd must be stopped first; DST must be empty.
//
// Thread-safety: run from one thread.
#pragma once

#include <cstddef>
#include <string>

#include "app/state.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd::app {

// How many of each kind a database holds.
struct StateCounts {
  size_t alerts = 0;
  size_t rule_alerts = 0;
  size_t silences = 0;
  size_t nflog = 0;  // unexpired entries
  size_t acks = 0;   // current and ended
  size_t escalations = 0;
  size_t group_timers = 0;
  size_t heartbeats = 0;
  size_t overrides = 0;  // schedule overrides

  bool empty() const;
  // "3 alerts, 2 rule alerts, 1 silence, ..." for the command's output.
  std::string Summary() const;
  bool operator==(const StateCounts&) const = default;
};

Result<StateCounts> CountState(State& state, Time now);

// Copies everything `from` holds into `to`, which must hold nothing (FailedPrecondition,
// naming what it holds, otherwise), and checks that `to` then holds as much as `from`.
// Returns what was copied. A failure part way leaves `to` partly written: empty it (or drop
// the database) before trying again.
Result<StateCounts> CopyState(State& from, State& to, Time now);

struct MigrateOptions {
  // A SQLite file (or a directory holding alertd.db), or a PostgreSQL connection string: a URI
  // (postgres:// or postgresql://) or libpq key=value pairs.
  std::string from, to;
  // The password of a PostgreSQL end (its first line), passed beside the DSN.
  std::string from_password_file, to_password_file;
};

// Runs the command: prints what was copied and returns 0, or prints the error and returns 1.
int RunMigrate(const MigrateOptions& opts);

}  // namespace alertd::app
