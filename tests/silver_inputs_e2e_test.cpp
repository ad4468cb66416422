// End-to-end tests of silver on the inputs issue 7 reports (the real binary on real lakes):
// per-cell quarantine, text columns as dimensions, column roles kept across runs, the metric
// column cap, partial rows merging, parse counts in the run record, unreadable bronze objects.
#include <zlib.h>

#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

class SilverInputsTest : public LakeE2eTest {
 protected:
  /// Ingests `text` as a file named `name` and runs silver; returns silver's result.
  CmdResult IngestAndSilver(const std::string& name, const std::string& text) {
    const std::string path = dir_ / ("in-" + std::to_string(files_++) + "/" + name);
    WriteFile(path, text);
    const CmdResult ingest = Iotad({"ingest", path});
    EXPECT_EQ(ingest.exit_code, 0) << ingest.err;
    return Iotad({"silver"});
  }
  /// Replaces the lake's config (every option not named keeps its default).
  void Configure(const std::string& toml) { WriteFile(fs::path(lake_) / "iotad.toml", toml); }
  long long Int(const std::string& sql) { return SqlInt(lake_, sql); }
  int files_ = 0;
};

/// Rows, stored, quarantined, duplicates, merged of every silver commit, summed over the runs.
void ExpectBalanced(const std::string& lake) {
  const long long rows = SqlInt(lake, "SELECT coalesce(sum((counts->>'rows')::BIGINT), 0) FROM runs WHERE command = 'silver'");
  const long long parts = SqlInt(lake,
                                 "SELECT coalesce(sum((counts->>'stored')::BIGINT + (counts->>'quarantined')::BIGINT + "
                                 "(counts->>'duplicates')::BIGINT + coalesce((counts->>'merged')::BIGINT, 0)), 0) "
                                 "FROM runs WHERE command = 'silver'");
  EXPECT_EQ(rows, parts);
}

// Issue 7: one Latin-1 CSV (`Z\xfcrich`) broke `SELECT * FROM silver`, gold and run. [parser]
TEST_F(SilverInputsTest, Latin1BytesNeverBreakSilverGoldOrRun) {
  const CmdResult s = IngestAndSilver("latin1.csv",
                                      "event_time,device_id,temp_c,location\n"
                                      "2024-03-01T10:00:00Z,d1,20.5,Z\xfcrich\n"
                                      "2024-03-01T10:01:00Z,d1,20.6,Z\xfcrich\n"
                                      "2024-03-01T10:02:00Z,d1,20.7,Oslo\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const CmdResult all = Iotad({"sql", "SELECT * FROM silver"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  const CmdResult q = Iotad({"sql", "SELECT * FROM quarantine"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  // Every row is stored (the bad bytes replaced) or quarantined with a reason.
  EXPECT_EQ(Int("SELECT count(*) FROM silver") + Int("SELECT count(*) FROM quarantine WHERE column_name IS NULL"), 3);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE location = 'Oslo'"), 1);
  const CmdResult gold = Iotad({"gold"});
  EXPECT_EQ(gold.exit_code, 0) << gold.err;
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
}

// silver.encoding = "latin-1" decodes the same bytes as the text they are. [parser]
TEST_F(SilverInputsTest, Latin1EncodingOptionDecodesTheText) {
  Configure("[silver]\nencoding = \"latin-1\"\n");
  const CmdResult s = IngestAndSilver("latin1.csv",
                                      "event_time,device_id,temp_c,location\n"
                                      "2024-03-01T10:00:00Z,d1,20.5,Z\xfcrich\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE location = 'Z\xc3\xbcrich'"), 1);
}

