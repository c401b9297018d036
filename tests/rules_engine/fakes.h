// Fakes for rule-engine unit tests: a query client answering from a script, an alert sink and
// a rule-state store that keep everything in memory, and a settable clock.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/alert_sink.h"
#include "core/clock.h"
#include "core/rule_state_store.h"
#include "rules_engine/query_client.h"

namespace alertd::rules_engine::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Time t) : now_(t) {}
  Time Now() const override {
    std::lock_guard l(mu_);
    return now_;
  }
  void Set(Time t) {
    std::lock_guard l(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  Time now_;
};

// Answers each expression with what was set for it (an error for unknown ones) and records
// every call.
class FakeQueryClient final : public QueryClient {
 public:
  struct Call {
    std::string expr;
    Time ts;
  };
  Result<QueryResult> Query(std::string_view expr, Time ts) override {
    std::lock_guard l(mu_);
    calls.push_back({std::string(expr), ts});
    auto it = answers_.find(std::string(expr));
    if (it == answers_.end()) return Status::InvalidArgument("no answer for " + std::string(expr));
    return it->second;
  }
  void Set(const std::string& expr, Result<QueryResult> r) {
    std::lock_guard l(mu_);
    answers_.erase(expr);
    answers_.emplace(expr, std::move(r));
  }
  // A vector of samples given as {labels, value}.
  void SetVector(const std::string& expr,
                 const std::vector<std::pair<LabelSet, double>>& samples) {
    QueryResult r;
    for (const auto& [l, v] : samples) r.samples.push_back({l, v});
    Set(expr, r);
  }
  std::vector<Call> calls;

 private:
  std::mutex mu_;
  std::map<std::string, Result<QueryResult>> answers_;
};

class FakeSink final : public AlertSink {
 public:
  Status Put(std::vector<Alert> alerts) override {
    std::lock_guard l(mu_);
    for (auto& a : alerts) received.push_back(std::move(a));
    ++puts;
    return Status::Ok();
  }
  std::vector<Alert> Take() {
    std::lock_guard l(mu_);
    auto out = std::move(received);
    received.clear();
    return out;
  }
  std::vector<Alert> received;
  int puts = 0;

 private:
  std::mutex mu_;
};

class FakeRuleStateStore final : public RuleStateStore {
 public:
  Result<std::vector<RuleAlertRecord>> LoadAll() override {
    std::lock_guard l(mu_);
    std::vector<RuleAlertRecord> out;
    for (const auto& [k, v] : groups) out.insert(out.end(), v.begin(), v.end());
    return out;
  }
  Result<std::vector<RuleAlertRecord>> LoadGroup(const std::string& group_key) override {
    std::lock_guard l(mu_);
    auto it = groups.find(group_key);
    return it == groups.end() ? std::vector<RuleAlertRecord>() : it->second;
  }
  Status ReplaceGroup(const std::string& group_key,
                      const std::vector<RuleAlertRecord>& records) override {
    std::lock_guard l(mu_);
    groups[group_key] = records;
    ++writes;
    return Status::Ok();
  }
  Status RetainGroups(const std::vector<std::string>& keep) override {
    std::lock_guard l(mu_);
    for (auto it = groups.begin(); it != groups.end();) {
      if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
        it = groups.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(evaluated, [&](const auto& e) {
      return std::find(keep.begin(), keep.end(), e.first) == keep.end();
    });
    return Status::Ok();
  }
  Status SetGroupEvaluated(const std::string& group_key, Time ts) override {
    std::lock_guard l(mu_);
    evaluated[group_key] = ts;
    return Status::Ok();
  }
  Result<std::map<std::string, Time>> LoadGroupEvaluations() override {
    std::lock_guard l(mu_);
    return evaluated;
  }
  std::map<std::string, std::vector<RuleAlertRecord>> groups;
  std::map<std::string, Time> evaluated;
  int writes = 0;

 private:
  std::mutex mu_;
};

}  // namespace alertd::rules_engine::testing
