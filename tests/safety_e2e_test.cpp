// End-to-end tests of issue 7's safety rules: read-only SQL, validated config, thread failures.
#include <algorithm>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

void ExpectOneLineError(const CmdResult& r, int code, const std::string& words) {
  EXPECT_EQ(r.signal, 0) << "crashed";
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
  EXPECT_EQ(r.err.rfind("iotad: ", 0), 0u) << r.err;
}

/// A small lake with every layer filled: bronze, silver, gold, gold_summary, runs.
class SafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_ / "lake";
    ASSERT_EQ(RunIotad({"init", lake_}).exit_code, 0);
    ASSERT_EQ(RunIotad({"generate", "--devices", "3", "--hours", "2", "--lake", lake_}).exit_code, 0);
    const CmdResult r = RunIotad({"run", "--lake", lake_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_FALSE(ListFiles(lake_, "silver/").empty());
  }
  CmdResult Sql(const std::string& query, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"sql", "--lake", lake_, "--format", "csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(query);
    return RunIotad(args);
  }
  /// Every file of silver with its bytes: what "silver unchanged" compares.
  std::vector<std::pair<std::string, std::string>> SilverSnapshot() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : ListFiles(lake_, "silver/")) out.emplace_back(f, ReadFile(fs::path(lake_) / f));
    return out;
  }
  void SetConfig(const std::string& from, const std::string& to) {
    std::string text = ReadFile(fs::path(lake_) / "iotad.toml");
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    WriteFile(fs::path(lake_) / "iotad.toml", text);
  }
  TempDir dir_;
  std::string lake_;
};

TEST_F(SafetyTest, RefusedStatementsExitTwoAndLeaveSilverUnchanged) {
  const auto before = SilverSnapshot();
  const std::string hour_dir = (fs::path(lake_) / fs::path(before.front().first).parent_path()).string();
  WriteFile(dir_ / "outside.csv", "a,b\n1,2\n");
  // Issue 7 repro: this COPY used to put a stray row into silver.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {fmt::format("COPY (SELECT 1 x) TO '{}/evil.parquet'", hour_dir), "COPY statements are refused"},
      {fmt::format("EXPLAIN ANALYZE COPY (SELECT 1 x) TO '{}/evil.parquet'", hour_dir), "COPY statements are refused"},
      {fmt::format("ATTACH '{}' AS x", dir_ / "x.db"), "ATTACH statements are refused"},
      {"INSTALL httpfs", "INSTALL/LOAD statements are refused"},
      {"LOAD parquet", "INSTALL/LOAD statements are refused"},
      {"SELECT * FROM read_text('/etc/hostname')", "/etc/hostname"},
      {fmt::format("SELECT * FROM read_csv('{}')", dir_ / "outside.csv"), "outside.csv"},
      {fmt::format("SELECT * FROM read_text('{}/iotad.toml')", lake_), "iotad.toml"},
      {"CREATE TABLE t AS SELECT 1 x", "CREATE statements are refused"},
      {"SET enable_external_access = true", "SET statements are refused"},
      {"SELECT 1; COPY (SELECT 1 x) TO 'x.csv'", "one statement at a time"},
  };
  for (const auto& [query, words] : refused) {
    SCOPED_TRACE(query);
    ExpectOneLineError(Sql(query), 2, words);
  }
  EXPECT_EQ(SilverSnapshot(), before);
}

TEST_F(SafetyTest, SelectsOverEveryViewStillWork) {
  for (const char* view : {"silver", "quarantine", "anomalies", "gold_summary", "runs", "bronze", "bronze_rows"}) {
    const CmdResult r = Sql(fmt::format("SELECT count(*) AS n FROM {}", view));
    EXPECT_EQ(r.exit_code, 0) << view << ": " << r.err;
    EXPECT_EQ(r.out.rfind("n\n", 0), 0u) << view << ": " << r.out;
  }
  // Reading works end to end: every raw row of the clean generated files is in silver (line 1
  // of each file is its header).
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE line > 1"), SqlInt(lake_, "SELECT count(*) FROM silver"));
  EXPECT_GT(SqlInt(lake_, "SELECT count(*) FROM runs"), 0);
  for (const char* query : {"DESCRIBE silver", "SUMMARIZE gold_summary", "EXPLAIN SELECT count(*) FROM anomalies",
                            "EXPLAIN ANALYZE SELECT count(*) FROM silver"}) {
    const CmdResult r = Sql(query);
    EXPECT_EQ(r.exit_code, 0) << query << ": " << r.err;
  }
}