// Issue 7: NaN / N/A / NULL in one metric quarantined the whole row and its valid metrics. A
// null token is NULL; text that is no number is NULL with a per-cell record. [parser]
TEST_F(SilverInputsTest, BadValueInOneMetricKeepsTheRowsOtherMetrics) {
  const CmdResult s = IngestAndSilver("nan.csv",
                                      "event_time,device_id,temp_c,humidity_pc\n"
                                      "2024-03-01T10:00:00Z,d1,NaN,40\n"
                                      "2024-03-01T10:01:00Z,d1,N/A,41\n"
                                      "2024-03-01T10:02:00Z,d1,NULL,42\n"
                                      "2024-03-01T10:03:00Z,d1,warm,43\n"
                                      "2024-03-01T10:04:00Z,d1,21.5,44\n"
                                      "2024-03-01T10:05:00Z,d1,21.6,45\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 6);
  EXPECT_EQ(Int("SELECT count(humidity_pc) FROM silver"), 6);
  EXPECT_EQ(Int("SELECT count(temp_c) FROM silver"), 2);
  // One per-cell record (the text), none for the null tokens; no whole row quarantined.
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE column_name = 'temp_c' AND reason = 'bad_number' AND line = 5"),
            1);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE column_name IS NULL"), 0);
  EXPECT_EQ(Int("SELECT (counts->>'cells_quarantined')::BIGINT FROM runs WHERE command = 'silver'"), 1);
  EXPECT_EQ(Int("SELECT (counts->>'null_cells')::BIGINT FROM runs WHERE command = 'silver'"), 3);
  EXPECT_NE(s.out.find("3 null cells"), std::string::npos) << s.out;
  ExpectBalanced(lake_);
  // Per-cell records are not quarantined rows: the run's checks still pass.
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
}

// A finite 1e308 in silver blinded gold's batch z-scores for its whole series (its mean and
// deviation became 1e306): the real spike beside it got no flag. Such a cell is quarantined now,
// with the reason, and gold sees the series as it is.
TEST_F(SilverInputsTest, AReadingNoSensorCanGiveIsQuarantinedAndDoesNotBlindGold) {
  std::string csv = "event_time,device_id,temp_c,humidity_pc\n";
  for (int i = 0; i < 60; ++i) {
    const char* temp = i == 30 ? "45.0" : i == 45 ? "1e308" : (i % 3 == 0 ? "20.1" : i % 3 == 1 ? "19.9" : "20.0");
    csv += fmt::format("2024-03-01T10:{:02d}:00Z,d1,{},{}\n", i, temp, 40 + i % 2);
  }
  const CmdResult s = IngestAndSilver("huge.csv", csv);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 60);
  EXPECT_EQ(Int("SELECT count(temp_c) FROM silver"), 59);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE column_name = 'temp_c' AND reason = 'bad_number' AND "
                "detail LIKE '%1e308%not a usable reading%'"),
            1)
      << Sql(lake_, "SELECT reason, detail FROM quarantine");
  const CmdResult gold = Iotad({"gold"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  EXPECT_EQ(Int("SELECT count(*) FROM anomalies WHERE detector = 'zscore' AND metric = 'temp_c' AND value = 45.0"), 1)
      << Sql(lake_, "SELECT detector, metric, value FROM anomalies");
  EXPECT_LT(Int("SELECT CAST(max(temp_c) AS BIGINT) FROM silver"), 100);
  ExpectBalanced(lake_);
}

// Issue 7: one message per metric at the same timestamp was quarantined as conflicting_duplicate.
TEST_F(SilverInputsTest, PartialJsonMessagesOfOneReadingMerge) {
  const CmdResult s = IngestAndSilver("partial.jsonl",
                                      R"({"ts":"2024-03-01T10:00:00Z","device_id":"d1","temp_c":20})" "\n"
                                      R"({"ts":"2024-03-01T10:00:00Z","device_id":"d1","humidity_pc":50})" "\n"
                                      R"({"ts":"2024-03-01T10:00:00Z","device_id":"d1","humidity_pc":51})" "\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("3 bronze rows = 1 stored + 1 quarantined + 0 duplicates + 1 merged"), std::string::npos)
      << s.out;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c = 20 AND humidity_pc = 50"), 1);
  // The third contradicts the merged row (humidity 51 vs 50): a conflict, as before.
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE reason = 'conflicting_duplicate' AND line = 3"), 1);
  EXPECT_EQ(Int("SELECT (counts->>'merged')::BIGINT FROM runs WHERE command = 'silver'"), 1);
  ExpectBalanced(lake_);
}

// One file per metric, each over several hours: the second file's rows reach hours the first
// already handed to the writer, and still merge into one row per reading.
TEST_F(SilverInputsTest, PartialRowsInLaterFilesMergeWithRowsAlreadyWritten) {
  std::string temp, hum;
  for (int h = 0; h < 3; ++h) {
    for (int m = 0; m < 60; m += 10) {
      temp += fmt::format(R"({{"ts":"2024-03-01T{:02}:{:02}:00Z","device_id":"d1","temp_c":{}}})" "\n", h, m, h * 100 + m);
      hum += fmt::format(R"({{"ts":"2024-03-01T{:02}:{:02}:00Z","device_id":"d1","humidity_pc":{}}})" "\n", h, m, m);
    }
  }
  WriteFile(dir_ / "in/a_temp.jsonl", temp);
  WriteFile(dir_ / "in/b_hum.jsonl", hum);
  ASSERT_EQ(Iotad({"ingest", dir_ / "in"}).exit_code, 0);
  const CmdResult s = Iotad({"silver"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 18);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c IS NOT NULL AND humidity_pc IS NOT NULL"), 18);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine"), 0);
  EXPECT_EQ(Int("SELECT (counts->>'merged')::BIGINT FROM runs WHERE command = 'silver'"), 18);
  ExpectBalanced(lake_);
}

// The same across runs: the stored row's file is rewritten with the merged row.
TEST_F(SilverInputsTest, PartialRowsInALaterRunMergeWithStoredRows) {
  ASSERT_EQ(IngestAndSilver("t.jsonl", R"({"ts":"2024-03-01T10:00:00Z","device_id":"d1","temp_c":20})" "\n"
                                       R"({"ts":"2024-03-01T10:01:00Z","device_id":"d1","temp_c":21})" "\n")
                .exit_code,
            0);
  const CmdResult s = IngestAndSilver("h.jsonl", R"({"ts":"2024-03-01T10:00:00Z","device_id":"d1","humidity_pc":50})" "\n"
                                                 R"({"ts":"2024-03-01T10:02:00Z","device_id":"d1","humidity_pc":52})" "\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 3);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c = 20 AND humidity_pc = 50"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c = 21 AND humidity_pc IS NULL"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine"), 0);
  ExpectBalanced(lake_);
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 3);
}

