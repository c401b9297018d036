#include "storage/rule_state_store.h"

#include <fmt/format.h>

#include <mutex>
#include <optional>

#include "storage/codec.h"

namespace alertd::storage {
namespace {

class SqliteRuleStateStore final : public RuleStateStore {
 public:
  explicit SqliteRuleStateStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  Result<std::vector<RuleAlertRecord>> LoadAll() override { return Load(nullptr); }
  Result<std::vector<RuleAlertRecord>> LoadGroup(const std::string& group_key) override {
    return Load(&group_key);
  }

  Status ReplaceGroup(const std::string& group_key,
                      const std::vector<RuleAlertRecord>& records) override {
    std::lock_guard l(mu_);
    if (Status s = db_->Begin(); !s.ok()) return s;
    Status s = ReplaceLocked(group_key, records);
    if (!s.ok()) {
      db_->Rollback();
      return s;
    }
    return db_->Commit();
  }

  Status RetainGroups(const std::vector<std::string>& keep) override {
    std::lock_guard l(mu_);
    if (Status s = db_->Begin(); !s.ok()) return s;
    Status s = db_->Exec("CREATE TEMP TABLE IF NOT EXISTS keep_groups (k TEXT PRIMARY KEY)");
    if (s.ok()) s = db_->Exec("DELETE FROM keep_groups");
    if (s.ok()) {
      auto ins = db_->Prepare("INSERT OR IGNORE INTO keep_groups (k) VALUES (?)");
      if (!ins.ok()) s = ins.status();
      for (size_t i = 0; s.ok() && i < keep.size(); ++i) {
        ins->BindText(1, keep[i]);
        s = ins->Run();
        ins->Reset();
      }
    }
    if (s.ok()) {
      s = db_->Exec("DELETE FROM rule_alerts WHERE group_key NOT IN (SELECT k FROM keep_groups)");
    }
    if (!s.ok()) {
      db_->Rollback();
      return s;
    }
    return db_->Commit();
  }

  Status SetGroupEvaluated(const std::string& group_key, Time ts) override {
    std::lock_guard l(mu_);
    if (!touch_.has_value()) {
      auto t = db_->Prepare(
          "INSERT OR REPLACE INTO rule_alerts (group_key, rule_key, fingerprint, labels, "
          "annotations, state, value, active_at, fired_at, resolved_at, last_sent_at, "
          "valid_until, keep_firing_since) VALUES (?, '', 0, x'', x'', 0, '0', ?, ?, ?, ?, ?, ?)");
      if (!t.ok()) return t.status();
      touch_.emplace(std::move(*t));
    }
    touch_->BindText(1, group_key);
    touch_->BindInt64(2, ToNanos(ts));
    for (int i = 3; i <= 7; ++i) touch_->BindInt64(i, ToNanos(kZeroTime));
    Status s = touch_->Run();
    touch_->Reset();
    return s;
  }

  Result<std::map<std::string, Time>> LoadGroupEvaluations() override {
    std::lock_guard l(mu_);
    auto st =
        db_->Prepare("SELECT group_key, active_at FROM rule_alerts WHERE rule_key = ''");
    if (!st.ok()) return st.status();
    std::map<std::string, Time> out;
    while (true) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out[std::string(st->ColumnText(0))] = FromNanos(st->ColumnInt64(1));
    }
    return out;
  }

