#include "iotad/parse/row_parser.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fast_float/fast_float.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

namespace iotad::parse {
namespace {

// 2024-01-01T00:00:00Z
constexpr TimestampUs kT0 = 1'704'067'200 * kMicrosPerSecond;

struct OwnedRow {
  TimestampUs ts = 0;
  std::string device_id;
  std::vector<std::string> dimensions;
  std::vector<double> metrics;
  int64_t line = 0;
};

struct OwnedReject {
  RejectReason reason;
  std::string detail;
  int64_t line = 0;
  std::string raw;
};

/// Keeps owned copies of everything: the parser's views die when the call returns.
class RecordingSink : public RowSink {
 public:
  void OnSchema(const std::vector<std::string>& dimension_names,
                const std::vector<std::string>& metric_names) override {
    ++schema_calls;
    dimension_names_ = dimension_names;
    metric_names_ = metric_names;
  }
  void OnRow(const ParsedRow& row) override {
    OwnedRow r;
    r.ts = row.ts;
    r.device_id = std::string(row.device_id);
    for (size_t i = 0; i < dimension_names_.size(); ++i) {
      r.dimensions.emplace_back(row.dimensions[i]);
    }
    r.metrics.assign(row.metrics, row.metrics + metric_names_.size());
    r.line = row.line;
    rows.push_back(std::move(r));
  }
  void OnReject(RejectReason reason, std::string_view detail, int64_t line,
                std::string_view raw) override {
    rejects.push_back({reason, std::string(detail), line, std::string(raw)});
  }
  void OnCellReject(RejectReason reason, std::string_view column, std::string_view detail, int64_t line,
                    std::string_view raw) override {
    cell_rejects.push_back({reason, std::string(column) + ": " + std::string(detail), line, std::string(raw)});
  }

  /// Index of a metric by name, or -1.
  int Metric(const std::string& name) const {
    for (size_t i = 0; i < metric_names_.size(); ++i) {
      if (metric_names_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  double Value(size_t row, const std::string& metric) const {
    const int m = Metric(metric);
    EXPECT_GE(m, 0) << "no metric " << metric;
    return m < 0 ? NAN : rows.at(row).metrics.at(static_cast<size_t>(m));
  }

  /// Every reject's line and detail, for failure messages.
  std::string Describe() const {
    std::string out;
    for (const auto& r : rejects) {
      out += std::to_string(r.line) + ": " + ReasonCode(r.reason) + " " + r.detail + "\n";
    }
    return out;
  }

  int schema_calls = 0;
  std::vector<std::string> dimension_names_;
  std::vector<std::string> metric_names_;
  std::vector<OwnedRow> rows;
  std::vector<OwnedReject> rejects;
  std::vector<OwnedReject> cell_rejects;
};

/// Roles where `temp` (and `v`) are metrics the lake already has: text there is a bad number.
ColumnRoles TempIsAMetric() {
  ColumnRoles roles;
  roles.known_metrics = {"temp", "v"};
  return roles;
}

/// Parses one CSV file whose only data line is expected to be rejected; returns that reject.
OwnedReject RejectOf(const std::string& csv, const ColumnRoles& roles = TempIsAMetric()) {
  RecordingSink sink;
  ParseCsv(csv, roles, sink);
  EXPECT_TRUE(sink.rows.empty()) << csv;
  EXPECT_EQ(sink.rejects.size(), 1u) << csv;
  if (sink.rejects.empty()) return {RejectReason::kBadJson, "none", 0, ""};
  return sink.rejects[0];
}

TEST(ReasonCodeTest, EveryReasonHasItsStableCode) {
  EXPECT_STREQ(ReasonCode(RejectReason::kWrongColumnCount), "wrong_column_count");
  EXPECT_STREQ(ReasonCode(RejectReason::kBadTimestamp), "bad_timestamp");
  EXPECT_STREQ(ReasonCode(RejectReason::kMissingTimestamp), "missing_timestamp");
  EXPECT_STREQ(ReasonCode(RejectReason::kMissingDeviceId), "missing_device_id");
  EXPECT_STREQ(ReasonCode(RejectReason::kBadNumber), "bad_number");
  EXPECT_STREQ(ReasonCode(RejectReason::kBadHeader), "bad_header");
  EXPECT_STREQ(ReasonCode(RejectReason::kBadJson), "bad_json");
  EXPECT_STREQ(ReasonCode(RejectReason::kConflictingDuplicate), "conflicting_duplicate");
}

TEST(ParseCsvTest, MapsHeaderColumnsToRoles) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,location,temp,humidity\n"
      "2024-01-01T00:00:00Z,d1,lab,21.5,40\n",
      ColumnRoles(), sink);
  EXPECT_EQ(sink.schema_calls, 1);
  EXPECT_EQ(sink.dimension_names_, std::vector<std::string>{"location"});
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "humidity"}));
  EXPECT_EQ(counts.rows, 1);
  EXPECT_EQ(counts.blank_lines, 0);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_TRUE(sink.rejects.empty());
  const OwnedRow& row = sink.rows[0];
  EXPECT_EQ(row.ts, kT0);
  EXPECT_EQ(row.device_id, "d1");
  EXPECT_EQ(row.dimensions, std::vector<std::string>{"lab"});
  EXPECT_EQ(row.metrics, (std::vector<double>{21.5, 40}));
  EXPECT_EQ(row.line, 2);
}

TEST(ParseCsvTest, AcceptsTimeAliasesAndUpperCaseHeaders) {
  for (const std::string time_name : {"timestamp", "TS", "Time", "EVENT_TIME"}) {
    RecordingSink sink;
    ParseCsv(time_name + ",Device_ID,LOCATION,Temp\n1704067200,d1,lab,1\n", ColumnRoles(), sink);
    ASSERT_EQ(sink.rows.size(), 1u) << time_name;
    EXPECT_EQ(sink.rows[0].ts, kT0);
    EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"lab"});
    EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp"});
  }
}

TEST(ParseCsvTest, MakesEveryOtherColumnAMetric) {
  RecordingSink sink;
  ParseCsv("ts,device,a,b,c\n2024-01-01T00:00:00Z,d1,1,2,3\n", ColumnRoles(), sink);
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"a", "b", "c"}));
  // A configured dimension missing from the file still appears, as NULL.
  EXPECT_EQ(sink.dimension_names_, std::vector<std::string>{"location"});
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{""});
  EXPECT_EQ(sink.rows[0].metrics, (std::vector<double>{1, 2, 3}));
}

TEST(ParseCsvTest, SkipsAUtf8ByteOrderMark) {
  RecordingSink sink;
  ParseCsv("\xEF\xBB\xBF" "event_time,device_id,temp\n2024-01-01T00:00:00Z,d1,1\n", ColumnRoles(),
           sink);
  EXPECT_TRUE(sink.rejects.empty());
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp"});
}

TEST(ParseCsvTest, EmptyCellsAreNull) {
  RecordingSink sink;
  ParseCsv("event_time,device_id,location,temp,humidity\n2024-01-01T00:00:00Z,d1,,,40\n",
           ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{""});
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  EXPECT_EQ(sink.Value(0, "humidity"), 40);
}

TEST(ParseCsvTest, HandlesCrlfLineEndings) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp\r\n"
      "2024-01-01T00:00:00Z,d1,1.5\r\n"
      "2024-01-01T00:00:01Z,d2,\r\n"
      "2024-01-01T00:00:02Z,d3,oops\r\n",
      TempIsAMetric(), sink);
  EXPECT_EQ(counts.rows, 3);
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp"});
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[0].device_id, "d1");
  EXPECT_EQ(sink.rows[0].metrics[0], 1.5);
  EXPECT_TRUE(std::isnan(sink.rows[1].metrics[0]));
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].raw, "2024-01-01T00:00:02Z,d3,oops");
  EXPECT_EQ(sink.rejects[0].line, 4);
}