// Issue 7: a text column other than `location` quarantined every row as bad_number. [parser]
TEST_F(SilverInputsTest, TextColumnFirmwareIsADimension) {
  const CmdResult s = IngestAndSilver("fw.csv",
                                      "event_time,device_id,temp_c,firmware\n"
                                      "2024-03-01T10:00:00Z,d1,20.5,v1.2.3\n"
                                      "2024-03-01T10:01:00Z,d2,20.6,v1.2.4\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE firmware = 'v1.2.3' AND temp_c = 20.5"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 2);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_name = 'firmware' AND column_type = 'VARCHAR'"), 1);
}

// A column keeps its role for the life of the lake: a metric that later holds text stays a
// metric (the text is a per-cell record), so the views never see DOUBLE and VARCHAR for one
// name. [parser: the text cell is a per-cell reject only once the parser honours known_metrics]
TEST_F(SilverInputsTest, AMetricStaysAMetricWhenALaterRunBringsText) {
  ASSERT_EQ(IngestAndSilver("a.csv", "event_time,device_id,fw\n2024-03-01T10:00:00Z,d1,1\n").exit_code, 0);
  const CmdResult s = IngestAndSilver("b.csv", "event_time,device_id,fw,temp_c\n2024-03-01T11:00:00Z,d1,v2,20\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_name = 'fw' AND column_type = 'DOUBLE'"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 2);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c = 20 AND fw IS NULL"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE column_name = 'fw' AND reason = 'bad_number'"), 1);
  EXPECT_EQ(Iotad({"sql", "SELECT * FROM silver"}).exit_code, 0);
  // --rebuild starts from the config alone: both files again, in order, with the same outcome.
  ASSERT_EQ(Iotad({"silver", "--rebuild"}).exit_code, 0);
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 2);
}

