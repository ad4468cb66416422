// End-to-end tests of every subcommand: the real binary on real lakes in temp folders.
#include <sys/file.h>
#include <zlib.h>

#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHeader = "event_time,device_id,temp_c,humidity_pc,vibration_g,location\n";

/// Parses "accounting: R bronze rows = S stored + Q quarantined + D duplicates".
struct Accounting {
  long long rows = -1, stored = -1, quarantined = -1, duplicates = -1;
};
Accounting ParseAccounting(const std::string& out) {
  std::smatch m;
  Accounting a;
  if (std::regex_search(out, m, std::regex(R"((\d+) bronze rows = (\d+) stored \+ (\d+) quarantined \+ (\d+) duplicates)"))) {
    a = {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4])};
  }
  return a;
}

class LakeTest : public LakeE2eTest {};

TEST(InitTest, CreatesTheLayoutAndACommentedConfig) {
  TempDir dir;
  const std::string lake = dir / "lake";
  const CmdResult r = RunIotad({"init", lake});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* layer : {"bronze", "silver", "gold", "gold_summary", "quarantine", "inbox"}) {
    EXPECT_TRUE(fs::is_directory(fs::path(lake) / layer)) << layer;
  }
  const std::string config = ReadFile(fs::path(lake) / "iotad.toml");
  EXPECT_NE(config.find("zscore_threshold = 3.0"), std::string::npos);
  EXPECT_NE(config.find("# "), std::string::npos);
  const CmdResult again = RunIotad({"init", lake});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already a lake"), std::string::npos) << again.err;
}

