#pragma once
// Parsers from raw bronze bytes (CSV with a header, or JSON lines) to typed rows. They never
// fail on a bad row: each one goes to the sink's OnReject with a reason code, so every line is
// accounted for. Hot path: no allocation per row.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/timestamp.h"

namespace iotad::ingest {

enum class RejectReason {
  kWrongColumnCount,
  kBadTimestamp,
  kMissingTimestamp,
  kMissingDeviceId,
  kBadNumber,
  kBadHeader,
  kBadJson,
  kConflictingDuplicate,  // same device and time as a stored row, different values (clean/)
};

/// Stable snake_case code stored in the quarantine table's `reason` column.
const char* ReasonCode(RejectReason reason);

/// Which header names play which role; every other column is a numeric metric.
struct ColumnRoles {
  std::vector<std::string> time_columns{"event_time", "timestamp", "ts", "time"};
  std::vector<std::string> device_columns{"device_id", "device", "deviceid"};
  std::vector<std::string> dimension_columns{"location"};
};

/// One good row. Views point into the input buffer; metrics are indexed like the schema's
/// metric names, NaN meaning an empty cell (non-finite input values are rejected, so NaN is
/// never data).
struct ParsedRow {
  TimestampUs ts = 0;
  std::string_view device_id;
  const std::string_view* dimensions = nullptr;  // empty view = NULL
  const double* metrics = nullptr;
  int64_t line = 0;
};

/// Receives a file's rows. OnSchema comes first (once per file).
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void OnSchema(const std::vector<std::string>& dimension_names,
                        const std::vector<std::string>& metric_names) = 0;
  virtual void OnRow(const ParsedRow& row) = 0;
  virtual void OnReject(RejectReason reason, std::string_view detail, int64_t line,
                        std::string_view raw) = 0;
};

struct ParseCounts {
  int64_t rows = 0;         // data lines seen (good + rejected)
  int64_t blank_lines = 0;  // not rows
};

/// CSV with a header line (RFC 4180 quoting, CRLF or LF). Column names are lower-cased and
/// trimmed. A header with no time or device column makes every line a kBadHeader reject.
ParseCounts ParseCsv(std::string_view data, const ColumnRoles& roles, RowSink& sink);

/// One JSON object per line. Keys play the same roles as CSV headers; numbers (or numeric
/// strings) are metrics, null is an empty cell. The metric set is every numeric key seen in
/// the file, in first-seen order (so the schema comes after a first pass over the keys).
ParseCounts ParseJsonLines(std::string_view data, const ColumnRoles& roles, RowSink& sink);

}  // namespace iotad::ingest
