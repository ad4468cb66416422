#include "iotad/clean/hour_buffer.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "iotad/clean/string_dict.h"

namespace iotad::clean {
namespace {

/// Builds a buffer with one dimension and `metric_count` metrics.
class BufferBuilder {
 public:
  explicit BufferBuilder(size_t metric_count) {
    buffer_.dims.resize(1);
    buffer_.EnsureMetrics(metric_count);
  }
  BufferBuilder& Row(uint32_t device, uint32_t offset_us, std::vector<double> values,
                     uint32_t dim = 0) {
    buffer_.device.push_back(device);
    buffer_.offset.push_back(offset_us);
    buffer_.source.push_back(0);
    buffer_.line.push_back(static_cast<uint32_t>(buffer_.size()));
    buffer_.dims[0].push_back(dim);
    for (size_t m = 0; m < buffer_.metrics.size(); ++m) buffer_.metrics[m].push_back(values.at(m));
    return *this;
  }
  HourBuffer& buffer() { return buffer_; }

 private:
  HourBuffer buffer_;
};

TEST(SameValueTest, TreatsNullAsEqualToNullOnly) {
  EXPECT_TRUE(SameValue(1.5, 1.5));
  EXPECT_FALSE(SameValue(1.5, 2.5));
  EXPECT_TRUE(SameValue(NAN, NAN));
  EXPECT_FALSE(SameValue(NAN, 0.0));
  EXPECT_FALSE(SameValue(0.0, NAN));
}

TEST(HourBufferTest, NewMetricColumnsReadNullForOlderRows) {
  BufferBuilder b(1);
  b.Row(1, 0, {1.0}).Row(1, 1, {2.0});
  HourBuffer buffer = b.buffer();
  buffer.EnsureMetrics(2);
  ASSERT_EQ(buffer.metrics.size(), 2u);
  ASSERT_EQ(buffer.metrics[1].size(), 2u);
  EXPECT_TRUE(std::isnan(buffer.metrics[1][0]));
  EXPECT_TRUE(std::isnan(buffer.metrics[1][1]));
  buffer.Clear();
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_TRUE(buffer.metrics[0].empty());
  EXPECT_TRUE(buffer.dims[0].empty());
}

TEST(DeduplicateTest, OrdersByDeviceRankThenTime) {
  // Device ids 1 = "b", 2 = "a": rank puts "a" first whatever the ids say.
  const std::vector<uint32_t> rank = {0, 2, 1};
  BufferBuilder b(1);
  b.Row(1, 30, {1}).Row(2, 20, {2}).Row(1, 10, {3}).Row(2, 5, {4}).Row(1, 20, {5});
  const DedupResult r = Deduplicate(b.buffer(), rank);
  EXPECT_EQ(r.keep, (std::vector<uint32_t>{3, 1, 2, 4, 0}));
  EXPECT_TRUE(r.duplicates.empty());
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(DeduplicateTest, EmptyBufferKeepsNothing) {
  const DedupResult r = Deduplicate(BufferBuilder(1).buffer(), {0});
  EXPECT_TRUE(r.keep.empty());
  EXPECT_TRUE(r.duplicates.empty());
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(DeduplicateTest, CountsExactCopiesAsDuplicatesAndKeepsTheFirst) {
  const std::vector<uint32_t> rank = {0, 1, 2};
  BufferBuilder b(2);
  b.Row(1, 10, {1, 2}, 7)   // 0
      .Row(2, 10, {1, 2})   // 1: other device, same time: not a duplicate
      .Row(1, 10, {1, 2}, 7)  // 2: copy of 0
      .Row(1, 11, {1, 2}, 7)  // 3: other time
      .Row(1, 10, {1, 2}, 7);  // 4: copy of 0
  const DedupResult r = Deduplicate(b.buffer(), rank);
  EXPECT_EQ(r.keep, (std::vector<uint32_t>{0, 3, 1}));
  EXPECT_EQ(r.duplicates, (std::vector<uint32_t>{2, 4}));
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(DeduplicateTest, SameKeyWithOtherValuesIsAConflictWithTheKeptRow) {
  const std::vector<uint32_t> rank = {0, 1};
  BufferBuilder b(1);
  b.Row(1, 10, {1.0})    // 0
      .Row(1, 10, {2.0})   // 1: conflicts with 0
      .Row(1, 10, {1.0})   // 2: duplicate of 0
      .Row(1, 10, {NAN});  // 3: NULL where 0 has 1.0: adds nothing, contradicts nothing: merged
  const DedupResult r = Deduplicate(b.buffer(), rank);
  EXPECT_EQ(r.keep, std::vector<uint32_t>{0});
  EXPECT_EQ(r.duplicates, std::vector<uint32_t>{2});
  EXPECT_EQ(r.merged, std::vector<uint32_t>{3});
  EXPECT_EQ(r.conflicts, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 0}}));
  EXPECT_EQ(b.buffer().metrics[0][0], 1.0);
}

TEST(DeduplicateTest, PartialRowsOfOneReadingMergeIntoTheFirst) {
  // One message per metric at the same (device, time): {"temp_c":20} then {"humidity_pc":50}.
  BufferBuilder b(3);
  b.Row(1, 10, {20.0, NAN, NAN})      // 0
      .Row(1, 10, {NAN, 50.0, NAN})   // 1: adds humidity
      .Row(1, 10, {NAN, NAN, NAN}, 4)  // 2: adds the dimension
      .Row(1, 10, {20.0, 50.0, NAN}, 4)  // 3: a copy of the merged row: a duplicate
      .Row(1, 10, {21.0, NAN, 0.5})   // 4: temp 21 contradicts 20: a conflict, nothing merged
      .Row(1, 10, {NAN, NAN, 0.5});   // 5: adds the third metric
  const DedupResult r = Deduplicate(b.buffer(), {0, 1});
  EXPECT_EQ(r.keep, std::vector<uint32_t>{0});
  EXPECT_EQ(r.merged, (std::vector<uint32_t>{1, 2, 5}));
  EXPECT_EQ(r.duplicates, std::vector<uint32_t>{3});
  EXPECT_EQ(r.conflicts, (std::vector<std::pair<uint32_t, uint32_t>>{{4, 0}}));
  const HourBuffer& buffer = b.buffer();
  EXPECT_EQ(buffer.metrics[0][0], 20.0);
  EXPECT_EQ(buffer.metrics[1][0], 50.0);
  EXPECT_EQ(buffer.metrics[2][0], 0.5);
  EXPECT_EQ(buffer.dims[0][0], 4u);
}

TEST(MergeableTest, NullOnEitherSideIsNoConflict) {
  BufferBuilder b(2);
  b.Row(1, 10, {1.0, NAN}, 0).Row(1, 10, {NAN, 2.0}, 3).Row(1, 10, {1.5, NAN}, 0).Row(1, 10, {1.0, 2.0}, 5);
  EXPECT_TRUE(Mergeable(b.buffer(), 0, 1));
  EXPECT_FALSE(Mergeable(b.buffer(), 0, 2));
  EXPECT_TRUE(Mergeable(b.buffer(), 0, 3));
  EXPECT_FALSE(Mergeable(b.buffer(), 1, 3));  // dimension 3 vs 5
}

TEST(HourBufferTest, NewDimensionColumnsReadNullForOlderRows) {
  BufferBuilder b(1);
  b.Row(1, 0, {1.0}, 2).Row(1, 1, {2.0}, 3);
  HourBuffer buffer = b.buffer();
  buffer.EnsureDims(3);
  ASSERT_EQ(buffer.dims.size(), 3u);
  EXPECT_EQ(buffer.dims[2], (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(buffer.dims[0], (std::vector<uint32_t>{2, 3}));
}

TEST(DeduplicateTest, DifferentDimensionIsAConflict) {
  BufferBuilder b(1);
  b.Row(1, 10, {1.0}, 3).Row(1, 10, {1.0}, 4);
  const DedupResult r = Deduplicate(b.buffer(), {0, 1});
  EXPECT_EQ(r.keep, std::vector<uint32_t>{0});
  EXPECT_TRUE(r.duplicates.empty());
  EXPECT_EQ(r.conflicts, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 0}}));
}

TEST(DeduplicateTest, NullCellsInBothRowsAreIdentical) {
  BufferBuilder b(3);
  b.Row(1, 10, {NAN, 1.0, NAN}).Row(1, 10, {NAN, 1.0, NAN});
  const DedupResult r = Deduplicate(b.buffer(), {0, 1});
  EXPECT_EQ(r.keep, std::vector<uint32_t>{0});
  EXPECT_EQ(r.duplicates, std::vector<uint32_t>{1});
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(DeduplicateTest, FirstArrivalWinsAmongManyEqualKeys) {
  // Enough rows that equal keys land far apart in arrival order.
  std::mt19937 rng(5);
  BufferBuilder b(1);
  std::vector<int> first_of_key(100, -1);
  for (uint32_t i = 0; i < 5000; ++i) {
    const uint32_t key = rng() % 100;
    b.Row(1 + key % 4, key, {static_cast<double>(key)});
    if (first_of_key[key] < 0) first_of_key[key] = static_cast<int>(i);
  }
  const DedupResult r = Deduplicate(b.buffer(), {0, 1, 2, 3, 4});
  ASSERT_EQ(r.keep.size(), 100u);
  EXPECT_EQ(r.duplicates.size(), 4900u);
  EXPECT_TRUE(r.conflicts.empty());
  for (uint32_t kept : r.keep) {
    const uint32_t key = b.buffer().offset[kept];
    EXPECT_EQ(static_cast<int>(kept), first_of_key[key]) << "key " << key;
  }
}

TEST(DeduplicateTest, KeepsTheOrderOfAStableSortWhateverTheRowOrderAndTheNumberOfDevices) {
  // Many rows of few devices (a count by device, then the devices out of time order sorted
  // alone) and few rows of many devices (the radix sort): both give the stable (rank, time)
  // order, with the first of equal keys kept.
  std::mt19937 rng(11);
  for (const auto& [devices, rows] : std::vector<std::pair<uint32_t, size_t>>{{5, 2000}, {40, 3000}, {5000, 300}}) {
    SCOPED_TRACE(devices);
    std::vector<uint32_t> rank(devices + 1);
    for (uint32_t id = 0; id <= devices; ++id) rank[id] = id;
    std::shuffle(rank.begin() + 1, rank.end(), rng);
    BufferBuilder b(1);
    for (size_t i = 0; i < rows; ++i) {
      const uint32_t device = 1 + rng() % devices;
      // Mostly in time order, some rows late, some keys repeated.
      const uint32_t t = static_cast<uint32_t>(i / 7) * 1000 - (rng() % 10 == 0 ? 5000 : 0) + 50'000;
      b.Row(device, rng() % 13 == 0 ? 50'000 : t, {static_cast<double>(i)});
    }
    std::vector<uint32_t> want(rows);
    for (uint32_t i = 0; i < rows; ++i) want[i] = i;
    const HourBuffer& h = b.buffer();
    auto key = [&](uint32_t i) { return (static_cast<uint64_t>(rank[h.device[i]]) << 32) | h.offset[i]; };
    std::stable_sort(want.begin(), want.end(), [&](uint32_t x, uint32_t y) { return key(x) < key(y); });
    want.erase(std::unique(want.begin(), want.end(), [&](uint32_t x, uint32_t y) { return key(x) == key(y); }),
               want.end());
    const DedupResult r = Deduplicate(b.buffer(), rank);
    EXPECT_EQ(r.keep, want);
    EXPECT_EQ(r.keep.size() + r.duplicates.size() + r.merged.size() + r.conflicts.size(), rows);
  }
}

TEST(RadixSortTest, MatchesStableSortOnRandomKeysWithTies) {
  std::mt19937_64 rng(17);
  for (const uint64_t mask : {~0ULL, 0xffULL, 0xffff0000ULL, 0xff00000000000000ULL, 0x3ULL}) {
    const size_t n = 10'000;
    std::vector<uint64_t> keys(n);
    for (auto& k : keys) k = rng() & mask;
    std::vector<uint32_t> index(n);
    for (uint32_t i = 0; i < n; ++i) index[i] = i;

    std::vector<std::pair<uint64_t, uint32_t>> expected(n);
    for (uint32_t i = 0; i < n; ++i) expected[i] = {keys[i], i};
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });

    RadixSort(keys, index);
    ASSERT_EQ(keys.size(), n);
    ASSERT_EQ(index.size(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(keys[i], expected[i].first) << "mask " << mask << " at " << i;
      ASSERT_EQ(index[i], expected[i].second) << "mask " << mask << " at " << i;
    }
  }
}

TEST(RadixSortTest, SortsKeysAlone) {
  std::mt19937_64 rng(23);
  std::vector<uint64_t> keys(5000);
  for (auto& k : keys) k = rng();
  keys.push_back(0);
  keys.push_back(~0ULL);
  std::vector<uint64_t> expected = keys;
  std::sort(expected.begin(), expected.end());
  RadixSort(keys);
  EXPECT_EQ(keys, expected);
}

TEST(RadixSortTest, HandlesEmptyAndAllZeroInput) {
  std::vector<uint64_t> empty;
  RadixSort(empty);
  EXPECT_TRUE(empty.empty());

  std::vector<uint64_t> zeros(10, 0);
  std::vector<uint32_t> index = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  RadixSort(zeros, index);
  EXPECT_EQ(zeros, std::vector<uint64_t>(10, 0));
  EXPECT_EQ(index, (std::vector<uint32_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST(StringDictTest, InternReturnsStableIdsAndEmptyIsZero) {
  StringDict dict;
  EXPECT_EQ(dict.Intern(""), 0u);
  EXPECT_EQ(dict.size(), 1u);
  const uint32_t a = dict.Intern("sensor-a");
  const uint32_t b = dict.Intern("sensor-b");
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(dict.Intern("sensor-a"), a);
  EXPECT_EQ(dict.Intern(""), 0u);
  EXPECT_EQ(dict.Get(a), "sensor-a");
  EXPECT_EQ(dict.Get(0), "");
  EXPECT_EQ(dict.size(), 3u);
}

TEST(StringDictTest, KeepsIdsAndViewsAcrossGrowth) {
  StringDict dict;
  const uint32_t first = dict.Intern("first");
  const std::string_view first_view = dict.Get(first);
  std::vector<uint32_t> ids;
  const int count = 5000;  // far beyond the initial 1024 slots
  for (int i = 0; i < count; ++i) ids.push_back(dict.Intern("device-" + std::to_string(i)));
  EXPECT_EQ(dict.size(), static_cast<size_t>(count) + 2);
  for (int i = 0; i < count; ++i) {
    const std::string name = "device-" + std::to_string(i);
    ASSERT_EQ(ids[static_cast<size_t>(i)], static_cast<uint32_t>(i) + 2) << name;
    ASSERT_EQ(dict.Intern(name), ids[static_cast<size_t>(i)]) << name;
    ASSERT_EQ(dict.Get(ids[static_cast<size_t>(i)]), name);
  }
  EXPECT_EQ(dict.Intern("first"), first);
  EXPECT_EQ(first_view, "first");  // strings do not move when the table grows
  EXPECT_EQ(dict.size(), static_cast<size_t>(count) + 2);
}

TEST(StringDictTest, SnapshotListsStringsById) {
  StringDict dict;
  dict.Intern("x");
  dict.Intern("y");
  EXPECT_EQ(dict.Snapshot(), (std::vector<std::string>{"", "x", "y"}));
}

TEST(StringDictTest, SortedRanksGiveEachIdItsSortedPosition) {
  EXPECT_EQ(SortedRanks({"", "b", "a", "c"}), (std::vector<uint32_t>{0, 2, 1, 3}));
  EXPECT_EQ(SortedRanks({""}), std::vector<uint32_t>{0});
  EXPECT_TRUE(SortedRanks({}).empty());

  StringDict dict;
  for (const char* name : {"zeta", "alpha", "mid", "Alpha"}) dict.Intern(name);
  const std::vector<std::string> strings = dict.Snapshot();
  const std::vector<uint32_t> ranks = SortedRanks(strings);
  ASSERT_EQ(ranks.size(), strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    for (size_t j = 0; j < strings.size(); ++j) {
      EXPECT_EQ(ranks[i] < ranks[j], strings[i] < strings[j]) << strings[i] << " " << strings[j];
    }
  }
}

}  // namespace
}  // namespace iotad::clean
