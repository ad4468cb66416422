#include "iotad/clean/quarantine.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iotad::clean {
namespace {

/// One hour, one dimension, two metrics; devices {"", "d1"}, dimension values {"", "lab"}.
HourBuffer TwoRows() {
  HourBuffer b;
  b.hour_start = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z
  b.EnsureDims(1);
  b.EnsureMetrics(2);
  for (uint32_t r = 0; r < 2; ++r) {
    b.device.push_back(1);
    b.offset.push_back(5'000'000);
    b.source.push_back(r);
    b.line.push_back(10 + r);
    b.dims[0].push_back(r == 0 ? 1 : 0);
    b.metrics[0].push_back(r == 0 ? 1.5 : 2.0);
    b.metrics[1].push_back(r == 0 ? NAN : 3.0);
  }
  return b;
}
const std::vector<std::string> kDevices{"", "d1"};
const std::vector<std::string> kDims{"", "lab"};

TEST(QuarantineRecordTest, EscapeBytesShowsUnprintableBytesAndCaps) {
  EXPECT_EQ(EscapeBytes(std::string("a\x1f\x8b\n", 4)), "a\\x1f\\x8b\\x0a");
  EXPECT_EQ(EscapeBytes(std::string(10'000, 'x')).size(), kMaxRawBytes);
  EXPECT_EQ(EscapeBytes("abcdef", 3), "abc");
}

TEST(QuarantineRecordTest, RowRecordHasNoColumnAndCellRecordNamesIt) {
  const QuarantineRow row = RowRecord(parse::RejectReason::kBadTimestamp, "no time", 2, 7, "x,y");
  EXPECT_EQ(row.reason, "bad_timestamp");
  EXPECT_TRUE(row.column.empty());
  EXPECT_EQ(row.source, 2u);
  EXPECT_EQ(row.line, 7);
  EXPECT_EQ(row.raw, "x,y");
  const QuarantineRow cell = CellRecord(parse::RejectReason::kBadNumber, "temp", "not a number", 1, 3, "abc");
  EXPECT_EQ(cell.reason, "bad_number");
  EXPECT_EQ(cell.column, "temp");
}

TEST(QuarantineRecordTest, UnreadableTailIsEscapedAndCapped) {
  std::string tail(5000, '\x8b');
  const QuarantineRow r = UnreadableTailRecord("bronze object cannot be read", 0, 12, tail);
  EXPECT_EQ(r.reason, "unreadable_file");
  EXPECT_EQ(r.line, 12);
  EXPECT_EQ(r.raw.size(), kMaxRawBytes * 4);  // each byte as \x8b
  EXPECT_EQ(r.raw.substr(0, 4), "\\x8b");
}

TEST(QuarantineRecordTest, RowTextShowsTimeDeviceDimensionsAndMetricsWithNullEmpty) {
  const HourBuffer b = TwoRows();
  EXPECT_EQ(RowText(b, 0, kDevices, kDims), "2024-01-01T00:00:05Z,d1,lab,1.5,");
  EXPECT_EQ(RowText(b, 1, kDevices, kDims), "2024-01-01T00:00:05Z,d1,,2,3");
}

TEST(QuarantineRecordTest, ConflictsNameTheKeptRowOrSilver) {
  const HourBuffer b = TwoRows();
  const std::vector<std::string> sources{"bronze/a.csv", "bronze/b.csv"};
  const QuarantineRow batch = BatchConflictRecord(b, 1, 0, sources, kDevices, kDims);
  EXPECT_EQ(batch.reason, "conflicting_duplicate");
  EXPECT_EQ(batch.detail, "same device and time as line 10 of bronze/a.csv, with other values");
  EXPECT_EQ(batch.source, 1u);
  EXPECT_EQ(batch.line, 11);
  EXPECT_EQ(batch.raw, RowText(b, 1, kDevices, kDims));
  const QuarantineRow stored = StoredConflictRecord(b, 0, kDevices, kDims);
  EXPECT_EQ(stored.detail, "same device and time as a row already in silver, with other values");
  EXPECT_EQ(stored.line, 10);
}

TEST(QuarantineRecordTest, SortRecordsOrdersByFileLineReason) {
  std::vector<QuarantineRow> rows{RowRecord(parse::RejectReason::kBadTimestamp, "", 1, 1, ""),
                                  CellRecord(parse::RejectReason::kBadNumber, "a", "", 0, 5, ""),
                                  RowRecord(parse::RejectReason::kWrongColumnCount, "", 0, 5, ""),
                                  RowRecord(parse::RejectReason::kBadTimestamp, "", 0, 2, "")};
  SortRecords(rows);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[1].reason, "bad_number");
  EXPECT_EQ(rows[2].reason, "wrong_column_count");
  EXPECT_EQ(rows[3].source, 1u);
}

}  // namespace
}  // namespace iotad::clean
