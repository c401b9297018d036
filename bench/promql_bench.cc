// Parses 10,000 typical alerting expressions (the shapes of kube-prometheus, node-mixin and
// awesome-prometheus-alerts rules, with varying label values) and prints the time per
// expression. A rule set of 5,000 rules must load in well under a second.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "rules_engine/promql/parser.h"

namespace {

const char* const kTemplates[] = {
    "up{job=\"%s\"} == 0",
    "sum by (job) (rate(http_requests_total{job=\"%s\",status=~\"5..\"}[5m])) / sum by (job) "
    "(rate(http_requests_total{job=\"%s\"}[5m])) > 0.05",
    "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="
    "\"%s\"}[5m]))) > 0.5",
    "(node_memory_MemAvailable_bytes{instance=\"%s\"} / node_memory_MemTotal_bytes * 100 < 10) * "
    "on(instance) group_left (nodename) node_uname_info{nodename=~\".+\"}",
    "100 - (avg by(instance) (rate(node_cpu_seconds_total{mode=\"idle\",instance=\"%s\"}[2m])) * "
    "100) > 80",
    "predict_linear(node_filesystem_avail_bytes{fstype!~\"tmpfs|overlay\",instance=\"%s\"}[1h], "
    "4 * 3600) < 0 and ON (instance, device, mountpoint) node_filesystem_readonly == 0",
    "max_over_time(kube_pod_container_status_waiting_reason{reason=\"CrashLoopBackOff\", "
    "namespace=\"%s\"}[5m]) >= 1",
    "increase(prometheus_rule_evaluation_failures_total{job=\"%s\"}[5m]) > 0",
    "probe_ssl_earliest_cert_expiry{instance=\"%s\"} - time() < 86400 * 7",
    "sum(rate(errors_total{service=\"%s\"}[1h])) / sum(rate(requests_total[1h])) > (14.4 * "
    "0.001) and sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > (14.4 * 0.001)",
};

std::string Fill(const char* tmpl, const std::string& value) {
  std::string out;
  for (const char* p = tmpl; *p; ++p) {
    if (p[0] == '%' && p[1] == 's') {
      out += value;
      ++p;
    } else {
      out += *p;
    }
  }
  return out;
}

}  // namespace

int main() {
  constexpr int kCount = 10000;
  std::vector<std::string> exprs;
  exprs.reserve(kCount);
  size_t bytes = 0;
  for (int i = 0; i < kCount; ++i) {
    const char* tmpl = kTemplates[i % std::size(kTemplates)];
    exprs.push_back(Fill(tmpl, "svc-" + std::to_string(i)));
    bytes += exprs.back().size();
  }
  // Warm up caches and allocator.
  for (int i = 0; i < 100; ++i) (void)alertd::promql::ParseExpr(exprs[i]);

  size_t failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& e : exprs) {
    if (!alertd::promql::ParseExpr(e).ok()) ++failures;
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  double us = std::chrono::duration<double, std::micro>(elapsed).count();
  std::printf("parsed %d expressions (%.0f bytes avg) in %.1f ms: %.2f us per expression, %zu "
              "errors\n",
              kCount, static_cast<double>(bytes) / kCount, us / 1000, us / kCount, failures);
  std::printf("5,000 rules would load in %.1f ms\n", us / kCount * 5000 / 1000);
  return failures == 0 ? 0 : 1;
}
