// The reload path with fake steps: all-or-nothing application, revert order, metrics; and
// the structured log line formats.
#include "app/reloader.h"

#include <doctest/doctest.h>

#include "app/logging.h"

using namespace alertd;
using namespace alertd::app;

namespace {

ConfigPtr Named(const std::string& path) {
  auto c = std::make_shared<config::Config>();
  c->path = path;
  return c;
}

double Value(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

}  // namespace

TEST_CASE("reload applies every step or none") {
  struct Row {
    const char* name;
    bool load_ok;
    int failing_step;      // -1: none
    std::string want_log;  // steps' apply/revert/finish calls in order
    const char* want_config;
    Status::Code want_code;
  };
  const Row rows[] = {
      {"all steps apply", true, -1, "apply a;apply b;apply c;finish a;finish b;finish c;", "new",
       Status::Code::kOk},
      {"config does not load", false, -1, "finish a;finish b;finish c;", "old",
       Status::Code::kInvalidArgument},
      {"first step fails", true, 0, "apply a!;finish a;finish b;finish c;", "old",
       Status::Code::kInternal},
      {"last step fails: earlier ones reverted in reverse", true, 2,
       "apply a;apply b;apply c!;revert b;revert a;finish a;finish b;finish c;", "old",
       Status::Code::kInternal},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    SystemClock clock;
    MetricsRegistry registry;
    ConfigHolder holder;
    holder.Set(Named("old"));
    std::string log;
    std::vector<ReloadStep> steps;
    for (int i = 0; i < 3; ++i) {
      const std::string n(1, static_cast<char>('a' + i));
      steps.push_back(ReloadStep{
          n,
          [&log, &row, i, n](const ConfigPtr& next, const ConfigPtr& prev) {
            CHECK(next->path == "new");
            CHECK(prev->path == "old");
            if (i == row.failing_step) {
              log += "apply " + n + "!;";
              return Status::Internal("broken " + n);
            }
            log += "apply " + n + ";";
            return Status::Ok();
          },
          // Step b has nothing to undo in the "first step fails" row; every step can revert.
          [&log, n](const ConfigPtr& prev, const ConfigPtr&) {
            CHECK(prev->path == "old");
            log += "revert " + n + ";";
            return Status::Ok();
          },
          // Every step hears that the reload is over, whatever its outcome.
          [&log, n] { log += "finish " + n + ";"; }});
    }
    Reloader reloader(
        [&row]() -> Result<ConfigPtr> {
          if (!row.load_ok) return Status::InvalidArgument("alertd.yml:1:1: bad");
          return Named("new");
        },
        std::move(steps), &holder, &clock, &registry);
    CHECK(Value(registry.Text(), "alertd_config_last_reload_successful") == 1);
    const Status st = reloader.Reload("test");
    CHECK(st.code() == row.want_code);
    CHECK(log == row.want_log);
    CHECK(holder.Get()->path == row.want_config);
    const std::string m = registry.Text();
    const bool ok = row.want_code == Status::Code::kOk;
    CHECK(Value(m, "alertd_config_last_reload_successful") == (ok ? 1 : 0));
    CHECK(Value(m, "alertd_config_reloads_failed_total") == (ok ? 0 : 1));
    CHECK(Value(m, "alertd_config_reloads_total") == 1);
    if (row.failing_step >= 0) {
      CHECK(st.message() == std::string(1, static_cast<char>('a' + row.failing_step)) +
                                ": broken " +
                                std::string(1, static_cast<char>('a' + row.failing_step)));
    }
  }
}

TEST_CASE("structured log lines") {
  struct Row {
    const char* name;
    const char* format;
    const char* level;
    const char* message;
    const char* want;
  };
  const Row rows[] = {
      {"logfmt with component", "logfmt", "info", "router: 3 groups restored",
       "ts=T level=info component=router msg=\"3 groups restored\""},
      {"logfmt without component", "logfmt", "warning", "alertd stopped",
       "ts=T level=warn msg=\"alertd stopped\""},
      {"logfmt bare value", "logfmt", "error", "x: y", "ts=T level=error component=x msg=y"},
      {"logfmt escapes", "logfmt", "info", "say \"hi\"\\\nnext",
       "ts=T level=info msg=\"say \\\"hi\\\"\\\\\\nnext\""},
      {"json with component", "json", "info", "http: refused \"x\"",
       "{\"ts\":\"T\",\"level\":\"info\",\"component\":\"http\",\"msg\":\"refused \\\"x\\\"\"}"},
      {"json control characters", "json", "debug", "a\tb\x01",
       "{\"ts\":\"T\",\"level\":\"debug\",\"msg\":\"a\\tb\\u0001\"}"},
      {"not a component: capital letter", "json", "info", "Config: x",
       "{\"ts\":\"T\",\"level\":\"info\",\"msg\":\"Config: x\"}"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(FormatStructuredLine(row.format, "T", row.level, row.message) == row.want);
  }
  CHECK_FALSE(ConfigureLogging("loud", "text").ok());
  CHECK_FALSE(ConfigureLogging("info", "xml").ok());
}
