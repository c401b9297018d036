// The rule engine's state (core/rule_state_store.h) on PostgreSQL: table rule_alerts as on
// SQLite (storage/rule_state_store.cc), one connection guarded by a mutex, each call one
// transaction. A group's last evaluation time is a row with rule_key '' as on SQLite.
#include <mutex>

#include "storage/codec.h"
#include "storage/pg_stores.h"

namespace alertd::storage {
namespace {

class PgRuleStateStore final : public RuleStateStore {
 public:
  explicit PgRuleStateStore(std::unique_ptr<PgConn> conn) : c_(std::move(conn)) {}

  Result<std::vector<RuleAlertRecord>> LoadAll() override { return Load(nullptr); }
  Result<std::vector<RuleAlertRecord>> LoadGroup(const std::string& group_key) override {
    return Load(&group_key);
  }


  Status ReplaceGroup(const std::string& group_key,
                      const std::vector<RuleAlertRecord>& records) override {
    std::lock_guard l(mu_);
    return InTransaction([&]() -> Status {
      auto d =
          c_->Query("DELETE FROM rule_alerts WHERE group_key = $1 AND rule_key <> ''",
                    {PgParam::Text(group_key)});
      if (!d.ok()) return d.status();
      for (const auto& r : records) {
        auto ins = c_->Query(
            "INSERT INTO rule_alerts (group_key, rule_key, fingerprint, labels, annotations, "
            "state, value, active_at, fired_at, resolved_at, last_sent_at, valid_until, "
            "keep_firing_since) VALUES ($1, $2, $3, $4, $5, $6::BIGINT::SMALLINT, $7, $8, $9, "
            "$10, $11, $12, $13) ON CONFLICT (group_key, rule_key, fingerprint) DO UPDATE SET "
            "labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, "
            "state = EXCLUDED.state, value = EXCLUDED.value, active_at = EXCLUDED.active_at, "
            "fired_at = EXCLUDED.fired_at, resolved_at = EXCLUDED.resolved_at, "
            "last_sent_at = EXCLUDED.last_sent_at, valid_until = EXCLUDED.valid_until, "
            "keep_firing_since = EXCLUDED.keep_firing_since",
            {PgParam::Text(group_key), PgParam::Text(r.rule_key),
             PgParam::Int(static_cast<int64_t>(r.labels.Fingerprint())),
             PgParam::Bytes(EncodeLabelSet(r.labels)),
             PgParam::Bytes(EncodeLabelSet(r.annotations)),
             PgParam::Int(static_cast<int64_t>(r.state)), PgParam::Text(EncodeValue(r.value)),
             PgParam::Int(ToNanos(r.active_at)), PgParam::Int(ToNanos(r.fired_at)),
             PgParam::Int(ToNanos(r.resolved_at)), PgParam::Int(ToNanos(r.last_sent_at)),
             PgParam::Int(ToNanos(r.valid_until)), PgParam::Int(ToNanos(r.keep_firing_since))});
        if (!ins.ok()) return ins.status();
      }
      return Status::Ok();
    });
  }

  Status RetainGroups(const std::vector<std::string>& keep) override {
    std::lock_guard l(mu_);
    // The kept keys as one text[] parameter in PostgreSQL's array literal syntax, each element
    // quoted with " and \ escaped.
    std::string arr = "{";
    for (size_t i = 0; i < keep.size(); ++i) {
      if (i) arr += ',';
      arr += '"';
      for (char ch : keep[i]) {
        if (ch == '"' || ch == '\\') arr += '\\';
        arr += ch;
      }
      arr += '"';
    }
    arr += '}';
    return InTransaction([&]() -> Status {
      return c_
          ->Query("DELETE FROM rule_alerts WHERE NOT (group_key = ANY ($1::TEXT::TEXT[]))",
                  {PgParam::Text(arr)})
          .status();
    });
  }

