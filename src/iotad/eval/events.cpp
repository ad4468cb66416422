#include "iotad/eval/events.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace iotad::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr TimestampUs kNever = kNotDetected;

/// Labelled events by device, with each event's kind as an index into the sorted kind list.
class EventIndex {
 public:
  EventIndex(const std::vector<LabelledEvent>& events, const EventMetricsOptions& options)
      : events_(events), options_(options) {
    for (const LabelledEvent& e : events) kinds_.push_back(e.kind);
    std::sort(kinds_.begin(), kinds_.end());
    kinds_.erase(std::unique(kinds_.begin(), kinds_.end()), kinds_.end());
    for (size_t i = 0; i < events.size(); ++i) {
      by_device_[events[i].device_id].push_back(i);
      kind_of_.push_back(static_cast<size_t>(
          std::lower_bound(kinds_.begin(), kinds_.end(), events[i].kind) - kinds_.begin()));
    }
  }

  /// Calls `on_match(event index)` for every event the detection matches.
  template <typename F>
  void ForEachMatch(const Detection& d, F&& on_match) const {
    const auto it = by_device_.find(d.device_id);
    if (it == by_device_.end()) return;
    for (const size_t i : it->second) {
      if (Matches(events_[i], d)) on_match(i);
    }
  }

  const std::vector<std::string>& kinds() const { return kinds_; }
  size_t kind_of(size_t event) const { return kind_of_[event]; }

 private:
  bool DeviceWide(const LabelledEvent& e) const {
    return e.metric == gen::kDropoutMetric ||
           std::find(options_.device_wide_kinds.begin(), options_.device_wide_kinds.end(),
                     e.kind) != options_.device_wide_kinds.end();
  }
  bool Matches(const LabelledEvent& e, const Detection& d) const {
    return (DeviceWide(e) || e.metric == d.metric) &&
           d.at_us >= e.start_us - options_.tolerance_before_us &&
           d.at_us <= e.end_us + options_.grace_us;
  }

  const std::vector<LabelledEvent>& events_;
  const EventMetricsOptions& options_;
  std::vector<std::string> kinds_;
  std::vector<size_t> kind_of_;
  std::unordered_map<std::string_view, std::vector<size_t>> by_device_;
};

double Ratio(int64_t num, int64_t den) {
  return den == 0 ? kNaN : static_cast<double>(num) / static_cast<double>(den);
}

/// Fills the derived figures of a row from its counts and the delays of its detected events.
void Finish(EventScore& s, std::vector<double> delays_s) {
  s.precision = Ratio(s.true_alerts, s.true_alerts + s.false_alerts);
  s.recall = Ratio(s.detected, s.events);
  s.f1 = std::isnan(s.precision) || std::isnan(s.recall) ? kNaN
         : s.precision + s.recall == 0                   ? 0.0
                                       : 2 * s.precision * s.recall / (s.precision + s.recall);
  if (delays_s.empty()) {
    s.mean_delay_s = s.median_delay_s = kNaN;
    return;
  }
  std::sort(delays_s.begin(), delays_s.end());
  const size_t n = delays_s.size();
  s.mean_delay_s = std::accumulate(delays_s.begin(), delays_s.end(), 0.0) / static_cast<double>(n);
  s.median_delay_s = n % 2 == 1 ? delays_s[n / 2] : (delays_s[n / 2 - 1] + delays_s[n / 2]) / 2;
}

/// Detection indices sorted by series, then time.
std::vector<size_t> SeriesOrder(const std::vector<Detection>& detections) {
  std::vector<size_t> order(detections.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Detection& x = detections[a];
    const Detection& y = detections[b];
    return std::tie(x.device_id, x.metric, x.at_us) < std::tie(y.device_id, y.metric, y.at_us);
  });
  return order;
}

bool SameAlert(const Detection& prev, const Detection& next, int64_t gap_us) {
  return prev.device_id == next.device_id && prev.metric == next.metric &&
         next.at_us - prev.at_us <= gap_us;
}

/// What the alerts matched: per event the first matching detection, per kind the true alerts.
struct AlertTally {
  int64_t alerts = 0;
  int64_t true_alerts = 0;
  std::vector<int64_t> true_by_kind;
  std::vector<TimestampUs> first_match;  // kNever when undetected
  std::vector<size_t> first_detection;   // the detection behind first_match
  std::vector<FalseAlert> false_alerts;
};

/// Walks each alert (a run of close detections on one series) and records what it matched.
AlertTally TallyAlerts(const EventIndex& index, size_t events,
                       const std::vector<Detection>& detections,
                       const EventMetricsOptions& options) {
  const size_t kinds = index.kinds().size();
  AlertTally tally{0, 0, std::vector<int64_t>(kinds, 0), std::vector<TimestampUs>(events, kNever),
                   std::vector<size_t>(events, 0), {}};
  const std::vector<size_t> order = SeriesOrder(detections);
  std::vector<bool> alert_kinds(kinds, false);
  bool alert_matched = false;
  size_t alert_first = 0;  // position in `order` of the alert's first detection
  for (size_t k = 0; k < order.size(); ++k) {
    const Detection& d = detections[order[k]];
    index.ForEachMatch(d, [&](size_t e) {
      if (d.at_us < tally.first_match[e]) {
        tally.first_match[e] = d.at_us;
        tally.first_detection[e] = order[k];
      }
      alert_kinds[index.kind_of(e)] = true;
      alert_matched = true;
    });
    if (k + 1 < order.size() && SameAlert(d, detections[order[k + 1]], options.alert_gap_us))
      continue;
    ++tally.alerts;
    if (!alert_matched) {
      const Detection& first = detections[order[alert_first]];
      tally.false_alerts.push_back({first.device_id, first.metric, first.at_us, d.at_us,
                                    static_cast<int64_t>(k + 1 - alert_first), first.why, first.detector});
    }
    alert_first = k + 1;
    tally.true_alerts += alert_matched ? 1 : 0;
    for (size_t kind = 0; kind < kinds; ++kind)
      tally.true_by_kind[kind] += alert_kinds[kind] ? 1 : 0;
    std::fill(alert_kinds.begin(), alert_kinds.end(), false);
    alert_matched = false;
  }
  return tally;
}

}  // namespace

