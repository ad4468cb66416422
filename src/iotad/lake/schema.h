#pragma once
// Column lists of the lake's tables, shared by the stages that write them and the views that
// read them (so an empty lake still has typed, queryable tables).
#include <string_view>

namespace iotad::lake {

/// Silver's fixed columns; metric columns (DOUBLE) follow in first-seen order.
inline constexpr std::string_view kSilverFixedColumns =
    "event_time TIMESTAMPTZ, device_id VARCHAR, location VARCHAR";

/// `column_name` names the cell of a per-cell record (the row itself was stored, that cell is
/// NULL); it is NULL for a whole quarantined row, so `WHERE column_name IS NULL` counts rows.
inline constexpr std::string_view kQuarantineColumns =
    "reason VARCHAR, column_name VARCHAR, detail VARCHAR, source_file VARCHAR, line BIGINT, raw VARCHAR";

inline constexpr std::string_view kAnomalyColumns =
    "event_time TIMESTAMPTZ, device_id VARCHAR, location VARCHAR, metric VARCHAR, value DOUBLE, "
    "baseline_mean DOUBLE, baseline_std DOUBLE, baseline_n BIGINT, z DOUBLE, threshold DOUBLE, "
    "detector VARCHAR, detector_version INTEGER, explanation VARCHAR";

inline constexpr std::string_view kGoldSummaryColumns =
    "hour_start TIMESTAMPTZ, device_id VARCHAR, location VARCHAR, metric VARCHAR, \"rows\" BIGINT, "
    "anomalies BIGINT, mean DOUBLE, std DOUBLE, min DOUBLE, max DOUBLE";

inline constexpr std::string_view kRunColumns =
    "run_id VARCHAR, command VARCHAR, status VARCHAR, started_at TIMESTAMPTZ, "
    "finished_at TIMESTAMPTZ, seconds DOUBLE, message VARCHAR, stages JSON, counts JSON";

}  // namespace iotad::lake
