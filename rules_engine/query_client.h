// The datasource as the rule engine sees it: one instant query at a given time against a
// Prometheus-compatible query API (Prometheus, VictoriaMetrics, Thanos, Mimir). The HTTP
// implementation (NewHttpQueryClient) talks to `/api/v1/query`; tests use a fake.
//
// Implementations are thread-safe: groups evaluate concurrently and call Query from many
// threads at once. A call blocks until the answer, an error or the timeout.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/labels.h"
#include "core/result.h"
#include "core/time.h"

namespace alertd::rules_engine {

// One sample of an instant vector (or the single sample a scalar result becomes).
struct QuerySample {
  LabelSet metric;  // every label of the series, __name__ included when present
  double value = 0;
};

// The decoded `data` of a successful query, as Prometheus's rule manager sees it
// (rules.EngineQueryFunc): a vector, or a scalar turned into one sample without labels.
struct QueryResult {
  enum class Type { kVector, kScalar, kString, kMatrix };
  Type type = Type::kVector;
  std::vector<QuerySample> samples;  // kVector: the series; kScalar: exactly one sample
  std::string string_value;          // kString only
  std::vector<std::string> warnings;  // `warnings` of the response (and `infos`)
};

class QueryClient {
 public:
  virtual ~QueryClient() = default;
  // Evaluates `expr` at `ts`. Errors: kUnavailable (connection failed, HTTP 5xx/429: worth
  // a retry), kTimeout, kInvalidArgument (Prometheus rejected the query, e.g. `bad_data`, or
  // any other 4xx), kInternal (an answer that is not a Prometheus API response, or one over
  // max_response_bytes). The message reads like Prometheus's
  // own errors, e.g. "bad_data: 1:5: parse error: unexpected end of input".
  virtual Result<QueryResult> Query(std::string_view expr, Time ts) = 0;
};

// Query client over libcurl: GET /api/v1/query?query=..&time=.. (a form POST when the query
// is long), http_config's basic auth, authorization / bearer token (inline or file, re-read
// when the file changes), extra headers, proxy and TLS options. At most
// `max_concurrent_queries` requests are in flight; each in-flight slot keeps its own
// keep-alive connection, so the number of sockets is bounded by it too. `timeout` bounds a
// whole query, the wait for a free slot included (kTimeout); a response over
// `max_response_bytes` (decompressed) fails it (kInternal).
// Fails when the URL is empty or a credentials file cannot be read.
Result<std::unique_ptr<QueryClient>> NewHttpQueryClient(const config::DatasourceConfig& cfg);

// Parses a Prometheus /api/v1/query response body (exposed for tests). `http_status` is the
// HTTP status it came with.
Result<QueryResult> ParseQueryResponse(long http_status, std::string_view body);

}  // namespace alertd::rules_engine
