#include "notifiers/opsgenie/opsgenie.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "notifiers/common.h"
#include "notifiers/http_result.h"

namespace alertd::notifiers {
namespace {

using internal::AppendJsonString;

// https://docs.opsgenie.com/docs/alert-api: a message has at most 130 characters (runes).
constexpr size_t kMaxMessageRunes = 130;
// Alertmanager 0.25 retries Opsgenie's rate limiting as well as 5xx.
constexpr long kRetryCodes[] = {429};

// Alertmanager's safeSplit: `s` trimmed, split at `sep`, empty items dropped (the items
// themselves are not trimmed).
std::vector<std::string> SafeSplit(std::string_view s, char sep) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  s = s.substr(b, s.find_last_not_of(kSpace) - b + 1);
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    std::string_view item = s.substr(start, end == std::string_view::npos ? end : end - start);
    if (!item.empty()) out.emplace_back(item);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// `url` with the query parameter identifierType=alias set, as Go's q.Set then q.Encode()
// (which sorts the parameters by name) leave it.
std::string ByAlias(const std::string& url) {
  const size_t q = url.find('?');
  const size_t frag = url.find('#', q == std::string::npos ? 0 : q);
  const std::string base = url.substr(0, std::min(q, frag));
  std::vector<std::string> params;
  if (q != std::string::npos) {
    const std::string query = url.substr(q + 1, frag == std::string::npos ? frag : frag - q - 1);
    for (const std::string& p : SafeSplit(query, '&')) {
      if (p.substr(0, p.find('=')) != "identifierType") params.push_back(p);
    }
  }
  params.push_back("identifierType=alias");
  std::stable_sort(params.begin(), params.end(), [](const std::string& a, const std::string& b) {
    return a.substr(0, a.find('=')) < b.substr(0, b.find('='));
  });
  std::string out = base;
  for (size_t i = 0; i < params.size(); ++i) out += (i == 0 ? "?" : "&") + params[i];
  return out;
}

// Appends `"key":<s>` (after a comma) when `s` is not empty: Go's omitempty.
void AppendNonEmpty(std::string* out, std::string_view key, const std::string& s) {
  if (s.empty()) return;
  out->append(",\"").append(key).append("\":");
  AppendJsonString(out, s);
}

void AppendStringList(std::string* out, std::string_view key, const std::vector<std::string>& l) {
  if (l.empty()) return;
  out->append(",\"").append(key).append("\":[");
  for (size_t i = 0; i < l.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, l[i]);
  }
  out->push_back(']');
}

class OpsgenieNotifier final : public Notifier {
 public:
  OpsgenieNotifier(const OpsgenieConfig& cfg, const Deps& deps, std::unique_ptr<HttpClient> client,
                   internal::CompiledFields fields)
      : cfg_(cfg), deps_(deps), client_(std::move(client)), fields_(std::move(fields)) {}

  std::string_view integration() const override { return "opsgenie"; }
  bool send_resolved() const override { return cfg_.send_resolved; }
  bool wants_acknowledge() const override { return false; }

  NotifyResult Notify(const Notification& n) override {
    std::string key_text = cfg_.api_key;
    if (key_text.empty()) {
      auto f = ReadSecretFile(cfg_.api_key_file);
      if (!f.ok())
        return NotifyResult{f.status().WithPrefix("opsgenie: read key_file error"), false, 0};
      key_text = std::move(*f);
    }
    const auto data = internal::MakeTemplateData(n, n.alerts);
    internal::Renderer t(deps_, data, &fields_);
    // The key first, and apart: an error about it would quote it, so none is logged.
    const std::string api_key = t(key_text);
    if (t.errors() > 0) {
      return NotifyResult{Status::InvalidArgument("opsgenie: failed to template the API key"),
                          false, 0};
    }
    const std::string alias = internal::GroupKeyHash(n.group_key);
    std::vector<HttpRequest> requests;
    auto add = [&](std::string method, std::string url, std::string body) {
      HttpRequest req;
      req.method = std::move(method);
      req.url = std::move(url);
      req.body = std::move(body);
      requests.push_back(std::move(req));
    };
    if (data.status == "resolved") {
      std::string body = "{\"source\":";
      AppendJsonString(&body, t(cfg_.source));
      body += "}\n";
      add("POST", ByAlias(internal::AppendToUrlPath(cfg_.api_url, "v2/alerts/" + alias + "/close")),
          std::move(body));
    } else {
      bool truncated = false;
      const std::string message =
          internal::TruncateInRunes(t(cfg_.message), kMaxMessageRunes, &truncated);
      if (truncated) {
        spdlog::warn("notify opsgenie receiver={} group={}: truncated message to {} runes",
                     n.receiver, n.group_key, kMaxMessageRunes);
      }
      const std::string description = t(cfg_.description);
      add("POST", internal::AppendToUrlPath(cfg_.api_url, "v2/alerts"),
          CreateBody(t, data, alias, message, description));
      if (cfg_.update_alerts) {
        std::string body = "{";
        if (!message.empty()) {
          body += "\"message\":";
          AppendJsonString(&body, message);
        }
        body += "}\n";
        add("PUT",
            ByAlias(internal::AppendToUrlPath(cfg_.api_url, "v2/alerts/" + alias + "/message")),
            std::move(body));
        body = "{";
        if (!description.empty()) {
          body += "\"description\":";
          AppendJsonString(&body, description);
        }
        body += "}\n";
        add("PUT",
            ByAlias(internal::AppendToUrlPath(cfg_.api_url, "v2/alerts/" + alias + "/description")),
            std::move(body));
      }
    }
    internal::LogTemplateErrors("opsgenie", n, t);
    NotifyResult out;
    for (HttpRequest& req : requests) {
      req.content_type = "application/json";
      req.headers.emplace_back("Authorization", "GenieKey " + api_key);
      req.timeout = internal::AttemptTimeout(n, deps_.timeout);
      out = CheckHttpResponse(client_->Do(req), kRetryCodes);
      if (!out.status.ok()) {
        out.status = out.status.WithPrefix("opsgenie");
        return out;
      }
    }
    return out;
  }