TEST(ParseCsvTest, UnquotesFieldsWithCommasAndEscapedQuotes) {
  RecordingSink sink;
  ParseCsv(
      "event_time,device_id,location,temp\n"
      "\"2024-01-01T00:00:00Z\",\"d,1\",\"lab \"\"A\"\"\",\"2.5\"\n"
      "2024-01-01T00:00:01Z,d2,\"\",3\n",
      ColumnRoles(), sink);
  EXPECT_TRUE(sink.rejects.empty());
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.rows[0].device_id, "d,1");
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"lab \"A\""});
  EXPECT_EQ(sink.rows[0].metrics, std::vector<double>{2.5});
  EXPECT_EQ(sink.rows[1].dimensions, std::vector<std::string>{""});
  EXPECT_EQ(sink.rows[1].line, 3);
}

TEST(ParseCsvTest, QuotedNewlineKeepsLaterLineNumbersRight) {
  RecordingSink sink;
  ParseCsv(
      "event_time,device_id,location,temp\n"
      "2024-01-01T00:00:00Z,d1,\"two\nlines\",1\n"
      "2024-01-01T00:00:01Z,d2,lab,x\n",
      TempIsAMetric(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"two\nlines"});
  EXPECT_EQ(sink.rows[0].line, 2);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].line, 4);
}

TEST(ParseCsvTest, CountsBlankLinesButNotAsRows) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp\n"
      "\n"
      "2024-01-01T00:00:00Z,d1,1\n"
      "   \n"
      "\r\n"
      "2024-01-01T00:00:01Z,d1,2\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 2);
  EXPECT_EQ(counts.blank_lines, 3);
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_TRUE(sink.rejects.empty());
  EXPECT_EQ(sink.rows[0].line, 3);
  EXPECT_EQ(sink.rows[1].line, 6);
}

TEST(ParseCsvTest, HeaderAfterLeadingBlankLinesKeepsLineNumbers) {
  RecordingSink sink;
  ParseCsv("\nevent_time,device_id,temp\n2024-01-01T00:00:00Z,d1,1\n", ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].line, 3);
}

TEST(ParseCsvTest, RejectsTooFewAndTooManyColumns) {
  const OwnedReject few = RejectOf("event_time,device_id,temp\n2024-01-01T00:00:00Z,d1\n");
  EXPECT_EQ(few.reason, RejectReason::kWrongColumnCount);
  EXPECT_STREQ(ReasonCode(few.reason), "wrong_column_count");
  EXPECT_EQ(few.line, 2);
  EXPECT_EQ(few.raw, "2024-01-01T00:00:00Z,d1");
  EXPECT_NE(few.detail.find("expected 3"), std::string::npos) << few.detail;

  const OwnedReject many = RejectOf("event_time,device_id,temp\n2024-01-01T00:00:00Z,d1,1,2\n");
  EXPECT_EQ(many.reason, RejectReason::kWrongColumnCount);
  EXPECT_EQ(many.raw, "2024-01-01T00:00:00Z,d1,1,2");

  const OwnedReject unterminated =
      RejectOf("event_time,device_id,temp\n2024-01-01T00:00:00Z,\"d1,1\n");
  EXPECT_EQ(unterminated.reason, RejectReason::kUnterminatedQuote);
  EXPECT_STREQ(ReasonCode(unterminated.reason), "unterminated_quote");
}

TEST(ParseCsvTest, RejectsBadAndMissingTimestamps) {
  const OwnedReject bad = RejectOf("event_time,device_id,temp\nyesterday,d1,1\n");
  EXPECT_EQ(bad.reason, RejectReason::kBadTimestamp);
  EXPECT_STREQ(ReasonCode(bad.reason), "bad_timestamp");
  EXPECT_NE(bad.detail.find("yesterday"), std::string::npos) << bad.detail;
  EXPECT_EQ(bad.raw, "yesterday,d1,1");

  EXPECT_EQ(RejectOf("event_time,device_id,temp\n2024-02-30T00:00:00Z,d1,1\n").reason,
            RejectReason::kBadTimestamp);

  const OwnedReject missing = RejectOf("event_time,device_id,temp\n  ,d1,1\n");
  EXPECT_EQ(missing.reason, RejectReason::kMissingTimestamp);
  EXPECT_STREQ(ReasonCode(missing.reason), "missing_timestamp");
}

TEST(ParseCsvTest, RejectsMissingDeviceId) {
  const OwnedReject r = RejectOf("event_time,device_id,temp\n2024-01-01T00:00:00Z, ,1\n");
  EXPECT_EQ(r.reason, RejectReason::kMissingDeviceId);
  EXPECT_STREQ(ReasonCode(r.reason), "missing_device_id");
}

TEST(ParseCsvTest, RejectsNumbersThatAreNotFiniteNumbersInAKnownMetric) {
  for (const std::string cell : {"21.5x", "abc", "inf", "-inf", "1,5", "1e101", "-3.4e300"}) {
    RecordingSink sink;
    ParseCsv("event_time,device_id,temp\n2024-01-01T00:00:00Z,d1,\"" + cell + "\"\n",
             TempIsAMetric(), sink);
    EXPECT_TRUE(sink.rows.empty()) << cell;
    ASSERT_EQ(sink.rejects.size(), 1u) << cell;
    EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadNumber) << cell;
    EXPECT_STREQ(ReasonCode(sink.rejects[0].reason), "bad_number");
    EXPECT_NE(sink.rejects[0].detail.find("temp"), std::string::npos) << sink.Describe();
  }
}

TEST(ParseCsvTest, AValueBeyondAnyReadingIsABadNumberCellThatSaysSo) {
  // 1e308 is finite, but no sensor reads it: stored, it would blind every mean and deviation over
  // its series (gold's z-scores, the hourly summaries). The cell goes to quarantine, the row's
  // other metrics stay; 1e100 itself is still a reading.
  RecordingSink sink;
  ParseCsv("event_time,device_id,temp,hum\n"
           "2024-01-01T00:00:00Z,d1,1e308,40\n"
           "2024-01-01T00:00:01Z,d1,-1e100,41\n",
           TempIsAMetric(), sink);
  ASSERT_EQ(sink.rows.size(), 2u) << sink.Describe();
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  EXPECT_EQ(sink.Value(0, "hum"), 40);
  EXPECT_EQ(sink.Value(1, "temp"), -1e100);
  ASSERT_EQ(sink.cell_rejects.size(), 1u);
  EXPECT_EQ(sink.cell_rejects[0].reason, RejectReason::kBadNumber);
  EXPECT_EQ(sink.cell_rejects[0].detail, "temp: '1e308' is beyond +-1e100: not a usable reading");
}

TEST(ParseCsvTest, AcceptsSignedExponentAndPaddedNumbers) {
  RecordingSink sink;
  ParseCsv("event_time,device_id,a,b,c,d\n2024-01-01T00:00:00Z,d1,+1.5,-2,1e3, 4 \n",
           ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.rows[0].metrics, (std::vector<double>{1.5, -2, 1000, 4}));
}

TEST(ParseCsvTest, HeaderWithoutTimeColumnRejectsEveryLine) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "when,device_id,temp\n"
      "2024-01-01T00:00:00Z,d1,1\n"
      "\n"
      "2024-01-01T00:00:01Z,d1,2\n",
      ColumnRoles(), sink);
  EXPECT_EQ(sink.schema_calls, 1);
  EXPECT_TRUE(sink.rows.empty());
  EXPECT_EQ(counts.rows, 2);
  EXPECT_EQ(counts.blank_lines, 1);
  ASSERT_EQ(sink.rejects.size(), 2u);
  for (const auto& r : sink.rejects) {
    EXPECT_EQ(r.reason, RejectReason::kBadHeader);
    EXPECT_STREQ(ReasonCode(r.reason), "bad_header");
    EXPECT_NE(r.detail.find("event_time"), std::string::npos) << r.detail;
  }
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_EQ(sink.rejects[0].raw, "2024-01-01T00:00:00Z,d1,1");
  EXPECT_EQ(sink.rejects[1].line, 4);
}

