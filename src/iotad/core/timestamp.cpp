#include "iotad/core/timestamp.h"

#include <charconv>
#include <chrono>
#include <cmath>

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

std::optional<TimestampUs> ParseEpoch(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = fast_float::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  // Magnitude says the unit: seconds up to year ~5138, then milliseconds, then microseconds.
  const double a = std::fabs(v);
  double us;
  if (a < 1e11) {
    us = v * 1e6;
  } else if (a < 1e14) {
    us = v * 1e3;
  } else if (a < 1e17) {
    us = v;
  } else {
    return std::nullopt;
  }
  return static_cast<TimestampUs>(std::llround(us));
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

std::optional<TimestampUs> ParseTimestamp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() < 10 || s[4] != '-') return ParseEpoch(s);
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
        int ndig = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (ndig < 6) micros = micros * 10 + (s[pos] - '0');
          ++ndig;
          ++pos;
        }
        if (ndig == 0) return std::nullopt;
        for (int i = ndig; i < 6; ++i) micros *= 10;
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
    }
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * kMicrosPerSecond + micros;
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
