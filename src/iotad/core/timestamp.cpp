#include "iotad/core/timestamp.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <fast_float/fast_float.h>

namespace iotad {
namespace {

inline bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const unsigned c = static_cast<unsigned char>(s[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + static_cast<int>(c);
  }
  out = v;
  return true;
}

constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

/// Adds the fraction digits `frac` to `micros`, where the first digit is worth 10^first_exp us:
/// exact down to 1 us, then rounded half away from zero on the next digit. Sets `rounded` when
/// any digit below 1 us is not zero.
inline void AddFraction(std::string_view frac, int first_exp, int64_t& micros, bool& rounded) {
  static constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                       1000000000};
  int exp = first_exp;
  for (size_t i = 0; i < frac.size(); ++i, --exp) {
    const int digit = frac[i] - '0';
    if (exp >= 0) {
      micros += digit * kPow10[exp];
      continue;
    }
    // The first digit below a microsecond decides the rounding; the rest only say "rounded".
    for (size_t j = i; j < frac.size(); ++j) rounded = rounded || frac[j] != '0';
    if (digit >= 5) ++micros;
    return;
  }
}

/// Epoch numbers: optional sign, then 10 (s), 13 (ms), 16 (us) or 19 (ns) digits, and for the
/// first three optionally a fraction.
std::optional<TimestampUs> ParseEpoch(std::string_view s, TimestampInfo& info) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t k = 0;
  while (k < s.size() && IsDigit(s[k])) ++k;
  if (k == 0) return std::nullopt;
  std::string_view frac;
  if (k < s.size()) {
    if (s[k] != '.' || k + 1 == s.size()) return std::nullopt;
    frac = s.substr(k + 1);
    for (char c : frac) {
      if (!IsDigit(c)) return std::nullopt;
    }
  }
  if (k != 10 && k != 13 && k != 16 && k != 19) {
    info.ambiguous = true;
    return std::nullopt;
  }
  if (k == 19 && !frac.empty()) return std::nullopt;
  uint64_t whole = 0;
  for (size_t i = 0; i < k; ++i) whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');  // < 2^64
  int64_t micros = 0;
  bool rounded = false;
  if (k == 19) {
    if (whole > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    micros = static_cast<int64_t>(whole / 1000);
    const uint64_t rest_ns = whole % 1000;
    rounded = rest_ns != 0;
    if (rest_ns >= 500) ++micros;
  } else {
    const int unit_exp = k == 10 ? 6 : k == 13 ? 3 : 0;  // one unit = 10^unit_exp us
    int64_t scale = 1;
    for (int i = 0; i < unit_exp; ++i) scale *= 10;
    micros = static_cast<int64_t>(whole) * scale;  // 10 digits * 1e6 < 2^63
    AddFraction(frac, unit_exp - 1, micros, rounded);
  }
  info.had_zone = true;
  info.rounded = rounded;
  return negative ? -micros : micros;
}

/// `20240301T100000Z` -> `2024-03-01T10:00:00Z` in `buf`; false when `s` is not that shape.
bool ExpandCompactIso(std::string_view s, std::string& buf) {
  if (s.size() < 13 || (s[8] != 'T' && s[8] != 't')) return false;
  for (size_t i = 0; i < 8; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  size_t n = 0;  // time digits: HHMM or HHMMSS
  while (9 + n < s.size() && IsDigit(s[9 + n])) ++n;
  if (n != 4 && n != 6) return false;
  buf.assign(s.substr(0, 4));
  buf += '-';
  buf.append(s.substr(4, 2));
  buf += '-';
  buf.append(s.substr(6, 2));
  buf += 'T';
  buf.append(s.substr(9, 2));
  buf += ':';
  buf.append(s.substr(11, 2));
  if (n == 6) {
    buf += ':';
    buf.append(s.substr(13, 2));
  }
  buf.append(s.substr(9 + n));
  return true;
}

std::optional<TimestampUs> ParseIso(std::string_view s, const TimestampOptions& options, TimestampInfo& info) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || !Digits(s, 5, 2, mo) || s[7] != '-' || !Digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysInMonth[mo - 1] || (mo == 2 && d == 29 && !IsLeap(y))) {
    return std::nullopt;
  }
  size_t pos = 10;
  int64_t micros = 0;
  int64_t offset_s = 0;
  bool had_zone = false;
  bool rounded = false;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ' && s[pos] != 't') return std::nullopt;
    ++pos;
    if (!Digits(s, pos, 2, h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !Digits(s, pos + 3, 2, mi)) {
      return std::nullopt;
    }
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        const size_t start = pos;
        while (pos < s.size() && IsDigit(s[pos])) ++pos;
        if (pos == start) return std::nullopt;
        AddFraction(s.substr(start, pos - start), 5, micros, rounded);
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (pos < s.size()) {
      const char z = s[pos];
      if ((z == 'Z' || z == 'z') && pos + 1 == s.size()) {
        pos += 1;
      } else if (z == '+' || z == '-') {
        int oh, om = 0;
        if (!Digits(s, pos + 1, 2, oh)) return std::nullopt;
        size_t p2 = pos + 3;
        if (p2 < s.size() && s[p2] == ':') ++p2;
        if (p2 < s.size()) {
          if (!Digits(s, p2, 2, om)) return std::nullopt;
          p2 += 2;
        }
        if (p2 != s.size() || oh > 23 || om > 59) return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
        pos = p2;
      } else {
        return std::nullopt;
      }
      had_zone = true;
    }
  }
  if (pos != s.size()) return std::nullopt;
  if (!had_zone) offset_s = int64_t{options.default_utc_offset_minutes} * 60;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  info.had_zone = had_zone;
  info.rounded = rounded;
  return secs * kMicrosPerSecond + micros;
}