TEST(ParseCsvTest, HeaderWithoutDeviceColumnRejectsEveryLine) {
  RecordingSink sink;
  ParseCsv("event_time,sensor,temp\n2024-01-01T00:00:00Z,d1,1\n", ColumnRoles(), sink);
  EXPECT_TRUE(sink.rows.empty());
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadHeader);
  EXPECT_NE(sink.rejects[0].detail.find("device_id"), std::string::npos);
}

TEST(ParseCsvTest, EmptyInputHasNoRows) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv("", ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 0);
  EXPECT_TRUE(sink.rows.empty());
  EXPECT_TRUE(sink.rejects.empty());

  RecordingSink header_only;
  EXPECT_EQ(ParseCsv("event_time,device_id,temp\n", ColumnRoles(), header_only).rows, 0);
  EXPECT_TRUE(header_only.rejects.empty());
}

TEST(ParseCsvTest, EveryDataLineIsEitherARowOrAReject) {
  RecordingSink sink;
  const std::string csv =
      "event_time,device_id,location,temp\n"    // 1
      "2024-01-01T00:00:00Z,d1,lab,1\n"          // 2 good
      "2024-01-01T00:00:01Z,d1\n"                // 3 wrong_column_count
      "\n"                                       // 4 blank
      "not-a-time,d1,lab,1\n"                    // 5 bad_timestamp
      ",d1,lab,1\n"                              // 6 missing_timestamp
      "2024-01-01T00:00:02Z,,lab,1\n"            // 7 missing_device_id
      "2024-01-01T00:00:03Z,d1,lab,21.5x\n"      // 8 bad_number
      "2024-01-01T00:00:04Z,d2,\"a,b\",2\n"      // 9 good
      "2024-01-01T00:00:05Z,d1,lab,1,9\n"        // 10 wrong_column_count
      "2024-01-01T00:00:06Z,d3,,\n";             // 11 good (no trailing blank line)
  const ParseCounts counts = ParseCsv(csv, TempIsAMetric(), sink);
  EXPECT_EQ(counts.rows, static_cast<int64_t>(sink.rows.size() + sink.rejects.size()));
  EXPECT_EQ(counts.rows, 9);
  EXPECT_EQ(counts.blank_lines, 1);
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0].line, 2);
  EXPECT_EQ(sink.rows[1].line, 9);
  EXPECT_EQ(sink.rows[1].dimensions, std::vector<std::string>{"a,b"});
  EXPECT_EQ(sink.rows[2].line, 11);
  ASSERT_EQ(sink.rejects.size(), 6u);
  const std::vector<std::pair<RejectReason, int64_t>> expected = {
      {RejectReason::kWrongColumnCount, 3}, {RejectReason::kBadTimestamp, 5},
      {RejectReason::kMissingTimestamp, 6}, {RejectReason::kMissingDeviceId, 7},
      {RejectReason::kBadNumber, 8},        {RejectReason::kWrongColumnCount, 10},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(sink.rejects[i].reason, expected[i].first) << i;
    EXPECT_EQ(sink.rejects[i].line, expected[i].second) << i;
  }
  EXPECT_EQ(sink.rejects[4].raw, "2024-01-01T00:00:03Z,d1,lab,21.5x");
}

// Records are split 16 bytes at a time (delimiters as a bit mask) until a quote sends them to the
// general path: cells of every length put delimiters and quotes on every side of each block's
// edge, and each record must give the cells it was written with.
TEST(ParseCsvTest, SplitsRecordsOfEveryLengthWhereverTheDelimitersAndQuotesFall) {
  std::string csv = "event_time,device_id,location,a,b\n";
  std::vector<std::tuple<std::string, std::string, double, double>> want;
  for (int dev = 0; dev < 24; ++dev) {
    for (int loc = 0; loc < 24; ++loc) {
      const std::string device = fmt::format("d{}", std::string(static_cast<size_t>(dev), 'x'));
      const std::string base(static_cast<size_t>(loc), 'l');
      std::string location = base, cell = base;
      if (loc % 3 == 1) {  // a quoted cell holding the delimiter
        location = fmt::format("{},q", base);
        cell = fmt::format("\"{}\"", location);
      } else if (loc % 3 == 2) {  // a quote inside a cell is a plain character
        location = cell = fmt::format("{}\"", base);
      }
      const double a = dev + 0.5, b = -loc;
      csv += fmt::format("2024-01-01T00:{:02d}:{:02d}Z,{},{},{},{}\n", dev, loc, device, cell, a, b);
      want.emplace_back(device, location, a, b);
    }
  }
  RecordingSink sink;
  ParseCsv(csv, ColumnRoles(), sink);
  ASSERT_TRUE(sink.rejects.empty()) << sink.Describe();
  ASSERT_EQ(sink.rows.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& [device, location, a, b] = want[i];
    EXPECT_EQ(sink.rows[i].device_id, device) << i;
    EXPECT_EQ(sink.rows[i].dimensions, std::vector<std::string>{location}) << i;
    EXPECT_EQ(sink.Value(i, "a"), a) << i;
    EXPECT_EQ(sink.Value(i, "b"), b) << i;
  }
}

TEST(ParseJsonLinesTest, ReadsNumbersNumericStringsAndNulls) {
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"event_time":"2024-01-01T00:00:00Z","device_id":"d1","location":"lab","temp":21.5,"hum":"40"})"
      "\n"
      R"({"event_time":"2024-01-01T00:00:01Z","device_id":"d1","temp":null,"hum":3})"
      "\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 2);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_EQ(sink.dimension_names_, std::vector<std::string>{"location"});
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "hum"}));
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.rows[0].device_id, "d1");
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"lab"});
  EXPECT_EQ(sink.rows[0].metrics, (std::vector<double>{21.5, 40}));
  EXPECT_EQ(sink.rows[0].line, 1);
  EXPECT_EQ(sink.rows[1].dimensions, std::vector<std::string>{""});
  EXPECT_TRUE(std::isnan(sink.rows[1].metrics[0]));
  EXPECT_EQ(sink.rows[1].metrics[1], 3);
  EXPECT_EQ(sink.rows[1].line, 2);
}

TEST(ParseJsonLinesTest, MissingMetricKeyIsNull) {
  RecordingSink sink;
  ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","temp":1,"hum":2})" "\n"
      R"({"ts":"2024-01-01T00:00:01Z","device_id":"d1","hum":5})" "\n",
      ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_TRUE(std::isnan(sink.Value(1, "temp")));
  EXPECT_EQ(sink.Value(1, "hum"), 5);
}

TEST(ParseJsonLinesTest, KeySeenOnlyInALaterLineIsStillAMetric) {
  RecordingSink sink;
  ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","temp":1})" "\n"
      R"({"ts":"2024-01-01T00:00:01Z","device_id":"d1","temp":2,"pressure":1013})" "\n",
      ColumnRoles(), sink);
  EXPECT_EQ(sink.schema_calls, 1);
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "pressure"}));
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_TRUE(std::isnan(sink.Value(0, "pressure")));
  EXPECT_EQ(sink.Value(1, "pressure"), 1013);
}

