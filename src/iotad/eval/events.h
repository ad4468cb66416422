#pragma once
// Event-level detection metrics: how many labelled anomalies a detector found, how soon, and how
// many alerts it raised that match no anomaly. Pure code: labels and detections come in as values.
//
// Rules (all times inclusive):
// - Detections are first collapsed into alerts: per series (device, metric), consecutive
//   detections at most `alert_gap_us` apart form one alert.
// - A detection matches a labelled event when it is on the same device and metric (any metric of
//   the device for device-wide events: kinds in `device_wide_kinds`, or metric "*"), at a time in
//   [start - tolerance_before_us, end + grace_us].
// - An event is detected when some detection matches it; its delay is the first matching
//   detection's time minus the event's start.
// - An alert is true when one of its detections matches some event, false otherwise.
// - Overall: precision = true alerts / alerts, recall = detected events / events, F1 their
//   harmonic mean. Per kind: recall and delays over that kind's events; precision = alerts
//   matching an event of that kind / (those + every false alert), i.e. the precision the
//   detector would have on data whose only anomalies were of that kind.
// - False alarms per device-day = false alerts / device_days (the caller knows the coverage), and
//   per hour of normal operation = false alerts / normal_hours (the coverage minus the labelled
//   events: `NormalHours`).
#include <cstdint>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "iotad/core/timestamp.h"
#include "iotad/gen/fleet.h"

namespace iotad::eval {

/// A labelled anomaly: the fleet simulator's label (device, metric or "*", kind, inclusive times).
using LabelledEvent = gen::AnomalyLabel;

/// One flagged point of one series.
struct Detection {
  std::string device_id;
  std::string metric;
  TimestampUs at_us = 0;
  std::string why = {};  // the detector's explanation (may be empty): shown by the per-event listing
  std::string detector = {};  // what reported it (for the ensemble, the member's: "silent", "cusum", ...)
};

/// The time of a detection that never came (an undetected event).
inline constexpr TimestampUs kNotDetected = INT64_MAX;

/// What became of one labelled event.
struct EventOutcome {
  TimestampUs found_at_us = kNotDetected;  // its first matching detection
  std::string why;                          // that detection's explanation
};

/// An alert that matched no event: its series, its first and last detection, and why it fired.
struct FalseAlert {
  std::string device_id;
  std::string metric;
  TimestampUs first_us = 0;
  TimestampUs last_us = 0;
  int64_t detections = 0;
  std::string why;  // its first detection's explanation
  std::string detector;  // what reported its first detection
};

struct EventMetricsOptions {
  int64_t grace_us = 10 * kMicrosPerMinute;      // a detection may come this long after the end
  int64_t tolerance_before_us = 0;               // ... or this long before the start
  int64_t alert_gap_us = 10 * kMicrosPerMinute;  // detections closer than this are one alert
  std::vector<std::string> device_wide_kinds = {"dropout"};
  double device_days = 0;  // coverage, for false alarms per device-day
  double normal_hours = 0;  // coverage outside the labelled events, for false alarms per hour
};

/// The figures for one kind, or for all events together (kind "all").
struct EventScore {
  std::string kind;
  int64_t events = 0;
  int64_t detected = 0;
  int64_t true_alerts = 0;   // alerts matching at least one event (of this kind)
  int64_t false_alerts = 0;  // alerts matching no event at all (the same in every row)
  double precision = 0;      // NaN when there is no alert
  double recall = 0;         // NaN when there is no event
  double f1 = 0;             // NaN when precision or recall is
  double mean_delay_s = 0;   // NaN when nothing was detected
  double median_delay_s = 0;
};

struct EventMetrics {
  EventScore overall;
  std::vector<EventScore> by_kind;  // sorted by kind
  int64_t detections = 0;
  int64_t alerts = 0;
  double device_days = 0;
  double false_alarms_per_device_day = 0;  // NaN without coverage
  double normal_hours = 0;
  double false_alarms_per_normal_hour = 0;  // NaN without normal hours
  std::vector<EventOutcome> outcomes;       // one per labelled event, in the labels' order
  std::vector<FalseAlert> false_alert_list;  // by series (device, metric), then time
  /// The false alerts counted by what reported their first detection ("unknown" where the
  /// detections did not say): the most first, then by name.
  std::vector<std::pair<std::string, int64_t>> false_alerts_by_detector;
};

EventMetrics ComputeEventMetrics(const std::vector<LabelledEvent>& events,
                                 const std::vector<Detection>& detections,
                                 const EventMetricsOptions& options = {});

/// Device-days covered by `devices` series each spanning [first_us, last_us].
double DeviceDays(int64_t devices, TimestampUs first_us, TimestampUs last_us);

/// Hours of normal operation of `devices` series each spanning [first_us, last_us]: that coverage
/// minus, per device, the union of its labelled events clipped to the span (an event on one metric
/// takes the whole device out of normal operation); never below 0. Give only the events of those
/// devices.
double NormalHours(int64_t devices, TimestampUs first_us, TimestampUs last_us,
                   const std::vector<LabelledEvent>& events);

/// The same with each device's own span (device -> [first, last] reading): a lake of test runs,
/// one device each, is not the lake's whole time range per device. Events of devices without a
/// span are ignored.
double NormalHours(const std::map<std::string, std::pair<TimestampUs, TimestampUs>, std::less<>>& spans,
                   const std::vector<LabelledEvent>& events);

}  // namespace iotad::eval
