// libFuzzer target: random bytes into the alert-log record decoder and the label-set decoder
// (what alertd reads back from its database at start). Corrupt input must be an error, never a
// crash or an out-of-bounds read; every decoded record must encode and decode back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/codec.h"

namespace {

bool SameAlert(const alertd::Alert& a, const alertd::Alert& b) {
  return a.labels == b.labels && a.annotations == b.annotations && a.starts_at == b.starts_at &&
         a.ends_at == b.ends_at && a.updated_at == b.updated_at &&
         a.generator_url == b.generator_url && a.timeout == b.timeout;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd;
  using namespace alertd::storage;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto ls = DecodeLabelSet(in); ls.ok()) {
    auto again = DecodeLabelSet(EncodeLabelSet(*ls));
    if (!again.ok() || !(*again == *ls)) std::abort();
  }
  std::string_view rest = in;
  while (!rest.empty()) {
    const size_t before = rest.size();
    auto r = DecodeLogRecord(&rest);
    if (!r.ok()) break;
    if (rest.size() >= before) std::abort();  // every record consumes input
    std::string out;
    switch (r->kind) {
      case LogRecordKind::kFull:
        AppendFullRecord(r->fingerprint, r->alert, &out);
        break;
      case LogRecordKind::kEnds:
        AppendEndsRecord(r->fingerprint, r->alert, &out);
        break;
      case LogRecordKind::kDelete:
        AppendDeleteRecord(r->fingerprint, &out);
        break;
    }
    std::string_view view = out;
    auto again = DecodeLogRecord(&view);
    if (!again.ok() || !view.empty() || again->kind != r->kind ||
        again->fingerprint != r->fingerprint || !SameAlert(again->alert, r->alert)) {
      std::abort();
    }
  }
  return 0;
}
