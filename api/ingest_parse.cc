// The parsers of received alerts and Alertmanager's defaults and validation (api/ingest.h):
// pure functions, in a library of their own (alertd_ingest_parse) so the fuzz build needs
// neither the HTTP server nor the router.
#include "api/ingest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

const char* TypeName(const json& j) { return j.type_name(); }

// The refusal of a label set over `server.limits`, naming the limit.
Status LabelCountOver(const char* field, size_t n, const config::ServerLimits& limits) {
  return Status::InvalidArgument(
      fmt::format("{}: {} entries, more than server.limits.max_labels_per_alert ({})", field, n,
                  limits.max_labels_per_alert));
}
Status LabelBytesOver(const char* field, const config::ServerLimits& limits) {
  return Status::InvalidArgument(
      fmt::format("{}: names and values larger than server.limits.max_label_set_bytes ({} bytes)",
                  field, limits.max_label_set_bytes));
}
Status AlertCountOver(size_t n, const config::ServerLimits& limits) {
  return Status::InvalidArgument(
      fmt::format("{} alerts in one request, more than server.limits.max_alerts_per_request ({})",
                  n, limits.max_alerts_per_request));
}

Status ParseLabelSetField(const json& obj, const char* field, bool required,
                          const config::ServerLimits& limits, LabelSet* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(fmt::format("{} is required", field));
    return Status::Ok();
  }
  if (!it->is_object()) {
    return Status::InvalidArgument(
        fmt::format("{} must be an object, not {}", field, TypeName(*it)));
  }
  if (it->size() > limits.max_labels_per_alert) return LabelCountOver(field, it->size(), limits);
  LabelSetBuilder b;  // views into the document, which outlives Build
  b.Reserve(it->size());
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument(fmt::format("{}: value of {} must be a string, not {}", field,
                                                 GoQuote(name), TypeName(value)));
    }
    b.Add(name, value.get_ref<const std::string&>());
    if (b.bytes() > limits.max_label_set_bytes) return LabelBytesOver(field, limits);
  }
  *out = b.Build();
  return Status::Ok();
}

Status ParseTimeField(const json& obj, const char* field, Time* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) {
    return Status::InvalidArgument(
        fmt::format("{} must be a string, not {}", field, TypeName(*it)));
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return Status::Ok();
  auto t = ParseRFC3339(s);
  if (!t.ok()) {
    return Status::InvalidArgument(
        fmt::format("{}: {} is not an RFC 3339 time", field, GoQuote(s)));
  }
  *out = *t;
  return Status::Ok();
}

Status ParseStringField(const json& obj, const char* field, std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) {
    return Status::InvalidArgument(
        fmt::format("{} must be a string, not {}", field, TypeName(*it)));
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<Alert> ParseAlert(const json& j, size_t idx, bool webhook,
                         const config::ServerLimits& limits) {
  auto fail = [idx](const Status& s) {
    return Status::InvalidArgument(fmt::format("alert {}: {}", idx, s.message()));
  };
  if (!j.is_object())
    return fail(Status::InvalidArgument(fmt::format("must be an object, not {}", TypeName(j))));
  Alert a;
  if (auto s = ParseLabelSetField(j, "labels", true, limits, &a.labels); !s.ok()) return fail(s);
  if (auto s = ParseLabelSetField(j, "annotations", false, limits, &a.annotations); !s.ok())
    return fail(s);
  if (auto s = ParseTimeField(j, "startsAt", &a.starts_at); !s.ok()) return fail(s);
  if (auto s = ParseTimeField(j, "endsAt", &a.ends_at); !s.ok()) return fail(s);
  if (auto s = ParseStringField(j, "generatorURL", &a.generator_url); !s.ok()) return fail(s);
  if (webhook) {
    std::string status;
    if (auto s = ParseStringField(j, "status", &status); !s.ok()) return fail(s);
    if (!status.empty() && status != "firing" && status != "resolved") {
      return fail(Status::InvalidArgument(
          fmt::format("status must be \"firing\" or \"resolved\", not {}", GoQuote(status))));
    }
    // A resolved alert always carries its end; guard against senders that leave it out.
    if (status == "resolved" && IsZero(a.ends_at)) a.ends_at = Time::max();
  }
  return a;
}

Result<json> ParseJson(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions only to get the position for the message.
    try {
      json again = json::parse(body);
      (void)again;
    } catch (const json::exception& e) {
      // parse_error, and out_of_range for numbers such as 1e400 that do not fit a double.
      return Status::InvalidArgument(fmt::format("malformed JSON: {}", e.what()));
    }
    return Status::InvalidArgument("malformed JSON");
  }
  return j;
}

