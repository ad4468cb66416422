// The lake reads wall time only through its clock: commit times and run ids follow a
// ManualClock set by hand, with no sleeping and no race with the system's hour.
#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "iotad/core/clock.h"
#include "iotad/lake/lake.h"

namespace iotad::lake {
namespace {
namespace fs = std::filesystem;

// 2031-02-03T04:05:06Z
constexpr TimestampUs kT = 1'927'857'906 * kMicrosPerSecond;

TEST(LakeClockTest, CommitTimesAndRunIdsReadTheLakesClock) {
  std::random_device rd;
  const fs::path root = fs::temp_directory_path() / fmt::format("iotad-lake-clock-{}-{:08x}", ::getpid(), rd());
  ASSERT_TRUE(Lake::Init(root).ok());
  auto lake = Lake::Open(root);
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  EXPECT_EQ(&(*lake)->clock(), &SystemClock::Instance());
  ManualClock clock(kT);
  (*lake)->set_clock(clock);
  ASSERT_TRUE((*lake)->BeginWrite().ok());

  EXPECT_TRUE(NewRunId((*lake)->clock()).starts_with("20310203T040506Z-"));
  Commit first;
  first.stage = "ingest";
  ASSERT_TRUE((*lake)->Publish(first).ok());
  clock.Advance(3'600 * kMicrosPerSecond + 7);
  Commit second;
  second.stage = "silver";
  ASSERT_TRUE((*lake)->Publish(second).ok());

  auto commits = (*lake)->ReadCommits();
  ASSERT_TRUE(commits.ok());
  ASSERT_EQ(commits->size(), 2u);
  EXPECT_EQ((*commits)[0].committed_at_us, kT);
  EXPECT_EQ((*commits)[1].committed_at_us, kT + 3'600 * kMicrosPerSecond + 7);
  EXPECT_TRUE(NewRunId(clock).starts_with("20310203T050506Z-"));
  lake->reset();
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace iotad::lake
