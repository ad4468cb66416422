// libFuzzer target: config::ParseConfig on arbitrary text (TOML). It returns a Result, never
// throws; a config it accepts resolves series settings with a positive false-alarm rate.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "iotad/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  const auto parsed = config::ParseConfig(text, "fuzz.toml");
  if (parsed.ok()) {
    const config::SeriesSettings s = config::ResolveSeries(*parsed, "freezer-7", "temp_c");
    IOTAD_FUZZ_CHECK(s.false_alarms_per_day > 0);  // the parser refuses 0 and below
  } else {
    IOTAD_FUZZ_CHECK(!parsed.status().message().empty());
  }
  return 0;
}
