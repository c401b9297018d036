#include "storage/codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

namespace alertd::storage {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetString(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

bool DecodeLabelSetFrom(std::string_view* in, LabelSet* ls) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  LabelSetBuilder b;  // a corrupt or hostile record of many labels costs a sort, not O(n^2)
  b.Reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetString(in, &name) || !GetString(in, &value)) return false;
    b.Add(name, value);
  }
  *ls = b.Build();
  return true;
}

void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out->append(buf, 8);
}

bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i)
    r |= static_cast<uint64_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  in->remove_prefix(8);
  *v = r;
  return true;
}

void PutTime(std::string* out, Time t) {
  PutFixed64(out, static_cast<uint64_t>(t.time_since_epoch().count()));
}

bool GetTime(std::string_view* in, Time* t) {
  uint64_t v;
  if (!GetFixed64(in, &v)) return false;
  *t = Time(Duration(static_cast<int64_t>(v)));
  return true;
}

void PutHeader(LogRecordKind kind, uint64_t fp, std::string* out) {
  out->push_back(static_cast<char>(kind));
  PutFixed64(out, fp);
}

}  // namespace

void EncodeLabelSet(const LabelSet& ls, std::string* out) {
  PutVarint(out, ls.size());
  for (const auto& l : ls) {
    PutVarint(out, l.name.size());
    out->append(l.name);
    PutVarint(out, l.value.size());
    out->append(l.value);
  }
}

std::string EncodeLabelSet(const LabelSet& ls) {
  std::string out;
  EncodeLabelSet(ls, &out);
  return out;
}

Result<LabelSet> DecodeLabelSet(std::string_view in) {
  uint64_t n;
  if (!GetVarint(&in, &n) || n > in.size()) return Status::Internal("corrupt label set: bad count");
  LabelSetBuilder b;
  b.Reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetString(&in, &name) || !GetString(&in, &value)) {
      return Status::Internal("corrupt label set: truncated");
    }
    b.Add(name, value);
  }
  if (!in.empty()) return Status::Internal("corrupt label set: trailing bytes");
  // Written sorted; unsorted input would still decode correctly.
  return b.Build();
}

void AppendFullRecord(uint64_t fingerprint, const Alert& a, std::string* out) {
  PutHeader(LogRecordKind::kFull, fingerprint, out);
  EncodeLabelSet(a.labels, out);
  EncodeLabelSet(a.annotations, out);
  PutTime(out, a.starts_at);
  PutTime(out, a.ends_at);
  PutTime(out, a.updated_at);
  PutVarint(out, a.generator_url.size());
  out->append(a.generator_url);
  out->push_back(a.timeout ? 1 : 0);
}

void AppendEndsRecord(uint64_t fingerprint, const Alert& a, std::string* out) {
  PutHeader(LogRecordKind::kEnds, fingerprint, out);
  PutTime(out, a.ends_at);
  PutTime(out, a.updated_at);
  out->push_back(a.timeout ? 1 : 0);
}

void AppendDeleteRecord(uint64_t fingerprint, std::string* out) {
  PutHeader(LogRecordKind::kDelete, fingerprint, out);
}

Result<LogRecord> DecodeLogRecord(std::string_view* in) {
  auto corrupt = [](const char* what) {
    return Status::Internal(std::string("corrupt alert log record: ") + what);
  };
  if (in->empty()) return corrupt("empty");
  LogRecord r;
  const auto kind = static_cast<unsigned char>(in->front());
  in->remove_prefix(1);
  if (kind < 1 || kind > 3) return corrupt("unknown kind");
  r.kind = static_cast<LogRecordKind>(kind);
  if (!GetFixed64(in, &r.fingerprint)) return corrupt("truncated fingerprint");
  auto get_flag = [&](bool* b) {
    if (in->empty()) return false;
    *b = in->front() != 0;
    in->remove_prefix(1);
    return true;
  };
  switch (r.kind) {
    case LogRecordKind::kFull: {
      std::string_view url;
      if (!DecodeLabelSetFrom(in, &r.alert.labels) ||
          !DecodeLabelSetFrom(in, &r.alert.annotations) || !GetTime(in, &r.alert.starts_at) ||
          !GetTime(in, &r.alert.ends_at) || !GetTime(in, &r.alert.updated_at) ||
          !GetString(in, &url) || !get_flag(&r.alert.timeout)) {
        return corrupt("truncated alert");
      }
      r.alert.generator_url = std::string(url);
      break;
    }
    case LogRecordKind::kEnds:
      if (!GetTime(in, &r.alert.ends_at) || !GetTime(in, &r.alert.updated_at) ||
          !get_flag(&r.alert.timeout)) {
        return corrupt("truncated update");
      }
      break;
    case LogRecordKind::kDelete:
      break;
  }
  return r;
}