TEST(ParseJsonLinesTest, ParsesEpochNumberTimestamps) {
  RecordingSink sink;
  ParseJsonLines(
      R"({"ts":1704067200,"device_id":"d1","v":1})" "\n"
      R"({"ts":1704067200.5,"device_id":"d1","v":1})" "\n"
      R"({"ts":1704067200123,"device_id":"d1","v":1})" "\n"
      R"({"ts":1704067200123456,"device_id":"d1","v":1})" "\n"
      R"({"ts":"1704067200","device_id":"d1","v":1})" "\n",
      ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 5u) << sink.Describe();
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.rows[1].ts, kT0 + 500'000);
  EXPECT_EQ(sink.rows[2].ts, kT0 + 123'000);
  EXPECT_EQ(sink.rows[3].ts, kT0 + 123'456);
  EXPECT_EQ(sink.rows[4].ts, kT0);
}

TEST(ParseJsonLinesTest, AcceptsUpperCaseKeysAndNumericDeviceIds) {
  RecordingSink sink;
  ParseJsonLines(R"({"Event_Time":"2024-01-01T00:00:00Z","DEVICE_ID":42,"Temp":1})" "\n",
                 ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].device_id, "42");
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp"});
}

TEST(ParseJsonLinesTest, RejectsBrokenLinesAsBadJson) {
  RecordingSink sink;
  const std::string broken = R"({"ts":"2024-01-01T00:00:01Z","device_id":)";
  const ParseCounts counts = ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":1})" "\n" + broken + "\n" +
          "[1,2]\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 3);
  ASSERT_EQ(sink.rows.size(), 1u);
  ASSERT_EQ(sink.rejects.size(), 2u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadJson);
  EXPECT_STREQ(ReasonCode(sink.rejects[0].reason), "bad_json");
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_EQ(sink.rejects[0].raw, broken);
  EXPECT_EQ(sink.rejects[1].reason, RejectReason::kBadJson);  // valid JSON, not an object
  EXPECT_EQ(sink.rejects[1].line, 3);
}

TEST(ParseJsonLinesTest, RejectsEachReasonWithItsLine) {
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"device_id":"d1","v":1})" "\n"                                  // 1 missing_timestamp
      R"({"ts":"yesterday","device_id":"d1","v":1})" "\n"                 // 2 bad_timestamp
      "\n"                                                                // 3 blank
      R"({"ts":"2024-01-01T00:00:00Z","v":1})" "\n"                       // 4 missing_device_id
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":"abc"})" "\n"  // 5 bad_number
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":true})" "\n"   // 6 good: true is 1
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":2})" "\n",     // 7 good
      TempIsAMetric(), sink);
  EXPECT_EQ(counts.rows, 6);
  EXPECT_EQ(counts.blank_lines, 1);
  EXPECT_EQ(counts.physical_lines, 7);
  EXPECT_EQ(counts.rows, static_cast<int64_t>(sink.rows.size() + sink.rejects.size()));
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[0].line, 6);
  EXPECT_EQ(sink.rows[0].metrics, std::vector<double>{1});
  EXPECT_EQ(sink.rows[1].line, 7);
  ASSERT_EQ(sink.rejects.size(), 4u);
  const std::vector<std::pair<RejectReason, int64_t>> expected = {
      {RejectReason::kMissingTimestamp, 1}, {RejectReason::kBadTimestamp, 2},
      {RejectReason::kMissingDeviceId, 4},  {RejectReason::kBadNumber, 5},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(sink.rejects[i].reason, expected[i].first) << i << ": " << sink.rejects[i].detail;
    EXPECT_EQ(sink.rejects[i].line, expected[i].second) << i;
  }
  EXPECT_EQ(sink.rejects[1].raw, R"({"ts":"yesterday","device_id":"d1","v":1})");
  EXPECT_NE(sink.rejects[3].detail.find("abc"), std::string::npos) << sink.rejects[3].detail;
}

TEST(ParseJsonLinesTest, NonFiniteNumericStringsAreRejectedInAKnownMetric) {
  for (const std::string value : {"inf", "-inf", "1.5x", "2e150"}) {
    RecordingSink sink;
    ParseJsonLines(R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":")" + value + "\"}\n",
                   TempIsAMetric(), sink);
    EXPECT_TRUE(sink.rows.empty()) << value;
    ASSERT_EQ(sink.rejects.size(), 1u) << value;
    EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadNumber) << value;
  }
}

TEST(ParseJsonLinesTest, SkipsAUtf8ByteOrderMark) {
  RecordingSink sink;
  ParseJsonLines("\xEF\xBB\xBF" R"({"ts":1704067200,"device_id":"d1","only_here":1})" "\n",
                 ColumnRoles(), sink);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"only_here"});
}

TEST(ParseJsonLinesTest, HandlesCrlfLineEndingsAndPassesRawWithoutTheCr) {
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"ts":1704067200,"device_id":"d1","v":1})" "\r\n"
      "\r\n"
      R"({"ts":"x","device_id":"d1","v":1})" "\r\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 2);
  EXPECT_EQ(counts.blank_lines, 1);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].metrics, std::vector<double>{1});
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].line, 3);
  EXPECT_EQ(sink.rejects[0].raw, R"({"ts":"x","device_id":"d1","v":1})");
}

// ---------------------------------------------------------------------------------------------
// Issue 7: nothing lost, nothing silently wrong.

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

/// Everything the sink received is valid UTF-8 and raw is capped.
void ExpectAllValidUtf8(const RecordingSink& sink) {
  for (const auto& r : sink.rows) {
    EXPECT_TRUE(ValidUtf8(r.device_id)) << r.device_id;
    for (const auto& d : r.dimensions) EXPECT_TRUE(ValidUtf8(d)) << d;
  }
  for (const auto* list : {&sink.rejects, &sink.cell_rejects}) {
    for (const auto& r : *list) {
      EXPECT_TRUE(ValidUtf8(r.detail)) << r.detail;
      EXPECT_TRUE(ValidUtf8(r.raw)) << r.raw;
      EXPECT_LE(r.raw.size(), 4096u + 40u);
    }
  }
  for (const auto& n : sink.dimension_names_) EXPECT_TRUE(ValidUtf8(n)) << n;
  for (const auto& n : sink.metric_names_) EXPECT_TRUE(ValidUtf8(n)) << n;
}

int64_t CountLines(std::string_view text) {
  if (text.empty()) return 0;
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) + (text.back() == '\n' ? 0 : 1);
}

TEST(ParseCsvEncodingTest, Latin1FileIsTranscodedToUtf8) {
  ColumnRoles roles;
  roles.encoding = TextEncoding::kLatin1;
  RecordingSink sink;
  ParseCsv("event_time,device_id,location,temp\n2024-01-01T00:00:00Z,d\xfc,Z\xfcrich,1\n", roles, sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"Z\xC3\xBCrich"});
  EXPECT_EQ(sink.rows[0].device_id, "d\xC3\xBC");
  ExpectAllValidUtf8(sink);
}

TEST(ParseCsvEncodingTest, InvalidUtf8InATextCellIsReplacedAndCounted) {
  // Issue 7 repro: a Latin-1 `Z\xfcrich` read as UTF-8 used to reach the Parquet file as is.
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,location,temp\n2024-01-01T00:00:00Z,d1,Z\xfcrich,1\n", ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"Z\xEF\xBF\xBDrich"});
  EXPECT_EQ(counts.replaced_characters, 1);
  ExpectAllValidUtf8(sink);
}

TEST(ParseCsvEncodingTest, InvalidUtf8InADeviceIdRejectsTheRowAsBadEncoding) {
  RecordingSink sink;
  ParseCsv("event_time,device_id,temp\n2024-01-01T00:00:00Z,Z\xfcrich-1,1\n2024-01-01T00:00:00Z,d2,2\n",
           ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadEncoding);
  EXPECT_STREQ(ReasonCode(sink.rejects[0].reason), "bad_encoding");
  EXPECT_EQ(sink.rejects[0].raw, "2024-01-01T00:00:00Z,Z\\xFCrich-1,1");
  EXPECT_NE(sink.rejects[0].detail.find("Z\\xFCrich-1"), std::string::npos) << sink.rejects[0].detail;
  ExpectAllValidUtf8(sink);
}

TEST(ParseCsvEncodingTest, InvalidBytesInAColumnNameAreReplaced) {
  RecordingSink sink;
  const ParseCounts counts =
      ParseCsv("event_time,device_id,temp\xff\n2024-01-01T00:00:00Z,d1,1\n", ColumnRoles(), sink);
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp\xEF\xBF\xBD"});
  EXPECT_EQ(counts.replaced_characters, 1);
  ExpectAllValidUtf8(sink);
}

