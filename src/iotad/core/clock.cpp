#include "iotad/core/clock.h"

namespace iotad {

TimestampUs SystemClock::NowUs() const { return iotad::NowUs(); }

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace iotad
