#pragma once
// What the rules read from the lake: the gold anomalies objects the alert state has not seen
// (new or replaced hours), read whole per hour, and the data's watermark.
#include <set>
#include <string>
#include <vector>

#include "iotad/alert/types.h"
#include "iotad/config/alert_config.h"
#include "iotad/core/result.h"
#include "iotad/lake/lake.h"

namespace iotad::alert {

struct GoldDelta {
  std::vector<Anomaly> anomalies;  // every anomaly of `hours` a rule could match, sorted as engine.h wants
  std::set<TimestampUs> hours;     // hours with a new, replaced or removed anomalies object
  std::map<std::string, std::string> seen_set;  // gold keys -> hash to record as seen
  std::vector<std::string> seen_erase;          // keys seen before that are no longer live
  TimestampUs watermark_us = 0;    // latest event_time in silver (0: empty lake)
};

/// Compares the lake's snapshot with state.gold_seen and reads what changed. Hours older than
/// watermark - alert.lookback are marked seen without being read.
Result<GoldDelta> ReadGoldDelta(lake::Lake& lake, const AlertState& state, const std::vector<config::AlertRule>& rules);

/// Every anomaly a rule could match with event_time in [from_us, to_us) (preview).
Result<std::vector<Anomaly>> ReadAnomalies(lake::Lake& lake, const std::vector<config::AlertRule>& rules,
                                           TimestampUs from_us, TimestampUs to_us);
/// The latest silver event_time (0: none).
Result<TimestampUs> SilverWatermark(lake::Lake& lake);

}  // namespace iotad::alert