/// Nearly every device writes "YYYY-MM-DDTHH:MM:SSZ", and a file's rows share their date and
/// hour with the row before. Each thread remembers the last such prefix ("YYYY-MM-DDTHH:") that
/// ParseIso accepted, with its hour's epoch second: a timestamp of the same shape that repeats it
/// has only its minutes and seconds read (a fifth of silver's parse went to timestamps).
struct HourPrefix {
  static constexpr size_t kSize = 14;  // "YYYY-MM-DDTHH:"
  char prefix[kSize] = {};
  int64_t hour_s = 0;
  bool valid = false;
};
thread_local HourPrefix t_hour_prefix;

/// The shape the cache serves: 20 bytes, "...:MM:SSZ". The prefix itself is checked by ParseIso
/// before it is remembered, and compared byte for byte after.
inline bool HourPrefixShape(std::string_view s) {
  return s.size() == 20 && s[19] == 'Z' && s[13] == ':' && s[16] == ':' && IsDigit(s[14]) && IsDigit(s[15]) &&
         IsDigit(s[17]) && IsDigit(s[18]);
}
inline int MinuteSeconds(std::string_view s) {
  return ((s[14] - '0') * 10 + (s[15] - '0')) * 60 + (s[17] - '0') * 10 + (s[18] - '0');
}

/// ParseIso through the hour cache. A bool and an out value, not an optional: GCC writes an
/// optional's two fields apart and reads them back as one 16-byte load, a store-forwarding stall
/// that cost as much as the parse itself.
bool ParseIsoCached(std::string_view s, const TimestampOptions& options, TimestampInfo& info, TimestampUs& out) {
  HourPrefix& cache = t_hour_prefix;
  const bool shape = HourPrefixShape(s);
  if (shape && cache.valid && std::memcmp(s.data(), cache.prefix, HourPrefix::kSize) == 0) {
    const int mi = (s[14] - '0') * 10 + (s[15] - '0');
    const int sec = (s[17] - '0') * 10 + (s[18] - '0');
    if (mi <= 59 && sec <= 60) {  // as ParseIso checks them
      info.had_zone = true;
      info.rounded = false;
      out = (cache.hour_s + mi * 60 + sec) * kMicrosPerSecond;
      return true;
    }
  }
  const std::optional<TimestampUs> ts = ParseIso(s, options, info);
  if (!ts) return false;
  out = *ts;
  if (shape) {  // "Z": no offset, no fraction; the hour's second is exact
    std::memcpy(cache.prefix, s.data(), HourPrefix::kSize);
    cache.hour_s = out / kMicrosPerSecond - MinuteSeconds(s);
    cache.valid = true;
  }
  return true;
}

std::string_view TrimTimestamp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