TEST(ParseCsvEncodingTest, BinaryGarbageGivesValidUtf8RejectsAndEveryLineIsAccounted) {
  // Issue 7 repro: random bytes in a bronze file put invalid UTF-8 into the quarantine's raw.
  std::string data = "event_time,device_id,location,temp\n2024-01-01T00:00:00Z,d1,lab,1\n";
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    data += static_cast<char>(x & 0xFF);
  }
  data += "\n2024-01-01T00:00:01Z,d1,lab,2\n";
  for (const auto encoding : {TextEncoding::kUtf8, TextEncoding::kLatin1}) {
    ColumnRoles roles;
    roles.encoding = encoding;
    roles.max_line_bytes = 8192;
    RecordingSink sink;
    const ParseCounts counts = ParseCsv(data, roles, sink);
    ExpectAllValidUtf8(sink);
    EXPECT_EQ(counts.rows, static_cast<int64_t>(sink.rows.size() + sink.rejects.size()));
    EXPECT_EQ(counts.physical_lines, CountLines(data));
    ASSERT_GE(sink.rows.size(), 2u);
    EXPECT_EQ(sink.rows.back().ts, kT0 + kMicrosPerSecond);
  }
}

TEST(ParseCsvEncodingTest, RawTextIsCappedWithItsSize) {
  const std::string cell(10000, 'x');
  const OwnedReject r = RejectOf("event_time,device_id,temp\n" + cell + ",d1,1\n");
  EXPECT_EQ(r.reason, RejectReason::kBadTimestamp);
  EXPECT_LT(r.raw.size(), 4200u);
  EXPECT_NE(r.raw.find("... (10005 bytes)"), std::string::npos) << r.raw.substr(r.raw.size() - 40);
  EXPECT_LT(r.detail.size(), 400u);
}

TEST(ParseCsvDelimiterTest, DetectsSemicolonTabAndPipe) {
  for (const char d : {';', '\t', '|'}) {
    std::string csv = "event_time,device_id,location,temp\n2024-01-01T00:00:00Z,d1,lab,1.5\n";
    std::replace(csv.begin(), csv.end(), ',', d);
    RecordingSink sink;
    ParseCsv(csv, ColumnRoles(), sink);
    ASSERT_EQ(sink.rows.size(), 1u) << d << sink.Describe();
    EXPECT_EQ(sink.rows[0].device_id, "d1");
    EXPECT_EQ(sink.rows[0].dimensions, std::vector<std::string>{"lab"});
    EXPECT_EQ(sink.rows[0].metrics, std::vector<double>{1.5});
  }
}

TEST(ParseCsvDelimiterTest, SemicolonFileWithDecimalCommasIsSplitOnSemicolons) {
  RecordingSink sink;
  ParseCsv("event_time;device_id;temp;hum;code\n2024-01-01T00:00:00Z;d1;1,5;-2;1,2,3\n", ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  // A decimal comma is a decimal point when the delimiter is not a comma; `1,2,3` is text.
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "hum"}));
  EXPECT_EQ(sink.rows[0].metrics, (std::vector<double>{1.5, -2}));
  EXPECT_EQ(sink.dimension_names_, (std::vector<std::string>{"location", "code"}));
  EXPECT_EQ(sink.rows[0].dimensions, (std::vector<std::string>{"", "1,2,3"}));
}

TEST(ParseCsvDelimiterTest, WrongConfiguredDelimiterSaysWhichOneWouldWork) {
  ColumnRoles roles;
  roles.delimiter = ',';
  RecordingSink sink;
  ParseCsv("event_time;device_id;temp\n2024-01-01T00:00:00Z;d1;1\n", roles, sink);
  ASSERT_EQ(sink.rejects.size(), 1u);
  const std::string& detail = sink.rejects[0].detail;
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadHeader);
  EXPECT_NE(detail.find("split on ','"), std::string::npos) << detail;
  EXPECT_NE(detail.find("the header splits on ';' into 'event_time', 'device_id', 'temp'"), std::string::npos)
      << detail;
  EXPECT_NE(detail.find("set silver.delimiter"), std::string::npos) << detail;
}

TEST(ParseCsvDelimiterTest, BadHeaderNamesTheDelimiterUsed) {
  RecordingSink sink;
  ParseCsv("when\tdevice_id\ttemp\n2024-01-01T00:00:00Z\td1\t1\n", ColumnRoles(), sink);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_NE(sink.rejects[0].detail.find("split on TAB it has 3 columns: 'when', 'device_id', 'temp'"),
            std::string::npos)
      << sink.rejects[0].detail;
}

std::string SixtyLines(const std::string& odd_line, int odd_at) {
  std::string csv = "event_time,device_id,pipe,temp\n";
  for (int i = 0; i < 60; ++i) {
    csv += i == odd_at ? odd_line : fmt::format("2024-01-01T00:{:02}:00Z,d1,10 mm,{}", i, i);
    csv += '\n';
  }
  return csv;
}

TEST(ParseCsvQuoteTest, StrayQuoteInsideACellIsAPlainCharacter) {
  // Issue 7 repro: `...,12" pipe` swallowed the rest of the file into one rejected "row".
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(SixtyLines("2024-01-01T00:07:00Z,d1,12\" pipe,7", 7), ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 60);
  EXPECT_EQ(counts.physical_lines, 61);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  ASSERT_EQ(sink.rows.size(), 60u);
  EXPECT_EQ(sink.rows[7].dimensions, (std::vector<std::string>{"", "12\" pipe"}));
  EXPECT_EQ(sink.rows[59].metrics, std::vector<double>{59});
}

TEST(ParseCsvQuoteTest, UnclosedQuoteAtACellStartRejectsOnlyItsLine) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(SixtyLines("2024-01-01T00:07:00Z,d1,\"12 pipe,7", 7), ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 60);
  EXPECT_EQ(counts.physical_lines, 61);
  EXPECT_EQ(sink.rows.size(), 59u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kUnterminatedQuote);
  EXPECT_EQ(sink.rejects[0].line, 9);
  EXPECT_EQ(sink.rejects[0].raw, "2024-01-01T00:07:00Z,d1,\"12 pipe,7");
}

TEST(ParseCsvQuoteTest, QuoteClosingLinesLaterWithoutMakingARowRejectsOnlyTheFirstLine) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,note,temp\n"
      "2024-01-01T00:00:00Z,d1,\"oops,1\n"          // 2: a quote opened, closed on line 4
      "2024-01-01T00:00:01Z,d1,fine,2\n"            // 3
      "2024-01-01T00:00:02Z,d1,\"x\",3\n"           // 4
      "2024-01-01T00:00:03Z,d1,\"two\nlines\",4\n",  // 5-6: a real multi-line cell
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 4);
  EXPECT_EQ(counts.physical_lines, 6);
  ASSERT_EQ(sink.rejects.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kUnterminatedQuote);
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_EQ(sink.rejects[0].raw, "2024-01-01T00:00:00Z,d1,\"oops,1");
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0].line, 3);
  EXPECT_EQ(sink.rows[1].dimensions[1], "x");
  EXPECT_EQ(sink.rows[2].dimensions[1], "two\nlines");
  EXPECT_EQ(sink.rows[2].line, 5);
}

TEST(ParseCsvQuoteTest, QuoteOpenLongerThanTheLineLimitRejectsOnlyItsLine) {
  ColumnRoles roles;
  roles.max_line_bytes = 100;
  std::string csv = "event_time,device_id,note,temp\n2024-01-01T00:00:00Z,d1,\"open,1\n";
  for (int i = 0; i < 10; ++i) csv += fmt::format("2024-01-01T00:00:{:02}Z,d1,n,{}\n", i + 1, i);
  csv += "2024-01-01T00:00:30Z,d1,\"closed\",1\n";
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(csv, roles, sink);
  EXPECT_EQ(counts.physical_lines, 13);
  EXPECT_EQ(counts.rows, 12);
  ASSERT_EQ(sink.rejects.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kUnterminatedQuote);
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_EQ(sink.rows.size(), 11u);
}

