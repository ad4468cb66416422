#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "iotad/core/clock.h"
#include "iotad/core/thread.h"
#include "iotad/ingest/bronze.h"
#include "iotad/lake/commit_meta.h"

namespace iotad::ingest {
namespace {
namespace fs = std::filesystem;

/// A lake with the given config, a manual clock (2026-05-04T07:30Z) and one 2024 CSV file to ingest.
class IngestPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("iotad-ingest-partition-test-{}-{:08x}", ::getpid(), rd());
    ASSERT_TRUE(lake::Lake::Init(dir_ / "lake").ok());
    std::ofstream(dir_ / "in.csv") << "timestamp,device_id,t\n2024-03-01T10:00:00Z,d1,1\n2024-03-01T10:01:00Z,d1,2\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  /// Ingests in.csv into a lake configured by `toml`; returns the landed key.
  std::string IngestWith(std::string_view toml) {
    std::ofstream(dir_ / "lake" / "iotad.toml") << toml;
    auto lake = lake::Lake::Open(dir_ / "lake");
    EXPECT_TRUE(lake.ok()) << lake.status().message();
    if (!lake.ok()) return "";
    (*lake)->set_clock(clock_);
    EXPECT_TRUE((*lake)->BeginWrite().ok());
    auto report = IngestPaths(**lake, {(dir_ / "in.csv").string()}, "20260504T073000Z-0001");
    EXPECT_TRUE(report.ok()) << report.status().message();
    if (!report.ok() || report->files.size() != 1) return "";
    // The commit's meta is the typed IngestCommitMeta: it reads back with the same fields.
    auto commits = (*lake)->ReadCommits("ingest");
    EXPECT_TRUE(commits.ok());
    if (commits.ok() && commits->size() == 1) {
      auto meta = lake::IngestCommitMeta::FromJson(commits->front().meta_json);
      EXPECT_TRUE(meta.ok());
      if (meta.ok()) {
        EXPECT_EQ(meta->files.size(), 1u);
        EXPECT_EQ(meta->files.at(0).source, (dir_ / "in.csv").string());
        EXPECT_EQ(meta->files.at(0).key, report->files[0].key);
        EXPECT_EQ(meta->files.at(0).bytes, static_cast<int64_t>(fs::file_size(dir_ / "in.csv")));
      }
    }
    return report->files[0].key;
  }
  fs::path dir_;
  ManualClock clock_{1'777'879'800'000'000};  // 2026-05-04T07:30:00Z
};

TEST_F(IngestPartitionTest, EventTimeLandsAFileUnderItsRowsHour) {
  EXPECT_EQ(IngestWith("").rfind(std::string(lake::kBronzePrefix) + lake::BronzePartition(1'709'287'200'000'000) + "/", 0), 0u)
      << "2024-03-01T10:00Z";
}

TEST_F(IngestPartitionTest, ArrivalLandsAFileUnderTheClocksHour) {
  const std::string key = IngestWith("[ingest]\npartition_by = \"arrival\"\n");
  EXPECT_EQ(key.rfind(std::string(lake::kBronzePrefix) + lake::BronzePartition(clock_.NowUs()) + "/", 0), 0u) << key;
}

TEST_F(IngestPartitionTest, FilesCopiedSideBySideLandInInputOrderAndLeaveNoScratchBehind) {
  // Files are copied two at a time; what lands, and which copy of a twice-given file counts as
  // the new one, follows the input order. Among them: a copy of an earlier file, a file named
  // .gz that is not gzip, and an empty file.
  std::vector<std::string> paths;
  for (int i = 0; i < 9; ++i) {
    const fs::path f = dir_ / fmt::format("f{}.csv", i);
    if (i == 6) {
      fs::copy_file(dir_ / "f2.csv", f);
    } else if (i == 7) {
      std::ofstream(f).flush();  // empty
    } else {
      std::ofstream(f) << "timestamp,device_id,t\n2024-03-01T10:00:00Z,d" << i << ",1\n";
    }
    paths.push_back(f.string());
  }
  std::ofstream(dir_ / "bad.csv.gz") << "not gzip";
  paths.insert(paths.begin() + 4, (dir_ / "bad.csv.gz").string());
  auto lake = lake::Lake::Open(dir_ / "lake");
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  (*lake)->set_clock(clock_);
  ASSERT_TRUE((*lake)->BeginWrite().ok());
  auto report = IngestPaths(**lake, paths, "20260504T073000Z-0002");
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->files.size(), 8u);
  EXPECT_EQ(report->new_files, 7);
  EXPECT_EQ(report->duplicate_files, 1);
  ASSERT_EQ(report->bad_files.size(), 2u);
  EXPECT_EQ(report->bad_files[0].path, (dir_ / "bad.csv.gz").string());
  EXPECT_EQ(report->bad_files[1].path, (dir_ / "f7.csv").string());
  std::vector<std::string> sources;
  for (const auto& f : report->files) sources.push_back(f.source);
  EXPECT_EQ(sources, (std::vector<std::string>{paths[0], paths[1], paths[2], paths[3], paths[5], paths[6], paths[7],
                                               paths[9]}));
  EXPECT_FALSE(report->files[2].already_present);
  EXPECT_TRUE(report->files[6].already_present);
  EXPECT_EQ(report->files[6].key, report->files[2].key);
  auto scratch = (*lake)->store().ScratchDir();
  ASSERT_TRUE(scratch.ok());
  for (const auto& e : fs::directory_iterator(*scratch)) {
    EXPECT_EQ(e.path().filename().string().rfind("ingest-", 0), std::string::npos) << e.path();
  }
}

TEST_F(IngestPartitionTest, AThreadTheMachineRefusesFailsTheIngestAndLandsNothing) {
  std::vector<std::string> paths;
  for (int i = 0; i < 5; ++i) {
    const fs::path f = dir_ / fmt::format("g{}.csv", i);
    std::ofstream(f) << "timestamp,device_id,t\n2024-03-01T10:00:00Z,d" << i << ",1\n";
    paths.push_back(f.string());
  }
  auto lake = lake::Lake::Open(dir_ / "lake");
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  ASSERT_TRUE((*lake)->BeginWrite().ok());
  FailThreadStartAt(3);
  auto report = IngestPaths(**lake, paths, "20260504T073000Z-0003");
  FailThreadStartAt(0);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("cannot start a thread"), std::string::npos) << report.status().message();
  auto landed = (*lake)->store().List(lake::kBronzePrefix);
  ASSERT_TRUE(landed.ok());
  EXPECT_TRUE(landed->empty());
  auto scratch = (*lake)->store().ScratchDir();
  ASSERT_TRUE(scratch.ok());
  for (const auto& e : fs::directory_iterator(*scratch)) {
    EXPECT_EQ(e.path().filename().string().rfind("ingest-", 0), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace iotad::ingest
