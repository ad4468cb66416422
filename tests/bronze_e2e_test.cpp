// End-to-end tests of landing hostile inputs: a bad input file is skipped and left in place while
// the others land, and no bronze content can break `iotad status`, `iotad run` or `bronze_rows`.
#include <zlib.h>

#include <chrono>
#include <random>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

/// `rows` good CSV rows in hour 10 of 2024-03-01, with a header.
std::string GoodCsv(int rows, const std::string& device = "d1") {
  std::string out = "timestamp,device_id,temp_c\n";
  for (int i = 0; i < rows; ++i) {
    out += fmt::format("2024-03-01T10:{:02d}:{:02d}Z,{},{}\n", i / 60 % 60, i % 60, device, 20 + i % 7);
  }
  return out;
}

/// A gzip file cut in the middle: the classic interrupted upload.
std::string TruncatedGzip() {
  const std::string full = Gzip(GoodCsv(3000, "cut"));
  return full.substr(0, full.size() / 2);
}

/// Physical lines as iotad counts them: LF-terminated, plus a last line without LF.
long long PhysicalLines(const std::string& text) {
  long long n = std::count(text.begin(), text.end(), '\n');
  return n + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

class BronzeE2eTest : public LakeE2eTest {
 protected:
  std::string RunRecords() {
    std::string all;
    for (const auto& f : ListFiles(lake_, "runs/")) all += ReadFile(fs::path(lake_) / f);
    return all;
  }
};

TEST_F(BronzeE2eTest, IngestSkipsBadFilesLeavesThemInPlaceAndLandsTheRest) {
  const fs::path in = dir_ / "in";
  fs::create_directories(in);
  WriteFile(in / "good.csv", GoodCsv(10));
  WriteFile(in / "cut.csv.gz", TruncatedGzip());
  WriteFile(in / "fake.csv.gz", "timestamp,device_id\n");  // named .gz, not gzip
  WriteFile(in / "corrupt.jsonl.gz", "\x1f\x8b\x08\x00garbage that is not deflate data");
  WriteFile(in / "empty.csv", "");
  fs::create_symlink(dir_ / "nowhere.csv", in / "gone.csv");  // unreadable: a broken link

  const CmdResult r = Iotad({"ingest", in.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("ingest: 1 new file"), std::string::npos) << r.out;
  for (const char* name : {"cut.csv.gz", "fake.csv.gz", "corrupt.jsonl.gz", "empty.csv", "gone.csv"}) {
    EXPECT_NE(r.err.find(fmt::format("skipped '{}'", (in / name).string())), std::string::npos) << name << "\n" << r.err;
    EXPECT_TRUE(fs::exists(fs::symlink_status(in / name))) << name << " must be left where it is";
  }
  EXPECT_NE(r.err.find("not a complete gzip file (truncated)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("named .gz but is not gzip data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("empty file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
  // Only the good file landed; the run record lists the bad ones with their reasons.
  ASSERT_EQ(ListFiles(lake_, "bronze/").size(), 1u);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM runs, unnest(CAST(counts->'skipped_files' AS JSON[])) AS s(f) "
                          "WHERE command = 'ingest' AND status = 'ok'"),
            5);
  EXPECT_EQ(SqlInt(lake_, fmt::format("SELECT count(*) FROM runs, unnest(CAST(counts->'skipped_files' AS JSON[])) AS "
                                      "s(f) WHERE json_extract_string(f, '$.path') = '{}' AND json_extract_string(f, '$.reason') LIKE '%truncated%'",
                                      (in / "cut.csv.gz").string())),
            1);
}

TEST_F(BronzeE2eTest, ANamedBadFileIsSkippedAndOnlyNothingIngestedFails) {
  const fs::path cut = dir_ / "cut.csv.gz", good = dir_ / "good.csv";
  WriteFile(cut, TruncatedGzip());
  WriteFile(good, GoodCsv(5));
  CmdResult r = Iotad({"ingest", cut.string(), good.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped '" + cut.string() + "': not a complete gzip file"), std::string::npos) << r.err;
  // Nothing at all could be ingested and a file was bad: exit 1, recorded as a failed ingest.
  r = Iotad({"ingest", cut.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("nothing ingested: 1 bad file skipped and left in place"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(cut));
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM runs WHERE command = 'ingest' AND status = 'failed'"), 1);
  // The same bytes but complete land fine; a good file again is a duplicate, not an error.
  r = Iotad({"ingest", good.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 already there"), std::string::npos) << r.out;
}

TEST_F(BronzeE2eTest, ABadFileInTheInboxFailsOneRunsCheckThenLaterRunsPassAndItIsNeverDeleted) {
  std::string config = ReadFile(fs::path(lake_) / "iotad.toml");
  config = std::regex_replace(config, std::regex("delete_after_ingest = false"), "delete_after_ingest = true");
  ASSERT_NE(config.find("delete_after_ingest = true"), std::string::npos);
  WriteFile(fs::path(lake_) / "iotad.toml", config);
  const fs::path inbox = fs::path(lake_) / "inbox";
  WriteFile(inbox / "good.csv", GoodCsv(120));
  WriteFile(inbox / "cut.csv.gz", TruncatedGzip());

  CmdResult r = Iotad({"run"});
  // Every stage ran on the good file; only the new bad file's check fails (once).
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE(r.out.find("check inputs_skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED: 1 input file skipped and left in place (1 new"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipped '" + (inbox / "cut.csv.gz").string() + "': not a complete gzip file"),
            std::string::npos)
      << r.err;
  for (const char* check : {"silver_not_empty", "accounting_balances", "gold_covers_silver"}) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex(fmt::format("check {} +ok", check)))) << check << "\n" << r.out;
  }
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 120);
  EXPECT_FALSE(fs::exists(inbox / "good.csv")) << "landed files are deleted (delete_after_ingest)";
  EXPECT_TRUE(fs::exists(inbox / "cut.csv.gz")) << "bad files never are";
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM runs, unnest(CAST(stages AS JSON[])) AS s(st) "
                          "WHERE command = 'run' AND json_extract_string(st, '$.stage') = 'ingest' "
                          "AND json_extract_string(st, '$.counts.skipped_files[0].reason') LIKE '%truncated%'"),
            1);

  // The next runs: the same bad file is still listed, but no longer fails the run.
  for (int i = 0; i < 2; ++i) {
    WriteFile(inbox / fmt::format("more{}.csv", i), GoodCsv(60, fmt::format("d{}", i + 2)));
    r = Iotad({"run"});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("check inputs_skipped               ok: 1 input file still skipped"), std::string::npos)
        << r.out;
    EXPECT_NE(r.err.find("skipped '" + (inbox / "cut.csv.gz").string()), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(inbox / "cut.csv.gz"));
  }
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 240);
  EXPECT_EQ(RunIotad({"status", "--lake", lake_}).exit_code, 0);

  // A different bad file is news again.
  WriteFile(inbox / "fake.jsonl.gz", "{\"ts\":1}\n");
  r = Iotad({"run"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("2 input files skipped and left in place (1 new; first: '" + (inbox / "fake.jsonl.gz").string()),
            std::string::npos)
      << r.out;
}

TEST_F(BronzeE2eTest, NoBronzeContentBreaksStatusRunOrBronzeRows) {
  const fs::path in = dir_ / "in";
  std::mt19937 rng(7);
  std::string random_bytes(4096, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  const std::string latin1 = "timestamp,device_id,temp_c,city\n2024-03-01T10:00:00Z,d9,1.5,Z\xfcrich\n";
  const std::string long_line = "a,b\n" + std::string(50'000'000, 'x') + "\n1,2\n";
  const std::string jsonl = "{\"ts\":\"2024-03-01T10:00:00Z\",\"device_id\":\"j1\",\"temp_c\":3}\n";
  const std::string gz_text = GoodCsv(30, "g1");
  const std::string good = GoodCsv(3000, "d1");
  WriteFile(in / "random.csv", random_bytes);
  WriteFile(in / "latin1.csv", latin1);
  WriteFile(in / "long.csv", long_line);
  WriteFile(in / "j.jsonl", jsonl);
  WriteFile(in / "g.csv.gz", Gzip(gz_text));
  WriteFile(in / "good.csv", good);
  const auto before = std::chrono::system_clock::now();
  CmdResult r = Iotad({"ingest", in.string()});
  const auto after = std::chrono::system_clock::now();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ingest: 6 new files"), std::string::npos) << r.out;

  // Files whose start has no parseable time land under their arrival hour.
  auto hour_of = [](std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("dt={:04d}-{:02d}-{:02d}/hour={}/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
  };
  int arrival = 0, event = 0;
  for (const auto& f : ListFiles(lake_, "bronze/")) {
    if (f.find(hour_of(before)) != std::string::npos || f.find(hour_of(after)) != std::string::npos) ++arrival;
    if (f.find("dt=2024-03-01/hour=10/") != std::string::npos) ++event;
  }
  EXPECT_EQ(arrival, 2);  // random bytes, the 50 MB line
  EXPECT_EQ(event, 4);

  for (int i = 0; i < 2; ++i) {
    r = Iotad({"status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = Iotad({"run"});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  // One row per physical line of every file, as received (gzip decompressed).
  const long long lines = PhysicalLines(random_bytes) + PhysicalLines(latin1) + PhysicalLines(long_line) +
                          PhysicalLines(jsonl) + PhysicalLines(gz_text) + PhysicalLines(good);
  r = Iotad({"sql", "--format", "csv", "SELECT count(*) FROM bronze_rows"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(lines)), std::string::npos) << r.out;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows r JOIN bronze b USING (key) WHERE b.format = 'jsonl'"), 1);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE key LIKE '%.csv.gz' AND line > 1"), 30);
  EXPECT_EQ(SqlInt(lake_, "SELECT max(bytes) FROM bronze_rows"), 50'000'000);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE bytes = 50000000 AND NOT exact"), 1);
  // Latin-1 is not UTF-8: the byte is replaced (U+FFFD) and the row says it is not exact.
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE text = '2024-03-01T10:00:00Z,d9,1.5,Z\xEF\xBF\xBDrich' "
                          "AND NOT exact AND line = 2"),
            1);
  // Every view still works.
  for (const char* table : {"silver", "quarantine", "bronze", "runs"}) {
    r = Iotad({"sql", fmt::format("SELECT count(*) FROM {}", table)});
    EXPECT_EQ(r.exit_code, 0) << table << ": " << r.err;
  }
}

TEST_F(BronzeE2eTest, BronzeRowsGivesTheIntactPrefixOfADamagedGzipAlreadyInBronze) {
  // Older versions could land a truncated gzip; the view reads what it can and never fails.
  WriteFile(fs::path(lake_) / "bronze/dt=2024-03-01/hour=10/0123456789abcdef0123456789abcdef.csv.gz", TruncatedGzip());
  const long long n = SqlInt(lake_, "SELECT count(*) FROM bronze_rows");
  EXPECT_GT(n, 10);
  EXPECT_LT(n, 3001);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM bronze_rows WHERE line = 1 AND text = 'timestamp,device_id,temp_c'"), 1);
  EXPECT_EQ(Iotad({"status"}).exit_code, 0);
}

}  // namespace
}  // namespace iotad::e2e