  Status SetGroupEvaluated(const std::string& group_key, Time ts) override {
    std::lock_guard l(mu_);
    if (Status s = c_->Ready(); !s.ok()) return s;
    const int64_t unset = ToNanos(kZeroTime);
    return c_
        ->Query(
            "INSERT INTO rule_alerts (group_key, rule_key, fingerprint, labels, annotations, "
            "state, value, active_at, fired_at, resolved_at, last_sent_at, valid_until, "
            "keep_firing_since) VALUES ($1, '', 0, ''::BYTEA, ''::BYTEA, 0, '0', $2, $3, $3, $3, "
            "$3, $3) ON CONFLICT (group_key, rule_key, fingerprint) DO UPDATE SET "
            "active_at = EXCLUDED.active_at",
            {PgParam::Text(group_key), PgParam::Int(ToNanos(ts)), PgParam::Int(unset)})
        .status();
  }

  Result<std::map<std::string, Time>> LoadGroupEvaluations() override {
    std::lock_guard l(mu_);
    if (Status s = c_->Ready(); !s.ok()) return s;
    auto r = c_->Query("SELECT group_key, active_at FROM rule_alerts WHERE rule_key = ''");
    if (!r.ok()) return r.status();
    std::map<std::string, Time> out;
    for (int i = 0; i < r->rows(); ++i) {
      out[std::string(r->Bytes(i, 0))] = FromNanos(r->Int(i, 1));
    }
    return out;
  }

 private:
  // Every record, or those of `group` (not null).
  Result<std::vector<RuleAlertRecord>> Load(const std::string* group) {
    std::lock_guard l(mu_);
    if (Status s = c_->Ready(); !s.ok()) return s;
    PgParam key = group ? PgParam::Text(*group) : PgParam::Text("");
    key.null = group == nullptr;
    auto r = c_->Query(
        "SELECT group_key, rule_key, labels, annotations, state::BIGINT, value, active_at, "
        "fired_at, resolved_at, last_sent_at, valid_until, keep_firing_since FROM rule_alerts "
        "WHERE rule_key <> '' AND ($1::TEXT IS NULL OR group_key = $1) "
        "ORDER BY group_key COLLATE \"C\", rule_key COLLATE \"C\"",
        {key});
    if (!r.ok()) return r.status();
    std::vector<RuleAlertRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
      RuleAlertRecord rec;
      rec.group_key = std::string(r->Bytes(i, 0));
      rec.rule_key = std::string(r->Bytes(i, 1));
      auto labels = DecodeLabelSet(r->Bytes(i, 2));
      auto annotations = DecodeLabelSet(r->Bytes(i, 3));
      if (!labels.ok()) return labels.status().WithPrefix("rule_alerts.labels");
      if (!annotations.ok()) return annotations.status().WithPrefix("rule_alerts.annotations");
      rec.labels = std::move(*labels);
      rec.annotations = std::move(*annotations);
      const int64_t s = r->Int(i, 4);
      rec.state = s == 2   ? RuleAlertRecord::State::kFiring
                  : s == 1 ? RuleAlertRecord::State::kPending
                           : RuleAlertRecord::State::kInactive;
      rec.value = DecodeValue(r->Bytes(i, 5));
      rec.active_at = FromNanos(r->Int(i, 6));
      rec.fired_at = FromNanos(r->Int(i, 7));
      rec.resolved_at = FromNanos(r->Int(i, 8));
      rec.last_sent_at = FromNanos(r->Int(i, 9));
      rec.valid_until = FromNanos(r->Int(i, 10));
      rec.keep_firing_since = FromNanos(r->Int(i, 11));
      out.push_back(std::move(rec));
    }
    return out;
  }

  template <typename F>
  Status InTransaction(F body) {
    if (Status s = c_->Ready(); !s.ok()) return s;
    if (Status s = c_->Begin(); !s.ok()) return s;
    Status s = body();
    if (!s.ok()) {
      c_->Rollback();
      return s;
    }
    return c_->Commit();
  }

  std::mutex mu_;
  std::unique_ptr<PgConn> c_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<RuleStateStore>> OpenPgRuleStateStore(const PgTarget& target) {
  auto conn = PgConn::Connect(target, "rule state");
  if (!conn.ok()) return conn.status();
  if (Status s = MigratePostgres(**conn); !s.ok()) return s;
  return std::unique_ptr<RuleStateStore>(new PgRuleStateStore(std::move(*conn)));
}

}  // namespace alertd::storage
