// Retries of datasource queries within one group evaluation: a query that fails with a
// connection error, an HTTP 5xx or a 429 (kUnavailable from the QueryClient) is tried again
// after a jittered, doubling back-off, as long as the back-off ends before the group's next
// evaluation is due, so one 503 from a load balancer no longer costs a whole evaluation
// cycle. Other errors (a 4xx: the query is wrong; a timeout, which already took the whole
// datasource.timeout) are returned at once.
//
// Thread-safety: one RetryingQueryClient serves one group evaluation (one thread); the
// retry counter it adds to is atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "core/clock.h"
#include "rules_engine/query_client.h"

namespace alertd::rules_engine {

struct QueryRetryPolicy {
  // No retry starts whose back-off would end after this (wall clock, `clock`): the group's
  // next evaluation time.
  Time deadline = kZeroTime;
  const Clock* clock = nullptr;  // required
  Duration min_backoff = std::chrono::milliseconds(50);  // first wait, doubled per retry
  Duration max_backoff = std::chrono::seconds(5);
  // Waits `d`; false when the evaluation is being abandoned (stop, reload): no more retries.
  // Unset: std::this_thread::sleep_for.
  std::function<bool(Duration)> sleep;
  std::atomic<uint64_t>* retries = nullptr;  // counts each retry; may be null
};

// True for the errors worth another try: kUnavailable (connection failed, HTTP 5xx or 429).
bool IsRetryableQueryError(const Status& st);

// Wraps `inner` (which must outlive it) with QueryRetryPolicy.
class RetryingQueryClient final : public QueryClient {
 public:
  // The deadline also holds on the steady clock, from now: a wall clock set back does not
  // stretch the retries.
  RetryingQueryClient(QueryClient* inner, QueryRetryPolicy policy)
      : inner_(inner),
        policy_(std::move(policy)),
        steady_deadline_(std::chrono::steady_clock::now() +
                         (policy_.deadline - policy_.clock->Now())) {}

  // inner->Query, retried as described above; the last error when retries end.
  Result<QueryResult> Query(std::string_view expr, Time ts) override;

 private:
  QueryClient* inner_;
  QueryRetryPolicy policy_;
  std::chrono::steady_clock::time_point steady_deadline_;
};

}  // namespace alertd::rules_engine