CivilTime ToCivil(TimestampUs ts) {
  int64_t days = ts / kMicrosPerDay;
  int64_t rem = ts % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  // civil_from_days
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  CivilTime c;
  c.year = static_cast<int>(y + (m <= 2));
  c.month = static_cast<int>(m);
  c.day = static_cast<int>(d);
  c.hour = static_cast<int>(rem / kMicrosPerHour);
  c.minute = static_cast<int>(rem / kMicrosPerMinute % 60);
  c.second = static_cast<int>(rem / kMicrosPerSecond % 60);
  c.micros = static_cast<int>(rem % kMicrosPerSecond);
  return c;
}

std::optional<TimestampUs> ParseTimestamp(std::string_view text, const TimestampOptions& options,
                                          TimestampInfo* info) {
  TimestampInfo local;
  TimestampInfo& out = info != nullptr ? *info : local;
  out = TimestampInfo();
  const std::string_view s = TrimTimestamp(text);
  TimestampUs ts = 0;
  bool ok = false;
  if (s.size() >= 10 && s[4] == '-') {
    ok = ParseIsoCached(s, options, out, ts);
  } else {
    std::optional<TimestampUs> parsed;
    if (s.size() >= 13 && (s[8] == 'T' || s[8] == 't')) {
      std::string expanded;
      if (!ExpandCompactIso(s, expanded)) return std::nullopt;
      parsed = ParseIso(expanded, options, out);
    } else {
      parsed = ParseEpoch(s, out);
    }
    ok = parsed.has_value();
    ts = parsed.value_or(0);
  }
  // Only instants that FormatTimestamp writes back as ISO-8601 (years 0001-9999): a leap second
  // on 9999-12-31 or a huge negative epoch would otherwise be stored and never read back.
  constexpr TimestampUs kMin = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
  constexpr TimestampUs kMax = DaysFromCivil(10000, 1, 1) * kMicrosPerDay - 1;
  if (!ok || ts < kMin || ts > kMax) return std::nullopt;
  return ts;
}

std::optional<TimestampUs> ParseTimestamp(std::string_view text) {
  return ParseTimestamp(text, TimestampOptions(), nullptr);
}

std::string DescribeBadTimestamp(std::string_view text) {
  std::string shown;
  const std::string_view s = TrimTimestamp(text);
  for (size_t i = 0; i < s.size() && i < 200; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      shown += hex;
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (s.size() > 200) shown += "...";
  TimestampInfo info;
  ParseTimestamp(s, TimestampOptions(), &info);
  if (!info.ambiguous) return "'" + shown + "' is not an ISO-8601 timestamp or epoch number";
  size_t digits = 0;
  for (char c : s) digits += IsDigit(c) ? 1 : 0;
  if (s.size() == 8 && digits == 8) {
    return "'" + shown + "' is ambiguous: a compact date or epoch seconds? use ISO-8601 like " +
           std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
           std::string(s.substr(6, 2)) + "T00:00:00Z";
  }
  return "'" + shown +
         "' is ambiguous: epoch numbers need 10 (seconds), 13 (ms), 16 (us) or 19 (ns) digits; use "
         "ISO-8601 like 2024-03-01T00:00:00Z";
}

TimestampUs NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendTimestamp(std::string& out, TimestampUs ts) {
  const CivilTime c = ToCivil(ts);
  char buf[40];
  int n;
  if (c.micros == 0) {
    n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day,
                      c.hour, c.minute, c.second);
  } else {
    n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month,
                      c.day, c.hour, c.minute, c.second, c.micros);
  }
  out.append(buf, static_cast<size_t>(n));
}

std::string FormatTimestamp(TimestampUs ts) {
  std::string out;
  AppendTimestamp(out, ts);
  return out;
}

std::optional<int64_t> ParseDurationUs(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = fast_float::from_chars(s.data(), s.data() + i, v);
  if (ec != std::errc() || ptr != s.data() + i) return std::nullopt;
  const std::string_view unit = s.substr(i);
  double mult;
  if (unit == "us") mult = 1;
  else if (unit == "ms") mult = 1e3;
  else if (unit == "s" || unit.empty()) mult = 1e6;
  else if (unit == "m" || unit == "min") mult = 60e6;
  else if (unit == "h") mult = 3600e6;
  else if (unit == "d") mult = 86400e6;
  else return std::nullopt;
  return static_cast<int64_t>(std::llround(v * mult));
}

}  // namespace iotad
