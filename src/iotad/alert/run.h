#pragma once
// `iotad alert` and the alert stage of `iotad run`: read what gold added, evaluate the rules,
// commit the outbox, deliver within the budget. Also the commands' building blocks.
#include <cstdint>
#include <string>

#include "iotad/alert/types.h"
#include "iotad/core/result.h"
#include "iotad/lake/lake.h"

namespace iotad::alert {

struct AlertRunOptions {
  bool deliver = true;   // false: evaluate and commit the outbox only
  int64_t budget_us = -1;  // -1: alert.delivery_budget
};

struct AlertReport {
  int64_t anomalies_read = 0, anomalies_matched = 0;
  int64_t alerts_opened = 0, alerts_resolved = 0, notifications = 0;
  int64_t delivered = 0, failed_attempts = 0, dead = 0, silenced = 0, throttled = 0;
  int64_t pending = 0;   // left for the next run (retry not due, or budget spent)
  double seconds = 0;
};

/// The stage. Needs no writer lock (the alert log is lock-free) but `iotad alert` takes it so two
/// deliveries of the same outbox never run at once.
Result<AlertReport> RunAlerts(lake::Lake& lake, const AlertRunOptions& options);

/// The report's counts as one JSON object (the "alert" stage of a run record).
std::string AlertReportJson(const AlertReport& r);
/// The report for people, one line: "alert: 3 alerts opened, 3 notifications, 3 delivered, ...".
std::string AlertReportLine(const AlertReport& r);

}  // namespace iotad::alert
