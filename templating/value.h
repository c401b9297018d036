// The dynamic values that Go templates operate on: nil, bool, int, float64, string, time.Time,
// time.Duration, lists, string-keyed maps and structs. A value may carry a "named type"
// (TypeInfo) that gives it Go methods, e.g. Alertmanager's template.KV (a label map with
// SortedPairs/Names/Values/Remove) or template.Alerts (a list with Firing/Resolved).
//
// Values are immutable once built and share their lists/maps/structs by shared_ptr, so copies
// are cheap and a Value may be read from many threads at once (thread-compatible; the shared
// parts are never mutated after construction).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace alertd::templating {

class Value;
using List = std::vector<Value>;
// Ordered by key: Go templates range over maps in sorted key order.
using Map = std::map<std::string, Value, std::less<>>;

// A Go time.Time: an instant plus the zone it is shown in (offset and abbreviation).
struct TimeValue {
  Time t{};
  int32_t offset_seconds = 0;  // east of UTC
  std::string zone = "UTC";    // abbreviation, e.g. "UTC", "CET", "-0500"
};

// A Go time.Duration (nanoseconds).
struct DurationValue {
  int64_t ns = 0;
};

// A Go struct: named fields in declaration order.
struct Struct {
  std::vector<std::pair<std::string, Value>> fields;
};

// A method of a named type. `self` is the receiver; `args` were already evaluated.
using MethodFn = Result<Value> (*)(const Value& self, std::span<const Value> args);
struct MethodInfo {
  std::string_view name;
  MethodFn fn;
  int num_args;  // exact number of arguments the method takes
};

// A Go named type. Static lifetime (instances are constants); identity is the pointer.
struct TypeInfo {
  std::string_view name;  // as Go's %T prints it, e.g. "template.KV"
  std::span<const MethodInfo> methods;
  // Maps only: what a missing key yields with missingkey=zero and in `index`:
  // "" for map[string]string, nil for map[string]interface{}.
  bool string_elems = false;
  // Structs only: printed with a leading '&' (the value is a pointer to a struct in Go).
  bool pointer = false;
  const MethodInfo* FindMethod(std::string_view n) const {
    for (const auto& m : methods) {
      if (m.name == n) return &m;
    }
    return nullptr;
  }
};

// Built-in named types used across the engine.
extern const TypeInfo kStringMapType;      // map[string]string (Prometheus $labels)
extern const TypeInfo kInterfaceMapType;   // map[string]interface {}
extern const TypeInfo kStringListType;     // []string
extern const TypeInfo kInterfaceListType;  // []interface {}
extern const TypeInfo kSafeHtmlType;       // html/template.HTML (a string)

class Value {
 public:
  enum class Kind : uint8_t {
    kNil,
    kBool,
    kInt,
    kFloat,
    kString,
    kTime,
    kDuration,
    kList,
    kMap,
    kStruct,
  };

  Value() = default;                                 // nil
  Value(bool b) : v_(b) {}                           // NOLINT
  Value(int v) : v_(int64_t{v}) {}                   // NOLINT
  Value(int64_t v) : v_(v) {}                        // NOLINT
  Value(size_t v) : v_(static_cast<int64_t>(v)) {}   // NOLINT
  Value(double v) : v_(v) {}                         // NOLINT
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT
  Value(TimeValue t) : v_(std::move(t)) {}           // NOLINT
  Value(DurationValue d) : v_(d) {}                  // NOLINT
  Value(List l, const TypeInfo* type = &kInterfaceListType)
      : v_(std::make_shared<const List>(std::move(l))), type_(type) {}
  Value(Map m, const TypeInfo* type = &kInterfaceMapType)
      : v_(std::make_shared<const Map>(std::move(m))), type_(type) {}
  Value(Struct s, const TypeInfo* type)
      : v_(std::make_shared<const Struct>(std::move(s))), type_(type) {}

  // Convenience constructors.
  static Value FromTime(Time t) { return Value(TimeValue{t, 0, "UTC"}); }
  static Value StringMap(const std::map<std::string, std::string>& m,
                         const TypeInfo* type = &kStringMapType);
  static Value StringList(const std::vector<std::string>& l,
                          const TypeInfo* type = &kStringListType);
  // A string carrying a named type (e.g. safeHtml's html/template.HTML).
  static Value TypedString(std::string s, const TypeInfo* type) {
    Value v(std::move(s));
    v.type_ = type;
    return v;
  }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_nil() const { return kind() == Kind::kNil; }
  const TypeInfo* type() const { return type_; }
  // Go's %T spelling: "int", "float64", "string", "template.KV", ...
  std::string_view TypeName() const;

  // REQUIRES: the matching kind.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const TimeValue& as_time() const { return std::get<TimeValue>(v_); }
  DurationValue as_duration() const { return std::get<DurationValue>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<const List>>(v_); }
  const Map& as_map() const { return *std::get<std::shared_ptr<const Map>>(v_); }
  const Struct& as_struct() const { return *std::get<std::shared_ptr<const Struct>>(v_); }

  // Go template truth: false, 0, nil and empty strings/lists/maps are false; structs,
  // times and everything else are true.
  bool Truth() const;

  // A struct field by name, or nullptr.
  const Value* FindField(std::string_view name) const;

  // fmt.Sprint(v) (the %v verb) as Go prints this value: 0.30000000000000004, 1e+21, NaN,
  // +Inf, map[a:b], [a b], {x y}, "2024-01-02 03:04:05 +0000 UTC", <nil>.
  std::string ToString() const;
  void AppendTo(std::string& out) const;

  // encoding/json.Marshal of this value (Alertmanager's toJson).
  std::string ToJson() const;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, TimeValue, DurationValue,
               std::shared_ptr<const List>, std::shared_ptr<const Map>,
               std::shared_ptr<const Struct>>
      v_;
  const TypeInfo* type_ = nullptr;
};

// Go's strconv.FormatFloat(v, fmt, prec, 64) for fmt in 'e', 'E', 'f', 'g', 'G'; prec -1
// means the shortest representation that round-trips.
std::string FormatFloat(double v, char fmt, int prec);

// Go's time.Time.String() ("2006-01-02 15:04:05.999999999 -0700 MST") and
// time.Duration.String() ("1h2m3.5s", "1.5ms", "0s").
std::string GoTimeString(const TimeValue& t);
std::string GoDurationString(int64_t ns);

}  // namespace alertd::templating
