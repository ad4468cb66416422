#include "iotad/lake/migrate.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "iotad/lake/lake.h"

namespace iotad::lake {
namespace {
namespace fs = std::filesystem;

TEST(SparkPartitionKeyTest, DropsZeroPaddingOfMonthDayAndHourOnly) {
  EXPECT_EQ(SparkPartitionKey("silver/year=2024/month=01/day=05/hour=00/p.parquet"),
            "silver/year=2024/month=1/day=5/hour=0/p.parquet");
  EXPECT_EQ(SparkPartitionKey("bronze/dt=2024-01-05/hour=05/0a.csv"), "bronze/dt=2024-01-05/hour=5/0a.csv");
  EXPECT_EQ(SparkPartitionKey("gold/year=2024/month=12/day=31/hour=23/anomalies-20241231T23-0.parquet"),
            "gold/year=2024/month=12/day=31/hour=23/anomalies-20241231T23-0.parquet");
  EXPECT_EQ(SparkPartitionKey("silver/year=2024/month=1/day=5/hour=13/p.parquet"),
            "silver/year=2024/month=1/day=5/hour=13/p.parquet");  // already Spark's: unchanged
  EXPECT_EQ(SparkPartitionKey("quarantine/part-hour=05.parquet"), "quarantine/part-hour=05.parquet");
  EXPECT_EQ(SparkPartitionKey("x/hour=0a/y"), "x/hour=0a/y");  // not a number: left alone
}

TEST(PartitionOrderKeyTest, SortsHoursAsNumbersInEitherSpelling) {
  EXPECT_LT(PartitionOrderKey("bronze/dt=2024-01-05/hour=2/b.csv"), PartitionOrderKey("bronze/dt=2024-01-05/hour=10/a.csv"));
  EXPECT_EQ(PartitionOrderKey("silver/year=2024/month=1/day=5/hour=2/p"), "silver/year=2024/month=01/day=05/hour=02/p");
  EXPECT_EQ(PartitionOrderKey("silver/year=2024/month=01/day=05/hour=02/p"), "silver/year=2024/month=01/day=05/hour=02/p");
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ = fs::temp_directory_path() / fmt::format("iotad-migrate-test-{}-{:08x}", ::getpid(), rd());
    ASSERT_TRUE(Lake::Init(root_).ok());
    Reopen();
  }
  void TearDown() override {
    lake_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Reopen() {
    lake_.reset();
    auto opened = Lake::Open(root_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    lake_ = std::move(*opened);
  }
  /// Publishes files straight at `keys`, as an older iotad did (padded keys), without the lock's
  /// migration: the lock is taken by BeginWrite, which migrates, so the old lake is made first.
  void PublishOld(const std::string& stage, const std::vector<std::string>& keys, std::vector<std::string> inputs = {}) {
    Commit c;
    c.stage = stage;
    c.run_id = NewRunId();
    for (const auto& k : keys) {
      ASSERT_TRUE(lake_->store().Put(fmt::format("_iotad/staging/r/{}", k), fmt::format("data of {}", k)).ok());
      c.moves.emplace_back(fmt::format("_iotad/staging/r/{}", k), k);
    }
    c.inputs = std::move(inputs);
    ASSERT_TRUE(lake_->Publish(std::move(c)).ok());
  }
  bool Exists(const std::string& key) { return fs::exists(root_ / key); }

  fs::path root_;
  std::unique_ptr<Lake> lake_;
};

TEST_F(MigrateTest, MovesWhatTheLogKnowsInOneCommitLeavesStraysAndRunsOnce) {
  ASSERT_TRUE(lake_->BeginWrite().ok());  // an empty lake: nothing to move, the marker is written
  EXPECT_TRUE(Exists(std::string(kLayoutKey)));
  const std::string bronze = "bronze/dt=2024-01-05/hour=05/a.csv";
  const std::string silver = "silver/year=2024/month=01/day=05/hour=05/p.parquet";
  PublishOld("ingest", {bronze});
  PublishOld("silver", {silver}, {bronze});
  ASSERT_TRUE(lake_->store().Put("silver/year=2024/month=01/day=05/hour=06/stray.parquet", "x").ok());
  ASSERT_TRUE(lake_->store().Delete(std::string(kLayoutKey)).ok());  // the lake of an older iotad
  Reopen();
  ASSERT_TRUE(lake_->BeginWrite().ok());

  EXPECT_FALSE(Exists(bronze));
  EXPECT_FALSE(Exists(silver));
  EXPECT_TRUE(Exists("bronze/dt=2024-01-05/hour=5/a.csv"));
  EXPECT_TRUE(Exists("silver/year=2024/month=1/day=5/hour=5/p.parquet"));
  EXPECT_FALSE(Exists("silver/year=2024/month=01/day=05/hour=05"));  // the emptied folder is gone
  EXPECT_TRUE(Exists("silver/year=2024/month=01/day=05/hour=06/stray.parquet"));  // not the log's
  auto commits = lake_->ReadCommits("migrate");
  ASSERT_TRUE(commits.ok());
  ASSERT_EQ(commits->size(), 1u);
  const Commit& m = commits->front();
  EXPECT_EQ(m.moves.size(), 2u);
  EXPECT_EQ(m.deletes.size(), 2u);
  // The stamps the log recorded travel with the objects.
  ASSERT_EQ(m.stamps.count("silver/year=2024/month=1/day=5/hour=5/p.parquet"), 1u);
  EXPECT_EQ(m.stamps.at("silver/year=2024/month=1/day=5/hour=5/p.parquet").hash, ObjectHashHex(fmt::format("data of {}", silver)));

  // Idempotent, even with the marker gone: nothing of the log is padded any more.
  ASSERT_TRUE(lake_->store().Delete(std::string(kLayoutKey)).ok());
  Reopen();
  ASSERT_TRUE(lake_->BeginWrite().ok());
  commits = lake_->ReadCommits("migrate");
  ASSERT_TRUE(commits.ok());
  EXPECT_EQ(commits->size(), 1u);
}

}  // namespace
}  // namespace iotad::lake
