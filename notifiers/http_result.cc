#include "notifiers/http_result.h"

#include <algorithm>

#include "notifiers/notifier.h"

namespace alertd::notifiers {

NotifyResult CheckHttpResponse(const HttpResponse& r, std::span<const long> extra_retry_codes) {
  NotifyResult out;
  if (!r.transport.ok()) {
    out.status = r.transport;
    // A URL that cannot work is not worth retrying; every other transport failure is.
    out.retryable = r.transport.code() != Status::Code::kInvalidArgument;
    return out;
  }
  out.http_status = r.status;
  if (r.status / 100 == 2) return out;
  out.retryable = r.status / 100 == 5 ||
                  std::find(extra_retry_codes.begin(), extra_retry_codes.end(), r.status) !=
                      extra_retry_codes.end();
  std::string msg = "unexpected status code " + std::to_string(r.status);
  if (!r.body.empty()) {
    constexpr size_t kMaxDetail = 512;
    std::string detail = r.body.substr(0, kMaxDetail);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    if (r.body.size() > kMaxDetail) detail += "...";
    msg += ": " + detail;
  }
  out.status = out.retryable ? Status::Unavailable(msg) : Status::InvalidArgument(msg);
  return out;
}

}  // namespace alertd::notifiers
