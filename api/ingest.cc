#include "api/ingest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/json_writer.h"
#include "core/utf8.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

const char* TypeName(const json& j) { return j.type_name(); }

Status ParseLabelSetField(const json& obj, const char* field, bool required, LabelSet* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(fmt::format("{} is required", field));
    return Status::Ok();
  }
  if (!it->is_object()) {
    return Status::InvalidArgument(
        fmt::format("{} must be an object, not {}", field, TypeName(*it)));
  }
  // nlohmann's object is a std::map: names arrive sorted, so each Set appends.
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument(fmt::format("{}: value of {} must be a string, not {}", field,
                                                 GoQuote(name), TypeName(value)));
    }
    out->Set(name, value.get_ref<const std::string&>());
  }
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

Result<Alert> ParseAlert(const json& j, size_t idx, bool webhook) {
  auto fail = [idx](const Status& s) {
    return Status::InvalidArgument(fmt::format("alert {}: {}", idx, s.message()));
  };
  if (!j.is_object())
    return fail(Status::InvalidArgument(fmt::format("must be an object, not {}", TypeName(j))));
  Alert a;
  if (auto s = ParseLabelSetField(j, "labels", true, &a.labels); !s.ok()) return fail(s);
  if (auto s = ParseLabelSetField(j, "annotations", false, &a.annotations); !s.ok()) return fail(s);
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
    } catch (const json::parse_error& e) {
      return Status::InvalidArgument(fmt::format("malformed JSON: {}", e.what()));
    }
    return Status::InvalidArgument("malformed JSON");
  }
  return j;
}

// SAX handler for a postableAlerts array. Each callback returns false to stop at the first
// problem, leaving its message in `error`.
class PostableAlertsSax final : public nlohmann::json_sax<json> {
 public:
  std::vector<Alert> alerts;
  std::string error;

  bool null() override { return Scalar("null", nullptr); }
  bool boolean(bool) override { return Scalar("boolean", nullptr); }
  bool number_integer(number_integer_t) override { return Scalar("number", nullptr); }
  bool number_unsigned(number_unsigned_t) override { return Scalar("number", nullptr); }
  bool number_float(number_float_t, const string_t&) override { return Scalar("number", nullptr); }
  bool binary(binary_t&) override { return Scalar("binary", nullptr); }
  bool string(string_t& v) override { return Scalar("string", &v); }

