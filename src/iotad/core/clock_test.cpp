#include "iotad/core/clock.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace iotad {
namespace {

TEST(ManualClockTest, MovesOnlyWhenSetOrAdvanced) {
  ManualClock clock(1'700'000'000'000'000);
  EXPECT_EQ(clock.NowUs(), 1'700'000'000'000'000);
  EXPECT_EQ(clock.NowUs(), 1'700'000'000'000'000);
  clock.Advance(2'500'000);
  EXPECT_EQ(clock.NowUs(), 1'700'000'002'500'000);
  clock.Set(0);
  EXPECT_EQ(clock.NowUs(), 0);
}

TEST(ManualClockTest, AdvancesFromManyThreadsWithoutLosingTicks) {
  ManualClock clock;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 10'000; ++i) clock.Advance(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.NowUs(), 40'000);
}

TEST(SystemClockTest, ReadsTheSystemTimeThroughTheInterface) {
  const Clock& clock = SystemClock::Instance();
  const TimestampUs before = NowUs();
  const TimestampUs now = clock.NowUs();
  const TimestampUs after = NowUs();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  EXPECT_GT(now, 1'600'000'000'000'000);  // after 2020
}

}  // namespace
}  // namespace iotad
