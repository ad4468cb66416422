#include "iotad/clean/stored_rows.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iotad::clean {
namespace {

constexpr TimestampUs kHour = 1'704'067'200'000'000;

/// Rows (device, offset, metric, dimension id) of one hour, one metric and one dimension.
HourBuffer Rows(std::vector<std::tuple<uint32_t, uint32_t, double, uint32_t>> rows) {
  HourBuffer b;
  b.hour_start = kHour;
  b.EnsureDims(1);
  b.EnsureMetrics(1);
  for (const auto& [device, offset, value, dim] : rows) {
    b.device.push_back(device);
    b.offset.push_back(offset);
    b.source.push_back(0);
    b.line.push_back(static_cast<uint32_t>(b.device.size()));
    b.dims[0].push_back(dim);
    b.metrics[0].push_back(value);
  }
  return b;
}
const std::vector<std::string> kDims{"", "lab", "roof"};

TEST(StoredHoursTest, HoursWithFilesHaveRowsAndTheirFilesAreReadBack) {
  StoredHours stored({{kHour, {"silver/a.parquet"}}});
  EXPECT_TRUE(stored.HasRows(kHour));
  EXPECT_FALSE(stored.HasRows(kHour + kMicrosPerHour));
  EXPECT_EQ(stored.Unread(kHour), std::vector<std::string>{"silver/a.parquet"});
  EXPECT_TRUE(stored.Files(kHour + kMicrosPerHour).empty());
  EXPECT_EQ(stored.Keys(kHour, {RowKey(1, 5)}), std::vector<uint64_t>{RowKey(1, 5)});
}

TEST(StoredHoursTest, WrittenFilesAreCachedAndNotReadBack) {
  StoredHours stored({});
  const HourBuffer b = Rows({{2, 7, 1.0, 0}, {1, 9, 1.0, 0}, {1, 3, 1.0, 0}});
  stored.AddWritten(kHour, "staging/x.parquet", b, {0, 1});
  EXPECT_TRUE(stored.HasRows(kHour));
  EXPECT_EQ(stored.Files(kHour), std::vector<std::string>{"staging/x.parquet"});
  EXPECT_TRUE(stored.Unread(kHour).empty());
  EXPECT_EQ(stored.Keys(kHour, {}), (std::vector<uint64_t>{RowKey(1, 9), RowKey(2, 7)}));
  // Read-back keys merge with the cached ones, sorted.
  EXPECT_EQ(stored.Keys(kHour, {RowKey(1, 3), RowKey(3, 0)}),
            (std::vector<uint64_t>{RowKey(1, 3), RowKey(1, 9), RowKey(2, 7), RowKey(3, 0)}));
  EXPECT_EQ(stored.cached_keys(), 2u);
}

TEST(StoredHoursTest, PastTheBoundWrittenFilesAreReadBackInstead) {
  StoredHours stored({}, /*max_cached_keys=*/2);
  const HourBuffer b = Rows({{1, 1, 1.0, 0}, {1, 2, 1.0, 0}, {1, 3, 1.0, 0}});
  stored.AddWritten(kHour, "f1", b, {0, 1});
  stored.AddWritten(kHour, "f2", b, {2});
  EXPECT_EQ(stored.Files(kHour), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(stored.Unread(kHour), std::vector<std::string>{"f2"});
  EXPECT_EQ(stored.cached_keys(), 2u);
}

TEST(StoredHoursTest, ReplaceRenamesAFileInBothLists) {
  StoredHours stored({{kHour, {"old", "other"}}});
  stored.Replace(kHour, "old", "new");
  EXPECT_EQ(stored.Files(kHour), (std::vector<std::string>{"new", "other"}));
  EXPECT_EQ(stored.Unread(kHour), (std::vector<std::string>{"new", "other"}));
}

TEST(LateRowsTest, SplitsKeptRowsByWhetherTheirKeyIsStored) {
  const HourBuffer b = Rows({{1, 1, 1.0, 0}, {1, 2, 1.0, 0}, {2, 1, 1.0, 0}});
  const LateSplit split = SplitLateRows(b, {0, 1, 2}, {RowKey(1, 2), RowKey(3, 3)});
  EXPECT_EQ(split.fresh, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(split.colliding, std::vector<uint32_t>{1});
  EXPECT_TRUE(SplitLateRows(b, {}, {RowKey(1, 2)}).fresh.empty());
}

TEST(StoredMatchTest, SameValuesAreADuplicateNullEqualToNull) {
  const HourBuffer b = Rows({{1, 1, 2.5, 1}, {1, 2, NAN, 0}});
  EXPECT_EQ(MatchStored(b, 0, kDims, {{2.5}, {"lab"}}), StoredMatch::kDuplicate);
  EXPECT_EQ(MatchStored(b, 1, kDims, {{NAN}, {""}}), StoredMatch::kDuplicate);
}

TEST(StoredMatchTest, OnlyAddingValuesIsAMerge) {
  const HourBuffer b = Rows({{1, 1, 2.5, 0}, {1, 2, NAN, 1}});
  EXPECT_EQ(MatchStored(b, 0, kDims, {{NAN}, {"lab"}}), StoredMatch::kMerge);
  EXPECT_EQ(MatchStored(b, 1, kDims, {{4.0}, {""}}), StoredMatch::kMerge);
}

TEST(StoredMatchTest, OtherValuesAreAConflict) {
  const HourBuffer b = Rows({{1, 1, 2.5, 1}, {1, 2, 1.0, 2}});
  EXPECT_EQ(MatchStored(b, 0, kDims, {{3.0}, {"lab"}}), StoredMatch::kConflict);
  EXPECT_EQ(MatchStored(b, 1, kDims, {{1.0}, {"lab"}}), StoredMatch::kConflict);
  // A stored row with another set of metric columns is never the same.
  EXPECT_EQ(MatchStored(b, 0, kDims, {{2.5, 1.0}, {"lab"}}), StoredMatch::kConflict);
}

}  // namespace
}  // namespace iotad::clean
