#pragma once
// Timestamps are int64 microseconds since the Unix epoch, UTC, everywhere in iotad: the same unit
// Parquet stores (INT64 TIMESTAMP(MICROS, isAdjustedToUTC)), so no conversion on the hot path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotad {

using TimestampUs = int64_t;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilTime {
  int year;
  int month;   // 1..12
  int day;     // 1..31
  int hour;    // 0..23
  int minute;  // 0..59
  int second;  // 0..59
  int micros;  // 0..999999
};

CivilTime ToCivil(TimestampUs ts);

/// The current time (system clock), as a timestamp.
TimestampUs NowUs();

/// Parses ISO-8601 (`2024-01-01T00:00:00Z`, `2024-01-01 00:00:00.5+02:00`, no zone means UTC),
/// and epoch numbers: seconds (`1704067200`, `1704067200.25`), milliseconds (13 digits) or
/// microseconds (16 digits). Returns nullopt on anything else; never throws.
std::optional<TimestampUs> ParseTimestamp(std::string_view text);

/// Formats as `2024-01-01T00:00:00Z` (fractional digits only when not whole seconds).
std::string FormatTimestamp(TimestampUs ts);
/// Appends the same to `out` without allocating a new string.
void AppendTimestamp(std::string& out, TimestampUs ts);

/// Floors to the start of the UTC hour.
constexpr TimestampUs HourStart(TimestampUs ts) {
  return ts >= 0 ? ts - ts % kMicrosPerHour : ts - ((ts % kMicrosPerHour) + kMicrosPerHour) % kMicrosPerHour;
}

/// Parses a duration such as `60s`, `5m`, `2h`, `7d`, `250ms` into microseconds.
std::optional<int64_t> ParseDurationUs(std::string_view text);

}  // namespace iotad
