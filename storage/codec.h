// The compact binary form in which label sets (labels and annotations) are stored in SQLite:
// a varint count, then for each label a varint length and the name bytes, a varint length
// and the value bytes. Chosen over JSON because it is several times cheaper to write and
// read back on the ingestion path, and values may hold any byte (including NUL).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/labels.h"
#include "core/result.h"

namespace alertd::storage {

void EncodeLabelSet(const LabelSet& ls, std::string* out);
std::string EncodeLabelSet(const LabelSet& ls);
// Fails on truncated or malformed input.
Result<LabelSet> DecodeLabelSet(std::string_view in);

}  // namespace alertd::storage