TEST(HelpTest, EverySubcommandHasHelp) {
  for (const char* cmd : {"init", "generate", "ingest", "silver", "gold", "sql", "run", "status", "demo", "config",
                          "score-file", "eval"}) {
    const CmdResult r = RunIotad({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST_F(LakeTest, IngestLandsFilesUnchangedAndIsIdempotent) {
  const std::string csv = std::string(kHeader) + "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n";
  WriteFile(dir_ / "in/a.csv", csv);
  WriteFile(dir_ / "in/_labels.csv", "not data");
  WriteFile(dir_ / "in/b.jsonl", R"({"event_time":"2024-01-01T06:00:00Z","device_id":"dev-2","temp_c":1.5})" "\n");
  CmdResult r = Iotad({"ingest", dir_ / "in"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 new files"), std::string::npos) << r.out;
  const auto bronze = ListFiles(lake_, "bronze/");
  ASSERT_EQ(bronze.size(), 2u);
  EXPECT_EQ(bronze[0].rfind("bronze/dt=2024-01-01/hour=5/", 0), 0u) << bronze[0];
  EXPECT_EQ(ReadFile(fs::path(lake_) / bronze[0]), csv);  // byte for byte
  r = Iotad({"ingest", dir_ / "in"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 new files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 already there"), std::string::npos) << r.out;
  EXPECT_EQ(ListFiles(lake_, "bronze/").size(), 2u);
}

TEST_F(LakeTest, GzipInputIsAccepted) {
  const std::string csv = std::string(kHeader) + "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n" +
                          "2024-01-01T05:01:00Z,dev-1,20.6,40,0.01,Oslo\n";
  gzFile gz = gzopen((dir_ / "in.csv.gz").c_str(), "wb");
  gzwrite(gz, csv.data(), static_cast<unsigned>(csv.size()));
  gzclose(gz);
  ASSERT_EQ(Iotad({"ingest", dir_ / "in.csv.gz"}).exit_code, 0);
  const CmdResult r = Iotad({"silver"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 2);
}

TEST_F(LakeTest, SilverTypesDedupsQuarantinesAndAccountsForEveryRow) {
  std::string csv = kHeader;
  csv += "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n";
  csv += "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n";          // exact duplicate
  csv += "2024-01-01T05:00:00Z,dev-1,99.0,40,0.01,Oslo\n";          // same key, other value
  csv += "2024-01-01T07:00:00+02:00,dev-2,21,,0.02,Oslo\n";         // offset -> 05:00Z; empty cell
  csv += "1704085260,dev-2,21.1,41,0.02,Oslo\n";                    // epoch seconds: 05:01Z
  csv += "1704085320000,dev-2,21.2,41,0.02,Oslo\n";                 // epoch ms: 05:02Z
  csv += "2024-01-01T05:03:00Z,dev-2,21.5x,41,0.02,Oslo\n";         // bad number
  csv += "2024-13-45T99:00:00Z,dev-2,21.5,41,0.02,Oslo\n";          // bad timestamp
  csv += "2024-01-01T05:04:00Z,dev-2,21.5,41,0.02\n";               // wrong column count
  csv += "2024-01-01T05:05:00Z,,21.5,41,0.02,Oslo\n";               // missing device
  csv += "\n";                                                      // blank: not a row
  WriteFile(dir_ / "a.csv", csv);
  ASSERT_EQ(Iotad({"ingest", dir_ / "a.csv"}).exit_code, 0);
  CmdResult r = Iotad({"silver"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Accounting a = ParseAccounting(r.out);
  EXPECT_EQ(a.rows, 10) << r.out;
  // The bad number is a per-cell record: the row is stored with temp_c NULL.
  EXPECT_EQ(a.stored, 5);
  EXPECT_EQ(a.quarantined, 4);
  EXPECT_EQ(a.duplicates, 1);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 5);
  EXPECT_EQ(Sql(lake_, "SELECT reason FROM quarantine ORDER BY line"),
            "reason\nconflicting_duplicate\nbad_number\nbad_timestamp\nwrong_column_count\nmissing_device_id\n");
  EXPECT_EQ(Sql(lake_, "SELECT line, source_file LIKE 'bronze/dt=2024-01-01/hour=5/%.csv' AS f, raw FROM quarantine WHERE reason = 'bad_number'"),
            "line,f,raw\n8,true,\"2024-01-01T05:03:00Z,dev-2,21.5x,41,0.02,Oslo\"\n");
  EXPECT_EQ(Sql(lake_, "SELECT column_name FROM quarantine WHERE reason = 'bad_number'"), "column_name\ntemp_c\n");
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM quarantine WHERE column_name IS NULL"), 4);
  // UTC normalisation and NULL for the empty cell; the first of the same-key rows wins.
  EXPECT_EQ(Sql(lake_, "SELECT strftime(event_time, '%H:%M') t, device_id, temp_c, humidity_pc FROM silver ORDER BY device_id, event_time"),
            "t,device_id,temp_c,humidity_pc\n05:00,dev-1,20.5,40.0\n05:00,dev-2,21.0,\n05:01,dev-2,21.1,41.0\n05:02,dev-2,21.2,41.0\n05:03,dev-2,,41.0\n");
  EXPECT_EQ(Sql(lake_, "SELECT DISTINCT year, month, day, hour FROM silver"), "year,month,day,hour\n2024,1,1,5\n");
  // Incremental: a second run processes nothing; --rebuild gives the same lake.
  r = Iotad({"silver"});
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
  r = Iotad({"silver", "--rebuild"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseAccounting(r.out).stored, 5);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 5);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM quarantine"), 5);
}

TEST_F(LakeTest, LateRowsAreAppendedToTheirHourAndDuplicatesOfStoredRowsAreCaught) {
  WriteFile(dir_ / "a.csv", std::string(kHeader) + "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n" +
                                "2024-01-01T05:01:00Z,dev-1,20.6,40,0.01,Oslo\n");
  ASSERT_EQ(Iotad({"ingest", dir_ / "a.csv"}).exit_code, 0);
  ASSERT_EQ(Iotad({"silver"}).exit_code, 0);
  // Arrives later: one new row for hour 05, one exact copy, one conflicting copy, one for hour 06.
  WriteFile(dir_ / "b.csv", std::string(kHeader) + "2024-01-01T06:00:00Z,dev-1,20.9,40,0.01,Oslo\n" +
                                "2024-01-01T05:02:00Z,dev-1,20.7,40,0.01,Oslo\n" +
                                "2024-01-01T05:00:00Z,dev-1,20.5,40,0.01,Oslo\n" +
                                "2024-01-01T05:01:00Z,dev-1,25.0,40,0.01,Oslo\n");
  ASSERT_EQ(Iotad({"ingest", dir_ / "b.csv"}).exit_code, 0);
  const CmdResult r = Iotad({"silver"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Accounting a = ParseAccounting(r.out);
  EXPECT_EQ(a.rows, 4);
  EXPECT_EQ(a.stored, 2);
  EXPECT_EQ(a.duplicates, 1);
  EXPECT_EQ(a.quarantined, 1);
  EXPECT_NE(r.out.find("late rows appended to hours already in silver: 1"), std::string::npos) << r.out;
  EXPECT_EQ(ListFiles(lake_, "silver/year=2024/month=1/day=1/hour=5/").size(), 2u);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver WHERE hour = 5"), 3);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver WHERE temp_c = 25.0"), 0);
}

TEST_F(LakeTest, AnyNumericColumnIsAMetricAndJsonLinesWork) {
  WriteFile(dir_ / "a.jsonl",
            R"({"ts": 1704085200, "device": "pump-1", "pressure_bar": 2.5, "rpm": "1200", "location": "Lyon"})" "\n"
            R"({"ts": 1704085260, "device": "pump-1", "pressure_bar": null, "rpm": 1210, "location": "Lyon"})" "\n"
            R"({"ts": 1704085320, "device": "pump-1", "pressure_bar": "high"})" "\n"
            R"({"ts": 17040853)" "\n");
  ASSERT_EQ(Iotad({"ingest", dir_ / "a.jsonl"}).exit_code, 0);
  const CmdResult r = Iotad({"silver"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseAccounting(r.out).stored, 2) << r.out;
  EXPECT_EQ(ParseAccounting(r.out).quarantined, 2) << r.out;
  EXPECT_EQ(Sql(lake_, "SELECT device_id, pressure_bar, rpm, location FROM silver ORDER BY event_time"),
            "device_id,pressure_bar,rpm,location\npump-1,2.5,1200.0,Lyon\npump-1,,1210.0,Lyon\n");
  EXPECT_EQ(Sql(lake_, "SELECT reason FROM quarantine ORDER BY line"), "reason\nbad_number\nbad_json\n");
}

TEST_F(LakeTest, GoldIsTheTutorialZScoreExactlyAndExplainsItself) {
  // dev-1: 30 readings near 20 and one at 60; dev-2 flat (std 0 -> z 0, never flagged).
  std::string csv = kHeader;
  for (int i = 0; i < 31; ++i) {
    const double v = i == 17 ? 60.0 : 20.0 + (i % 3) * 0.5;
    csv += fmt::format("2024-01-01T05:{:02d}:00Z,dev-1,{},40,0.01,Oslo\n", i, v);
    csv += fmt::format("2024-01-01T05:{:02d}:00Z,dev-2,18,40,0.01,Rome\n", i);
  }
  WriteFile(dir_ / "a.csv", csv);
  ASSERT_EQ(Iotad({"ingest", dir_ / "a.csv"}).exit_code, 0);
  ASSERT_EQ(Iotad({"silver"}).exit_code, 0);
  CmdResult r = Iotad({"gold"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same computation in plain SQL over silver.
  const std::string expected = Sql(
      lake_,
      "WITH s AS (SELECT device_id, event_time, temp_c, avg(temp_c) OVER w m, stddev_samp(temp_c) OVER w sd "
      "FROM silver WINDOW w AS (PARTITION BY device_id)) "
      "SELECT device_id, strftime(event_time, '%M') mi, round((temp_c - m) / sd, 9) z FROM s "
      "WHERE sd > 0 AND abs((temp_c - m) / sd) > 3 ORDER BY 1, 2");
  const std::string got = Sql(lake_,
                              "SELECT device_id, strftime(event_time, '%M') mi, round(z, 9) z FROM anomalies "
                              "WHERE detector = 'zscore' AND metric = 'temp_c' ORDER BY 1, 2");
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.rfind("device_id,mi,z\ndev-1,17,5.3", 0), 0u) << got;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE device_id = 'dev-2'"), 0);
  const std::string why = Sql(lake_, "SELECT baseline_n, threshold, detector_version, explanation FROM anomalies "
                                     "WHERE detector = 'zscore' AND device_id = 'dev-1'");
  EXPECT_NE(why.find("31,3.0,1,\"temp_c = 60 is"), std::string::npos) << why;
  EXPECT_NE(why.find("standard deviations above this device's mean"), std::string::npos) << why;
  // The robust variant flags the spike too; summaries cover each device, metric and hour.
  EXPECT_GE(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'robust_zscore' AND value = 60"), 1);
  EXPECT_EQ(Sql(lake_, "SELECT device_id, \"rows\", anomalies, max FROM gold_summary WHERE metric = 'temp_c' ORDER BY 1"),
            "device_id,rows,anomalies,max\ndev-1,31,1,60.0\ndev-2,31,0,18.0\n");
  // Re-running on unchanged silver changes nothing; --rebuild rewrites nothing either.
  const auto before = ListFiles(lake_, "gold");
  r = Iotad({"gold"});
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
  r = Iotad({"gold", "--rebuild"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 written"), std::string::npos) << r.out;
  EXPECT_EQ(ListFiles(lake_, "gold"), before);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'zscore'"), 1);
}

TEST_F(LakeTest, GoldRecomputesWhenSilverChanges) {
  std::string csv = kHeader;
  for (int i = 0; i < 20; ++i) csv += fmt::format("2024-01-01T05:{:02d}:00Z,dev-1,{},40,0.01,Oslo\n", i, 20 + i % 2);
  csv += "2024-01-01T05:30:00Z,dev-1,35,40,0.01,Oslo\n";
  WriteFile(dir_ / "a.csv", csv);
  ASSERT_EQ(Iotad({"run", "--input", dir_ / "a.csv"}).exit_code, 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'zscore' AND value = 35"), 1);
  // Much larger values arrive: the baseline moves and 35 is no longer an anomaly.
  std::string more = kHeader;
  for (int i = 0; i < 10; ++i) more += fmt::format("2024-01-01T06:{:02d}:00Z,dev-1,{},40,0.01,Oslo\n", i, 30 + i * 4);
  WriteFile(dir_ / "b.csv", more);
  ASSERT_EQ(Iotad({"run", "--input", dir_ / "b.csv"}).exit_code, 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'zscore' AND value = 35"), 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(DISTINCT hour) FROM gold_summary"), 2);
}

TEST_F(LakeTest, SqlFormatsStdinAndPartitionPruning) {
  // Spikes only (no dropouts), often enough that every hour has anomalies.
  ASSERT_EQ(RunIotad({"generate", "--devices", "5", "--hours", "3", "--anomaly-kinds", "spike", "--anomaly-rate", "100",
                      "--out", dir_ / "gen"})
                .exit_code,
            0);
  ASSERT_EQ(Iotad({"run", "--input", dir_ / "gen"}).exit_code, 0);
  CmdResult r = Iotad({"sql", "--format", "json", "SELECT device_id, count(*) AS n FROM silver GROUP BY 1 ORDER BY 1 LIMIT 2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[{\"device_id\": \"dev-00000\", \"n\": 180},\n {\"device_id\": \"dev-00001\", \"n\": 180}]\n");
  r = RunIotad({"sql", "--lake", lake_}, {}, "SELECT count(*) AS n FROM silver WHERE hour = 1;\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("300"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(1 row)"), std::string::npos) << r.out;
  // Filters on partition columns read only the matching partitions: 1 of 3 files.
  for (const char* table : {"silver", "anomalies", "gold_summary"}) {
    const std::string folder = std::string(table) == "anomalies" ? "gold/" : std::string(table) + "/";
    ASSERT_GE(ListFiles(lake_, folder).size(), 2u) << table;
    r = Iotad({"sql", "--format", "csv", fmt::format("EXPLAIN ANALYZE SELECT count(*) FROM {} WHERE year = 2024 AND month = 1 AND day = 1 AND hour = 1", table)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(Total Files Read: (\d+))"))) << r.out;
    EXPECT_LE(std::stoi(m[1]), 1) << table;
  }
  // Every view is there; the runs table has the run.
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze"), 3);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE line > 1"), 900);  // physical lines: headers are line 1
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM runs WHERE command = 'run' AND status = 'ok'"), 1);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM quarantine"), 0);
}

TEST_F(LakeTest, RunIngestsTheInboxRecordsTheRunAndStatusShowsIt) {
  ASSERT_EQ(RunIotad({"generate", "--devices", "4", "--hours", "2", "--dirty", "--lake", lake_}).exit_code, 0);
  CmdResult r = Iotad({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("ingest: 2 new files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check silver_not_empty"), std::string::npos);
  const std::string runs = Sql(lake_, "SELECT status, json_array_length(stages) AS stages, counts->>'rows' AS rows FROM runs");
  EXPECT_NE(runs.find("ok,5,"), std::string::npos) << runs;  // ingest, silver, gold, alert, checks
  r = Iotad({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"layers", "bookmarks", "2 bronze files processed, 0 pending", "gold: up to date", "last runs", "checks"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

TEST_F(LakeTest, RunFailsItsChecksWithTheCauseWhenNoRowIsUsable) {
  WriteFile(dir_ / "bad.csv", "when,who,temp\nyesterday,dev-1,20\n");
  const CmdResult r = Iotad({"run", "--input", dir_ / "bad.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("silver is empty although bronze has 1 files: all 1 rows went to quarantine; most common reason "
                       "bad_header: the header has no time column"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM runs WHERE status = 'failed_checks'"), 1);
}

TEST_F(LakeTest, DemoShowsWhatAUserWantsFirst) {
  const std::string demo_lake = dir_ / "demo";
  const CmdResult r = RunIotad({"demo", "--devices", "10", "--days", "1", "--lake", demo_lake});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"rows per layer", "accounting:", "anomalies by device", "injected anomalies found", "spike",
                        "next, try:", "iotad sql"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  // Running it again replaces its own lake; it refuses a folder it did not make.
  EXPECT_EQ(RunIotad({"demo", "--devices", "3", "--days", "0.1", "--lake", demo_lake}).exit_code, 0);
  const CmdResult refuse = RunIotad({"demo", "--devices", "3", "--days", "0.1", "--lake", lake_});
  EXPECT_NE(refuse.exit_code, 0);
  EXPECT_NE(refuse.err.find("not a demo lake"), std::string::npos) << refuse.err;
}

// Bad input: one clear sentence on stderr, a non-zero exit code, never a crash.
void ExpectCleanError(const CmdResult& r, int code, const std::string& words) {
  EXPECT_EQ(r.signal, 0) << "crashed";
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
  EXPECT_EQ(r.err.rfind("iotad: ", 0), 0u) << r.err;
}

// Issue 12, start-up: libcurl and the thirty-odd libraries it needs are opened when a sink first
// sends (alert/curl_api.h), not by every process: `iotad sql` does not load them. The dynamic
// loader's own trace (LD_DEBUG=files) says which files a process opened.
TEST(StartUpTest, ACommandThatSendsNothingDoesNotLoadLibcurl) {
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  const CmdResult r = RunIotad({"sql", "--lake", lake, "SELECT 42"}, {{"LD_DEBUG", "files"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("42"), std::string::npos) << r.out;
  // The trace is there (the test would prove nothing without it) and names DuckDB's library ...
  ASSERT_NE(r.err.find("file=libduckdb.so"), std::string::npos) << r.err.substr(0, 2000);
  // ... and no libcurl.
  EXPECT_EQ(r.err.find("libcurl"), std::string::npos) << r.err.substr(0, 2000);
}

TEST(BadInputTest, MissingLake) {
  TempDir dir;
  ExpectCleanError(RunIotad({"silver", "--lake", dir / "nope"}), 3, "no lake at");
  ExpectCleanError(RunIotad({"sql", "--lake", dir.path().string(), "SELECT 1"}), 3, "iotad init");
  ExpectCleanError(RunIotad({"status"}, {{"IOTAD_LAKE", dir / "nope"}}), 3, "no lake at");
}

TEST_F(LakeTest, BadFilesFlagsAndConfig) {
  ExpectCleanError(Iotad({"ingest", dir_ / "missing.csv"}), 3, "does not exist");
  WriteFile(dir_ / "notes.pdf", "hello");
  ExpectCleanError(Iotad({"ingest", dir_ / "notes.pdf"}), 2, "is not a .csv, .tsv, .txt or .jsonl");
  WriteFile(dir_ / "broken.csv.gz", "\x1f\x8b\x08\x00garbage");
  ExpectCleanError(Iotad({"ingest", dir_ / "broken.csv.gz"}), 1, "not a complete gzip file");
  ExpectCleanError(Iotad({"silver", "--frobnicate"}), 2, "frobnicate");
  ExpectCleanError(Iotad({"sql", "--format", "xml", "SELECT 1"}), 2, "--format must be table, csv or json");
  ExpectCleanError(Iotad({"sql", "SELEC 1"}), 2, "syntax error");
  ExpectCleanError(Iotad({"gold", "--detectors", "magic"}), 2, "unknown detector 'magic'");
  ExpectCleanError(RunIotad({"generate", "--devices", "0", "--out", dir_ / "g"}), 2, "--devices");
  WriteFile(fs::path(lake_) / "iotad.toml", "[gold]\nzscore_treshold = 4\n");
  ExpectCleanError(Iotad({"status"}), 2, "unknown key 'gold.zscore_treshold'");
  WriteFile(fs::path(lake_) / "iotad.toml", "[gold]\nzscore_threshold = \"high\"\n");
  ExpectCleanError(Iotad({"run"}), 2, "'gold.zscore_threshold' must be a number");
}

TEST_F(LakeTest, ASecondWriterIsRefusedWhileTheFirstHoldsTheLake) {
  // flock is per open file: hold it from this process as another iotad would.
  const fs::path lock = fs::path(lake_) / "_iotad" / "writer.lock";
  fs::create_directories(lock.parent_path());
  FILE* f = std::fopen(lock.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(flock(fileno(f), LOCK_EX | LOCK_NB), 0);
  ExpectCleanError(Iotad({"silver"}), 1, "another iotad process is writing the lake");
  std::fclose(f);
  EXPECT_EQ(Iotad({"silver"}).exit_code, 0);
}

}  // namespace
}  // namespace iotad::e2e
