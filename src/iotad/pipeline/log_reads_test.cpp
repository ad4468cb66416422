// One `iotad run` reads each commit record at most once and never lists the log: the stages, the
// checks and the views all read the lake's snapshot (issue 8: "the commit log is read once per
// command"; before, a run read the whole log four times and Publish listed it at every commit).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "iotad/lake/counting_store.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/run.h"

namespace iotad::pipeline {
namespace {
namespace fs = std::filesystem;

class LogReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("iotad-log-reads-test-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(dir_ / "in");
    ASSERT_TRUE(lake::Lake::Init(dir_ / "lake").ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// A CSV of 3 devices, one reading a minute for an hour starting at `hour` of 2024-01-01.
  std::string WriteBatch(int hour) {
    const fs::path path = dir_ / "in" / fmt::format("batch-{:02d}.csv", hour);
    std::ofstream out(path);
    out << "event_time,device_id,temp_c\n";
    for (int m = 0; m < 60; ++m) {
      for (int d = 0; d < 3; ++d) {
        out << fmt::format("2024-01-01T{:02d}:{:02d}:00Z,dev-{},{}\n", hour, m, d, 20 + d + (m % 7) * 0.1);
      }
    }
    return path.string();
  }

  Result<RunReport> Run(lake::Lake& lake, int hour) {
    RunOptions options;
    options.skip_inbox = true;
    options.extra_inputs = {WriteBatch(hour)};
    options.gold.detectors = {"zscore"};
    return RunPipeline(lake, options);
  }

  fs::path dir_;
};

TEST_F(LogReadsTest, OneRunReadsEachCommitRecordAtMostOnceAndNeverListsTheLog) {
  // Enough runs (3 commits each) to pass a checkpoint, so the counted run starts from one.
  for (int hour = 0; hour < 12; ++hour) {
    auto lake = lake::Lake::Open(dir_ / "lake");
    ASSERT_TRUE(lake.ok()) << lake.status().message();
    auto report = Run(**lake, hour);
    ASSERT_TRUE(report.ok()) << report.status().message();
    ASSERT_TRUE(report->checks_passed);
  }
  auto counts = std::make_shared<lake::StoreCounts>();
  auto local = store::OpenLocalStore(dir_ / "lake");
  ASSERT_TRUE(local.ok());
  auto lake = lake::Lake::Open(dir_ / "lake", std::make_unique<lake::CountingStore>(std::move(*local), counts));
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  auto report = Run(**lake, 12);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->checks_passed);
  EXPECT_GT(report->silver.commit_seq, lake::kCheckpointInterval);

  for (const auto& [key, n] : counts->gets_by_key) {
    if (key.starts_with(lake::kLogPrefix)) {
      EXPECT_EQ(n, 1) << key << " was read " << n << " times";
    }
  }
  // Only the records since the last checkpoint were read at all.
  EXPECT_LT(counts->GetsUnder(lake::kLogPrefix), lake::kCheckpointInterval);
  EXPECT_EQ(counts->lists_by_prefix.count(std::string(lake::kLogPrefix)), 0u);
}

}  // namespace
}  // namespace iotad::pipeline
