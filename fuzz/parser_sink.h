#pragma once
// A RowSink for the CSV and JSON-lines fuzz targets: it checks, call by call, what the parser
// promises its sink, and after the parse that the counts agree with the calls.
#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_util.h"
#include "iotad/parse/row_parser.h"

namespace iotad::fuzz {

class CheckingSink : public parse::RowSink {
 public:
  explicit CheckingSink(std::string_view data) {
    // Lines of the input: a last line without '\n' still counts.
    lines_ = static_cast<int64_t>(std::count(data.begin(), data.end(), '\n'));
    if (!data.empty() && data.back() != '\n') ++lines_;
  }

  void OnSchema(const std::vector<std::string>& dimension_names, const std::vector<std::string>& metric_names) override {
    IOTAD_FUZZ_CHECK(schema_calls_ == 0);  // once per file, before anything else
    IOTAD_FUZZ_CHECK(rows_ == 0 && rejects_ == 0);
    ++schema_calls_;
    dims_ = dimension_names.size();
    metrics_ = metric_names.size();
    if (Strict()) {
      for (const auto& n : dimension_names) IOTAD_FUZZ_CHECK(IsValidUtf8(n));
      for (const auto& n : metric_names) IOTAD_FUZZ_CHECK(IsValidUtf8(n));
    }
  }

  void OnRow(const parse::ParsedRow& row) override {
    IOTAD_FUZZ_CHECK(schema_calls_ == 1);
    CheckLine(row.line);
    IOTAD_FUZZ_CHECK(!row.device_id.empty());
    for (size_t m = 0; m < metrics_; ++m) {
      // NaN is an empty cell; infinities and values beyond any reading are rejected, never stored.
      IOTAD_FUZZ_CHECK(std::isnan(row.metrics[m]) || std::fabs(row.metrics[m]) <= parse::kMaxMetricMagnitude);
    }
    if (Strict()) {
      IOTAD_FUZZ_CHECK(IsValidUtf8(row.device_id));
      for (size_t d = 0; d < dims_; ++d) IOTAD_FUZZ_CHECK(IsValidUtf8(row.dimensions[d]));
    }
    ++rows_;
  }

  void OnReject(parse::RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override {
    IOTAD_FUZZ_CHECK(schema_calls_ == 1);
    IOTAD_FUZZ_CHECK(parse::ReasonCode(reason) != nullptr && *parse::ReasonCode(reason) != '\0');
    IOTAD_FUZZ_CHECK(!detail.empty());
    CheckLine(line);
    if (Strict()) {
      IOTAD_FUZZ_CHECK(IsValidUtf8(detail));
      IOTAD_FUZZ_CHECK(IsValidUtf8(raw));
      IOTAD_FUZZ_CHECK(raw.size() <= 64 * 1024);  // "at most a few KiB"
    }
    ++rejects_;
  }

  void OnCellReject(parse::RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override {
    IOTAD_FUZZ_CHECK(schema_calls_ == 1);
    IOTAD_FUZZ_CHECK(parse::ReasonCode(reason) != nullptr);
    IOTAD_FUZZ_CHECK(line >= 1 && line <= lines_);
    if (Strict()) {
      IOTAD_FUZZ_CHECK(IsValidUtf8(column));
      IOTAD_FUZZ_CHECK(IsValidUtf8(detail));
      IOTAD_FUZZ_CHECK(IsValidUtf8(raw));
    }
    ++cell_rejects_;
  }

  /// After the parse: every row went to exactly one of OnRow and OnReject, and the counts add up.
  void CheckCounts(const parse::ParseCounts& c) const {
    IOTAD_FUZZ_CHECK(schema_calls_ <= 1);
    IOTAD_FUZZ_CHECK(c.rows == rows_ + rejects_);
    IOTAD_FUZZ_CHECK(c.rows >= 0 && c.blank_lines >= 0);
    IOTAD_FUZZ_CHECK(c.rows + c.blank_lines <= lines_);
    IOTAD_FUZZ_CHECK(c.cell_rejects == cell_rejects_);
    if (Strict()) {
      // Every line accounted for: the header, the rows' lines and the blank lines.
      IOTAD_FUZZ_CHECK(c.physical_lines == lines_);
    }
  }

 private:
  void CheckLine(int64_t line) {
    // Rows come in input order, each on a line of the input.
    IOTAD_FUZZ_CHECK(line >= 1 && line <= lines_);
    IOTAD_FUZZ_CHECK(line > last_line_);
    last_line_ = line;
  }

  int64_t lines_ = 0;
  int64_t last_line_ = 0;
  int schema_calls_ = 0;
  size_t dims_ = 0, metrics_ = 0;
  int64_t rows_ = 0, rejects_ = 0, cell_rejects_ = 0;
};

/// Every call a sink gets, as text, so the whole-file and the message paths can be compared.
class EventLog : public parse::RowSink {
 public:
  void OnSchema(const std::vector<std::string>& dimension_names, const std::vector<std::string>& metric_names) override {
    dims_ = dimension_names.size();
    metrics_ = metric_names.size();
    std::string e = "schema";
    for (const auto& n : dimension_names) e += " d:" + n;
    for (const auto& n : metric_names) e += " m:" + n;
    events.push_back(std::move(e));
  }
  void OnRow(const parse::ParsedRow& row) override {
    std::string e = fmt::format("row {} {} {}", row.line, row.ts, row.device_id);
    for (size_t d = 0; d < dims_; ++d) e += fmt::format(" [{}]", row.dimensions[d]);
    for (size_t m = 0; m < metrics_; ++m) e += fmt::format(" {}", row.metrics[m]);
    events.push_back(std::move(e));
  }
  void OnReject(parse::RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override {
    events.push_back(fmt::format("reject {} {} {} [{}]", line, parse::ReasonCode(reason), detail, raw));
  }
  void OnCellReject(parse::RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override {
    events.push_back(fmt::format("cell {} {} {} {} [{}]", line, column, parse::ReasonCode(reason), detail, raw));
  }
  std::vector<std::string> events;

 private:
  size_t dims_ = 0, metrics_ = 0;
};

/// Physical lines of `data` (without their LF; a last line without LF counts).
inline std::vector<std::string_view> SplitLines(std::string_view data) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? data.size() : nl;
    lines.push_back(data.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}


}  // namespace iotad::fuzz
