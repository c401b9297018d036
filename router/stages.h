// The pipeline's stages (router/stage.h), one factory each; the classes are private to
// router/stages.cc. router/pipeline.cc puts them in order.
//
// Every dependency passed in must outlive the stage.
#pragma once

#include <functional>

#include "core/clock.h"
#include "core/cluster.h"
#include "router/inhibit.h"
#include "router/nflog.h"
#include "router/silences.h"
#include "router/stage.h"
#include "router/time_intervals.h"
#include "storage/history.h"

namespace alertd::router {

class Acknowledgements;
class Escalations;

// Drops alerts inhibited by another alert (notify.MuteStage with the Inhibitor). With
// `history`, records which alert inhibits each alert (and when that changes).
StagePtr NewInhibitStage(const Inhibitor* inhibitor, storage::HistoryRecorder* history = nullptr);
// Drops everything when the route has active_time_intervals and none contains the flush time.
StagePtr NewTimeActiveStage(const TimeIntervals* intervals);
// Drops everything when one of the route's mute_time_intervals contains the flush time.
StagePtr NewTimeMuteStage(const TimeIntervals* intervals);
// Drops alerts matched by an active silence. With `history`, records which silences mute
// each alert it sees (and when that changes).
StagePtr NewSilenceStage(const Silences* silences, storage::HistoryRecorder* history = nullptr);

// Leaves out the firing alerts a person acknowledged (router/acks.h), recording their
// fingerprints in ctx.acknowledged: they are not repeated, yet their resolve is delivered.
StagePtr NewAcknowledgedStage(const Acknowledgements* acks);

// Passes the alerts on only when the notification log says the receiver must hear about them
// (notify/dedup_stage.go needsUpdate), or when ctx.forced_reason is set and the receiver was
// told of one of ctx.forced; sets ctx.firing, ctx.resolved and ctx.notification_reason.
StagePtr NewDedupStage(const NotificationLog* nflog, const Clock* clock);

struct RetryOptions {
  const Clock* clock = nullptr;
  // Waits `d`; returns false when the daemon is stopping (the retry then gives up).
  std::function<bool(Duration d)> sleep;
  // Exponential back-off between attempts (cenkalti/backoff defaults, as Alertmanager).
  Duration initial_interval = std::chrono::milliseconds(500);
  double multiplier = 1.5;
  double randomization = 0.5;  // each wait is drawn from [w*(1-r), w*(1+r)]
  Duration max_interval = std::chrono::seconds(60);
  std::string external_url;  // the payload's externalURL
  // Replicas (core/cluster.h): every attempt is preceded by the fencing write for the group's
  // shard; a node that no longer owns it sends nothing and ends the flush there (the owner's
  // flush delivers it). Null: a lone alertd.
  ShardOwnership* ownership = nullptr;
  // Every attempt is recorded here (null: nowhere): outcome, HTTP status, error, latency.
  storage::HistoryRecorder* history = nullptr;
};
// Delivers through ctx.integration, retrying retryable failures with back-off until
// ctx.deadline (notify.RetryStage). Resolved alerts are left out for integrations without
// send_resolved; when only resolved alerts remain, nothing is sent and the stage succeeds,
// so the notification log still records them.
StagePtr NewRetryStage(RetryOptions opts);

// Records the delivery in the notification log (notify.SetNotifiesStage).
StagePtr NewSetNotifiesStage(NotificationLog* nflog, const Clock* clock, Duration retention);

// A group stage of flushes (not of Pipeline::Filter), after the others: when firing alerts
// are left to notify, starts the route's escalation policy (router/escalation.h) counting
// from this flush, whatever dedup and delivery make of it. Passes every alert on.
StagePtr NewEscalationStage(Escalations* escalations);
// For a receiver an escalation step notified, in the group's regular flushes: passes on only
// the alerts it was told were firing, and only once one of them resolved (the resolve
// notification every notified receiver gets) or when ctx.forced_reason concerns one of them.
StagePtr NewEscalationResolveStage(const NotificationLog* nflog);
// For a step notification: every alert is firing news ("escalation step N").
StagePtr NewEscalationStepStage();
// For an acknowledge event: passes on only to integrations that want them
// (wants_acknowledge; PagerDuty only once every firing alert of the group is acknowledged)
// and that were notified of one of the acknowledged alerts.
StagePtr NewAcknowledgeEventStage(const NotificationLog* nflog);

// model.LabelSet.Before: fewer labels first, then by the first differing label name (a set
// without it first), then by that label's value.
bool LabelSetBefore(const LabelSet& a, const LabelSet& b);

// Alertmanager's payload order (types.AlertSlice): by job, then instance (present before
// absent), then by label set (model.LabelSet.Before).
void SortAlertsForPayload(Alerts& alerts);

}  // namespace alertd::router