// The JSON type names used in error messages (nlohmann's, as the webhook path reports them).
const char* TypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "array";
    case T::OBJECT:
      return "object";
    case T::STRING:
      return "string";
    case T::BOOL:
      return "boolean";
    case T::NULL_VALUE:
      return "null";
    default:
      return "number";
  }
}

// The parser of the calling thread. simdjson reuses its buffers from one document to the next,
// which is most of its speed; one that grew for a very large body is replaced afterwards so
// the memory goes back.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}
constexpr size_t kKeepParserCapacity = 1 << 20;

// Accepts every event and keeps only the parse error: validation without building a tree, so
// a hostile body (millions of nested brackets) costs no memory to word its error.
struct ErrorOnlySax final : nlohmann::json_sax<json> {
  std::string message;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    message = ex.what();
    return false;
  }
};

// The message for a body simdjson refused: nlohmann's, which names the line and column.
std::string MalformedMessage(std::string_view body, simdjson::error_code err) {
  ErrorOnlySax sax;
  const bool valid = json::sax_parse(body.begin(), body.end(), &sax);
  (void)valid;  // the message says it
  if (!sax.message.empty()) return fmt::format("malformed JSON: {}", sax.message);
  return fmt::format("malformed JSON: {}", simdjson::error_message(err));
}

Status ParseLabelObject(simdjson::dom::element v, const char* field,
                        const config::ServerLimits& limits, LabelSet* out) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj)) {
    return Status::InvalidArgument(
        fmt::format("{} must be an object, not {}", field, TypeName(v.type())));
  }
  const size_t n = obj.size();
  if (n > limits.max_labels_per_alert) return LabelCountOver(field, n, limits);
  // Views into the parser's document, which outlives Build. A repeated name: the last wins.
  LabelSetBuilder b;
  b.Reserve(n);
  for (auto [name, value] : obj) {
    std::string_view sv;
    if (value.get_string().get(sv)) {
      return Status::InvalidArgument(fmt::format("{}: value of {} must be a string, not {}", field,
                                                 GoQuote(name), TypeName(value.type())));
    }
    b.Add(name, sv);
    if (b.bytes() > limits.max_label_set_bytes) return LabelBytesOver(field, limits);
  }
  *out = b.Build();
  return Status::Ok();
}

Status ParseTime(simdjson::dom::element v, std::string_view field, Time* out) {
  std::string_view sv;
  if (v.get_string().get(sv)) {
    return Status::InvalidArgument(
        fmt::format("{} must be a string, not {}", field, TypeName(v.type())));
  }
  if (sv.empty()) return Status::Ok();
  auto t = ParseRFC3339(sv);
  if (!t.ok()) {
    return Status::InvalidArgument(
        fmt::format("{}: {} is not an RFC 3339 time", field, GoQuote(sv)));
  }
  *out = *t;
  return Status::Ok();
}

Status ParsePostableAlert(simdjson::dom::element v, const config::ServerLimits& limits, Alert* a) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj)) {
    return Status::InvalidArgument(fmt::format("must be an object, not {}", TypeName(v.type())));
  }
  bool has_labels = false;
  for (auto [key, value] : obj) {
    if (value.is_null()) continue;  // same as absent
    Status s;
    if (key == "labels") {
      has_labels = true;
      s = ParseLabelObject(value, "labels", limits, &a->labels);
    } else if (key == "annotations") {
      s = ParseLabelObject(value, "annotations", limits, &a->annotations);
    } else if (key == "startsAt") {
      s = ParseTime(value, key, &a->starts_at);
    } else if (key == "endsAt") {
      s = ParseTime(value, key, &a->ends_at);
    } else if (key == "generatorURL") {
      std::string_view sv;
      if (value.get_string().get(sv)) {
        s = Status::InvalidArgument(
            fmt::format("generatorURL must be a string, not {}", TypeName(value.type())));
      } else {
        a->generator_url = std::string(sv);
      }
    }
    if (!s.ok()) return s;
  }
  if (!has_labels) return Status::InvalidArgument("labels is required");
  return Status::Ok();
}

}  // namespace

