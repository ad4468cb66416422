#include "iotad/core/timestamp.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace iotad {
namespace {

// 2024-01-01T00:00:00Z
constexpr TimestampUs kNewYear2024 = 1'704'067'200 * kMicrosPerSecond;

TEST(TimestampTest, ParsesIsoWithZulu) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Z"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01t00:00:00z"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T13:45:30Z"),
            kNewYear2024 + 13 * kMicrosPerHour + 45 * kMicrosPerMinute + 30 * kMicrosPerSecond);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
}

TEST(TimestampTest, AppliesZoneOffsetsInEveryForm) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T02:00:00+02:00"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T02:00:00+0200"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T01:00:00+01"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00-0530"),
            kNewYear2024 + 5 * kMicrosPerHour + 30 * kMicrosPerMinute);
  EXPECT_EQ(ParseTimestamp("2023-12-31T18:30:00-05:30"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00+00:00"), kNewYear2024);
}

TEST(TimestampTest, AcceptsSpaceInsteadOfT) {
  EXPECT_EQ(ParseTimestamp("2024-01-01 00:00:00Z"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01 00:00:00.5+02:00"),
            kNewYear2024 - 2 * kMicrosPerHour + 500'000);
}

TEST(TimestampTest, TruncatesFractionalSecondsToMicros) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.5Z"), kNewYear2024 + 500'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.12Z"), kNewYear2024 + 120'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123Z"), kNewYear2024 + 123'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456Z"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.1234567Z"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456789Z"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.999999999Z"), kNewYear2024 + 999'999);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00,25Z"), kNewYear2024 + 250'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.000000001Z"), kNewYear2024);
}

TEST(TimestampTest, TreatsMissingZoneAsUtc) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01 00:00"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.25"), kNewYear2024 + 250'000);
}

