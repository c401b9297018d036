#include "rules_engine/query_retry.h"

#include <spdlog/spdlog.h>

#include <random>
#include <thread>

namespace alertd::rules_engine {

bool IsRetryableQueryError(const Status& st) { return st.code() == Status::Code::kUnavailable; }

Result<QueryResult> RetryingQueryClient::Query(std::string_view expr, Time ts) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Duration backoff = policy_.min_backoff;
  for (int attempt = 1;; ++attempt) {
    auto res = inner_->Query(expr, ts);
    if (res.ok() || !IsRetryableQueryError(res.status())) return res;
    // Full jitter in [backoff/2, backoff]: concurrent groups retrying against the same
    // datasource spread out instead of hitting it again together.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const Duration wait = std::chrono::duration_cast<Duration>(backoff * jitter(rng));
    if (policy_.clock->Now() + wait >= policy_.deadline ||
        std::chrono::steady_clock::now() + wait >= steady_deadline_) {
      return res;
    }
    spdlog::debug("query {:?}: attempt {} failed, retrying in {} ms: {}", expr, attempt,
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(),
                  res.status().message());
    if (policy_.sleep) {
      if (!policy_.sleep(wait)) return res;
    } else {
      std::this_thread::sleep_for(wait);
    }
    if (policy_.retries) policy_.retries->fetch_add(1, std::memory_order_relaxed);
    backoff = std::min(backoff * 2, policy_.max_backoff);
  }
}

}  // namespace alertd::rules_engine