 private:
  // Every record, or those of `group` (not null).
  Result<std::vector<RuleAlertRecord>> Load(const std::string* group) {
    std::lock_guard l(mu_);
    auto st = db_->Prepare(
        "SELECT group_key, rule_key, labels, annotations, state, value, active_at, fired_at, "
        "resolved_at, last_sent_at, valid_until, keep_firing_since FROM rule_alerts "
        "WHERE rule_key <> '' AND (?1 IS NULL OR group_key = ?1) ORDER BY group_key, rule_key");
    if (!st.ok()) return st.status();
    if (group) {
      st->BindText(1, *group);
    } else {
      st->BindNull(1);
    }
    std::vector<RuleAlertRecord> out;
    while (true) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      RuleAlertRecord r;
      r.group_key = std::string(st->ColumnText(0));
      r.rule_key = std::string(st->ColumnText(1));
      auto labels = DecodeLabelSet(st->ColumnBlob(2));
      auto annotations = DecodeLabelSet(st->ColumnBlob(3));
      if (!labels.ok()) return labels.status().WithPrefix("rule_alerts.labels");
      if (!annotations.ok()) return annotations.status().WithPrefix("rule_alerts.annotations");
      r.labels = std::move(*labels);
      r.annotations = std::move(*annotations);
      const int64_t s = st->ColumnInt64(4);
      r.state = s == 2   ? RuleAlertRecord::State::kFiring
                : s == 1 ? RuleAlertRecord::State::kPending
                         : RuleAlertRecord::State::kInactive;
      r.value = DecodeValue(st->ColumnText(5));
      r.active_at = FromNanos(st->ColumnInt64(6));
      r.fired_at = FromNanos(st->ColumnInt64(7));
      r.resolved_at = FromNanos(st->ColumnInt64(8));
      r.last_sent_at = FromNanos(st->ColumnInt64(9));
      r.valid_until = FromNanos(st->ColumnInt64(10));
      r.keep_firing_since = FromNanos(st->ColumnInt64(11));
      out.push_back(std::move(r));
    }
    return out;
  }


  Status ReplaceLocked(const std::string& group_key, const std::vector<RuleAlertRecord>& records) {
    if (!del_.has_value()) {
      auto d = db_->Prepare("DELETE FROM rule_alerts WHERE group_key = ? AND rule_key <> ''");
      if (!d.ok()) return d.status();
      del_.emplace(std::move(*d));
      auto i = db_->Prepare(
          "INSERT OR REPLACE INTO rule_alerts (group_key, rule_key, fingerprint, labels, "
          "annotations, state, value, active_at, fired_at, resolved_at, last_sent_at, "
          "valid_until, keep_firing_since) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
      if (!i.ok()) return i.status();
      ins_.emplace(std::move(*i));
    }
    del_->BindText(1, group_key);
    Status s = del_->Run();
    del_->Reset();
    if (!s.ok()) return s;
    std::string labels, annotations;
    for (const auto& r : records) {
      labels.clear();
      annotations.clear();
      EncodeLabelSet(r.labels, &labels);
      EncodeLabelSet(r.annotations, &annotations);
      ins_->BindText(1, group_key);
      ins_->BindText(2, r.rule_key);
      ins_->BindInt64(3, static_cast<int64_t>(r.labels.Fingerprint()));
      ins_->BindBlob(4, labels);
      ins_->BindBlob(5, annotations);
      ins_->BindInt64(6, static_cast<int64_t>(r.state));
      ins_->BindText(7, EncodeValue(r.value));
      ins_->BindInt64(8, ToNanos(r.active_at));
      ins_->BindInt64(9, ToNanos(r.fired_at));
      ins_->BindInt64(10, ToNanos(r.resolved_at));
      ins_->BindInt64(11, ToNanos(r.last_sent_at));
      ins_->BindInt64(12, ToNanos(r.valid_until));
      ins_->BindInt64(13, ToNanos(r.keep_firing_since));
      s = ins_->Run();
      ins_->Reset();
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  std::mutex mu_;
  std::unique_ptr<Database> db_;  // GUARDED_BY(mu_)
  std::optional<Statement> del_;  // GUARDED_BY(mu_)
  std::optional<Statement> ins_;  // GUARDED_BY(mu_)
  std::optional<Statement> touch_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<RuleStateStore>> OpenRuleStateStore(std::unique_ptr<Database> db) {
  auto check = db->Prepare("SELECT count(*) FROM rule_alerts");
  if (!check.ok()) return check.status().WithPrefix("rule state store");
  return std::unique_ptr<RuleStateStore>(std::make_unique<SqliteRuleStateStore>(std::move(db)));
}

}  // namespace alertd::storage
