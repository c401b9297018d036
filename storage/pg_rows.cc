#include "storage/pg_rows.h"

#include <fmt/format.h>

#include "storage/codec.h"

namespace alertd::storage {

std::string NewerWinsSet(std::string_view table, std::initializer_list<std::string_view> columns) {
  std::string out;
  for (std::string_view c : columns) {
    out += fmt::format(
        "{} = CASE WHEN {}.updated_at <= EXCLUDED.updated_at THEN EXCLUDED.{} ELSE {}.{} END, ", c,
        table, c, table, c);
  }
  return out + "xact = pg_current_xact_id()";
}

Result<std::pair<uint64_t, AlertPtr>> AlertFromRow(const PgResult& r, int i, int c) {
  const auto fp = static_cast<uint64_t>(r.Int(i, c));
  auto labels = DecodeLabelSet(r.Bytes(i, c + 1));
  auto annotations = DecodeLabelSet(r.Bytes(i, c + 2));
  if (!labels.ok() || !annotations.ok()) {
    return Status::Internal(fmt::format("PostgreSQL: alert {:016x} is corrupt", fp));
  }
  auto a = std::make_shared<Alert>();
  a->labels = std::move(*labels);
  a->annotations = std::move(*annotations);
  a->starts_at = FromNanos(r.Int(i, c + 3));
  a->ends_at = FromNanos(r.Int(i, c + 4));
  a->updated_at = FromNanos(r.Int(i, c + 5));
  a->generator_url = std::string(r.Bytes(i, c + 6));
  a->timeout = r.Bool(i, c + 7);
  return std::pair<uint64_t, AlertPtr>(fp, std::move(a));
}

Result<Silence> SilenceFromRow(const PgResult& r, int i, int c) {
  Silence sil;
  sil.id = std::string(r.Bytes(i, c));
  auto ms = DecodeMatchers(r.Bytes(i, c + 1));
  if (!ms.ok()) return ms.status().WithPrefix("silence " + sil.id);
  sil.matchers = std::move(*ms);
  sil.starts_at = FromNanos(r.Int(i, c + 2));
  sil.ends_at = FromNanos(r.Int(i, c + 3));
  sil.updated_at = FromNanos(r.Int(i, c + 4));
  sil.created_by = std::string(r.Bytes(i, c + 5));
  sil.comment = std::string(r.Bytes(i, c + 6));
  return sil;
}

Result<Ack> AckFromRow(const PgResult& r, int i, int c) {
  Ack a;
  a.id = r.Int(i, c);
  a.fingerprint = static_cast<uint64_t>(r.Int(i, c + 1));
  auto labels = DecodeLabelSet(r.Bytes(i, c + 2));
  if (!labels.ok()) return labels.status().WithPrefix("ack " + std::to_string(a.id));
  a.labels = std::move(*labels);
  a.starts_at = FromNanos(r.Int(i, c + 3));
  a.by = std::string(r.Bytes(i, c + 4));
  a.comment = std::string(r.Bytes(i, c + 5));
  a.at = FromNanos(r.Int(i, c + 6));
  a.expires_at = FromNanos(r.Int(i, c + 7));
  a.ended_at = FromNanos(r.Int(i, c + 8));
  a.end_reason = std::string(r.Bytes(i, c + 9));
  a.token = std::string(r.Bytes(i, c + 10));
  return a;
}

}  // namespace alertd::storage
