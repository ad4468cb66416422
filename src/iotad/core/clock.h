#pragma once
// The wall clock, injected: product code that needs "now" (commit times, run ids, run records,
// arrival partitions, log stamps) reads it from a Clock it was given, never from the system
// directly, so tests set time by hand instead of sleeping or racing the hour boundary.
// Durations are measured with std::chrono::steady_clock, which is not wall time.
#include <atomic>
#include <cstdint>

#include "iotad/core/timestamp.h"

namespace iotad {

/// A source of wall time in microseconds since the epoch, UTC. Implementations are thread-safe:
/// NowUs may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampUs NowUs() const = 0;
};

/// The system's real-time clock (what `iotad::NowUs()` returns).
class SystemClock final : public Clock {
 public:
  TimestampUs NowUs() const override;
  /// The one instance, for defaults; lives for the whole process.
  static const SystemClock& Instance();
};

/// A clock that moves only when told to: tests set and advance it by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampUs now_us = 0) : now_us_(now_us) {}
  TimestampUs NowUs() const override { return now_us_.load(std::memory_order_relaxed); }
  void Set(TimestampUs now_us) { now_us_.store(now_us, std::memory_order_relaxed); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us, std::memory_order_relaxed); }

 private:
  std::atomic<TimestampUs> now_us_;
};

}  // namespace iotad