TEST_F(SafetyTest, AllowReadOpensOneMoreFolderForReading) {
  WriteFile(dir_ / "labels/l.csv", "device_id,kind\ndev-00000,spike\n");
  const std::string query = fmt::format("SELECT kind FROM read_csv('{}/labels/l.csv')", dir_.path().string());
  ExpectOneLineError(Sql(query), 2, "l.csv");
  const CmdResult r = Sql(query, {"--allow-read", dir_ / "labels"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "kind\nspike\n");
  // Reading is all it opens.
  ExpectOneLineError(Sql(fmt::format("COPY (SELECT 1 x) TO '{}/labels/y.csv'", dir_.path().string()),
                         {"--allow-read", dir_ / "labels"}),
                     2, "COPY statements are refused");
}

TEST_F(SafetyTest, SpillingToTheTempFolderStillWorks) {
  // 32 MiB of memory for a sort of ~80 MB: it only finishes if DuckDB may spill.
  SetConfig("memory_limit = \"1GB\"", "memory_limit = \"32MiB\"");
  SetConfig("threads = 0", "threads = 1");
  const CmdResult r =
      Sql("SELECT count(*) AS n FROM (SELECT i, random() AS r FROM range(5000000) t(i) ORDER BY r)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n5000000\n");
}

TEST_F(SafetyTest, AllowWritesExportsACsvToTheNamedFolderOnly) {
  const auto before = SilverSnapshot();
  const std::string exports = dir_ / "exports";
  const std::string select = "SELECT device_id, count(*) AS n FROM silver GROUP BY ALL ORDER BY device_id";
  CmdResult r = Sql(fmt::format("COPY ({}) TO '{}/devices.csv' (HEADER)", select, exports), {"--allow-writes", exports});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(fs::path(exports) / "devices.csv"), e2e::Sql(lake_, select));
  // Still nowhere else, and never into the lake's own folders.
  const std::string hour_dir = (fs::path(lake_) / fs::path(before.front().first).parent_path()).string();
  ExpectOneLineError(Sql(fmt::format("COPY (SELECT 1 x) TO '{}/evil.parquet'", hour_dir), {"--allow-writes", exports}),
                     2, "may only write below");
  ExpectOneLineError(
      Sql(fmt::format("COPY (SELECT 1 x) TO '{}/../lake/silver/evil.parquet'", exports), {"--allow-writes", exports}),
      2, "may only write below");
  ExpectOneLineError(Sql("CREATE TABLE t AS SELECT 1 x", {"--allow-writes", exports}), 2, "CREATE statements");
  ExpectOneLineError(Sql("SELECT 1", {"--allow-writes", lake_ + "/silver"}), 2, "outside the lake's own folders");
  ExpectOneLineError(Sql("SELECT 1", {"--allow-writes", lake_}), 2, "outside the lake's own folders");
  EXPECT_EQ(SilverSnapshot(), before);
}

TEST_F(SafetyTest, BadConfigValuesAreRefusedByCheckAndAtStart) {
  const std::string original = ReadFile(fs::path(lake_) / "iotad.toml");
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"threads = 0", "threads = 100000", "'duckdb.threads'"},
      {"memory_limit = \"1GB\"", "memory_limit = \"lots\"", "'duckdb.memory_limit'"},
      {"zscore_threshold = 3.0", "zscore_threshold = nan", "'gold.zscore_threshold'"},
      {"false_alarms_per_day = 0.02", "false_alarms_per_day = inf", "'gold.false_alarms_per_day'"},
      {"compression = \"zstd\"", "compression = \"lz4\"", "'silver.compression'"},
      {"default_timezone = \"UTC\"", "default_timezone = \"Europe/Berlin\"", "'silver.default_timezone'"},
  };
  for (const auto& [from, to, key] : cases) {
    SCOPED_TRACE(to);
    WriteFile(fs::path(lake_) / "iotad.toml", original);
    SetConfig(from, to);
    ExpectOneLineError(RunIotad({"config", "check", "--lake", lake_}), 2, key);
    ExpectOneLineError(Sql("SELECT 1"), 2, key);
  }
  // Issue 7 repro: detector parameters gold refuses passed `config check`.
  WriteFile(fs::path(lake_) / "iotad.toml", original + "\n[[detect.rule]]\nparams = { \"window_z.window\" = 100000 }\n");
  ExpectOneLineError(RunIotad({"config", "check", "--lake", lake_}), 2, "window_z.window");
  ExpectOneLineError(RunIotad({"gold", "--lake", lake_}), 2, "window_z.window");
}

TEST_F(SafetyTest, ThreadsAboveTheMachineAreCappedWithAWarning) {
  SetConfig("threads = 0", "threads = 1024");
  CmdResult r = RunIotad({"config", "check", "--lake", lake_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"('duckdb.threads' = 1024 is more than the (\d+) hardware)")))
      << r.out;
  const std::string cap = m[1];
  EXPECT_NE(r.err.find("warning: config: 'duckdb.threads' = 1024"), std::string::npos) << r.err;
  r = Sql("SELECT current_setting('threads') AS t");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "t\n" + cap + "\n");
}

TEST_F(SafetyTest, ARefusedThreadIsAnErrorNotACrash) {
  // The first thread gold starts is refused, as the OS does on a loaded machine (EAGAIN).
  const CmdResult r = RunIotad({"gold", "--rebuild", "--lake", lake_}, {{"IOTAD_FAIL_THREAD_START", "1"}});
  ExpectOneLineError(r, 1, "cannot start a thread for gold scoring");
  EXPECT_EQ(RunIotad({"gold", "--rebuild", "--lake", lake_}).exit_code, 0);
}

}  // namespace
}  // namespace iotad::e2e
