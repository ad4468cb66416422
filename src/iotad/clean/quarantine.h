#pragma once
// Quarantine records: what was set aside, why, and where it came from. Built here, written to
// the quarantine table by pipeline/silver.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/clean/hour_buffer.h"
#include "iotad/parse/row_parser.h"

namespace iotad::clean {

/// One quarantine record: a whole row (`column` empty, NULL in the table) or one cell of a row
/// that was stored (`column` names it).
struct QuarantineRow {
  std::string reason;  // parse::ReasonCode
  std::string column;
  std::string detail;
  uint32_t source = 0;  // index of the bronze file
  int64_t line = 0;
  std::string raw;
};

/// Bytes of raw input a record keeps (the parser caps its rejects the same way).
inline constexpr size_t kMaxRawBytes = 4096;

/// Shows bytes that are not printable ASCII as \xNN, so a record of unreadable input is valid
/// UTF-8; keeps the first `max_bytes` bytes.
std::string EscapeBytes(std::string_view bytes, size_t max_bytes = kMaxRawBytes);

/// A whole row set aside.
QuarantineRow RowRecord(parse::RejectReason reason, std::string detail, uint32_t source, int64_t line,
                        std::string raw);
/// One cell of a stored row set aside (its value is NULL in silver).
QuarantineRow CellRecord(parse::RejectReason reason, std::string column, std::string detail, uint32_t source,
                         int64_t line, std::string raw);
/// The unreadable rest of a bronze object, from `line` on: one record holding its first bytes,
/// escaped (`unreadable_file`).
QuarantineRow UnreadableTailRecord(std::string detail, uint32_t source, int64_t line, std::string_view tail);

/// A buffered row as text (event_time, device_id, the dimensions, the metrics; NULL is empty),
/// for the `raw` of a record about a row that was parsed fine (a conflict).
std::string RowText(const HourBuffer& b, uint32_t i, const std::vector<std::string>& devices,
                    const std::vector<std::string>& dim_values);

/// Row `i` has the key of kept row `kept` of the same batch with other values.
QuarantineRow BatchConflictRecord(const HourBuffer& b, uint32_t i, uint32_t kept, const std::vector<std::string>& sources,
                                  const std::vector<std::string>& devices, const std::vector<std::string>& dim_values);
/// Row `i` has the key of a row already in silver with other values.
QuarantineRow StoredConflictRecord(const HourBuffer& b, uint32_t i, const std::vector<std::string>& devices,
                                   const std::vector<std::string>& dim_values);

/// The order records are written in: by bronze file, line, then reason.
void SortRecords(std::vector<QuarantineRow>& rows);

}  // namespace iotad::clean