// ... and a text column that later holds numbers stays text.
TEST_F(SilverInputsTest, ADimensionStaysADimensionWhenALaterRunBringsNumbers) {
  Configure("[silver]\ndimension_columns = [\"location\", \"site\"]\n");
  ASSERT_EQ(IngestAndSilver("a.csv", "event_time,device_id,temp_c,site\n2024-03-01T10:00:00Z,d1,20,north\n").exit_code,
            0);
  // The config no longer declares it: the lake's record of its role is what keeps it text.
  WriteFile(fs::path(lake_) / "iotad.toml", "");
  const CmdResult s = IngestAndSilver("b.csv", "event_time,device_id,temp_c,site\n2024-03-01T11:00:00Z,d1,21,5\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_name = 'site' AND column_type = 'VARCHAR'"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE site = '5'"), 1);
  EXPECT_EQ(Iotad({"sql", "SELECT * FROM silver"}).exit_code, 0);
}

// A lake written before commits recorded the roles: they come from its silver files' types.
TEST_F(SilverInputsTest, RolesOfALakeWithoutTheRecordComeFromItsSilverFiles) {
  Configure("[silver]\ndimension_columns = [\"location\", \"site\"]\n");
  ASSERT_EQ(IngestAndSilver("a.csv", "event_time,device_id,temp_c,site\n2024-03-01T10:00:00Z,d1,20,north\n").exit_code,
            0);
  for (const auto& log : ListFiles(lake_, "_iotad/log/")) {
    const fs::path path = fs::path(lake_) / log;
    WriteFile(path, std::regex_replace(ReadFile(path), std::regex(R"("columns":\{[^}]*\},)"), ""));
    ASSERT_EQ(ReadFile(path).find("\"columns\""), std::string::npos);
  }
  Configure("");
  const CmdResult s = IngestAndSilver("b.csv", "event_time,device_id,temp_c,site\n2024-03-01T11:00:00Z,d1,21,5\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE site = '5'"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_name = 'site' AND column_type = 'VARCHAR'"), 1);
}

// Issue 7: ~5,000 distinct JSON keys made gold fail; silver caps metric columns per lake.
TEST_F(SilverInputsTest, FiveThousandDistinctKeysAreCappedAtMaxMetricColumns) {
  std::string jsonl;
  for (int i = 0; i < 5000; ++i) {
    jsonl += fmt::format(R"({{"ts":"2024-03-01T10:{:02}:{:02}.{:03}Z","device_id":"d1","k{}":{},"temp_c":1}})" "\n",
                         i / 600, (i / 10) % 60, i % 10, i, i);
  }
  const CmdResult s = IngestAndSilver("wide.jsonl", jsonl);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const long long metric_columns =
      Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_type = 'DOUBLE'");
  EXPECT_LE(metric_columns, 1000);
  EXPECT_GE(metric_columns, 999);
  EXPECT_EQ(Int("SELECT count(*) FROM silver"), 5000);
  EXPECT_EQ(Int("SELECT count(temp_c) FROM silver"), 5000);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE reason = 'column_limit'"), 5000 - (metric_columns - 1));
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE reason = 'column_limit' AND detail LIKE "
                "'the lake already has 1000 metric columns (silver.max_metric_columns); column ''k4999'' is not stored'"),
            1);
  ExpectBalanced(lake_);
}

// The cap holds across runs, with its message, and the run's checks count rows, not cells.
TEST_F(SilverInputsTest, MetricCapHoldsAcrossRunsAndCellsAreNotRowsInTheChecks) {
  Configure("[silver]\nmax_metric_columns = 2\n");
  ASSERT_EQ(IngestAndSilver("a.csv", "event_time,device_id,a,b\n2024-03-01T10:00:00Z,d1,1,2\n").exit_code, 0);
  std::string csv = "event_time,device_id,a,c,b\n";
  for (int m = 0; m < 30; ++m) csv += fmt::format("2024-03-01T11:{:02}:00Z,d1,1,{},2\n", m, m);
  const CmdResult s = IngestAndSilver("b.csv", csv);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM (DESCRIBE silver) WHERE column_name = 'c'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE a = 1 AND b = 2"), 31);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE reason = 'column_limit' AND column_name = 'c' AND detail = "
                "'the lake already has 2 metric columns (silver.max_metric_columns); column ''c'' is not stored'"),
            30);
  EXPECT_NE(s.out.find("column_limit"), std::string::npos) << s.out;
  // 30 per-cell records beside 31 stored rows: not a 49% quarantine rate.
  const CmdResult run = Iotad({"run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(Int("SELECT (counts->>'cells_quarantined')::BIGINT FROM runs WHERE command = 'silver' ORDER BY started_at "
                "DESC LIMIT 1"),
            30);
}

