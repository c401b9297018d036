// libFuzzer target: random text as a template, parsed into a set (the Alertmanager dialect for
// even first bytes, Prometheus for odd) and executed on sample notification data with a small
// execution budget, once stopping at the first error and once continuing. Parsing and
// execution must never crash, loop past the budget or print past it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "templating/template.h"
#include "templating/value.h"

namespace {

const alertd::templating::Value& Data() {
  using namespace alertd::templating;
  static const Value data = [] {
    Map alert;
    alert["Status"] = Value("firing");
    alert["Labels"] = Value::StringMap({{"alertname", "HighLatency"}, {"instance", "a:9100"}});
    alert["Annotations"] = Value::StringMap({{"summary", "Latency is high"}});
    Map m;
    m["Status"] = Value("firing");
    m["Alerts"] = Value(List{Value(alert), Value(alert)});
    m["CommonLabels"] = Value::StringMap({{"alertname", "HighLatency"}});
    m["N"] = Value(3);
    m["F"] = Value(1.5);
    m["L"] = Value::StringList({"a", "b", "c"});
    return Value(std::move(m));
  }();
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alertd::templating;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  TemplateSet set((data[0] & 1) ? Dialect::kPrometheus : Dialect::kAlertmanager);
  if (!set.Parse("fuzz.tmpl", text).ok()) return 0;
  constexpr size_t kMaxOutput = 64 << 10;
  for (bool keep_going : {false, true}) {
    ExecOptions opts;
    opts.max_steps = 20000;
    opts.max_output_bytes = kMaxOutput;
    opts.continue_on_error = keep_going;
    opts.max_depth = 50;
    opts.escape_html = (data[0] & 2) != 0;
    ExecResult r = set.Execute("fuzz.tmpl", Data(), opts);
    // One action may print up to the budget before the check: at most twice it (and an error
    // marker) in all.
    if (r.output.size() > 2 * kMaxOutput + 4096) std::abort();
  }
  return 0;
}
