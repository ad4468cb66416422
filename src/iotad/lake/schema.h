#pragma once
// The one definition of each lake table's columns: name, logical type, nullability and meaning
// (with its unit). Every writer (gold's anomalies and summary, silver's hours and quarantine, run
// records, the bronze views) takes its columns from here, and so do the views of an empty lake,
// so a table has the same columns, in the same order and with the same types, whether or not
// anything was written yet. lake/README.md shows the same lists for readers.
//
// Absent values are NULL, never NaN: a writer stores NULL for a DOUBLE it has no value for
// (ChunkFiller::SetDouble does so for NaN and infinities).
//
// Pure header: no DuckDB types (lake/duck.h maps ColumnType to DuckDB's).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotad::lake {

/// The lake's logical column types (the SQL names are what DuckDB's DESCRIBE prints).
enum class ColumnType : uint8_t { kBoolean, kInteger, kBigint, kDouble, kVarchar, kTimestampTz, kDate, kJson };

/// `DOUBLE`, `TIMESTAMPTZ`, ...: the type as SQL spells it in a cast.
constexpr std::string_view SqlTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kBoolean: return "BOOLEAN";
    case ColumnType::kInteger: return "INTEGER";
    case ColumnType::kBigint: return "BIGINT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kVarchar: return "VARCHAR";
    case ColumnType::kTimestampTz: return "TIMESTAMPTZ";
    case ColumnType::kDate: return "DATE";
    case ColumnType::kJson: return "JSON";
  }
  return "VARCHAR";
}

/// One column of a table.
struct Column {
  std::string_view name;
  ColumnType type;
  bool nullable;
  std::string_view doc;  // what it means, with its unit
};

/// A column of a written file (names may be dynamic: silver's metrics).
struct ColumnSpec {
  std::string name;
  ColumnType type;
};

/// The partition columns of the hourly tables (silver, anomalies, gold_summary), from the folders
/// `year=2024/month=1/day=5/hour=13` (Spark's form: no zero padding, so every reader types them
/// as integers). They come last in the views.
inline constexpr Column kHourPartitionColumns[] = {
    {"year", ColumnType::kInteger, false, "UTC year of the hour (partition folder year=)"},
    {"month", ColumnType::kInteger, false, "UTC month 1-12 (partition folder month=)"},
    {"day", ColumnType::kInteger, false, "UTC day of the month 1-31 (partition folder day=)"},
    {"hour", ColumnType::kInteger, false, "UTC hour 0-23 (partition folder hour=)"},
};

/// silver: one row per stored reading. These fixed columns come first, then the dimension columns
/// (VARCHAR, nullable: silver.dimension_columns, `location` by default), then one DOUBLE column per
/// metric in first-seen order (NULL: no value in that reading), then kHourPartitionColumns.
inline constexpr Column kSilverColumns[] = {
    {"event_time", ColumnType::kTimestampTz, false, "when the reading was taken (UTC, microseconds)"},
    {"device_id", ColumnType::kVarchar, false, "the device"},
};

/// quarantine (not partitioned): what silver could not use, with its reason.
inline constexpr Column kQuarantineColumns[] = {
    {"reason", ColumnType::kVarchar, false, "reason code (bad_number, bad_timestamp, ...)"},
    {"column_name", ColumnType::kVarchar, true,
     "the cell of a per-cell record (the row was stored with that cell NULL); NULL for a whole quarantined row, so "
     "`WHERE column_name IS NULL` counts rows"},
    {"detail", ColumnType::kVarchar, false, "one sentence: what was expected"},
    {"source_file", ColumnType::kVarchar, false,
     "bronze key of the file the row came from (rows written before a partition migration name the key of that time)"},
    {"line", ColumnType::kBigint, false, "1-based physical line in the source file"},
    {"raw", ColumnType::kVarchar, false, "the line as received (escaped where not UTF-8)"},
};

