// The rows of `alerts`, `silences` and `acks` on PostgreSQL as alertd's types, read the same
// way by the stores that load them (storage/pg_alert_store.cc, storage/pg_router_stores.cc) and
// by the change feed that follows other writers' commits (storage/pg_change_feed.cc). Each
// k*Columns is the SELECT list the matching *FromRow decodes, from column `col` on.
//
// Thread-compatible (plain functions of their arguments).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "core/router_state.h"
#include "storage/alert_store.h"
#include "storage/pg.h"

namespace alertd::storage {

inline constexpr const char* kAlertColumns =
    "fingerprint, labels, annotations, starts_at, ends_at, updated_at, generator_url, timeout";
inline constexpr int kAlertColumnCount = 8;
inline constexpr const char* kSilenceColumns =
    "id, matchers, starts_at, ends_at, updated_at, created_by, comment";
inline constexpr int kSilenceColumnCount = 7;
inline constexpr const char* kAckColumns =
    "id, fingerprint, labels, starts_at, acked_by, comment, acked_at, expires_at, ended_at, "
    "end_reason, token";
inline constexpr int kAckColumnCount = 11;

// The channel a commit that changed alerts, silences or acks notifies (once per transaction:
// the server folds equal notifications of one transaction), the kind as payload; and the
// statements that do it, run in the transaction that made the change.
inline constexpr const char* kChangeChannel = "alertd_changes";
inline constexpr const char* kNotifyAlerts = "SELECT pg_notify('alertd_changes', 'alerts')";
inline constexpr const char* kNotifySilences = "SELECT pg_notify('alertd_changes', 'silences')";
inline constexpr const char* kNotifyAcks = "SELECT pg_notify('alertd_changes', 'acks')";

// The SET list of an upsert's ON CONFLICT DO UPDATE on `table` (alerts, silences) that keeps
// the newer version by updated_at (equal: the one written last) of each of `columns`, and
// always sets `xact`. The row is rewritten even when the stored version stays, so every
// change feed reads it again, the writer's included: a process that committed an older version
// gets the newer one back, and all of them end with the database's.
std::string NewerWinsSet(std::string_view table, std::initializer_list<std::string_view> columns);

// An alert and its fingerprint; Internal when its label sets are corrupt.
Result<std::pair<uint64_t, AlertPtr>> AlertFromRow(const PgResult& r, int row, int col = 0);
// InvalidArgument (naming the silence or ack) when a column does not decode.
Result<Silence> SilenceFromRow(const PgResult& r, int row, int col = 0);
Result<Ack> AckFromRow(const PgResult& r, int row, int col = 0);

}  // namespace alertd::storage
