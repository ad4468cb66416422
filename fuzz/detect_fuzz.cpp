// libFuzzer target: every online detector (the `default` ensemble and the single detectors) on an
// arbitrary series: any doubles (NaN, infinities, 1e308, subnormals, -0), timestamps that repeat,
// go back, jump by years. No crash, no undefined behaviour; every score a number in [0, 1), every
// surprise >= 0, a flag never while warming up; the explanation's sentence builds; and a detector
// saved (SaveState) and restored into a fresh one (RestoreState) midway goes on to give the same
// scores, bit for bit, as the one that never stopped (what a checkpoint promises).
// Input: byte 0 picks the detector, byte 1 the knob and options, then 10-byte records: a signed
// 16-bit step (seconds; 0x7fff: a jump of a year) and the value's 8 bytes as they lie (with
// option bit 32, a finite value's magnitude rounded down to a whole number, 1 in 8 of them
// negated: counts, which `default` learns on the square root's scale, and what may follow them).
// IOTAD_FUZZ_VERBOSE=1 prints a failing score (value, surprise, member, rule) before the abort.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "iotad/detect/detector.h"

namespace {

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void CheckScore(const iotad::detect::Score& s, double value) {
  if (std::getenv("IOTAD_FUZZ_VERBOSE") != nullptr && !(s.score >= 0.0 && s.score < 1.0 && s.surprise >= 0.0)) {
    std::fprintf(stderr, "value %g surprise %g score %.17g detector %s rule %s stat %g scale %g\n", value, s.surprise,
                 s.score, std::string(s.why.detector).c_str(), std::string(s.why.rule).c_str(), s.why.stat, s.why.scale);
  }
  IOTAD_FUZZ_CHECK(!std::isnan(s.surprise) && s.surprise >= 0.0);
  IOTAD_FUZZ_CHECK(s.score >= 0.0 && s.score < 1.0);
  IOTAD_FUZZ_CHECK(!(s.flag && s.why.warming_up));
  (void)iotad::detect::Describe(s, value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad::detect;
  if (size < 2) return 0;
  const auto names = SeriesDetectorNames();
  const std::string_view name = names[bytes[0] % names.size()];
  DetectorOptions o;
  const uint8_t knobs = bytes[1];
  o.false_alarms_per_day = (knobs & 3) == 0 ? 0.02 : (knobs & 3) == 1 ? 1e-6 : (knobs & 3) == 2 ? 5.0 : 1e6;
  if (knobs & 4) o.min_value = -1.0, o.max_value = 1e3;
  if (knobs & 8) o.silence_us = 90'000'000;
  o.explain_flags_only = (knobs & 16) != 0;
  auto made = MakeSeriesDetector(name, o);
  IOTAD_FUZZ_CHECK(made.ok());
  auto& d = *made;
  const size_t records = (size - 2) / 10;
  const size_t save_at = records / 2;
  std::unique_ptr<SeriesDetector> restored;
  int64_t ts = 1'704'067'200'000'000;  // 2024-01-01
  for (size_t i = 0; i < records; ++i) {
    const uint8_t* r = bytes + 2 + 10 * i;
    int16_t step;
    std::memcpy(&step, r, sizeof step);
    double value;
    std::memcpy(&value, r + 2, sizeof value);
    if ((knobs & 32) && std::isfinite(value)) {
      value = std::floor(std::fabs(value));
      if ((r[2] & 7) == 7 && i >= 40) value = -value;
    }
    ts += step == 0x7fff ? 365LL * 86'400'000'000 : static_cast<int64_t>(step) * 1'000'000;
    if (i == save_at) {
      std::string state;
      d->SaveState(state);
      auto fresh = MakeSeriesDetector(name, o);
      IOTAD_FUZZ_CHECK(fresh.ok());
      std::string_view in = state;
      IOTAD_FUZZ_CHECK((*fresh)->RestoreState(in).ok() && in.empty());
      restored = std::move(*fresh);
    }
    const Score s = d->Update(ts, value);
    CheckScore(s, value);
    if (restored) {
      const Score again = restored->Update(ts, value);
      IOTAD_FUZZ_CHECK(SameBits(again.surprise, s.surprise) && again.flag == s.flag);
    }
    if (step == -1) {  // time passes without a point
      const Score t = d->Tick(ts + 3'600'000'000);
      CheckScore(t, NAN);
      if (restored) IOTAD_FUZZ_CHECK(SameBits(restored->Tick(ts + 3'600'000'000).surprise, t.surprise));
    }
  }
  return 0;
}
