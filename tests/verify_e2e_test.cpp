// `iotad verify` and the run's lake_verified check on the real binary: files lost, damaged or
// added by hand in a layer folder (issue 7), and `--repair`.
#include <fstream>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

class VerifyE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_ / "lake";
    ASSERT_EQ(RunIotad({"init", lake_}).exit_code, 0);
    const CmdResult gen = Iotad({"generate", "--devices", "6", "--hours", "8", "--dirty"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const CmdResult run = Iotad({"run"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    ASSERT_NE(run.out.find("check lake_verified                ok"), std::string::npos) << run.out;
    silver_rows_ = SqlInt(lake_, "SELECT count(*) FROM silver");
    quarantine_rows_ = SqlInt(lake_, "SELECT count(*) FROM quarantine");
    ASSERT_GT(silver_rows_, 1000);
    ASSERT_GT(quarantine_rows_, 0);
    const CmdResult verify = Iotad({"verify"});
    ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }

  CmdResult Iotad(std::vector<std::string> args) {
    args.push_back("--lake");
    args.push_back(lake_);
    return RunIotad(args);
  }

  /// Silver files (relative keys), in key order.
  std::vector<std::string> SilverFiles() { return ListFiles(lake_, "silver/"); }

  /// Repairs (unless `repair` is the result of a repair already run), then checks that the lake is
  /// as it was before the damage.
  void ExpectRepairRestores(std::optional<CmdResult> repair_run = std::nullopt) {
    const CmdResult repair = repair_run ? *repair_run : Iotad({"verify", "--repair"});
    EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
    EXPECT_NE(repair.out.find("after repair:"), std::string::npos) << repair.out;
    EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), silver_rows_);
    EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM quarantine"), quarantine_rows_);
    const CmdResult verify = Iotad({"verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("verify: ok"), std::string::npos) << verify.out;
    const CmdResult run = Iotad({"run"});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("check lake_verified                ok"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("gold: up to date"), std::string::npos) << run.out;
  }

  TempDir dir_;
  std::string lake_;
  long long silver_rows_ = 0;
  long long quarantine_rows_ = 0;
};

TEST_F(VerifyE2eTest, SilverFileDeletedByHandFailsRunAndVerifyAndRepairRestoresTheRows) {
  const std::string lost = SilverFiles().at(2);
  ASSERT_TRUE(fs::remove(fs::path(lake_) / lost));
  // The silver view reads the committed files: a lost one is left out with a warning naming it.
  const CmdResult sql = Iotad({"sql", "SELECT count(*) FROM silver"});
  EXPECT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_NE(sql.err.find("warning: " + lost + " is committed but missing"), std::string::npos) << sql.err;
  ASSERT_LT(SqlInt(lake_, "SELECT count(*) FROM silver"), silver_rows_);

  // The issue's repro: every run check passed and gold stayed "up to date".
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("check lake_verified                FAILED: missing " + lost), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("gold: up to date"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("gold: not run:"), std::string::npos) << run.out;
  const CmdResult gold = Iotad({"gold"});
  EXPECT_EQ(gold.exit_code, 1) << gold.out;
  EXPECT_NE(gold.err.find(lost), std::string::npos) << gold.err;

  const CmdResult verify = Iotad({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  const size_t line = verify.out.find("\nmissing    " + lost + ": committed by commit ");
  ASSERT_NE(line, std::string::npos) << verify.out;
  EXPECT_EQ(verify.out.substr(verify.out.find('\n', line + 1) - 15, 15), "but not on disk") << verify.out;
  EXPECT_NE(verify.out.find("verify: 1 problem\n"), std::string::npos) << verify.out;
  ExpectRepairRestores();
}

TEST_F(VerifyE2eTest, FlippedByteIsDamagedByChecksumAndRepairRewritesTheFile) {
  const std::string victim = SilverFiles().at(1);
  const fs::path path = fs::path(lake_) / victim;
  std::string bytes = ReadFile(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  WriteFile(path, bytes);

  // Same size: only the checksum sees it.
  EXPECT_EQ(Iotad({"verify", "--quick"}).exit_code, 0);
  const CmdResult verify = Iotad({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("damaged    " + victim + ": checksum"), std::string::npos) << verify.out;
  const CmdResult repair = Iotad({"verify", "--repair"});
  EXPECT_NE(repair.out.find("repair: moved " + victim + " -> _iotad/damaged/"), std::string::npos) << repair.out;
  ExpectRepairRestores(repair);
}

TEST_F(VerifyE2eTest, TruncatedFileIsDamagedEvenForTheQuickCheckAndRepaired) {
  const std::string victim = SilverFiles().back();
  const fs::path path = fs::path(lake_) / victim;
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  const CmdResult quick = Iotad({"verify", "--quick"});
  EXPECT_EQ(quick.exit_code, 1) << quick.out;
  EXPECT_NE(quick.out.find(fmt::format("damaged    {}: {} bytes on disk, commit", victim, size / 2)), std::string::npos)
      << quick.out;
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("check lake_verified                FAILED: damaged " + victim), std::string::npos)
      << run.out << run.err;
  ExpectRepairRestores();
}

TEST_F(VerifyE2eTest, StrayFileInSilverIsListedAndRepairMovesItAsideKeepingIt) {
  // What `COPY ... TO 'LAKE/silver/.../evil.parquet'` did: a readable Parquet file nobody committed.
  const std::string model = SilverFiles().front();
  const std::string stray = fs::path(model).parent_path().string() + "/evil.parquet";
  fs::copy_file(fs::path(lake_) / model, fs::path(lake_) / stray);
  // External engines globbing the folder read it too; iotad's views read only committed files.
  ASSERT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), silver_rows_);

  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE(run.out.find("check lake_verified                FAILED: stray " + stray), std::string::npos) << run.out;
  const CmdResult verify = Iotad({"verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.out.find("stray      " + stray + ": "), std::string::npos) << verify.out;

  const CmdResult repair = Iotad({"verify", "--repair"});
  EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(repair.out, m, std::regex("repair: moved \\S+ -> (_iotad/stray/\\S+)"))) << repair.out;
  EXPECT_EQ(m[1].str().substr(m[1].str().size() - stray.size()), stray);
  EXPECT_EQ(ReadFile(fs::path(lake_) / m[1].str()), ReadFile(fs::path(lake_) / model));  // kept, byte for byte
  EXPECT_FALSE(fs::exists(fs::path(lake_) / stray));
  EXPECT_EQ(repair.out.find("rebuilt"), std::string::npos) << repair.out;  // nothing to rebuild
  ExpectRepairRestores(repair);
}

TEST_F(VerifyE2eTest, UnbalancedCommitAccountingIsReportedAndARebuildReplacesIt) {
  // The silver commit's record, with one stored row fewer than its rows account for.
  std::string silver_log;
  for (const auto& f : ListFiles(lake_, "_iotad/log/")) {
    if (ReadFile(fs::path(lake_) / f).find("\"stage\":\"silver\"") != std::string::npos) silver_log = f;
  }
  ASSERT_FALSE(silver_log.empty());
  std::string record = ReadFile(fs::path(lake_) / silver_log);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(record, m, std::regex("\"accounting\":\\{\"rows\":\\d+,\"stored\":(\\d+)")));
  record.replace(m.position(1), m.length(1), std::to_string(std::stoll(m[1]) - 1));
  WriteFile(fs::path(lake_) / silver_log, record);

  const CmdResult verify = Iotad({"verify", "--quick"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_TRUE(std::regex_search(verify.out, std::regex("accounting +" + silver_log + ": silver commit \\d+ does not balance: "
                                                       "\\d+ rows != \\d+ stored \\+ \\d+ quarantined \\+ \\d+ duplicates")))
      << verify.out;
  const CmdResult repair = Iotad({"verify", "--repair"});
  EXPECT_NE(repair.out.find("repair: silver and quarantine rebuilt from bronze"), std::string::npos) << repair.out;
  ExpectRepairRestores(repair);
}

TEST_F(VerifyE2eTest, MissingBronzeCannotBeRebuiltAndSilverIsLeftAsItIs) {
  const std::string bronze = ListFiles(lake_, "bronze/").front();
  ASSERT_TRUE(fs::remove(fs::path(lake_) / bronze));
  const std::string lost = SilverFiles().front();
  ASSERT_TRUE(fs::remove(fs::path(lake_) / lost));
  const long long rows_left = SqlInt(lake_, "SELECT count(*) FROM silver");

  const CmdResult repair = Iotad({"verify", "--repair"});
  EXPECT_EQ(repair.exit_code, 1) << repair.out << repair.err;
  EXPECT_NE(repair.out.find("repair: not repaired: " + bronze + " is missing: bronze is the raw input and cannot be rebuilt"),
            std::string::npos)
      << repair.out;
  EXPECT_NE(repair.out.find("silver was not rebuilt"), std::string::npos) << repair.out;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), rows_left);  // no rebuild on partial bronze
}

TEST_F(VerifyE2eTest, RecordsWithoutStampsVerifyByExistenceAndSaySo) {
  // Rewrite the log as iotad wrote it before stamps: moves as [from, to] pairs.
  for (const auto& f : ListFiles(lake_, "_iotad/log/")) {
    const fs::path p = fs::path(lake_) / f;
    WriteFile(p, std::regex_replace(ReadFile(p), std::regex(",\\d+,\"[0-9a-f]{32}\"\\]"), "]"));
  }
  const CmdResult verify = Iotad({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(std::regex_search(verify.out, std::regex("\\d+ objects have no recorded size and checksum \\(committed "
                                                       "before iotad recorded them, .*\\): checked for existence only")))
      << verify.out;
  const std::string lost = SilverFiles().front();
  ASSERT_TRUE(fs::remove(fs::path(lake_) / lost));
  const CmdResult after = Iotad({"verify", "--format", "json"});
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_NE(after.out.find(fmt::format(R"({{"kind":"missing","key":"{}")", lost)), std::string::npos) << after.out;
  EXPECT_NE(after.out.find(R"("ok":false)"), std::string::npos) << after.out;
  ExpectRepairRestores();
}

TEST_F(VerifyE2eTest, LostGoldFileThatGoldNoLongerProducesIsDroppedFromTheLogByRepair) {
  const std::string lost = ListFiles(lake_, "gold/").front();
  ASSERT_TRUE(fs::remove(fs::path(lake_) / lost));
  // New data moves every baseline, so gold rewrites its hours under new names; the lost one stays lost.
  ASSERT_EQ(Iotad({"generate", "--devices", "6", "--hours", "4", "--start", "2024-01-01T08:00:00Z", "--seed", "7"}).exit_code, 0);
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("check lake_verified                FAILED: missing " + lost), std::string::npos) << run.out;
  const long long silver_rows = SqlInt(lake_, "SELECT count(*) FROM silver");
  const CmdResult repair = Iotad({"verify", "--repair"});
  EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_NE(repair.out.find("repair: " + lost + " was lost and gold no longer produces it: dropped from the log"),
            std::string::npos)
      << repair.out;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), silver_rows);
  EXPECT_EQ(Iotad({"verify"}).exit_code, 0);
  EXPECT_EQ(Iotad({"run"}).exit_code, 0);
}

TEST_F(VerifyE2eTest, BronzeFileDroppedByHandIsAStrayUntilSilverReadsIt) {
  const fs::path by_hand = fs::path(lake_) / "bronze/dt=2024-01-01/hour=00/by-hand.csv";
  WriteFile(by_hand, "event_time,device_id,temp_c\n2024-01-01T00:30:00Z,by-hand,21.5\n");
  const CmdResult before = Iotad({"verify", "--quick"});
  EXPECT_EQ(before.exit_code, 1);
  EXPECT_NE(before.out.find("stray      bronze/dt=2024-01-01/hour=00/by-hand.csv: "), std::string::npos) << before.out;
  // Silver reads every bronze file; once its rows are in silver the file is part of the lake.
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver WHERE device_id = 'by-hand'"), 1);
  const CmdResult after = Iotad({"verify"});
  EXPECT_EQ(after.exit_code, 0) << after.out;
}

}  // namespace
}  // namespace iotad::e2e