TEST(ParseCsvQuoteTest, LineLongerThanTheLimitIsRejectedAndParsingGoesOn) {
  ColumnRoles roles;
  roles.max_line_bytes = 1000;
  const std::string long_line = "2024-01-01T00:00:00Z,d1," + std::string(5000, '7');
  RecordingSink sink;
  const ParseCounts counts =
      ParseCsv("event_time,device_id,temp\n" + long_line + "\n2024-01-01T00:00:01Z,d1,2\n", roles, sink);
  EXPECT_EQ(counts.rows, 2);
  EXPECT_EQ(counts.physical_lines, 3);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kLineTooLong);
  EXPECT_STREQ(ReasonCode(sink.rejects[0].reason), "line_too_long");
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_LT(sink.rejects[0].raw.size(), 4200u);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].line, 3);
}

TEST(ParseCsvHeaderTest, DuplicateColumnNamesRejectEveryRowNamingThem) {
  // Issue 7 repro: `Temp,temp` silently dropped the second column.
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,Temp, temp \n2024-01-01T00:00:00Z,d1,1,2\n2024-01-01T00:00:01Z,d1,3,4\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 2);
  EXPECT_TRUE(sink.rows.empty());
  ASSERT_EQ(sink.rejects.size(), 2u);
  for (const auto& r : sink.rejects) {
    EXPECT_EQ(r.reason, RejectReason::kBadHeader);
    EXPECT_NE(r.detail.find("duplicate column names"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("'temp' (columns 3 and 4)"), std::string::npos) << r.detail;
  }
}

// Short decimals ("23.01", "-0.0898") take a path of their own; every number cell must still
// give exactly fast_float's double (bit for bit, -0 included) or be refused as it refuses them.
TEST(ParseCsvTypingTest, EveryNumberTextGivesFastFloatsDoubleBitForBit) {
  std::vector<std::string> texts = {"0", "-0", "-0.0", "+0.5", "1.", ".5", "-.5", "007", "0.1", "0.3",
                                    "123456789012345", "1234567890123456", "12345678901234.5", "0.000000000000001",
                                    "0.0000000000000001", "999999999999999", "99999999999999.99", "9007199254740993",
                                    "+-5", "--5", "1.2.3", "1e5", "1E-3", "- 1", "1-", "-", "+", "4.35", "2.675"};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    const int sign = static_cast<int>(rng() % 4);
    if (sign == 1) t += '-';
    if (sign == 2) t += '+';
    const int whole = static_cast<int>(rng() % 12);
    const int frac = static_cast<int>(rng() % 12);
    for (int k = 0; k < whole; ++k) t += static_cast<char>('0' + rng() % 10);
    if (rng() % 5 != 0) t += '.';
    for (int k = 0; k < frac; ++k) t += static_cast<char>('0' + rng() % 10);
    if (rng() % 50 == 0) {
      t += 'e';
      t += std::to_string(static_cast<int>(rng() % 40) - 20);
    }
    texts.push_back(t);
  }
  std::string csv = "event_time,device_id,v,w\n";  // w: a row whose v is refused is still a row
  for (const auto& t : texts) csv += "2024-01-01T00:00:00Z,d," + t + ",1\n";
  RecordingSink sink;
  ParseCsv(csv, TempIsAMetric(), sink);
  ASSERT_EQ(sink.rows.size(), texts.size()) << sink.Describe();
  size_t refused = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& t = texts[i];
    const char* first = t.data() + (!t.empty() && t[0] == '+');
    double want = NAN;
    const auto [ptr, ec] = fast_float::from_chars(first, t.data() + t.size(), want);
    const bool ok = !t.empty() && ec == std::errc() && ptr == t.data() + t.size() && std::isfinite(want);
    const double got = sink.Value(i, "v");
    if (!ok) {
      refused += !(t.empty() || t == "-");  // "" and "-" are null tokens, not refused
      EXPECT_TRUE(std::isnan(got)) << t;
      continue;
    }
    uint64_t a, b;
    std::memcpy(&a, &want, 8);
    std::memcpy(&b, &got, 8);
    EXPECT_EQ(a, b) << t << ": " << fmt::format("{} vs {}", got, want);
  }
  EXPECT_EQ(sink.cell_rejects.size(), refused);
}

TEST(ParseCsvTypingTest, TextColumnsBecomeDimensionsAndNeverQuarantineRows) {
  // Issue 7 repro: a text column other than `location` quarantined every row as bad_number.
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,firmware,temp,status\n"
      "2024-01-01T00:00:00Z,d1,1.2.3,21.5,ok\n"
      "2024-01-01T00:00:01Z,d1,1.2.4,21.6,\n"
      "2024-01-01T00:00:02Z,d1,2,21.7,door open\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 3);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_EQ(sink.dimension_names_, (std::vector<std::string>{"location", "firmware", "status"}));
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"temp"});
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0].dimensions, (std::vector<std::string>{"", "1.2.3", "ok"}));
  EXPECT_EQ(sink.rows[1].dimensions, (std::vector<std::string>{"", "1.2.4", ""}));
  EXPECT_EQ(sink.rows[2].dimensions, (std::vector<std::string>{"", "2", "door open"}));
}

TEST(ParseCsvTypingTest, ATypoInANumericColumnIsACellRejectNotATextColumn) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp,hum\n"
      "2024-01-01T00:00:00Z,d1,20.5,40\n"
      "2024-01-01T00:00:01Z,d1,21.5x,41\n"
      "2024-01-01T00:00:02Z,d1,22,42\n",
      ColumnRoles(), sink);
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "hum"}));
  EXPECT_EQ(counts.rows, 3);
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_TRUE(std::isnan(sink.Value(1, "temp")));
  EXPECT_EQ(sink.Value(1, "hum"), 41);
  ASSERT_EQ(sink.cell_rejects.size(), 1u);
  EXPECT_EQ(sink.cell_rejects[0].detail, "temp: '21.5x' is not a number");
}

TEST(ParseCsvTypingTest, ColumnTheLakeHasAsADimensionStaysOneEvenWhenNumeric) {
  ColumnRoles roles;
  roles.dimension_columns = {"location", "zone"};
  RecordingSink sink;
  ParseCsv("event_time,device_id,zone,temp\n2024-01-01T00:00:00Z,d1,7,1\n", roles, sink);
  EXPECT_EQ(sink.dimension_names_, (std::vector<std::string>{"location", "zone"}));
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].dimensions, (std::vector<std::string>{"", "7"}));
}

TEST(ParseCsvTypingTest, BadNumberInAKnownMetricIsACellRejectAndTheRowIsKept) {
  // Issue 7 repro: one bad metric lost the whole row and its valid metrics.
  ColumnRoles roles;
  roles.known_metrics = {"temp", "hum"};
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp,hum\n"
      "2024-01-01T00:00:00Z,d1,abc,40\n"    // temp bad, hum good: stored
      "2024-01-01T00:00:01Z,d1,abc,x\n"     // every metric bad: the row is rejected
      "2024-01-01T00:00:02Z,d1,abc,N/A\n",  // bad and null, none good: rejected
      roles, sink);
  EXPECT_EQ(counts.rows, 3);
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  EXPECT_EQ(sink.Value(0, "hum"), 40);
  ASSERT_EQ(sink.cell_rejects.size(), 1u);
  EXPECT_EQ(counts.cell_rejects, 1);
  EXPECT_EQ(sink.cell_rejects[0].reason, RejectReason::kBadNumber);
  EXPECT_EQ(sink.cell_rejects[0].detail, "temp: 'abc' is not a number");
  EXPECT_EQ(sink.cell_rejects[0].line, 2);
  EXPECT_EQ(sink.cell_rejects[0].raw, "2024-01-01T00:00:00Z,d1,abc,40");
  ASSERT_EQ(sink.rejects.size(), 2u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadNumber);
  EXPECT_EQ(sink.rejects[0].detail, "column 'temp': 'abc' is not a number (and 1 more)");
  EXPECT_EQ(sink.rejects[1].reason, RejectReason::kBadNumber);
}

