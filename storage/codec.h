// The compact binary form in which label sets (labels and annotations) are stored in SQLite:
// a varint count, then for each label a varint length and the name bytes, a varint length
// and the value bytes. Chosen over JSON because it is several times cheaper to write and
// read back on the ingestion path, and values may hold any byte (including NUL).
// Pure functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/alert.h"
#include "core/history.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd::storage {

void EncodeLabelSet(const LabelSet& ls, std::string* out);
std::string EncodeLabelSet(const LabelSet& ls);
// Fails on truncated or malformed input.
Result<LabelSet> DecodeLabelSet(std::string_view in);

// Records of the alert log (storage/alert_store.cc), the append-only table that makes an
// ingestion commit one small sequential write. Each record is a kind byte, the fingerprint
// (8 bytes, little-endian), then:
//   kFull:   labels and annotations (EncodeLabelSet), starts_at, ends_at, updated_at (8-byte
//            little-endian Unix nanoseconds), the generator URL (varint length + bytes), and
//            the timeout flag (one byte);
//   kEnds:   ends_at, updated_at, timeout flag: an update of an alert whose other fields did
//            not change since its previous record (a resend with a later endsAt);
//   kDelete: nothing (garbage collection removed the alert).
enum class LogRecordKind : uint8_t { kFull = 1, kEnds = 2, kDelete = 3 };

void AppendFullRecord(uint64_t fingerprint, const Alert& a, std::string* out);
void AppendEndsRecord(uint64_t fingerprint, const Alert& a, std::string* out);
void AppendDeleteRecord(uint64_t fingerprint, std::string* out);

struct LogRecord {
  LogRecordKind kind;
  uint64_t fingerprint;
  // kFull: the whole alert; kEnds: only ends_at, updated_at and timeout are set.
  Alert alert;
};

// Decodes the next record of `*in` and advances past it. Fails on truncated or malformed input.
Result<LogRecord> DecodeLogRecord(std::string_view* in);

// The columns of the router's state that are not label sets, shared by both backends:
// silence matchers as Alertmanager's API shows them ([{"name","value","isRegex","isEqual"}]),
// fingerprint lists of the notification log (8 little-endian bytes each; decoded sorted), and
// name lists (escalation receivers notified) as a JSON array.
std::string EncodeMatchers(const Matchers& ms);
Result<Matchers> DecodeMatchers(std::string_view json);
std::string EncodeFingerprints(const std::vector<uint64_t>& v);
std::vector<uint64_t> DecodeFingerprints(std::string_view s);
std::string EncodeNames(const std::vector<std::string>& names);
Result<std::vector<std::string>> DecodeNames(std::string_view json);

// The alerts of a notification record (core/history.h) as both backends store them:
// "<16 hex digits><f|r>" joined by ",".
std::string EncodeNotifiedAlerts(const std::vector<NotifiedAlert>& alerts);
Result<std::vector<NotifiedAlert>> DecodeNotifiedAlerts(std::string_view s);

// The WHERE clause (" WHERE ..." or empty) of a history query, shared by both backends:
// `placeholder(n)` spells the n-th parameter ("?" or "$n"); `args` are the parameters in
// order, each a BIGINT or a TEXT. The fingerprint filter names notification_alerts.
struct HistoryFilter {
  std::string where;
  std::vector<std::variant<int64_t, std::string>> args;
};
HistoryFilter NotificationFilter(const NotificationQuery& q,
                                 const std::function<std::string(int)>& placeholder);

// Sample values of rule state as text: the shortest representation that reads back as the
// same double, NaN and infinities included ("NaN", "+Inf", "-Inf").
std::string EncodeValue(double v);
double DecodeValue(std::string_view s);

// Times as every table stores them: Unix nanoseconds (kZeroTime is INT64_MIN, Go's zero).
inline int64_t ToNanos(Time t) { return t.time_since_epoch().count(); }
inline Time FromNanos(int64_t n) { return Time(Duration(n)); }

}  // namespace alertd::storage
