// libFuzzer target: ParseTimestamp and ParseDurationUs on arbitrary text. A parsed time, once
// formatted, parses back to the same instant (what silver writes, it can read again), and its
// civil fields are in range. The result never depends on what the thread parsed before (the
// remembered hour of the previous timestamp): after a timestamp of another hour, after the
// text's own first 14 bytes completed to a timestamp, and after the text itself, it is the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "iotad/core/timestamp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  (void)ParseTimestamp("1999-06-15T12:00:00Z");  // another hour: the text is parsed in full
  TimestampInfo alone_info;
  const auto alone = ParseTimestamp(text, TimestampOptions{}, &alone_info);
  std::string same_hour(text.substr(0, 14));
  same_hour.resize(14, '0');
  for (const std::string& before : {same_hour + "00:00Z", same_hour + "59:59Z", std::string(text)}) {
    (void)ParseTimestamp(before);
    TimestampInfo info;
    const auto after = ParseTimestamp(text, TimestampOptions{}, &info);
    IOTAD_FUZZ_CHECK(after == alone && info.had_zone == alone_info.had_zone && info.rounded == alone_info.rounded &&
                     info.ambiguous == alone_info.ambiguous);
  }
  if (const auto ts = ParseTimestamp(text)) {
    const std::string formatted = FormatTimestamp(*ts);
    const auto again = ParseTimestamp(formatted);
    if (!again || *again != *ts) {
      std::fprintf(stderr, "'%s' -> %lld -> '%s' does not parse back\n", std::string(text).c_str(),
                   static_cast<long long>(*ts), formatted.c_str());
    }
    IOTAD_FUZZ_CHECK(again.has_value() && *again == *ts);
    std::string appended = "x";
    AppendTimestamp(appended, *ts);
    IOTAD_FUZZ_CHECK(appended == "x" + formatted);
    const CivilTime c = ToCivil(*ts);
    IOTAD_FUZZ_CHECK(c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= 31 && c.hour >= 0 && c.hour <= 23 &&
                     c.minute >= 0 && c.minute <= 59 && c.second >= 0 && c.second <= 59 && c.micros >= 0 &&
                     c.micros <= 999999);
    const TimestampUs h = HourStart(*ts);
    IOTAD_FUZZ_CHECK(h <= *ts && *ts - h < kMicrosPerHour && h % kMicrosPerHour == 0);
  }
  if (const auto d = ParseDurationUs(text)) {
    (void)*d;
  }
  return 0;
}
