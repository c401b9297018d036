// What tests/app/fixtures/e2e_sink.py recorded: one JSON line per notification it received
// (HTTP receivers playing PagerDuty, Slack, webhooks and a receiver that is down, and an SMTP
// server), read back for the end-to-end tests. Not thread-safe; one test at a time.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace alertd::testing {

// Unix time in seconds, as the sink stamps its records.
inline double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SinkRecord {
  double t;
  std::string kind, path;
  nlohmann::json body;
  // "pagerduty trigger", "webhook /leads firing", "email managers@example.org", "down /x", ...
  std::string What() const {
    if (kind == "pagerduty") return "pagerduty " + body.value("event_action", "");
    if (kind == "slack") return "slack";
    if (kind == "email") return "email " + body["to"][0].get<std::string>();
    if (kind == "down") return "down " + path;
    return "webhook " + path + " " + body.value("status", "");
  }
};

inline std::vector<SinkRecord> ReadSinkRecords(const std::string& path) {
  std::vector<SinkRecord> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;  // a line being written
    out.push_back(SinkRecord{j["t"].get<double>(), j["kind"], j["path"], j["body"]});
  }
  return out;
}

inline std::string DescribeSinkRecords(const std::vector<SinkRecord>& rs) {
  std::string s;
  for (const auto& r : rs) s += std::to_string(r.t) + " " + r.What() + "\n";
  return s;
}

}  // namespace alertd::testing
