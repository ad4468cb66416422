#pragma once
// Test-only: a RowSink that writes down every call it gets as one line of text, so two parses
// compare with one EXPECT_EQ and a failure shows the difference.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/parse/row_parser.h"

namespace iotad::parse::test_util {

class EventSink : public RowSink {
 public:
  void OnSchema(const std::vector<std::string>& dimension_names,
                const std::vector<std::string>& metric_names) override {
    dims_ = dimension_names.size();
    metrics_ = metric_names.size();
    schemas.push_back(fmt::format("dims=[{}] metrics=[{}]", fmt::join(dimension_names, ","),
                                  fmt::join(metric_names, ",")));
    calls.push_back("schema " + schemas.back());
  }
  void OnRow(const ParsedRow& row) override {
    std::vector<std::string> dims, metrics;
    for (size_t i = 0; i < dims_; ++i) dims.emplace_back(row.dimensions[i]);
    for (size_t i = 0; i < metrics_; ++i) {
      metrics.push_back(std::isnan(row.metrics[i]) ? "NULL" : fmt::format("{}", row.metrics[i]));
    }
    Event(fmt::format("row line={} ts={} device={} dims=[{}] metrics=[{}]", row.line, row.ts, row.device_id,
                      fmt::join(dims, "|"), fmt::join(metrics, "|")));
  }
  void OnReject(RejectReason reason, std::string_view detail, int64_t line, std::string_view raw) override {
    Event(fmt::format("reject line={} {}: {} raw={}", line, ReasonCode(reason), detail, raw));
  }
  void OnCellReject(RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override {
    Event(fmt::format("cell line={} {} {}: {} raw={}", line, column, ReasonCode(reason), detail, raw));
  }

  std::vector<std::string> schemas;  // OnSchema's
  std::vector<std::string> events;   // the other calls'
  std::vector<std::string> calls;    // every call, schemas included, in their order

 private:
  void Event(std::string text) {
    calls.push_back(text);
    events.push_back(std::move(text));
  }
  size_t dims_ = 0;
  size_t metrics_ = 0;
};

}  // namespace iotad::parse::test_util
