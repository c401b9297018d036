#include "app/logging.h"

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace alertd::app {
namespace {

// "router: 3 groups restored" → ("router", "3 groups restored"); no lower-case word and ": "
// at the start → ("", message).
std::pair<std::string_view, std::string_view> SplitComponent(std::string_view m) {
  size_t i = 0;
  while (i < m.size() && ((m[i] >= 'a' && m[i] <= 'z') || m[i] == '_' || m[i] == '-' ||
                          (i > 0 && m[i] >= '0' && m[i] <= '9'))) {
    ++i;
  }
  if (i == 0 || i + 1 >= m.size() || m[i] != ':' || m[i + 1] != ' ') return {{}, m};
  return {m.substr(0, i), m.substr(i + 2)};
}

void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += fmt::format("\\u{:04x}", c);
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

// logfmt values: bare when they need no quoting, else quoted with " \ and newlines escaped.
void AppendLogfmtValue(std::string* out, std::string_view s) {
  bool quote = s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') quote = true;
  }
  if (!quote) {
    *out += s;
    return;
  }
  *out += '"';
  for (char c : s) {
    if (c == '"') {
      *out += "\\\"";
    } else if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
  *out += '"';
}

// spdlog formatter writing one structured line per message. Written by hand: spdlog has no
// JSON or logfmt output, and its pattern flags cannot escape the message.
class StructuredFormatter final : public spdlog::formatter {
 public:
  explicit StructuredFormatter(std::string format) : format_(std::move(format)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since = msg.time.time_since_epoch();
    const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    const std::string ts =
        fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    const auto lv = spdlog::level::to_string_view(msg.level);
    std::string line =
        FormatStructuredLine(format_, ts, std::string_view(lv.data(), lv.size()),
                             std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<StructuredFormatter>(format_);
  }

 private:
  const std::string format_;
};

}  // namespace

std::string FormatStructuredLine(const std::string& format, std::string_view time,
                                 std::string_view level, std::string_view message) {
  if (level == "warning") level = "warn";
  const auto [component, msg] = SplitComponent(message);
  std::string out;
  if (format == "json") {
    out += "{\"ts\":";
    AppendJsonString(&out, time);
    out += ",\"level\":";
    AppendJsonString(&out, level);
    if (!component.empty()) {
      out += ",\"component\":";
      AppendJsonString(&out, component);
    }
    out += ",\"msg\":";
    AppendJsonString(&out, msg);
    out += '}';
    return out;
  }
  out += "ts=";
  AppendLogfmtValue(&out, time);
  out += " level=";
  AppendLogfmtValue(&out, level);
  if (!component.empty()) {
    out += " component=";
    AppendLogfmtValue(&out, component);
  }
  out += " msg=";
  AppendLogfmtValue(&out, msg);
  return out;
}

Status ConfigureLogging(const std::string& level, const std::string& format) {
  spdlog::level::level_enum lv;
  if (level == "debug") {
    lv = spdlog::level::debug;
  } else if (level == "info") {
    lv = spdlog::level::info;
  } else if (level == "warn") {
    lv = spdlog::level::warn;
  } else if (level == "error") {
    lv = spdlog::level::err;
  } else {
    return Status::InvalidArgument("log level must be debug, info, warn or error, not \"" + level +
                                   "\"");
  }
  if (format != "text" && format != "logfmt" && format != "json") {
    return Status::InvalidArgument("log format must be text, logfmt or json, not \"" + format +
                                   "\"");
  }
  spdlog::set_level(lv);
  if (format != "text") {
    spdlog::set_formatter(std::make_unique<StructuredFormatter>(format));
  }
  // Errors reach the log file at once even when stdout is a pipe or a file.
  spdlog::flush_on(spdlog::level::info);
  return Status::Ok();
}

}  // namespace alertd::app