TEST(ParseCsvTypingTest, NullTokensAreNullNotErrors) {
  // Issue 7 repro: `NaN`/`N/A`/`NULL` in one metric quarantined the whole row.
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,location,temp,hum\n"
      "2024-01-01T00:00:00Z,d1,lab,NaN,40\n"
      "2024-01-01T00:00:01Z,d1,N/A,N/A,41\n"
      "2024-01-01T00:00:02Z,d1,lab, NULL ,42\n"
      "2024-01-01T00:00:03Z,d1,lab,none,-\n"
      "2024-01-01T00:00:04Z,d1,lab,,na\n",
      TempIsAMetric(), sink);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_TRUE(sink.cell_rejects.empty());
  EXPECT_EQ(counts.null_cells, 7);
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"temp", "hum"}));
  ASSERT_EQ(sink.rows.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_TRUE(std::isnan(sink.Value(i, "temp"))) << i;
  EXPECT_EQ(sink.Value(2, "hum"), 42);
  EXPECT_TRUE(std::isnan(sink.Value(3, "hum")));
  EXPECT_EQ(sink.rows[1].dimensions, std::vector<std::string>{""});  // N/A location is NULL
}

TEST(ParseCsvTypingTest, CustomNullTokens) {
  ColumnRoles roles = TempIsAMetric();
  roles.null_tokens = {"missing"};
  RecordingSink sink;
  ParseCsv("event_time,device_id,temp,hum\n2024-01-01T00:00:00Z,d1,MISSING,1\n2024-01-01T00:00:01Z,d1,NA,1\n",
           roles, sink);
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  ASSERT_EQ(sink.cell_rejects.size(), 1u);  // NA is not a null token here
  EXPECT_EQ(sink.cell_rejects[0].line, 3);
}

TEST(ParseCsvNamesTest, ReservedNamesAreRenamedWithValueSuffix) {
  // Issue 7 repro: metrics named year/hour were hidden by the Hive partition columns.
  RecordingSink sink;
  ParseCsv("ts,device,year,hour,hour_value,event_time,device_id,day,Month\n"
           "2024-01-01T00:00:00Z,d1,2024,5,6,x,d9,3,4\n",
           ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"year_value", "hour_value_2", "hour_value", "day_value",
                                                          "month_value"}));
  EXPECT_EQ(sink.dimension_names_,
            (std::vector<std::string>{"location", "event_time_value", "device_id_value"}));
  EXPECT_EQ(sink.Value(0, "hour_value_2"), 5);
  EXPECT_EQ(sink.Value(0, "hour_value"), 6);
  EXPECT_EQ(sink.rows[0].device_id, "d1");
  EXPECT_EQ(sink.rows[0].dimensions, (std::vector<std::string>{"", "x", "d9"}));
}

TEST(ParseCsvTimeTest, CompactDateIsAmbiguousNotEpochSeconds) {
  // Issue 7 repro: `20240301` was stored as 1970-08-23.
  const OwnedReject r = RejectOf("event_time,device_id,temp\n20240301,d1,1\n");
  EXPECT_EQ(r.reason, RejectReason::kBadTimestamp);
  EXPECT_EQ(r.detail,
            "'20240301' is ambiguous: a compact date or epoch seconds? use ISO-8601 like 2024-03-01T00:00:00Z");
}

TEST(ParseCsvTimeTest, ZonelessTimesTakeTheDefaultOffsetAndAreCounted) {
  ColumnRoles roles;
  roles.default_utc_offset_minutes = 120;
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp\n2024-01-01T02:00:00,d1,1\n2024-01-01T00:00:00Z,d1,2\n1704067200,d1,3\n",
      roles, sink);
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0].ts, kT0);
  EXPECT_EQ(sink.rows[1].ts, kT0);
  EXPECT_EQ(sink.rows[2].ts, kT0);
  EXPECT_EQ(counts.zoneless_timestamps, 1);
}

TEST(ParseCsvTimeTest, NanosecondsRoundToMicrosecondsAndNoLongerCollide) {
  RecordingSink sink;
  const ParseCounts counts = ParseCsv(
      "event_time,device_id,temp\n"
      "2024-01-01T00:00:00.000001100Z,d1,1\n"
      "2024-01-01T00:00:00.000001900Z,d1,2\n"
      "2024-01-01T00:00:00.000003Z,d1,3\n",
      ColumnRoles(), sink);
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_EQ(sink.rows[0].ts, kT0 + 1);
  EXPECT_EQ(sink.rows[1].ts, kT0 + 2);
  EXPECT_EQ(sink.rows[2].ts, kT0 + 3);
  EXPECT_EQ(counts.rounded_timestamps, 2);
}

TEST(ParseJsonLinesTest, NestedObjectsFlattenToParentChildColumns) {
  // Issue 7 repro: nested JSON objects were dropped.
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","env":{"Temp":21.5,"air":{"hum":40}},"meta":{"fw":"1.2.3"}})"
      "\n",
      ColumnRoles(), sink);
  EXPECT_EQ(counts.rows, 1);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"env_temp", "env_air_hum"}));
  EXPECT_EQ(sink.dimension_names_, (std::vector<std::string>{"location", "meta_fw"}));
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].metrics, (std::vector<double>{21.5, 40}));
  EXPECT_EQ(sink.rows[0].dimensions, (std::vector<std::string>{"", "1.2.3"}));
}

TEST(ParseJsonLinesTest, TooDeepObjectsAndArraysAreCellRejectsAndTheRowIsKept) {
  ColumnRoles roles;
  roles.json_flatten_depth = 1;
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","env":{"temp":1,"deep":{"x":2}},"list":[1,2]})" "\n",
      roles, sink);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_EQ(sink.metric_names_, std::vector<std::string>{"env_temp"});
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0].metrics, std::vector<double>{1});
  ASSERT_EQ(sink.cell_rejects.size(), 2u);
  EXPECT_EQ(counts.cell_rejects, 2);
  EXPECT_EQ(sink.cell_rejects[0].reason, RejectReason::kUnsupportedValue);
  EXPECT_EQ(sink.cell_rejects[0].detail.substr(0, 10), "env_deep: ");
  EXPECT_EQ(sink.cell_rejects[1].detail.substr(0, 6), "list: ");
  EXPECT_STREQ(ReasonCode(RejectReason::kUnsupportedValue), "unsupported_value");
}

TEST(ParseJsonLinesTest, DuplicateKeysRejectTheLineNamingTheKey) {
  RecordingSink sink;
  ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","Temp":1,"temp":2})" "\n"
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","a_b":1,"a":{"b":2}})" "\n"
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","temp":3})" "\n",
      ColumnRoles(), sink);
  ASSERT_EQ(sink.rejects.size(), 2u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadJson);
  EXPECT_NE(sink.rejects[0].detail.find("'temp' more than once"), std::string::npos) << sink.rejects[0].detail;
  EXPECT_NE(sink.rejects[1].detail.find("'a_b' more than once"), std::string::npos) << sink.rejects[1].detail;
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.Value(0, "temp"), 3);
}

TEST(ParseJsonLinesTest, TextIsADimensionBooleansAreMetricsNullTokensAreNull) {
  RecordingSink sink;
  const ParseCounts counts = ParseJsonLines(
      R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","status":"ok","door":true,"temp":"NaN","hour":5})" "\n"
      R"({"ts":"2024-01-01T00:00:01Z","device_id":"d1","status":"open","door":false,"temp":"21.5"})" "\n",
      ColumnRoles(), sink);
  EXPECT_TRUE(sink.rejects.empty()) << sink.Describe();
  EXPECT_EQ(sink.dimension_names_, (std::vector<std::string>{"location", "status"}));
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"door", "temp", "hour_value"}));
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_EQ(sink.rows[0].dimensions[1], "ok");
  EXPECT_EQ(sink.Value(0, "door"), 1);
  EXPECT_EQ(sink.Value(1, "door"), 0);
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  EXPECT_EQ(sink.Value(1, "temp"), 21.5);
  EXPECT_EQ(sink.Value(0, "hour_value"), 5);
  EXPECT_EQ(counts.null_cells, 1);
}