/// anomalies (gold/): one row per flag of one detector on one value. Every column means the same
/// thing, in the same unit, for every detector; a column a detector has nothing for is NULL.
inline constexpr Column kAnomalyColumns[] = {
    {"event_time", ColumnType::kTimestampTz, false,
     "when the anomaly happened (UTC): the reading's time; for `silent` when the gap passed the timeout"},
    {"device_id", ColumnType::kVarchar, false, "the device"},
    {"location", ColumnType::kVarchar, true, "the device's location in the hour (NULL: none given)"},
    {"metric", ColumnType::kVarchar, false, "the metric (a silver column)"},
    {"value", ColumnType::kDouble, true,
     "the reading, in the metric's unit (for `silent`: the first reading after the gap; NULL: none)"},
    {"baseline_mean", ColumnType::kDouble, true,
     "the baseline's level (mean, median, seasonal level...) in the metric's unit; NULL for detectors without one "
     "(flatline, silent, range, novelty)"},
    {"baseline_std", ColumnType::kDouble, true,
     "the baseline's spread (std, MAD-based sigma...) in the metric's unit; NULL for detectors without one"},
    {"baseline_n", ColumnType::kBigint, false, "points behind the baseline (readings)"},
    {"z", ColumnType::kDouble, true,
     "standard score (value - baseline_mean) / baseline_std, in sigmas, for the z-type detectors (zscore, "
     "robust_zscore, window_z, mad, ewma, seasonal, rate: change since the previous point); NULL for the others"},
    {"threshold", ColumnType::kDouble, true,
     "the |z| flag limit in sigmas of the batch detectors zscore and robust_zscore; NULL for the online detectors, "
     "which flag on a calibrated probability (see score)"},
    {"detector", ColumnType::kVarchar, false, "the detector that flagged (gold.detectors, [[detect.rule]])"},
    {"detector_version", ColumnType::kInteger, false, "its version"},
    {"explanation", ColumnType::kVarchar, false, "one sentence for a person"},
    {"score", ColumnType::kDouble, false, "calibrated anomaly score in [0, 1): s / (s + 6), s = -log10(p)"},
    {"expected", ColumnType::kDouble, true, "the value the detector expected, in the metric's unit"},
    {"expected_lo", ColumnType::kDouble, true,
     "lower end of the range the detector would not have flagged, in the metric's unit (NULL: none)"},
    {"expected_hi", ColumnType::kDouble, true,
     "upper end of that range, in the metric's unit (NULL: none)"},
    {"rule", ColumnType::kVarchar, false, "what fired, e.g. `|z| > threshold`, `value stuck (identical readings)`"},
    {"statistic", ColumnType::kDouble, true,
     "the detector's test statistic; its meaning and unit are named by statistic_name"},
    {"statistic_name", ColumnType::kVarchar, true,
     "z (sigmas), cusum_sigma (CUSUM sum, sigmas), run_length (identical readings in a row), variance_ratio "
     "(recent / usual variance), novelty_excess (excess over the range seen, as a fraction of it), range_excess "
     "(beyond the physical limit, metric's unit), gap_seconds (seconds), mahalanobis_d2 (squared distance)"},
    {"gap_seconds", ColumnType::kDouble, true, "`silent` only: seconds without a reading; NULL otherwise"},
    {"timeout_seconds", ColumnType::kDouble, true, "`silent` only: the silence timeout in seconds; NULL otherwise"},
};

/// Column positions of kAnomalyColumns, for writers.
struct AnomalyCol {
  enum : size_t {
    kEventTime, kDeviceId, kLocation, kMetric, kValue, kBaselineMean, kBaselineStd, kBaselineN, kZ, kThreshold,
    kDetector, kDetectorVersion, kExplanation, kScore, kExpected, kExpectedLo, kExpectedHi, kRule, kStatistic,
    kStatisticName, kGapSeconds, kTimeoutSeconds, kCount
  };
};

/// gold_summary (gold_summary/): one row per device, metric and hour with rows.
inline constexpr Column kGoldSummaryColumns[] = {
    {"hour_start", ColumnType::kTimestampTz, false, "start of the UTC hour"},
    {"device_id", ColumnType::kVarchar, false, "the device"},
    {"location", ColumnType::kVarchar, true, "the device's last location in the hour (NULL: none given)"},
    {"metric", ColumnType::kVarchar, false, "the metric"},
    {"rows", ColumnType::kBigint, false, "values of the metric in the hour (readings)"},
    {"anomalies", ColumnType::kBigint, false, "flags of the first detector in the hour"},
    {"mean", ColumnType::kDouble, true, "mean of the hour's values, metric's unit (NULL: no value)"},
    {"std", ColumnType::kDouble, true, "sample std of the hour's values, metric's unit (NULL: fewer than 2)"},
    {"min", ColumnType::kDouble, true, "smallest value, metric's unit (NULL: no value)"},
    {"max", ColumnType::kDouble, true, "largest value, metric's unit (NULL: no value)"},
};