  bool start_object(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kTop:
        return Fail(std::string("body must be a JSON array of alerts, not object"));
      case State::kArray:
        alerts.emplace_back();
        has_labels_ = false;
        state_ = State::kAlert;
        return true;
      case State::kAlert:
        if (field_ == Field::kLabels) {
          has_labels_ = true;
          state_ = State::kLabels;
        } else if (field_ == Field::kAnnotations) {
          state_ = State::kAnnotations;
        } else if (field_ == Field::kOther) {
          skip_ = 1;
        } else {
          return FieldType("object");
        }
        return true;
      case State::kLabels:
      case State::kAnnotations:
        return LabelType("object");
    }
    return true;
  }

  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    if (state_ == State::kAlert) {
      field_name_ = k;
      if (k == "labels")
        field_ = Field::kLabels;
      else if (k == "annotations")
        field_ = Field::kAnnotations;
      else if (k == "startsAt")
        field_ = Field::kStartsAt;
      else if (k == "endsAt")
        field_ = Field::kEndsAt;
      else if (k == "generatorURL")
        field_ = Field::kGeneratorURL;
      else
        field_ = Field::kOther;
    } else {
      label_name_ = std::move(k);
    }
    return true;
  }

  bool end_object() override {
    if (skip_ > 0) return --skip_, true;
    if (state_ == State::kLabels || state_ == State::kAnnotations) {
      state_ = State::kAlert;
      return true;
    }
    // End of an alert.
    if (!has_labels_) return Fail(fmt::format("alert {}: labels is required", alerts.size() - 1));
    state_ = State::kArray;
    return true;
  }

  bool start_array(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kTop:
        state_ = State::kArray;
        return true;
      case State::kArray:
        return Fail(fmt::format("alert {}: must be an object, not array", alerts.size()));
      case State::kAlert:
        if (field_ == Field::kOther) {
          skip_ = 1;
          return true;
        }
        return FieldType("array");
      default:
        return LabelType("array");
    }
  }

  bool end_array() override {
    if (skip_ > 0) return --skip_, true;
    return true;
  }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (error.empty()) error = fmt::format("malformed JSON: {}", ex.what());
    return false;
  }

 private:
  enum class State { kTop, kArray, kAlert, kLabels, kAnnotations };
  enum class Field { kLabels, kAnnotations, kStartsAt, kEndsAt, kGeneratorURL, kOther };

  bool Fail(std::string msg) {
    error = std::move(msg);
    return false;
  }
  bool FieldType(const char* type) {
    const char* want =
        (field_ == Field::kLabels || field_ == Field::kAnnotations) ? "an object" : "a string";
    return Fail(
        fmt::format("alert {}: {} must be {}, not {}", alerts.size() - 1, field_name_, want, type));
  }
  bool LabelType(const char* type) {
    return Fail(fmt::format("alert {}: {}: value of {} must be a string, not {}", alerts.size() - 1,
                            state_ == State::kLabels ? "labels" : "annotations",
                            GoQuote(label_name_), type));
  }

  bool Scalar(const char* type, string_t* v) {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kTop:
        return Fail(fmt::format("body must be a JSON array of alerts, not {}", type));
      case State::kArray:
        return Fail(fmt::format("alert {}: must be an object, not {}", alerts.size(), type));
      case State::kLabels:
      case State::kAnnotations: {
        if (!v) return LabelType(type);
        Alert& a = alerts.back();
        (state_ == State::kLabels ? a.labels : a.annotations).Set(label_name_, *v);
        return true;
      }
      case State::kAlert:
        break;
    }
    if (field_ == Field::kOther) return true;
    if (!v) {
      if (std::string_view(type) == "null") return true;  // same as absent
      if (field_ == Field::kLabels) has_labels_ = false;
      return FieldType(type);
    }
    Alert& a = alerts.back();
    switch (field_) {
      case Field::kStartsAt:
      case Field::kEndsAt: {
        if (v->empty()) return true;
        auto t = ParseRFC3339(*v);
        if (!t.ok()) {
          return Fail(fmt::format("alert {}: {}: {} is not an RFC 3339 time", alerts.size() - 1,
                                  field_name_, GoQuote(*v)));
        }
        (field_ == Field::kStartsAt ? a.starts_at : a.ends_at) = *t;
        return true;
      }
      case Field::kGeneratorURL:
        a.generator_url = std::move(*v);
        return true;
      default:
        return FieldType("string");
    }
  }

  State state_ = State::kTop;
  Field field_ = Field::kOther;
  std::string field_name_;
  std::string label_name_;
  bool has_labels_ = false;
  int skip_ = 0;  // depth inside a value of an unknown field
};

}  // namespace

Result<std::vector<Alert>> ParsePostableAlerts(std::string_view body) {
  // Streams the body straight into Alerts: the hot path of ingestion, where building an
  // nlohmann DOM first cost about as much CPU again as everything else.
  PostableAlertsSax sax;
  const bool ok = json::sax_parse(body.begin(), body.end(), &sax);
  if (!ok || !sax.error.empty()) {
    return Status::InvalidArgument(sax.error.empty() ? "malformed JSON" : sax.error);
  }
  return std::move(sax.alerts);
}

Result<std::vector<Alert>> ParseWebhookPayload(std::string_view body) {
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
  std::vector<Alert> out;
  out.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    auto a = ParseAlert((*alerts)[i], i, true);
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
      a.ends_at = now + resolve_timeout;
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

void IngestAlerts(storage::AlertStore* store, PreparedAlerts prepared, Responder respond) {
  std::string errors;
  for (const auto& e : prepared.errors) {
    if (!errors.empty()) errors += "; ";
    errors += e;
  }
  auto finish = [respond = std::move(respond), errors = std::move(errors)](Status s) {
    if (!s.ok()) return respond(Response::Error(500, "storing alerts failed: " + s.message()));
    if (!errors.empty()) return respond(Response::Error(400, errors));
    respond(Response::Json(200, ""));
  };
  if (prepared.valid.empty()) return finish(Status::Ok());
  store->PutAsync(std::move(prepared.valid), std::move(finish));
}

}  // namespace alertd::api
