#pragma once
// The alerting engine's data: what it reads (anomalies), what it keeps (alerts, deliveries and
// their attempts, silences: the state folded from the alert log, see store.h), and what a sink
// gets (a Notification). No I/O here.
//
// The flow (alert/README.md): gold anomalies -> rules (engine.h: match, group, episode) ->
// alerts (firing / resolved, acknowledged) -> notifications, one Delivery per sink, committed to
// the outbox in the lake BEFORE anything is sent -> delivery (deliver.h: bounded concurrency,
// timeouts, retries with backoff, dead letters), every attempt recorded.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "iotad/core/timestamp.h"

namespace iotad::alert {

/// One gold anomaly as the rules see it (a row of the `anomalies` view).
struct Anomaly {
  TimestampUs event_time = 0;
  std::string device_id;
  std::string location;  // "" when NULL
  std::string metric;
  std::string detector;
  double score = 0;
  std::optional<double> value, z, expected, expected_lo, expected_hi, baseline_mean;
  std::string explanation;
  std::string rule;  // the detector's rule text, e.g. "|z| > threshold"
};

enum class AlertStatus : uint8_t { kFiring, kResolved };
const char* AlertStatusName(AlertStatus s);  // "firing", "resolved"

/// One alert: one episode of one group of one rule. Its identity is the dedup key
/// `<rule>|<group key>|<episode start, ISO-8601>`: the same data always gives the same keys, so a
/// re-run of gold, a recomputed hour or a replay never opens a second alert for one anomaly
/// (an anomaly within resolve_after of an existing alert of its group joins that alert).
struct Alert {
  std::string id;         // 12 hex digits of the dedup key's hash: what `iotad alert ack ID` takes
  std::string dedup_key;
  std::string rule;
  std::string severity;
  std::string group_key;  // "device=dev-1", "device=dev-1,metric=temp_c", "location=hall-2", "rule=r"
  std::map<std::string, std::string> labels;  // device, metric, location, detector (as far as the group fixes them)
  TimestampUs first_event_us = 0;  // episode start (event time)
  TimestampUs last_event_us = 0;   // latest matching anomaly
  /// Matching anomalies per gold hour (hour start -> count), replaced whole when an hour's gold
  /// files change, so a recomputed hour is never counted twice. anomalies = the sum.
  std::map<TimestampUs, int64_t> hour_counts;
  int64_t anomalies = 0;
  double max_score = 0;
  Anomaly latest;  // the latest matching anomaly (what a notification shows)
  AlertStatus status = AlertStatus::kFiring;
  TimestampUs resolved_event_us = 0;  // event time it resolved at (last_event + resolve_after)
  TimestampUs created_at_us = 0;      // wall time
  TimestampUs updated_at_us = 0;      // wall time
  TimestampUs acked_at_us = 0;        // 0: not acknowledged
  std::string acked_by, ack_note;
  // What was last notified (drives group_interval, repeat_interval and resolved).
  TimestampUs last_notified_at_us = 0;     // wall time; 0: never
  TimestampUs last_notified_event_us = 0;  // last_event_us at that notification
  int64_t last_notified_anomalies = 0;
  bool resolved_notified = false;
};

enum class NotificationKind : uint8_t { kFiring, kUpdate, kRepeat, kResolved, kAcknowledged, kTest };
const char* NotificationKindName(NotificationKind k);  // firing, update, repeat, resolved, acknowledged, test

/// What a sink renders: an alert as of one moment. Flat fields, so templates can name them
/// (TemplateFields()).
struct Notification {
  std::string id;          // delivery id (unique per notification and sink)
  NotificationKind kind = NotificationKind::kFiring;
  std::string alert_id, dedup_key, rule, severity, group_key;
  std::string status;      // "firing" or "resolved" (what the receiver should show)
  std::string device, metric, location, detector;  // of the latest anomaly
  TimestampUs starts_at_us = 0;  // episode start
  TimestampUs ends_at_us = 0;    // resolved: resolved_event_us; else 0
  TimestampUs event_time_us = 0; // the latest anomaly
  int64_t anomalies = 0;
  double max_score = 0;
  Anomaly latest;
  std::string url;         // alert.base_url + "/devices/<device>"
  TimestampUs created_at_us = 0;  // wall
};

/// State of one delivery (one notification to one sink).
enum class DeliveryState : uint8_t {
  kPending,    // committed, not yet delivered (attempts may have failed: see attempts/last_error)
  kDelivered,  // the receiver accepted it
  kSilenced,   // matched a silence when it came due: recorded, never sent
  kThrottled,  // over the rule's per-device cap per hour: recorded, never sent
  kDead,       // max attempts failed, or refused for good: `iotad alert retry` re-queues
};
const char* DeliveryStateName(DeliveryState s);  // pending, delivered, silenced, throttled, dead

struct Delivery {
  std::string id;          // "<alert id>-<n>-<sink>", stable across re-runs of the same decision
  std::string alert_id;
  std::string sink;
  Notification notification;
  DeliveryState state = DeliveryState::kPending;
  int64_t attempts = 0;
  TimestampUs created_at_us = 0;
  TimestampUs next_attempt_at_us = 0;  // wall; when pending
  TimestampUs delivered_at_us = 0;
  std::string last_error;  // of the last failed attempt, or why it is dead/silenced/throttled
  std::string silence_id;  // when silenced
};

/// The outcome of one attempt, as the sink saw it.
enum class AttemptOutcome : uint8_t {
  kDelivered,  // 2xx, exit 0, mail accepted...
  kRetry,      // worth retrying: timeout, refused connection, 5xx, 408, 429
  kRefused,    // never worth retrying: 4xx other than 408/429, bad credentials -> dead now
};
const char* AttemptOutcomeName(AttemptOutcome o);  // delivered, retry, refused

struct AttemptResult {
  AttemptOutcome outcome = AttemptOutcome::kRetry;
  int64_t status_code = 0;       // HTTP status, SMTP reply code, exit code; 0: none
  std::string response;          // what the receiver said (capped at 4 KiB; never a secret)
  std::string error;             // transport error or reason, one sentence; "" when delivered
  std::optional<int64_t> retry_after_us;  // from Retry-After (seconds or HTTP date)
  double seconds = 0;
};

/// One recorded attempt (the `alert_deliveries` view has one row per attempt).
struct Attempt {
  std::string delivery_id;
  int64_t n = 0;                 // 1-based
  TimestampUs started_at_us = 0, finished_at_us = 0;
  AttemptResult result;
};

/// A matcher of a silence: label `device`, `metric`, `location`, `detector`, `rule`, `severity`
/// or `group`, op "=" (glob) or "!=" (glob negated).
struct Matcher {
  std::string label, op, value;
};

struct Silence {
  std::string id;                // 12 hex digits
  std::vector<Matcher> matchers; // all must match
  TimestampUs starts_at_us = 0, ends_at_us = 0;  // wall
  std::string reason, created_by;
  TimestampUs created_at_us = 0;
  TimestampUs expired_at_us = 0;  // set by `silence expire` (ends it early); 0: not expired
  bool ActiveAt(TimestampUs now) const {
    return now >= starts_at_us && now < ends_at_us && (expired_at_us == 0 || now < expired_at_us);
  }
};

/// Everything the alert log says, folded (store.h). Plain data; copyable.
struct AlertState {
  int64_t seq = 0;  // the last alert-log record folded in
  std::map<std::string, Alert> alerts;          // by id
  std::map<std::string, Delivery> deliveries;   // by id
  std::vector<Attempt> attempts;                // in order
  std::map<std::string, Silence> silences;      // by id
  /// Gold anomaly objects already evaluated (key -> content hash): the engine reads only new ones.
  std::map<std::string, std::string> gold_seen;
  /// Notifications handed to sinks per device and wall-clock hour (device -> hour -> count),
  /// for the per-device cap; hours older than a day are dropped.
  std::map<std::string, std::map<TimestampUs, int64_t>> sent_per_device_hour;
};

}  // namespace iotad::alert
