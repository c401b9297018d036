// The rule engine's durable state (core/rule_state_store.h) in SQLite: table `rule_alerts`,
// one row per alert of an alerting rule, replaced group by group in one transaction after
// each evaluation that changed something worth keeping. A group's last evaluation time
// (SetGroupEvaluated) is a row of the same table with rule_key '' (no rule has an empty key),
// which ReplaceGroup leaves alone and RetainGroups drops with its group: no schema change.
//
// Thread-safe: one connection guarded by a mutex (group evaluations persist from several
// worker threads; each write is one short transaction).
#pragma once

#include <memory>

#include "core/rule_state_store.h"
#include "storage/db.h"

namespace alertd::storage {

// Opens the store over `db`, which must have the rule_alerts table (AllMigrations()). Use a
// connection of its own (the alert store owns another one to the same file; WAL lets them
// share it).
Result<std::unique_ptr<RuleStateStore>> OpenRuleStateStore(std::unique_ptr<Database> db);

}  // namespace alertd::storage