 private:
  // opsGenieCreateMessage, in its field order.
  std::string CreateBody(internal::Renderer& t, const templating::NotificationData& data,
                         const std::string& alias, const std::string& message,
                         const std::string& description) const {
    std::map<std::string, std::string> details = data.common_labels;
    for (const auto& [k, v] : cfg_.details) details[k] = t(v);
    std::string body = "{\"alias\":";
    AppendJsonString(&body, alias);
    body += ",\"message\":";
    AppendJsonString(&body, message);
    AppendNonEmpty(&body, "description", description);
    body += ",\"details\":";
    internal::AppendJsonObject(&body, details);
    body += ",\"source\":";
    AppendJsonString(&body, t(cfg_.source));
    std::string responders;
    // opsGenieCreateMessageResponder: id, name and username when set, type always.
    auto add_responder = [&](const OpsgenieResponder& r) {
      std::string obj = "{";
      auto field = [&](std::string_view k, const std::string& v) {
        if (obj.size() > 1) obj += ',';
        obj.append("\"").append(k).append("\":");
        AppendJsonString(&obj, v);
      };
      if (!r.id.empty()) field("id", r.id);
      if (!r.name.empty()) field("name", r.name);
      if (!r.username.empty()) field("username", r.username);
      field("type", r.type);
      obj += '}';
      responders += (responders.empty() ? "[" : ",") + obj;
    };
    for (const auto& r : cfg_.responders) {
      const OpsgenieResponder rendered{t(r.id), t(r.name), t(r.username), t(r.type)};
      // Empty responders are dropped (they may come from labels the alerts do not have).
      if (rendered.id.empty() && rendered.name.empty() && rendered.username.empty() &&
          rendered.type.empty()) {
        continue;
      }
      if (rendered.type == "teams") {
        for (const std::string& team : SafeSplit(rendered.name, ',')) {
          add_responder(OpsgenieResponder{"", t(team), "", "team"});
        }
        continue;
      }
      add_responder(rendered);
    }
    if (!responders.empty()) body += ",\"responders\":" + responders + "]";
    AppendStringList(&body, "tags", SafeSplit(t(cfg_.tags), ','));
    AppendNonEmpty(&body, "note", t(cfg_.note));
    AppendNonEmpty(&body, "priority", t(cfg_.priority));
    AppendNonEmpty(&body, "entity", t(cfg_.entity));
    AppendStringList(&body, "actions", SafeSplit(t(cfg_.actions), ','));
    body += "}\n";
    return body;
  }

  const OpsgenieConfig cfg_;  // api_key is a secret: never logged
  const Deps deps_;
  std::unique_ptr<HttpClient> client_;
  const internal::CompiledFields fields_;  // built before construction, then read-only
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewNotifier(const OpsgenieConfig& cfg, const Deps& deps) {
  if (!deps.templates) return Status::InvalidArgument("opsgenie: no templates");
  internal::CompiledFields fields(deps.templates);
  for (const std::string* s : {&cfg.message, &cfg.description, &cfg.source, &cfg.entity,
                               &cfg.actions, &cfg.tags, &cfg.note, &cfg.priority, &cfg.api_key}) {
    fields.Add(*s);
  }
  for (const auto& [k, v] : cfg.details) fields.Add(v);
  for (const auto& r : cfg.responders) {
    for (const std::string* s : {&r.id, &r.name, &r.username, &r.type}) fields.Add(*s);
    // Alertmanager refuses a config whose templated responder type does not parse.
    const auto* type = fields.Find(r.type);
    if (type != nullptr && !type->ok()) {
      return Status::InvalidArgument("opsGenieConfig responder {" + r.id + " " + r.name + " " +
                                     r.username + " " + r.type +
                                     "} type is not a valid template: " + type->status().message());
    }
  }
  // The GenieKey header is the request's own Authorization: Prometheus' client leaves a set
  // Authorization header alone, so http_config's basic_auth and authorization never apply.
  config::HTTPClientConfig http = cfg.http_config;
  http.basic_auth.reset();
  http.authorization.reset();
  auto client = HttpClient::Create(http, deps.user_agent);
  if (!client.ok()) return client.status().WithPrefix("opsgenie");
  return std::unique_ptr<Notifier>(
      new OpsgenieNotifier(cfg, deps, std::move(*client), std::move(fields)));
}

}  // namespace alertd::notifiers
