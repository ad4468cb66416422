#pragma once
// Test-only: a plausible notification for the template and HTTP sink tests.
#include "iotad/alert/types.h"
#include "iotad/core/timestamp.h"

namespace iotad::alert::test_util {

inline Notification SampleNotification() {
  Notification n;
  n.id = "a1b2c3d4e5f6-1-ops";
  n.kind = NotificationKind::kFiring;
  n.alert_id = "a1b2c3d4e5f6";
  n.dedup_key = "device-anomalies|device=dev-00042|2024-03-01T10:00:00Z";
  n.rule = "device-anomalies";
  n.severity = "critical";
  n.group_key = "device=dev-00042";
  n.status = "firing";
  n.device = "dev-00042";
  n.metric = "temp_c";
  n.location = "hall-2";
  n.detector = "default";
  n.starts_at_us = *ParseTimestamp("2024-03-01T10:00:00Z");
  n.ends_at_us = 0;
  n.event_time_us = *ParseTimestamp("2024-03-01T10:20:00Z");
  n.anomalies = 3;
  n.max_score = 0.987;
  n.latest.event_time = n.event_time_us;
  n.latest.device_id = n.device;
  n.latest.location = n.location;
  n.latest.metric = n.metric;
  n.latest.detector = n.detector;
  n.latest.score = 0.95;
  n.latest.value = 81.25;
  n.latest.z = 6.5;
  n.latest.expected = 21.5;
  n.latest.expected_lo = 18.0;
  n.latest.expected_hi = 25.0;
  n.latest.explanation = "temp_c 81.25 is 6.5 sigma above the expected 21.5";
  n.latest.rule = "|z| > threshold";
  n.url = "http://127.0.0.1:8080/devices/dev-00042";
  n.created_at_us = *ParseTimestamp("2024-03-01T10:30:00Z");
  return n;
}

}  // namespace iotad::alert::test_util
