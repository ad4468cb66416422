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

/// The current time (system clock), as a timestamp: what SystemClock returns. Product code takes
/// an injected Clock (core/clock.h) instead of calling this.
TimestampUs NowUs();

/// How to read timestamps that leave something open.
struct TimestampOptions {
  /// Applied to ISO text without a zone (`2024-01-01T10:00:00` at +60 is 09:00Z).
  int32_t default_utc_offset_minutes = 0;
};

/// What ParseTimestamp found besides the value.
struct TimestampInfo {
  bool had_zone = false;   // an explicit `Z` or offset, or an epoch number (UTC by definition)
  bool rounded = false;    // sub-microsecond digits that were not all zero (rounded, see below)
  bool ambiguous = false;  // all digits, but not 10/13/16/19 of them (`20240301`): rejected
};

/// Parses ISO-8601 (`2024-01-01T00:00:00Z`, `2024-01-01 00:00:00.5+02:00`, `2024-01-01`,
/// compact `20240101T100000Z`) and epoch numbers, which are accepted only with 10 digits
/// (seconds, optionally with a fraction), 13 (milliseconds), 16 (microseconds) or 19
/// (nanoseconds), optionally signed: any other all-digit text (`20240301`: a compact date or
/// epoch seconds?) is ambiguous and rejected. Text without a zone takes
/// `options.default_utc_offset_minutes`. Digits finer than a microsecond are rounded to the
/// nearest microsecond, half away from zero (`.0000005` -> 1 us). Returns nullopt on anything
/// else; never throws. `info` (optional) says whether there was a zone, a rounding, an ambiguity.
std::optional<TimestampUs> ParseTimestamp(std::string_view text, const TimestampOptions& options,
                                          TimestampInfo* info = nullptr);

/// The same with default options: text without a zone is UTC.
std::optional<TimestampUs> ParseTimestamp(std::string_view text);

/// One sentence saying why `text` is not a timestamp, e.g. `'20240301' is ambiguous: a compact
/// date or epoch seconds? use ISO-8601 like 2024-03-01T00:00:00Z`. ASCII only (other bytes are
/// written as \xNN), at most ~200 characters of the text.
std::string DescribeBadTimestamp(std::string_view text);

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
