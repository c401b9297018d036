// The schema, as a list of migrations. Append only: a released migration is never edited,
// because databases in the field have already applied it; change the schema with a new one.
#include "storage/db.h"

namespace alertd::storage {

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "alerts",
       // One row per fingerprint (Alertmanager's model.LabelSet.Fingerprint as a signed
       // 64-bit integer). Label sets are stored in storage/codec.h's compact binary form;
       // times are Unix nanoseconds, INT64_MIN meaning "not set" (Go's zero time).
       R"sql(
CREATE TABLE alerts (
  fingerprint   INTEGER PRIMARY KEY,
  labels        BLOB    NOT NULL,
  annotations   BLOB    NOT NULL,
  starts_at     INTEGER NOT NULL,
  ends_at       INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  generator_url TEXT    NOT NULL,
  timeout       INTEGER NOT NULL
);
CREATE INDEX alerts_ends_at ON alerts(ends_at);
)sql"},
  };
  return kMigrations;
}

}  // namespace alertd::storage
