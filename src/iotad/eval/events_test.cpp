#include "iotad/eval/events.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iterator>

namespace iotad::eval {
namespace {

constexpr TimestampUs kT0 = 1704067200 * kMicrosPerSecond;
TimestampUs Min(int64_t minutes) { return kT0 + minutes * kMicrosPerMinute; }

std::vector<LabelledEvent> Events() {
  return {{"dev-1", "temp_c", "spike", Min(60), Min(60)},
          {"dev-1", "*", "dropout", Min(120), Min(150)},
          {"dev-2", "humidity_pc", "level_shift", Min(0), Min(300)}};
}

std::vector<Detection> Detections() {
  return {{"dev-1", "temp_c", Min(62)},        // the spike, 120 s late
          {"dev-1", "temp_c", Min(65)},        // same alert
          {"dev-1", "vibration_g", Min(125)},  // the dropout is device-wide: 300 s
          {"dev-2", "temp_c", Min(30)},        // wrong metric: false
          {"dev-3", "humidity_pc", Min(10)},   // no label on dev-3: false
          {"dev-1", "temp_c", Min(90)}};       // past the spike's grace: false
}

TEST(EventMetricsTest, ListsWhatBecameOfEachEventAndEachFalseAlert) {
  std::vector<Detection> detections = Detections();
  const char* const kWhy[] = {"d0", "d1", "d2", "d3", "d4", "d5"};
  ASSERT_EQ(detections.size(), std::size(kWhy));
  for (size_t i = 0; i < detections.size(); ++i) detections[i].why = kWhy[i];
  const EventMetrics m = ComputeEventMetrics(Events(), detections);
  ASSERT_EQ(m.outcomes.size(), 3u);  // in the labels' order
  EXPECT_EQ(m.outcomes[0].found_at_us, Min(62));  // the spike: its first matching detection
  EXPECT_EQ(m.outcomes[0].why, "d0");
  EXPECT_EQ(m.outcomes[1].found_at_us, Min(125));  // the dropout, by another metric
  EXPECT_EQ(m.outcomes[1].why, "d2");
  EXPECT_EQ(m.outcomes[2].found_at_us, kNotDetected);  // the level shift: missed
  EXPECT_EQ(m.outcomes[2].why, "");
  ASSERT_EQ(m.false_alert_list.size(), 3u);  // by series, then time
  EXPECT_EQ(m.false_alert_list[0].device_id, "dev-1");
  EXPECT_EQ(m.false_alert_list[0].metric, "temp_c");
  EXPECT_EQ(m.false_alert_list[0].first_us, Min(90));
  EXPECT_EQ(m.false_alert_list[0].detections, 1);
  EXPECT_EQ(m.false_alert_list[0].why, "d5");
  EXPECT_EQ(m.false_alert_list[1].device_id, "dev-2");
  EXPECT_EQ(m.false_alert_list[1].why, "d3");
  EXPECT_EQ(m.false_alert_list[2].device_id, "dev-3");
  EXPECT_EQ(static_cast<int64_t>(m.false_alert_list.size()), m.overall.false_alerts);
}

TEST(EventMetricsTest, CountsFalseAlertsByWhatReportedTheirFirstDetection) {
  std::vector<Detection> detections = Detections();
  const char* const kDetector[] = {"spike", "spike", "silent", "volatility", "", "silent"};
  ASSERT_EQ(detections.size(), std::size(kDetector));
  for (size_t i = 0; i < detections.size(); ++i) detections[i].detector = kDetector[i];
  detections.push_back({"dev-1", "temp_c", Min(95), "", "cusum"});  // the same alert as the one at 90
  const EventMetrics m = ComputeEventMetrics(Events(), detections);
  ASSERT_EQ(m.false_alert_list.size(), 3u);
  EXPECT_EQ(m.false_alert_list[0].detector, "silent");  // dev-1 temp_c at 90 (and 95)
  EXPECT_EQ(m.false_alert_list[1].detector, "volatility");
  EXPECT_EQ(m.false_alert_list[2].detector, "");
  // The most first, then by name; a detection that did not say is "unknown".
  const std::vector<std::pair<std::string, int64_t>> expected = {{"silent", 1}, {"unknown", 1}, {"volatility", 1}};
  EXPECT_EQ(m.false_alerts_by_detector, expected);
  detections[3].detector = "silent";
  const std::vector<std::pair<std::string, int64_t>> two = {{"silent", 2}, {"unknown", 1}};
  EXPECT_EQ(ComputeEventMetrics(Events(), detections).false_alerts_by_detector, two);
}

TEST(EventMetricsTest, AFalseAlertOfSeveralDetectionsSpansThemAll) {
  const std::vector<LabelledEvent> events = {{"dev-1", "temp_c", "spike", Min(500), Min(500)}};
  const std::vector<Detection> detections = {{"dev-1", "temp_c", Min(10), "first"},
                                             {"dev-1", "temp_c", Min(15), "second"},
                                             {"dev-1", "temp_c", Min(24), "third"},
                                             {"dev-1", "temp_c", Min(40), "apart"}};
  const EventMetrics m = ComputeEventMetrics(events, detections);
  ASSERT_EQ(m.false_alert_list.size(), 2u);
  EXPECT_EQ(m.false_alert_list[0].first_us, Min(10));
  EXPECT_EQ(m.false_alert_list[0].last_us, Min(24));
  EXPECT_EQ(m.false_alert_list[0].detections, 3);
  EXPECT_EQ(m.false_alert_list[0].why, "first");
  EXPECT_EQ(m.false_alert_list[1].detections, 1);
  EXPECT_EQ(m.false_alert_list[1].why, "apart");
  EXPECT_EQ(m.outcomes[0].found_at_us, kNotDetected);
}

const EventScore& Kind(const EventMetrics& m, const std::string& kind) {
  for (const EventScore& s : m.by_kind) {
    if (s.kind == kind) return s;
  }
  static const EventScore kNone;
  ADD_FAILURE() << "no kind " << kind;
  return kNone;
}

TEST(EventMetricsTest, CountsPrecisionRecallF1DelaysAndFalseAlarms) {
  EventMetricsOptions options;
  options.device_days = 3.0;
  options.normal_hours = 60.0;
  const EventMetrics m = ComputeEventMetrics(Events(), Detections(), options);
  EXPECT_EQ(m.detections, 6);
  EXPECT_EQ(m.alerts, 5);
  EXPECT_EQ(m.overall.kind, "all");
  EXPECT_EQ(m.overall.events, 3);
  EXPECT_EQ(m.overall.detected, 2);
  EXPECT_EQ(m.overall.true_alerts, 2);
  EXPECT_EQ(m.overall.false_alerts, 3);
  EXPECT_DOUBLE_EQ(m.overall.precision, 0.4);
  EXPECT_DOUBLE_EQ(m.overall.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.overall.f1, 0.5);
  EXPECT_DOUBLE_EQ(m.overall.mean_delay_s, 210.0);
  EXPECT_DOUBLE_EQ(m.overall.median_delay_s, 210.0);
  EXPECT_DOUBLE_EQ(m.false_alarms_per_device_day, 1.0);
  EXPECT_DOUBLE_EQ(m.normal_hours, 60.0);
  EXPECT_DOUBLE_EQ(m.false_alarms_per_normal_hour, 0.05);

  ASSERT_EQ(m.by_kind.size(), 3u);
  EXPECT_EQ(m.by_kind[0].kind, "dropout");  // sorted by kind
  const EventScore& spike = Kind(m, "spike");
  EXPECT_EQ(spike.detected, 1);
  EXPECT_DOUBLE_EQ(spike.recall, 1.0);
  EXPECT_DOUBLE_EQ(spike.precision, 0.25);  // 1 true alert against the 3 false ones
  EXPECT_DOUBLE_EQ(spike.mean_delay_s, 120.0);
  const EventScore& dropout = Kind(m, "dropout");
  EXPECT_EQ(dropout.detected, 1);
  EXPECT_DOUBLE_EQ(dropout.median_delay_s, 300.0);
  const EventScore& shift = Kind(m, "level_shift");
  EXPECT_EQ(shift.detected, 0);
  EXPECT_DOUBLE_EQ(shift.recall, 0.0);
  EXPECT_DOUBLE_EQ(shift.precision, 0.0);
  EXPECT_DOUBLE_EQ(shift.f1, 0.0);
  EXPECT_TRUE(std::isnan(shift.mean_delay_s));
}

TEST(EventMetricsTest, TheGraceWindowIsInclusive) {
  const std::vector<LabelledEvent> events = {{"d", "m", "spike", Min(60), Min(60)}};
  EXPECT_EQ(ComputeEventMetrics(events, {{"d", "m", Min(70)}}).overall.detected, 1);
  EXPECT_EQ(ComputeEventMetrics(events, {{"d", "m", Min(70) + 1}}).overall.detected, 0);
  EXPECT_EQ(ComputeEventMetrics(events, {{"d", "m", Min(60) - 1}}).overall.detected, 0);
  EventMetricsOptions early;
  early.tolerance_before_us = kMicrosPerMinute;
  early.grace_us = 0;
  const EventMetrics m = ComputeEventMetrics(events, {{"d", "m", Min(59)}}, early);
  EXPECT_EQ(m.overall.detected, 1);
  EXPECT_DOUBLE_EQ(m.overall.mean_delay_s, -60.0);
  EXPECT_EQ(ComputeEventMetrics(events, {{"d", "m", Min(61)}}, early).overall.detected, 0);
}

TEST(EventMetricsTest, DetectionsWithinTheAlertGapAreOneAlert) {
  const std::vector<Detection> detections = {{"d", "m", Min(0)},
                                             {"d", "m", Min(10)},
                                             {"d", "m", Min(20)},  // one alert (gaps of 10 min)
                                             {"d", "m", Min(31)},  // a new one (11 min)
                                             {"d", "other", Min(31)}};  // another series
  const EventMetrics m = ComputeEventMetrics({}, detections);
  EXPECT_EQ(m.alerts, 3);
  EXPECT_EQ(m.overall.false_alerts, 3);
  EXPECT_DOUBLE_EQ(m.overall.precision, 0.0);
  EXPECT_TRUE(std::isnan(m.overall.recall));
  EXPECT_TRUE(std::isnan(m.false_alarms_per_device_day));  // no coverage given
  EXPECT_TRUE(std::isnan(m.false_alarms_per_normal_hour));
}

TEST(EventMetricsTest, AnAlertTouchingAnEventIsTrueEvenIfItStartedBefore) {
  // The alert starts before the event (no tolerance) but one of its detections falls inside.
  const std::vector<LabelledEvent> events = {{"d", "m", "drift", Min(30), Min(90)}};
  const EventMetrics m = ComputeEventMetrics(events, {{"d", "m", Min(25)}, {"d", "m", Min(33)}});
  EXPECT_EQ(m.alerts, 1);
  EXPECT_EQ(m.overall.true_alerts, 1);
  EXPECT_DOUBLE_EQ(m.overall.mean_delay_s, 180.0);
}

TEST(EventMetricsTest, DeviceDaysScaleWithDevicesAndSpan) {
  EXPECT_DOUBLE_EQ(DeviceDays(200, kT0, kT0 + 7 * kMicrosPerDay), 1400.0);
  EXPECT_DOUBLE_EQ(DeviceDays(1, kT0, kT0 + kMicrosPerDay / 2), 0.5);
}

TEST(EventMetricsTest, NormalHoursAreTheCoverageMinusEachDevicesEventsOnce) {
  // Two devices over 10 h: dev-1's spike lasts no time, its dropout 30 min overlaps a level shift
  // on another metric for 10 min (counted once: 50 min); dev-2's event starts before the span and
  // is clipped to its first 2 h; dev-3 is not covered and does not count.
  const std::vector<LabelledEvent> events = {
      {"dev-1", "temp_c", "spike", Min(60), Min(60)},
      {"dev-1", "*", "dropout", Min(120), Min(150)},
      {"dev-1", "humidity_pc", "level_shift", Min(140), Min(170)},
      {"dev-2", "temp_c", "drift", Min(-60), Min(120)}};
  EXPECT_DOUBLE_EQ(NormalHours(2, kT0, kT0 + 10 * kMicrosPerHour, events), 20.0 - 50.0 / 60 - 2);
  EXPECT_DOUBLE_EQ(NormalHours(2, kT0, kT0 + 10 * kMicrosPerHour, {}), 20.0);
  // Events longer than the coverage leave no normal hours, never fewer than none.
  const std::vector<LabelledEvent> all_day = {{"dev-1", "*", "dropout", Min(-600), Min(6000)},
                                              {"dev-1", "m", "drift", Min(-600), Min(6000)}};
  EXPECT_DOUBLE_EQ(NormalHours(1, kT0, kT0 + kMicrosPerHour, all_day), 0.0);
}

TEST(EventMetricsTest, NormalHoursPerDeviceCountEachDevicesOwnSpan) {
  // Two test runs of 20 and 30 minutes, hours apart, each with a 5-minute fault; a label of a
  // device without a span does not count. The lake's whole range would give 2 x 3 h instead.
  const std::map<std::string, std::pair<TimestampUs, TimestampUs>, std::less<>> spans = {
      {"run-01", {Min(0), Min(20)}}, {"run-02", {Min(180), Min(210)}}};
  const std::vector<LabelledEvent> events = {{"run-01", "*", "leak", Min(10), Min(15)},
                                             {"run-02", "*", "leak", Min(200), Min(230)},
                                             {"run-03", "*", "leak", Min(0), Min(60)}};
  EXPECT_DOUBLE_EQ(NormalHours(spans, events), (15.0 + 20.0) / 60);
  EXPECT_DOUBLE_EQ(NormalHours(spans, {}), 50.0 / 60);
}

}  // namespace
}  // namespace iotad::eval
