// POST /api/v1/receivers/{name}/test: sends a synthetic firing alert (alertname="TestAlert",
// see notifiers/test_notification.h) once through each integration of the receiver, as the
// configuration in force builds them, and answers each one's outcome:
//   {"receiver": "...", "alert": {"labels": {...}, "annotations": {...}},
//    "integrations": [{"integration": "slack", "index": 0, "status": "sent" | "failed",
//                      "httpStatus": 200, "error": "...", "retryable": false,
//                      "durationSeconds": 0.142}, ...]}
// 200 whatever the integrations answered (their outcomes are the answer). An optional body
// {"labels": {...}, "annotations": {...}} adds to or replaces the test alert's. Errors: 400
// for a malformed body or a receiver without integrations, 404 for an unknown receiver, 429
// while two tests already run (each may wait for its integrations' timeouts), 503 when
// receivers cannot be tested.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "core/utf8.h"

namespace alertd::api {
namespace {

using json = nlohmann::json;

// A `labels` or `annotations` object of the body: string values only; label names valid.
Status ReadPairs(const json& body, const char* key, bool label_names, LabelSet* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Status::InvalidArgument(fmt::format("{} must be an object", key));
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument(fmt::format("{}: value of \"{}\" must be a string", key, name));
    }
    const std::string v = value.get<std::string>();
    if ((label_names && !IsValidLabelName(name)) || !IsValidUtf8(name) || !IsValidUtf8(v)) {
      return Status::InvalidArgument(fmt::format("{}: invalid name or value of \"{}\"", key, name));
    }
    out->Set(name, v);
  }
  return Status::Ok();
}

json OutcomesJson(const std::string& receiver, const notifiers::TestAlert& alert,
                  const std::vector<notifiers::TestOutcome>& outcomes) {
  json out = {{"receiver", receiver},
              {"alert",
               {{"labels", alert.labels.ToMap()}, {"annotations", alert.annotations.ToMap()}}},
              {"integrations", json::array()}};
  for (const auto& o : outcomes) {
    json i = {{"integration", o.integration},
              {"index", o.index},
              {"status", o.status.ok() ? "sent" : "failed"},
              {"durationSeconds", std::chrono::duration<double>(o.latency).count()}};
    if (o.http_status != 0) i["httpStatus"] = o.http_status;
    if (!o.status.ok()) {
      i["error"] = o.status.message();
      i["retryable"] = o.retryable;
    }
    out["integrations"].push_back(std::move(i));
  }
  return out;
}

// At most this many tests at once; more are refused (429) rather than queued behind them.
constexpr int kMaxRunning = 2;

}  // namespace

void RegisterReceiversV1(Router& router, const ApiContext& ctx) {
  auto running = std::make_shared<std::atomic<int>>(0);
  router.Handle("POST", "/api/v1/receivers/{name}/test", [ctx, running](Request& req,
                                                                         Responder respond) {
    if (!ctx.test_receiver || ctx.test_executor == nullptr) {
      return respond(Response::Error(503, "receivers cannot be tested"));
    }
    const std::string name = req.path_params["name"];
    LabelSet labels, annotations;
    if (!req.body.empty()) {
      const json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return respond(Response::Error(400, "body must be a JSON object"));
      }
      for (const Status& s : {ReadPairs(body, "labels", true, &labels),
                              ReadPairs(body, "annotations", false, &annotations)}) {
        if (!s.ok()) return respond(Response::Error(400, s.message()));
      }
    }
    if (running->fetch_add(1) >= kMaxRunning) {
      running->fetch_sub(1);
      return respond(Response::Error(429, "receiver tests are already running; try again"));
    }
    const notifiers::TestAlert alert = notifiers::MakeTestAlert(name, labels, annotations);
    std::function<void()> work = [ctx, running, name, alert, respond] {
      auto outcomes = ctx.test_receiver(name, alert);
      running->fetch_sub(1);
      if (!outcomes.ok()) {
        const int code = outcomes.status().code() == Status::Code::kNotFound ? 404 : 400;
        return respond(Response::Error(code, outcomes.status().message()));
      }
      respond(Response::Json(200, OutcomesJson(name, alert, *outcomes).dump() + "\n"));
    };
    if (!ctx.test_executor->TryPost(work)) {
      running->fetch_sub(1);
      respond(Response::Error(429, "receiver tests are already running; try again"));
    }
  });
}

}  // namespace alertd::api