TEST(ParseJsonLinesTest, KeyWithAsManyNumbersAsTextIsAMetric) {
  RecordingSink sink;
  ParseJsonLines(
      R"({"ts":1704085200,"device":"p1","pressure_bar":2.5,"rpm":"1200"})" "\n"
      R"({"ts":1704085260,"device":"p1","pressure_bar":null,"rpm":1210})" "\n"
      R"({"ts":1704085320,"device":"p1","pressure_bar":"high"})" "\n",
      ColumnRoles(), sink);
  EXPECT_EQ(sink.metric_names_, (std::vector<std::string>{"pressure_bar", "rpm"}));
  ASSERT_EQ(sink.rows.size(), 2u);
  ASSERT_EQ(sink.rejects.size(), 1u);  // its only metric is bad: the row goes, with the reason
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadNumber);
  EXPECT_EQ(sink.rejects[0].detail, "column 'pressure_bar': \"high\" is not a number");
}

TEST(ParseJsonLinesTest, ANumberBeyondAnyReadingIsABadNumberCellThatSaysSo) {
  RecordingSink sink;
  ParseJsonLines(R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","temp":-1.7e308,"hum":4})" "\n"
                 R"({"ts":"2024-01-01T00:00:01Z","device_id":"d1","temp":1e300})" "\n",
                 TempIsAMetric(), sink);
  ASSERT_EQ(sink.rows.size(), 1u) << sink.Describe();
  EXPECT_TRUE(std::isnan(sink.Value(0, "temp")));
  EXPECT_EQ(sink.Value(0, "hum"), 4);
  ASSERT_EQ(sink.cell_rejects.size(), 1u);
  EXPECT_EQ(sink.cell_rejects[0].detail, "temp: -1.7e+308 is beyond +-1e100: not a usable reading");
  ASSERT_EQ(sink.rejects.size(), 1u);  // its only metric: the row goes, with the reason
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kBadNumber);
  EXPECT_EQ(sink.rejects[0].detail, "column 'temp': 1e+300 is beyond +-1e100: not a usable reading");
}

TEST(ParseJsonLinesTest, BadNumberInAKnownMetricIsACellReject) {
  RecordingSink sink;
  ParseJsonLines(R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","temp":"abc","hum":4})" "\n",
                 TempIsAMetric(), sink);
  ASSERT_EQ(sink.rows.size(), 1u);
  ASSERT_EQ(sink.cell_rejects.size(), 1u);
  EXPECT_EQ(sink.cell_rejects[0].detail, "temp: \"abc\" is not a number");
}

TEST(ParseJsonLinesTest, EncodingLatin1AndInvalidUtf8) {
  const std::string data = "{\"ts\":\"2024-01-01T00:00:00Z\",\"device_id\":\"d1\",\"location\":\"Z\xfcrich\",\"v\":1}\n"
                           "{\"ts\":\"2024-01-01T00:00:00Z\",\"device_id\":\"d\xfc\",\"v\":1}\n";
  RecordingSink utf8;
  const ParseCounts counts = ParseJsonLines(data, ColumnRoles(), utf8);
  ExpectAllValidUtf8(utf8);
  ASSERT_EQ(utf8.rows.size(), 1u) << utf8.Describe();
  EXPECT_EQ(utf8.rows[0].dimensions, std::vector<std::string>{"Z\xEF\xBF\xBDrich"});
  EXPECT_EQ(counts.replaced_characters, 1);
  ASSERT_EQ(utf8.rejects.size(), 1u);
  EXPECT_EQ(utf8.rejects[0].reason, RejectReason::kBadEncoding);

  ColumnRoles roles;
  roles.encoding = TextEncoding::kLatin1;
  RecordingSink latin1;
  ParseJsonLines(data, roles, latin1);
  ExpectAllValidUtf8(latin1);
  ASSERT_EQ(latin1.rows.size(), 2u) << latin1.Describe();
  EXPECT_EQ(latin1.rows[0].dimensions, std::vector<std::string>{"Z\xC3\xBCrich"});
  EXPECT_EQ(latin1.rows[1].device_id, "d\xC3\xBC");
}

TEST(ParseJsonLinesTest, LongLinesAndPhysicalLinesAreAccounted) {
  ColumnRoles roles;
  roles.max_line_bytes = 200;
  RecordingSink sink;
  const std::string data = R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","v":1})" "\n"
                           R"({"ts":"2024-01-01T00:00:00Z","device_id":"d1","note":")" + std::string(300, 'x') +
                           "\"}\n\n" R"({"ts":"2024-03-01T10:00:00.123456789","device_id":"d1","v":2})";
  const ParseCounts counts = ParseJsonLines(data, roles, sink);
  EXPECT_EQ(counts.physical_lines, 4);
  EXPECT_EQ(counts.rows, 3);
  EXPECT_EQ(counts.blank_lines, 1);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].reason, RejectReason::kLineTooLong);
  EXPECT_EQ(sink.rejects[0].line, 2);
  EXPECT_EQ(counts.zoneless_timestamps, 1);
  EXPECT_EQ(counts.rounded_timestamps, 1);
}

TEST(ParseCsvPropertyTest, RandomTextKeepsTheAccountingAndValidUtf8) {
  // Lines made of pieces that stress the record reader: quotes, delimiters, CR, blanks,
  // invalid bytes. Whatever comes, every line is accounted for and nothing invalid leaves.
  const std::vector<std::string> pieces = {"\"", "\"\"", ",", ";", "\t", "|", "\r", "\n", "\n", " ", "x", "12",
                                           "2024-01-01T00:00:00Z", "d1", "NaN", "\xff", "\xc3\xbc", "\xc3", "\0"};
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 300; ++round) {
    std::string data = round % 3 == 0 ? "event_time,device_id,location,temp\n" : "ts;device;temp;hour\n";
    const int n = static_cast<int>(next() % 200);
    for (int i = 0; i < n; ++i) data += pieces[next() % pieces.size()];
    ColumnRoles roles;
    roles.max_line_bytes = 16 + next() % 64;
    roles.encoding = round % 2 == 0 ? TextEncoding::kUtf8 : TextEncoding::kLatin1;
    RecordingSink sink;
    const ParseCounts counts = ParseCsv(data, roles, sink);
    ASSERT_EQ(counts.rows, static_cast<int64_t>(sink.rows.size() + sink.rejects.size())) << round;
    ASSERT_EQ(counts.physical_lines, CountLines(data)) << round;
    ExpectAllValidUtf8(sink);
    RecordingSink json;
    const ParseCounts jcounts = ParseJsonLines(data, roles, json);
    ASSERT_EQ(jcounts.rows, static_cast<int64_t>(json.rows.size() + json.rejects.size())) << round;
    ASSERT_EQ(jcounts.physical_lines, CountLines(data)) << round;
    ExpectAllValidUtf8(json);
  }
}

}  // namespace
}  // namespace iotad::parse

namespace iotad::parse {
// Found by fuzz/jsonl: a file holding only a UTF-8 BOM has one (blank) line to account for.
TEST(ParseFuzzFindingsTest, AFileOfOnlyABomHasOneBlankLine) {
  for (bool json : {true, false}) {
    RecordingSink sink;
    const ParseCounts counts =
        json ? ParseJsonLines("\xEF\xBB\xBF", ColumnRoles(), sink) : ParseCsv("\xEF\xBB\xBF", ColumnRoles(), sink);
    EXPECT_EQ(counts.physical_lines, 1) << json;
    EXPECT_EQ(counts.blank_lines, 1) << json;
    EXPECT_EQ(counts.rows, 0) << json;
  }
}
}  // namespace iotad::parse
