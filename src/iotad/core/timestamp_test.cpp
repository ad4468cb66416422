#include "iotad/core/timestamp.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

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

TEST(TimestampTest, RoundsSubMicrosecondDigitsHalfAwayFromZero) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.5Z"), kNewYear2024 + 500'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.12Z"), kNewYear2024 + 120'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123Z"), kNewYear2024 + 123'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456Z"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.1234564Z"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.1234565Z"), kNewYear2024 + 123'457);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456789Z"), kNewYear2024 + 123'457);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.999999999Z"), kNewYear2024 + kMicrosPerSecond);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00,25Z"), kNewYear2024 + 250'000);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.000000001Z"), kNewYear2024);
  TimestampInfo info;
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456789Z", {}, &info), kNewYear2024 + 123'457);
  EXPECT_TRUE(info.rounded);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456000Z", {}, &info), kNewYear2024 + 123'456);
  EXPECT_FALSE(info.rounded);  // only zeros below a microsecond: nothing was rounded
}

TEST(TimestampTest, NanosecondTimesThatTruncatedToTheSameMicrosecondNowRoundApart) {
  // Issue 7: .1234561 and .1234569 used to be both truncated to .123456 and then collide.
  const auto a = ParseTimestamp("2024-03-01T10:00:00.123456100Z");
  const auto b = ParseTimestamp("2024-03-01T10:00:00.123456900Z");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*b - *a, 1);
  // 19-digit epoch nanoseconds round the same way, negative ones away from zero.
  TimestampInfo info;
  EXPECT_EQ(ParseTimestamp("1704067200123456500", {}, &info), kNewYear2024 + 123'457);
  EXPECT_TRUE(info.rounded);
  EXPECT_EQ(ParseTimestamp("1704067200123456499"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("1704067200123456000", {}, &info), kNewYear2024 + 123'456);
  EXPECT_FALSE(info.rounded);
  EXPECT_EQ(ParseTimestamp("-1704067200123456500"), -(kNewYear2024 + 123'457));
}

TEST(TimestampTest, AllDigitTextOfOtherLengthsIsAmbiguousNotEpochSeconds) {
  // Issue 7: `20240301` was read as epoch seconds (1970-08-23).
  TimestampInfo info;
  EXPECT_EQ(ParseTimestamp("20240301", {}, &info), std::nullopt);
  EXPECT_TRUE(info.ambiguous);
  EXPECT_EQ(DescribeBadTimestamp("20240301"),
            "'20240301' is ambiguous: a compact date or epoch seconds? use ISO-8601 like "
            "2024-03-01T00:00:00Z");
  for (const char* text : {"0", "-1", "12345", "170406720", "17040672001", "170406720012345678",
                           "17040672001234567890"}) {
    EXPECT_EQ(ParseTimestamp(text, {}, &info), std::nullopt) << text;
    EXPECT_TRUE(info.ambiguous) << text;
    EXPECT_NE(DescribeBadTimestamp(text).find("ambiguous"), std::string::npos) << text;
  }
  EXPECT_EQ(DescribeBadTimestamp("yesterday"),
            "'yesterday' is not an ISO-8601 timestamp or epoch number");
  EXPECT_EQ(DescribeBadTimestamp("Z\xfc"), "'Z\\xFC' is not an ISO-8601 timestamp or epoch number");
  EXPECT_EQ(DescribeBadTimestamp("\xff\x01"), "'\\xFF\\x01' is not an ISO-8601 timestamp or epoch number");
}

TEST(TimestampTest, AcceptsCompactIsoWithATime) {
  EXPECT_EQ(ParseTimestamp("20240101T000000Z"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("20240101T0130Z"), kNewYear2024 + 90 * kMicrosPerMinute);
  EXPECT_EQ(ParseTimestamp("20240101T020000+0200"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("20240101T000000.25Z"), kNewYear2024 + 250'000);
  EXPECT_EQ(ParseTimestamp("20240101T00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("20241301T000000Z"), std::nullopt);
}

TEST(TimestampTest, ZonelessTextTakesTheDefaultOffsetAndSaysItHadNoZone) {
  TimestampOptions cet;
  cet.default_utc_offset_minutes = 60;
  TimestampInfo info;
  EXPECT_EQ(ParseTimestamp("2024-01-01T01:00:00", cet, &info), kNewYear2024);
  EXPECT_FALSE(info.had_zone);
  EXPECT_EQ(ParseTimestamp("2024-01-01", cet, &info), kNewYear2024 - kMicrosPerHour);
  EXPECT_FALSE(info.had_zone);
  // An explicit zone or an epoch number wins over the default.
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Z", cet, &info), kNewYear2024);
  EXPECT_TRUE(info.had_zone);
  EXPECT_EQ(ParseTimestamp("2024-01-01T02:00:00+02:00", cet, &info), kNewYear2024);
  EXPECT_TRUE(info.had_zone);
  EXPECT_EQ(ParseTimestamp("1704067200", cet, &info), kNewYear2024);
  EXPECT_TRUE(info.had_zone);
  TimestampOptions minus;
  minus.default_utc_offset_minutes = -330;
  EXPECT_EQ(ParseTimestamp("2023-12-31 18:30", minus, &info), kNewYear2024);
}

TEST(TimestampTest, TreatsMissingZoneAsUtc) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01 00:00"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.25"), kNewYear2024 + 250'000);
}

TEST(TimestampTest, ParsesEpochNumbersByDigitCount) {
  EXPECT_EQ(ParseTimestamp("1704067200"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("1704067200.25"), kNewYear2024 + 250'000);
  EXPECT_EQ(ParseTimestamp("1704067200.1234567"), kNewYear2024 + 123'457);
  EXPECT_EQ(ParseTimestamp("1704067200123"), kNewYear2024 + 123'000);
  EXPECT_EQ(ParseTimestamp("1704067200123.5"), kNewYear2024 + 123'500);
  EXPECT_EQ(ParseTimestamp("1704067200123456"), kNewYear2024 + 123'456);
  EXPECT_EQ(ParseTimestamp("1704067200123456789"), kNewYear2024 + 123'457);
  EXPECT_EQ(ParseTimestamp("-1704067200"), -kNewYear2024);
  EXPECT_EQ(ParseTimestamp("+1704067200"), kNewYear2024);
  EXPECT_EQ(ParseTimestamp("1704067200."), std::nullopt);
  EXPECT_EQ(ParseTimestamp("1704067200123456789.5"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("9999999999999999999"), std::nullopt);  // past int64 nanoseconds
  EXPECT_EQ(ParseTimestamp("1.7e9"), std::nullopt);
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

// A timestamp that repeats the date and hour of the one before takes a shortcut (the hour's
// prefix is remembered per thread). Whatever came before, every text must parse as it does
// after a timestamp of another hour: same instant, same zone and rounding flags, same refusals.
TEST(TimestampTest, TheRememberedHourNeverChangesAResult) {
  std::vector<std::string> texts = {"2024-01-01T00:00:00Z", "2024-01-01T00:59:60Z", "2024-01-01T00:60:00Z",
                                    "2024-01-01T00:05:61Z", "2024-01-01T00:05:00z", "2024-01-01T00:05:00+01:00",
                                    "2024-01-01T00:05:00.5Z", "2024-01-01 00:05:07Z", "2024-01-01t00:05:07Z",
                                    "2024-02-29T23:59:59Z", "2023-02-29T23:59:59Z", "2024-01-01T24:00:00Z",
                                    "9999-12-31T23:59:59Z", "9999-12-31T23:59:60Z", "0001-01-01T00:00:00Z",
                                    "0000-12-31T23:59:59Z", "2024-01-01T00:0a:00Z", "2024-01-01T00:05:0 Z",
                                    "2024-01-01T00:05-00Z", "2024-01-01T00:05:00ZZ", "2024-01-01T00:05:00",
                                    " 2024-01-01T00:05:07Z", "\"2024-01-01T00:05:07Z\""};
  // Variations of every byte of a few of them: digits, separators and letters in each place.
  std::mt19937_64 rng(11);
  const std::string alphabet = "0123456789:-TtZz +.";
  for (int i = 0; i < 4000; ++i) {
    std::string t = texts[rng() % 10];
    t[rng() % t.size()] = alphabet[rng() % alphabet.size()];
    if (rng() % 4 == 0) t[rng() % t.size()] = alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  const auto parse = [](const std::string& before, const std::string& text) {
    (void)ParseTimestamp(before);
    TimestampInfo info;
    const auto ts = ParseTimestamp(text, TimestampOptions{.default_utc_offset_minutes = 90}, &info);
    return std::tuple(ts, info.had_zone, info.rounded);
  };
  int served = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto alone = parse("1999-06-15T12:00:00Z", texts[i]);  // another hour: parsed in full
    for (const size_t j : {size_t{0}, size_t{1}, i > 0 ? i - 1 : 0, static_cast<size_t>(rng() % texts.size())}) {
      EXPECT_EQ(parse(texts[j], texts[i]), alone) << texts[i] << " after " << texts[j];
      served += texts[j].compare(0, 14, texts[i], 0, 14) == 0 && std::get<0>(alone).has_value();
    }
  }
  EXPECT_GT(served, 300);  // the shortcut was taken, not only the full parse
}

}  // namespace
}  // namespace iotad

namespace iotad {
// Found by fuzz/timestamp: instants that would be stored but never read back as ISO-8601.
TEST(TimestampTest, RejectsInstantsOutsideTheYearsIsoWritesBack) {
  for (const char* text : {"-99999999999", "-86685726459145116", "9999-12-31T23:59:60Z"}) {
    EXPECT_FALSE(ParseTimestamp(text).has_value()) << text;
  }
  const auto last = ParseTimestamp("9999-12-31T23:59:59.999999Z");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(ParseTimestamp(FormatTimestamp(*last)), last);
  const auto first = ParseTimestamp("0001-01-01T00:00:00Z");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(ParseTimestamp(FormatTimestamp(*first)), first);
}
}  // namespace iotad