TEST(TimestampTest, ParsesEpochNumbersByMagnitude) {
  EXPECT_EQ(ParseTimestamp("1704067200"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("1704067200.25"), kNewYear2024 + 250'000);
  EXPECT_EQ(ParseTimestamp("1704067200123"), kNewYear2024 + 123'000);
  EXPECT_EQ(ParseTimestamp("1704067200123456"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("0"), 0);
  EXPECT_EQ(ParseTimestamp("-1"), -kMicrosPerSecond);
}

TEST(TimestampTest, IgnoresSurroundingSpacesAndQuotes) {
  EXPECT_EQ(ParseTimestamp("  2024-01-01T00:00:00Z  "), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("\"2024-01-01T00:00:00Z\""), kNewYear2024);
  EXPECT_EQ(ParseTimestamp(" \"1704067200\" "), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Z\r"), kNewYear2024);
}

TEST(TimestampTest, RejectsImpossibleDatesAndTimes) {
  EXPECT_EQ(ParseTimestamp("2024-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-00-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-00T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-32T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-02-30"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-04-31"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T25:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T24:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:60:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:61Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00+24:00"), std::nullopt);
}

TEST(TimestampTest, AcceptsFebruary29OnlyInLeapYears) {
  EXPECT_EQ(ParseTimestamp("2023-02-29"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("1900-02-29"), std::nullopt);  // divisible by 100, not by 400
  EXPECT_EQ(ParseTimestamp("2024-02-29"), kNewYear2024 + (31 + 28) * kMicrosPerDay);
  EXPECT_TRUE(ParseTimestamp("2000-02-29").has_value());  // divisible by 400
}

TEST(TimestampTest, RejectsTextThatIsNotATimestamp) {
  EXPECT_EQ(ParseTimestamp("yesterday"), std::nullopt);
  EXPECT_EQ(ParseTimestamp(""), std::nullopt);
  EXPECT_EQ(ParseTimestamp("   "), std::nullopt);
  EXPECT_EQ(ParseTimestamp("\"\""), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Zjunk"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Z x"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00+02:00x"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01X00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-01-01T0:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024/01/01 00:00:00"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("1704067200abc"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("nan"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("inf"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("1e300"), std::nullopt);
}

TEST(TimestampTest, FormatsWholeSecondsWithoutFraction) {
  EXPECT_EQ(FormatTimestamp(kNewYear2024), "2024-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(kNewYear2024 + 123'456), "2024-01-01T00:00:00.123456Z");
  EXPECT_EQ(FormatTimestamp(kNewYear2024 + 500'000), "2024-01-01T00:00:00.500000Z");
}

TEST(TimestampTest, AppendTimestampAppendsToExistingText) {
  std::string out = "t=";
  AppendTimestamp(out, kNewYear2024);
  EXPECT_EQ(out, "t=2024-01-01T00:00:00Z");
}

TEST(TimestampTest, FormatsTimesBefore1970) {
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(-kMicrosPerSecond), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(-kMicrosPerDay), "1969-12-31T00:00:00Z");
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(ParseTimestamp("1900-01-01T00:00:00Z"), -2'208'988'800LL * kMicrosPerSecond);
}

TEST(TimestampTest, FormatThenParseRoundTrips) {
  std::mt19937_64 rng(42);
  // 1900-01-01 .. 2100-01-01
  std::uniform_int_distribution<int64_t> dist(-2'208'988'800LL * kMicrosPerSecond,
                                              4'102'444'800LL * kMicrosPerSecond);
  for (int i = 0; i < 2000; ++i) {
    TimestampUs ts = dist(rng);
    if (i % 2 == 0) ts -= ts % kMicrosPerSecond;  // whole seconds half of the time
    const std::string text = FormatTimestamp(ts);
    ASSERT_EQ(ParseTimestamp(text), ts) << text;
  }
}

TEST(TimestampTest, HourStartFloorsPositiveAndNegativeTimes) {
  EXPECT_EQ(HourStart(0), 0);
  EXPECT_EQ(HourStart(1), 0);
  EXPECT_EQ(HourStart(kMicrosPerHour - 1), 0);
  EXPECT_EQ(HourStart(kMicrosPerHour), kMicrosPerHour);
  EXPECT_EQ(HourStart(kNewYear2024 + 59 * kMicrosPerMinute), kNewYear2024);
  EXPECT_EQ(HourStart(-1), -kMicrosPerHour);
  EXPECT_EQ(HourStart(-kMicrosPerHour), -kMicrosPerHour);
  EXPECT_EQ(HourStart(-kMicrosPerHour - 1), -2 * kMicrosPerHour);
  static_assert(HourStart(-1) == -kMicrosPerHour);
}

TEST(TimestampTest, ToCivilSplitsIntoFields) {
  const auto ts = ParseTimestamp("2024-02-29T13:45:30.123456Z");
  ASSERT_TRUE(ts.has_value());
  const CivilTime c = ToCivil(*ts);
  EXPECT_EQ(c.year, 2024);
  EXPECT_EQ(c.month, 2);
  EXPECT_EQ(c.day, 29);
  EXPECT_EQ(c.hour, 13);
  EXPECT_EQ(c.minute, 45);
  EXPECT_EQ(c.second, 30);
  EXPECT_EQ(c.micros, 123456);

  const CivilTime before = ToCivil(-1);
  EXPECT_EQ(before.year, 1969);
  EXPECT_EQ(before.month, 12);
  EXPECT_EQ(before.day, 31);
  EXPECT_EQ(before.hour, 23);
  EXPECT_EQ(before.minute, 59);
  EXPECT_EQ(before.second, 59);
  EXPECT_EQ(before.micros, 999999);
}

TEST(TimestampTest, DaysFromCivilCountsFromTheEpoch) {
  static_assert(DaysFromCivil(1970, 1, 1) == 0);
  static_assert(DaysFromCivil(1969, 12, 31) == -1);
  EXPECT_EQ(DaysFromCivil(2024, 1, 1) * kMicrosPerDay, kNewYear2024);
}

TEST(TimestampTest, ParsesDurationsWithUnits) {
  EXPECT_EQ(ParseDurationUs("60s"), 60 * kMicrosPerSecond);
  EXPECT_EQ(ParseDurationUs("5m"), 5 * kMicrosPerMinute);
  EXPECT_EQ(ParseDurationUs("5min"), 5 * kMicrosPerMinute);
  EXPECT_EQ(ParseDurationUs("2h"), 2 * kMicrosPerHour);
  EXPECT_EQ(ParseDurationUs("7d"), 7 * kMicrosPerDay);
  EXPECT_EQ(ParseDurationUs("250ms"), 250'000);
  EXPECT_EQ(ParseDurationUs("10us"), 10);
  EXPECT_EQ(ParseDurationUs("1.5h"), 90 * kMicrosPerMinute);
  EXPECT_EQ(ParseDurationUs("90"), 90 * kMicrosPerSecond);
}

TEST(TimestampTest, RejectsDurationsWithBadUnitsOrNumbers) {
  EXPECT_EQ(ParseDurationUs("5x"), std::nullopt);
  EXPECT_EQ(ParseDurationUs("5 m"), std::nullopt);
  EXPECT_EQ(ParseDurationUs("5H"), std::nullopt);
  EXPECT_EQ(ParseDurationUs("h"), std::nullopt);
  EXPECT_EQ(ParseDurationUs(""), std::nullopt);
  EXPECT_EQ(ParseDurationUs("-5s"), std::nullopt);
  EXPECT_EQ(ParseDurationUs("1.2.3s"), std::nullopt);
  EXPECT_EQ(ParseDurationUs("5ss"), std::nullopt);
}

}  // namespace
}  // namespace iotad