// Issue 7: one truncated .gz aborted every run. In bronze, it is one quarantined record
// (unreadable_file) and the other files go on; its complete lines are stored. [bronze: the prefix]
TEST_F(SilverInputsTest, TruncatedGzipInBronzeIsQuarantinedAndTheRestGoesOn) {
  std::string csv = "event_time,device_id,temp_c\n";
  for (int i = 0; i < 2000; ++i) csv += fmt::format("2024-01-01T05:{:02}:{:02}Z,dev-{},{}.5\n", i / 60 % 60, i % 60, i % 7, i);
  const std::string gz = Gzip(csv);
  WriteFile(fs::path(lake_) / "bronze/dt=2024-01-01/hour=05/truncated.csv.gz", gz.substr(0, gz.size() / 2));
  WriteFile(fs::path(lake_) / "bronze/dt=2024-01-01/hour=06/good.csv",
            "event_time,device_id,temp_c\n2024-01-01T06:00:00Z,dev-1,1.5\n");
  const CmdResult s = Iotad({"silver"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE hour = 6"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM quarantine WHERE reason = 'unreadable_file' AND source_file LIKE "
                "'%truncated.csv.gz' AND column_name IS NULL"),
            1);
  EXPECT_NE(Sql(lake_, "SELECT detail FROM quarantine WHERE reason = 'unreadable_file'").find("cannot be read"),
            std::string::npos);
  ExpectBalanced(lake_);
  // The readable prefix's complete lines are stored.
  EXPECT_GT(Int("SELECT count(*) FROM silver WHERE hour = 5"), 0);
  // rows = the prefix's stored rows + the unreadable record + the good file's row.
  EXPECT_EQ(Int("SELECT (counts->>'rows')::BIGINT FROM runs WHERE command = 'silver'"),
            Int("SELECT count(*) FROM silver WHERE hour = 5") + 2);
  EXPECT_EQ(Iotad({"status"}).exit_code, 0);
}

// Zone-less timestamps follow silver.default_timezone and are counted. [parser]
TEST_F(SilverInputsTest, ZonelessTimestampsAreCountedInTheRunRecord) {
  Configure("[silver]\ndefault_timezone = \"+01:00\"\n");
  const CmdResult s = IngestAndSilver("local.csv",
                                      "event_time,device_id,temp_c\n"
                                      "2024-03-01T10:00:00,d1,20\n"
                                      "2024-03-01T10:01:00Z,d1,21\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE event_time = '2024-03-01 09:00:00+00'"), 1);
  EXPECT_EQ(Int("SELECT (counts->>'zoneless_timestamps')::BIGINT FROM runs WHERE command = 'silver'"), 1);
  EXPECT_NE(s.out.find("1 zone-less timestamps"), std::string::npos) << s.out;
}

}  // namespace
}  // namespace iotad::e2e

namespace iotad::e2e {
namespace {

// silver.delimiter reaches the parser. [parser]
TEST_F(SilverInputsTest, ConfiguredDelimiterIsUsed) {
  Configure("[silver]\ndelimiter = \";\"\n");
  const CmdResult s = IngestAndSilver("semi.csv",
                                      "event_time;device_id;temp_c\n"
                                      "2024-03-01T10:00:00Z;d1;20,5\n"
                                      "2024-03-01T10:01:00Z;d1;21\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Int("SELECT count(*) FROM silver WHERE temp_c = 21"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM silver") + Int("SELECT count(*) FROM quarantine WHERE column_name IS NULL"), 2);
}

}  // namespace
}  // namespace iotad::e2e
