// The rule engine's state table: records round-trip exactly (NaN and zero times included),
// groups are replaced atomically, and removed groups are dropped.
#include "storage/rule_state_store.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "storage/db.h"
#include "storage/pg_stores.h"
#include "tests/support/postgres.h"
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
  // Each backend: a way to open the store again on the same data.
  const std::string dir = alertd::testing::MakeTempDir("alertd-rulestate");
  const storage::PgTarget pg{alertd::testing::SharedPostgres().NewDatabase(),
                             alertd::testing::PostgresServer::kPassword};
  const std::vector<std::pair<std::string, std::function<std::unique_ptr<RuleStateStore>()>>>
      backends = {
          {"sqlite",
           [&] {
             auto db = storage::Database::Open(dir + "/state.db");
             REQUIRE(db.ok());
             auto store = storage::OpenRuleStateStore(std::move(*db));
             REQUIRE(store.ok());
             return std::move(*store);
           }},
          {"postgresql",
           [&] {
             auto store = storage::OpenPgRuleStateStore(pg);
             INFO(store.status().message());
             REQUIRE(store.ok());
             return std::move(*store);
           }},
      };
  for (const auto& [name, open] : backends) {
    CAPTURE(name);
    {
      auto store = open();
      REQUIRE(store->ReplaceGroup("f;g1", {Record("f;g1", "a", 1.5), Record("f;g1", "b", 2)}).ok());
      REQUIRE(store->ReplaceGroup("f;g2", {Record("f;g2", "c", std::nan(""))}).ok());
      REQUIRE(store->ReplaceGroup("f;g3\"", {Record("f;g3\"", "d", -1)}).ok());
      REQUIRE(store->ReplaceGroup("f;g1", {Record("f;g1", "b", 3)}).ok());
    }
    auto store = open();
    auto all = store->LoadAll();
    REQUIRE(all.ok());
    REQUIRE(all->size() == 3);
    CHECK((*all)[0] == Record("f;g1", "b", 3));
    CHECK((*all)[1].group_key == "f;g2");
    CHECK(std::isnan((*all)[1].value));
    CHECK(IsZero((*all)[1].resolved_at));
    CHECK((*all)[2] == Record("f;g3\"", "d", -1));
    // Group evaluation times: kept beside the records, untouched by ReplaceGroup, never
    // returned as records, dropped with their group.
    REQUIRE(store->SetGroupEvaluated("f;g1", FromUnixSeconds(1700000100)).ok());
    REQUIRE(store->SetGroupEvaluated("f;g2", FromUnixSeconds(1700000100)).ok());
    REQUIRE(store->SetGroupEvaluated("f;g2", FromUnixSeconds(1700000110) + 5ms).ok());
    REQUIRE(store->ReplaceGroup("f;g2", {Record("f;g2", "c", std::nan(""))}).ok());
    {
      auto evals = store->LoadGroupEvaluations();
      REQUIRE(evals.ok());
      CHECK(*evals == std::map<std::string, Time>{{"f;g1", FromUnixSeconds(1700000100)},
                                                  {"f;g2", FromUnixSeconds(1700000110) + 5ms}});
      auto again = store->LoadAll();
      REQUIRE(again.ok());
      CHECK(again->size() == 3);
    }
    // A kept key with a quote and a backslash is matched exactly.
    REQUIRE(store->RetainGroups({"f;g2", "f;g3\""}).ok());
    all = store->LoadAll();
    REQUIRE(all.ok());
    REQUIRE(all->size() == 2);
    CHECK((*all)[0].group_key == "f;g2");
    {
      auto evals = store->LoadGroupEvaluations();
      REQUIRE(evals.ok());
      CHECK(*evals == std::map<std::string, Time>{{"f;g2", FromUnixSeconds(1700000110) + 5ms}});
    }
    REQUIRE(store->RetainGroups({}).ok());
    all = store->LoadAll();
    REQUIRE(all.ok());
    CHECK(all->empty());
  }
  alertd::testing::RemoveTree(dir);
}

}  // namespace
