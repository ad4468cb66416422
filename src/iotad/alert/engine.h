#pragma once
// The rules: anomalies -> alerts -> notifications. Pure (no I/O, no clock): the same state,
// anomalies, watermark and `now` give the same decisions, which is what makes a re-run or a
// replay page nobody twice, and what `iotad alert preview` replays.
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "iotad/alert/types.h"
#include "iotad/config/alert_config.h"

namespace iotad::alert {

struct EvalInput {
  const std::vector<config::AlertRule>* rules = nullptr;
  const config::AlertConfig* config = nullptr;
  /// Every current anomaly of the gold hours in `hours`, sorted by (event_time, device, metric,
  /// detector). Hours not listed keep their counts.
  std::span<const Anomaly> anomalies;
  std::set<TimestampUs> hours;
  TimestampUs watermark_us = 0;  // event time the data is complete up to (latest silver event_time)
  TimestampUs now_us = 0;        // wall time (the lake's clock)
  std::string base_url;          // for Notification::url
};

struct EvalResult {
  std::vector<Alert> alerts;          // new or changed alerts, whole (ack fields untouched)
  std::vector<Delivery> deliveries;   // new: pending, or silenced / throttled as decided now
  /// sent_per_device_hour increments (device -> hour -> +n) for the deliveries above that count.
  std::map<std::string, std::map<TimestampUs, int64_t>> sent_increments;
  int64_t anomalies_read = 0, anomalies_matched = 0;
  int64_t alerts_opened = 0, alerts_resolved = 0;
  int64_t notifications = 0, silenced = 0, throttled = 0;
};

/// Folds the anomalies into the state's alerts and decides which notifications are due now.
EvalResult Evaluate(const AlertState& state, const EvalInput& input);

/// Folds an evaluation into a state as the alert log does (alerts replaced whole but keeping
/// their acknowledgement, deliveries added, per-device counts added): preview and tests.
void ApplyEvalResult(AlertState& state, const EvalResult& result);

/// The group key of an anomaly under a rule ("device=dev-1", ...).
std::string GroupKey(const config::AlertRule& rule, const Anomaly& a);
/// Whether an anomaly matches a rule's filters.
bool RuleMatches(const config::AlertRule& rule, const Anomaly& a);
/// Whether a silence's matchers match an alert's labels (device, metric, location, detector,
/// rule, severity, group).
bool SilenceMatches(const Silence& s, const Alert& a);
/// The first silence active at `now` matching the alert, or nullptr.
const Silence* ActiveSilence(const AlertState& state, const Alert& a, TimestampUs now);
/// 12 hex digits of a key's hash (alert and silence ids).
std::string ShortId(std::string_view key);

/// `iotad alert preview`: the rules replayed over anomalies (a fresh state, wall time taken as
/// event time, nothing sent or written).
struct PreviewReport {
  std::map<std::string, int64_t> per_day;     // "2024-01-05" -> notifications
  std::map<std::string, int64_t> per_device;
  std::map<std::string, int64_t> per_rule;
  std::map<int, int64_t> per_hour_of_day;     // busiest hours: 0..23 -> notifications
  int64_t alerts = 0, notifications = 0, anomalies_matched = 0;
  double seconds_in_alert = 0;                // summed over alerts (first event to resolve)
};
PreviewReport Preview(const std::vector<config::AlertRule>& rules, const config::AlertConfig& config,
                      std::span<const Anomaly> anomalies, TimestampUs watermark_us);

}  // namespace iotad::alert
