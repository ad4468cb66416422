#include "iotad/clean/quarantine.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace iotad::clean {

std::string EscapeBytes(std::string_view bytes, size_t max_bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, max_bytes)) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

QuarantineRow RowRecord(parse::RejectReason reason, std::string detail, uint32_t source, int64_t line,
                        std::string raw) {
  return {parse::ReasonCode(reason), std::string(), std::move(detail), source, line, std::move(raw)};
}

QuarantineRow CellRecord(parse::RejectReason reason, std::string column, std::string detail, uint32_t source,
                         int64_t line, std::string raw) {
  return {parse::ReasonCode(reason), std::move(column), std::move(detail), source, line, std::move(raw)};
}

QuarantineRow UnreadableTailRecord(std::string detail, uint32_t source, int64_t line, std::string_view tail) {
  return RowRecord(parse::RejectReason::kUnreadableFile, std::move(detail), source, line, EscapeBytes(tail));
}

std::string RowText(const HourBuffer& b, uint32_t i, const std::vector<std::string>& devices,
                    const std::vector<std::string>& dim_values) {
  std::string out;
  AppendTimestamp(out, b.hour_start + b.offset[i]);
  out += ',';
  out += devices[b.device[i]];
  for (const auto& d : b.dims) {
    out += ',';
    out += dim_values[d[i]];
  }
  for (const auto& m : b.metrics) {
    out += ',';
    if (!std::isnan(m[i])) out += fmt::format("{}", m[i]);
  }
  return out;
}

QuarantineRow BatchConflictRecord(const HourBuffer& b, uint32_t i, uint32_t kept, const std::vector<std::string>& sources,
                                  const std::vector<std::string>& devices, const std::vector<std::string>& dim_values) {
  return RowRecord(parse::RejectReason::kConflictingDuplicate,
                   fmt::format("same device and time as line {} of {}, with other values", b.line[kept],
                               sources[b.source[kept]]),
                   b.source[i], b.line[i], RowText(b, i, devices, dim_values));
}

QuarantineRow StoredConflictRecord(const HourBuffer& b, uint32_t i, const std::vector<std::string>& devices,
                                   const std::vector<std::string>& dim_values) {
  return RowRecord(parse::RejectReason::kConflictingDuplicate,
                   "same device and time as a row already in silver, with other values", b.source[i], b.line[i],
                   RowText(b, i, devices, dim_values));
}

void SortRecords(std::vector<QuarantineRow>& rows) {
  std::sort(rows.begin(), rows.end(), [](const QuarantineRow& a, const QuarantineRow& b) {
    return std::tie(a.source, a.line, a.reason) < std::tie(b.source, b.line, b.reason);
  });
}

}  // namespace iotad::clean