Result<std::vector<Alert>> ParsePostableAlerts(std::string_view body,
                                               const config::ServerLimits& limits) {
  // simdjson rather than nlohmann on this path: POST /api/v2/alerts is the hot path of
  // ingestion, and nlohmann's lexer (even streaming through its SAX interface) took about a
  // fifth of the CPU per received alert; simdjson validates and parses several times faster
  // into a reusable buffer, and the alerts are built straight from its string views.
  auto& parser = ThreadParser();
  struct Reset {
    simdjson::dom::parser& p;
    ~Reset() {
      if (p.capacity() > kKeepParserCapacity) p = simdjson::dom::parser{};
    }
  } reset{parser};
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc)) {
    return Status::InvalidArgument(MalformedMessage(body, err));
  }
  simdjson::dom::array arr;
  if (doc.get_array().get(arr)) {
    return Status::InvalidArgument(
        fmt::format("body must be a JSON array of alerts, not {}", TypeName(doc.type())));
  }
  if (arr.size() > limits.max_alerts_per_request) return AlertCountOver(arr.size(), limits);
  std::vector<Alert> alerts;
  alerts.reserve(arr.size());
  size_t idx = 0;
  for (simdjson::dom::element v : arr) {
    auto& a = alerts.emplace_back();
    if (auto s = ParsePostableAlert(v, limits, &a); !s.ok()) {
      return Status::InvalidArgument(fmt::format("alert {}: {}", idx, s.message()));
    }
    ++idx;
  }
  return alerts;
}

Result<std::vector<Alert>> ParseWebhookPayload(std::string_view body,
                                               const config::ServerLimits& limits) {
  auto j = ParseJson(body);
  if (!j.ok()) return j.status();
  if (!j->is_object()) {
    return Status::InvalidArgument(fmt::format("body must be a JSON object, not {}", TypeName(*j)));
  }
  auto v = j->find("version");
  if (v == j->end() || !v->is_string() || v->get_ref<const std::string&>() != "4") {
    return Status::InvalidArgument("unsupported webhook payload: version must be \"4\"");
  }
  auto alerts = j->find("alerts");
  if (alerts == j->end() || !alerts->is_array()) {
    return Status::InvalidArgument("webhook payload: alerts must be an array");
  }
  if (alerts->size() > limits.max_alerts_per_request) {
    return AlertCountOver(alerts->size(), limits);
  }
  std::vector<Alert> out;
  out.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    auto a = ParseAlert((*alerts)[i], i, true, limits);
    if (!a.ok()) return a.status();
    out.push_back(std::move(*a));
  }
  return out;
}

PreparedAlerts PrepareAlerts(std::vector<Alert> alerts, Time now, Duration resolve_timeout) {
  PreparedAlerts out;
  out.valid.reserve(alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    Alert& a = alerts[i];
    if (a.ends_at == Time::max()) a.ends_at = now;  // resolved without an end (webhook)
    a.updated_at = now;
    if (IsZero(a.starts_at)) a.starts_at = IsZero(a.ends_at) ? now : a.ends_at;
    if (IsZero(a.ends_at)) {
      a.timeout = true;
      a.ends_at = SaturatingAdd(now, resolve_timeout);
    }
    a.labels.RemoveEmpty();

    std::string err;
    if (!IsZero(a.ends_at) && a.ends_at < a.starts_at) {
      err = "start time must be before end time";
    } else if (auto s = a.labels.Validate(); !s.ok()) {
      err = "invalid label set: " + s.message();
    } else if (a.labels.empty()) {
      err = "at least one label pair required";
    } else if (auto s2 = a.annotations.Validate(); !s2.ok()) {
      err = "invalid annotations: " + s2.message();
    } else {
      for (const auto& l : a.labels) {
        if (!alertd::IsValidUtf8(l.value)) {
          err = "invalid label set: invalid value " + GoQuote(l.value);
          break;
        }
      }
    }
    if (!err.empty()) {
      out.errors.push_back(fmt::format("alert {} {}: {}", i, a.labels.String(), err));
      continue;
    }
    out.valid.push_back(std::move(a));
  }
  return out;
}

}  // namespace alertd::api
