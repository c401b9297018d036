// The rule engine's state table: records round-trip exactly (NaN and zero times included),
// groups are replaced atomically, and removed groups are dropped.
#include <doctest/doctest.h>

#include <cmath>

#include "storage/db.h"
#include "storage/rule_state_store.h"
#include "tests/support/process.h"

namespace {

using namespace alertd;
using namespace std::chrono_literals;

RuleAlertRecord Record(const std::string& group, const std::string& inst, double value) {
  RuleAlertRecord r;
  r.group_key = group;
  r.rule_key = "A#0";
  r.labels = LabelSet{{"alertname", "A"}, {"instance", inst}};
  r.annotations = LabelSet{{"summary", std::string("x\0y", 3)}};
  r.state = RuleAlertRecord::State::kFiring;
  r.value = value;
  r.active_at = FromUnixSeconds(1700000000);
  r.fired_at = FromUnixSeconds(1700000060);
  r.last_sent_at = FromUnixSeconds(1700000090);
  r.valid_until = FromUnixSeconds(1700000330);
  r.keep_firing_since = kZeroTime;
  r.resolved_at = kZeroTime;
  return r;
}

TEST_CASE("rule state store round-trips, replaces per group, retains groups") {
  const std::string dir = alertd::testing::MakeTempDir("alertd-rulestate");
  const std::string path = dir + "/state.db";
  {
    auto db = storage::Database::Open(path);
    REQUIRE(db.ok());
    auto store = storage::OpenRuleStateStore(std::move(*db));
    REQUIRE(store.ok());
    REQUIRE((*store)->ReplaceGroup("f;g1", {Record("f;g1", "a", 1.5), Record("f;g1", "b", 2)}).ok());
    REQUIRE((*store)->ReplaceGroup("f;g2", {Record("f;g2", "c", std::nan(""))}).ok());
    REQUIRE((*store)->ReplaceGroup("f;g1", {Record("f;g1", "b", 3)}).ok());
  }
  auto db = storage::Database::Open(path);
  REQUIRE(db.ok());
  auto store = storage::OpenRuleStateStore(std::move(*db));
  REQUIRE(store.ok());
  auto all = (*store)->LoadAll();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0] == Record("f;g1", "b", 3));
  CHECK((*all)[1].group_key == "f;g2");
  CHECK(std::isnan((*all)[1].value));
  CHECK(IsZero((*all)[1].resolved_at));
  REQUIRE((*store)->RetainGroups({"f;g2"}).ok());
  all = (*store)->LoadAll();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].group_key == "f;g2");
  alertd::testing::RemoveTree(dir);
}

}  // namespace