double DeviceDays(int64_t devices, TimestampUs first_us, TimestampUs last_us) {
  return static_cast<double>(devices) * static_cast<double>(last_us - first_us) /
         static_cast<double>(kMicrosPerDay);
}

double NormalHours(int64_t devices, TimestampUs first_us, TimestampUs last_us,
                   const std::vector<LabelledEvent>& events) {
  // Per device, the events clipped to the span, sorted, then their union's length.
  std::unordered_map<std::string_view, std::vector<std::pair<TimestampUs, TimestampUs>>> by_device;
  for (const LabelledEvent& e : events) {
    const TimestampUs start = std::max(e.start_us, first_us);
    const TimestampUs end = std::min(e.end_us, last_us);
    if (start < end) by_device[e.device_id].emplace_back(start, end);
  }
  int64_t event_us = 0;
  for (auto& [device, spans] : by_device) {
    std::sort(spans.begin(), spans.end());
    TimestampUs covered_to = std::numeric_limits<TimestampUs>::min();
    for (const auto& [start, end] : spans) {
      const TimestampUs from = std::max(start, covered_to);
      if (end > from) event_us += end - from;
      covered_to = std::max(covered_to, end);
    }
  }
  const double coverage_us = static_cast<double>(devices) * static_cast<double>(last_us - first_us);
  return std::max(0.0, coverage_us - static_cast<double>(event_us)) /
         static_cast<double>(kMicrosPerHour);
}

double NormalHours(const std::map<std::string, std::pair<TimestampUs, TimestampUs>, std::less<>>& spans,
                   const std::vector<LabelledEvent>& events) {
  std::map<std::string_view, std::vector<LabelledEvent>> by_device;
  for (const LabelledEvent& e : events) by_device[e.device_id].push_back(e);
  double hours = 0.0;
  static const std::vector<LabelledEvent> kNone;
  for (const auto& [device, span] : spans) {
    const auto it = by_device.find(device);
    hours += NormalHours(1, span.first, span.second, it == by_device.end() ? kNone : it->second);
  }
  return hours;
}

EventMetrics ComputeEventMetrics(const std::vector<LabelledEvent>& events,
                                 const std::vector<Detection>& detections,
                                 const EventMetricsOptions& options) {
  const EventIndex index(events, options);
  AlertTally tally = TallyAlerts(index, events.size(), detections, options);
  EventMetrics out;
  out.detections = static_cast<int64_t>(detections.size());
  out.alerts = tally.alerts;
  out.device_days = options.device_days;
  const int64_t false_alerts = tally.alerts - tally.true_alerts;

  const size_t kinds = index.kinds().size();
  std::vector<std::vector<double>> delays_by_kind(kinds);
  std::vector<double> delays;
  out.by_kind.resize(kinds);
  for (size_t e = 0; e < events.size(); ++e) {
    EventScore& row = out.by_kind[index.kind_of(e)];
    ++row.events;
    if (tally.first_match[e] == kNever) continue;
    ++row.detected;
    const double delay_s =
        static_cast<double>(tally.first_match[e] - events[e].start_us) / kMicrosPerSecond;
    delays_by_kind[index.kind_of(e)].push_back(delay_s);
    delays.push_back(delay_s);
  }
  for (size_t kind = 0; kind < kinds; ++kind) {
    EventScore& row = out.by_kind[kind];
    row.kind = index.kinds()[kind];
    row.true_alerts = tally.true_by_kind[kind];
    row.false_alerts = false_alerts;
    Finish(row, std::move(delays_by_kind[kind]));
  }
  out.overall = {"all", static_cast<int64_t>(events.size()), static_cast<int64_t>(delays.size()),
                 tally.true_alerts, false_alerts};
  Finish(out.overall, std::move(delays));
  out.false_alarms_per_device_day =
      options.device_days > 0 ? static_cast<double>(false_alerts) / options.device_days : kNaN;
  out.normal_hours = options.normal_hours;
  out.false_alarms_per_normal_hour =
      options.normal_hours > 0 ? static_cast<double>(false_alerts) / options.normal_hours : kNaN;
  out.outcomes.resize(events.size());
  for (size_t e = 0; e < events.size(); ++e) {
    if (tally.first_match[e] == kNever) continue;
    out.outcomes[e] = {tally.first_match[e], detections[tally.first_detection[e]].why};
  }
  out.false_alert_list = std::move(tally.false_alerts);
  std::map<std::string, int64_t, std::less<>> by_detector;
  for (const FalseAlert& a : out.false_alert_list) ++by_detector[a.detector.empty() ? "unknown" : a.detector];
  out.false_alerts_by_detector.assign(by_detector.begin(), by_detector.end());
  std::stable_sort(out.false_alerts_by_detector.begin(), out.false_alerts_by_detector.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace iotad::eval