std::string EncodeMatchers(const Matchers& ms) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& m : ms) {
    arr.push_back({{"name", m.name()},
                   {"value", m.value()},
                   {"isRegex", m.is_regex()},
                   {"isEqual", m.is_equal()}});
  }
  return arr.dump();
}

Result<Matchers> DecodeMatchers(std::string_view json) {
  try {
    auto arr = nlohmann::json::parse(json);
    Matchers out;
    for (const auto& j : arr) {
      const bool re = j.value("isRegex", false);
      const bool eq = j.value("isEqual", true);
      MatchType t = re ? (eq ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                       : (eq ? MatchType::kEqual : MatchType::kNotEqual);
      auto m =
          Matcher::Create(t, j.at("name").get<std::string>(), j.at("value").get<std::string>());
      if (!m.ok()) return m.status();
      out.push_back(std::move(*m));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("matchers: ") + e.what());
  }
}

std::string EncodeFingerprints(const std::vector<uint64_t>& v) {
  std::string out(v.size() * 8, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>((v[i] >> (8 * b)) & 0xff);
  }
  return out;
}

std::vector<uint64_t> DecodeFingerprints(std::string_view s) {
  std::vector<uint64_t> out(s.size() / 8);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t x = 0;
    for (int b = 0; b < 8; ++b)
      x |= static_cast<uint64_t>(static_cast<unsigned char>(s[i * 8 + b])) << (8 * b);
    out[i] = x;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string EncodeNames(const std::vector<std::string>& names) {
  return nlohmann::json(names).dump();
}

Result<std::vector<std::string>> DecodeNames(std::string_view json) {
  try {
    return nlohmann::json::parse(json).get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("names: ") + e.what());
  }
}

std::string EncodeValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}
double DecodeValue(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  return std::strtod(std::string(s).c_str(), nullptr);
}

std::string EncodeNotifiedAlerts(const std::vector<NotifiedAlert>& alerts) {
  std::string out;
  out.reserve(alerts.size() * 18);
  for (const auto& a : alerts) {
    if (!out.empty()) out += ',';
    out += FingerprintHex(a.fingerprint);
    out += a.firing ? 'f' : 'r';
  }
  return out;
}

Result<std::vector<NotifiedAlert>> DecodeNotifiedAlerts(std::string_view s) {
  std::vector<NotifiedAlert> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    const auto fp = item.size() == 17 ? ParseFingerprintHex(item.substr(0, 16)) : std::nullopt;
    if (!fp || (item[16] != 'f' && item[16] != 'r')) {
      return Status::Internal("corrupt notification record: alert \"" + std::string(item) + "\"");
    }
    out.push_back(NotifiedAlert{*fp, item[16] == 'f'});
  }
  return out;
}

HistoryFilter NotificationFilter(const NotificationQuery& q,
                                 const std::function<std::string(int)>& placeholder) {
  HistoryFilter f;
  auto add = [&](std::string cond, std::variant<int64_t, std::string> arg) {
    f.where += f.where.empty() ? " WHERE " : " AND ";
    f.args.push_back(std::move(arg));
    const std::string ph = placeholder(static_cast<int>(f.args.size()));
    for (size_t at; (at = cond.find('#')) != std::string::npos;) cond.replace(at, 1, ph);
    f.where += cond;
  };
  if (!q.receiver.empty()) add("receiver = #", q.receiver);
  if (!q.integration.empty()) add("integration = #", q.integration);
  if (!q.group_key.empty()) add("group_key = #", q.group_key);
  if (!q.outcome.empty()) add("outcome = #", q.outcome);
  if (q.fingerprint) {
    add("id IN (SELECT notification FROM notification_alerts WHERE fingerprint = #)",
        static_cast<int64_t>(*q.fingerprint));
  }
  if (!IsZero(q.since)) add("at >= #", ToNanos(q.since));
  if (!IsZero(q.until)) add("at < #", ToNanos(q.until));
  if (q.before_id > 0) add("id < #", q.before_id);
  return f;
}

}  // namespace alertd::storage