struct SummaryCol {
  enum : size_t { kHourStart, kDeviceId, kLocation, kMetric, kRows, kAnomalies, kMean, kStd, kMin, kMax, kCount };
};

/// runs (runs/<run_id>.json, one JSON line each): one row per command that changed the lake.
inline constexpr Column kRunColumns[] = {
    {"run_id", ColumnType::kVarchar, false, "sortable id: UTC start time and a random suffix"},
    {"command", ColumnType::kVarchar, false, "ingest, silver, gold, run..."},
    {"status", ColumnType::kVarchar, false, "ok, failed or failed_checks"},
    {"started_at", ColumnType::kTimestampTz, false, "UTC"},
    {"finished_at", ColumnType::kTimestampTz, false, "UTC"},
    {"seconds", ColumnType::kDouble, false, "wall time, seconds"},
    {"message", ColumnType::kVarchar, false, "the error, if any"},
    {"stages", ColumnType::kJson, false, "per stage: name, seconds, counts"},
    {"counts", ColumnType::kJson, false, "the command's counts"},
};

/// bronze: one row per raw file (from its key `bronze/dt=2024-01-05/hour=5/<hash>.<ext>`).
inline constexpr Column kBronzeColumns[] = {
    {"key", ColumnType::kVarchar, false, "the object's key"},
    {"path", ColumnType::kVarchar, false, "where it is read from"},
    {"dt", ColumnType::kDate, true, "UTC date of its folder dt="},
    {"hour", ColumnType::kInteger, false, "UTC hour 0-23 of its folder hour="},
    {"bytes", ColumnType::kBigint, false, "size in bytes"},
    {"format", ColumnType::kVarchar, false, "csv or jsonl"},
};

/// bronze_rows: every physical line of every bronze file, read by iotad (lake/bronze_lines.h).
inline constexpr Column kBronzeLineColumns[] = {
    {"key", ColumnType::kVarchar, false, "bronze key of the file"},
    {"line", ColumnType::kBigint, false, "1-based physical line"},
    {"bytes", ColumnType::kBigint, false, "the line's length in bytes, without its LF or CRLF"},
    {"text", ColumnType::kVarchar, false, "the line (invalid UTF-8 and NUL replaced by U+FFFD, capped at 16 MiB)"},
    {"exact", ColumnType::kBoolean, false, "false when text is not byte for byte the line"},
};

/// Writer specs of a fixed column list.
std::vector<ColumnSpec> ColumnSpecs(std::span<const Column> columns);
/// `NULL::TYPE AS name, ...`: the select list of an empty view with these columns.
std::string NullSelectList(std::span<const Column> columns);
/// `{name: 'TYPE', ...}`: a DuckDB struct literal of the columns (read_json's `columns`).
std::string ColumnsStruct(std::span<const Column> columns);

namespace schema_detail {
constexpr bool Matches(std::span<const Column> cols, size_t i, std::string_view name) {
  return i < cols.size() && cols[i].name == name;
}
}  // namespace schema_detail

static_assert(std::size(kAnomalyColumns) == AnomalyCol::kCount);
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kValue, "value"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kZ, "z"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kThreshold, "threshold"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kScore, "score"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kExpectedHi, "expected_hi"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kRule, "rule"));
static_assert(schema_detail::Matches(kAnomalyColumns, AnomalyCol::kTimeoutSeconds, "timeout_seconds"));
static_assert(std::size(kGoldSummaryColumns) == SummaryCol::kCount);
static_assert(schema_detail::Matches(kGoldSummaryColumns, SummaryCol::kRows, "rows"));
static_assert(schema_detail::Matches(kGoldSummaryColumns, SummaryCol::kMax, "max"));

}  // namespace iotad::lake
