// One schema per table (issue 8): the views of an empty and a populated lake have the same
// columns, gold stores NULL (never NaN) for absent values, partition folders are written as Spark
// writes them (`month=1`) and typed as integers by DuckDB's default reader, and a lake of the
// older zero-padded layout is migrated by the first writing command.
#include <algorithm>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kViews[] = {"silver", "quarantine", "anomalies", "gold_summary", "runs", "bronze", "bronze_rows"};

/// A fleet with stuck sensors, dropouts (silences) and spikes, and dirty rows for quarantine: gold
/// with the default detectors then has rows of every kind (z, run_length, gap_seconds...).
void Populate(LakeE2eTest& t, const std::string& lake) {
  ASSERT_EQ(RunIotad({"generate", "--devices", "10", "--hours", "12", "--dirty", "--anomaly-rate", "20",
                      "--anomaly-kinds", "stuck,dropout,spike", "--seed", "3", "--lake", lake})
                .exit_code,
            0);
  const CmdResult r = RunIotad({"run", "--lake", lake});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  (void)t;
}

/// `name,type` lines of a view's DESCRIBE, in column order.
std::vector<std::string> Describe(const std::string& lake, const std::string& view) {
  const std::string out = Sql(lake, fmt::format("SELECT column_name, column_type FROM (DESCRIBE {})", view));
  std::vector<std::string> lines;
  size_t start = out.find('\n') + 1;  // past the header
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    if (end > start) lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class SchemaE2eTest : public LakeE2eTest {};

// Issue 8: on an empty lake `anomalies` had 17 columns and after gold 22, so
// `SELECT score, rule FROM anomalies` failed on a new lake.
TEST_F(SchemaE2eTest, EmptyAndPopulatedLakesHaveTheSameViewColumns) {
  const CmdResult empty_query = Iotad({"sql", "SELECT score, rule, statistic_name, gap_seconds FROM anomalies"});
  EXPECT_EQ(empty_query.exit_code, 0) << empty_query.err;
  std::map<std::string, std::vector<std::string>> empty;
  for (const char* view : kViews) empty[view] = Describe(lake_, view);

  Populate(*this, lake_);
  for (const char* view : kViews) {
    std::vector<std::string> populated = Describe(lake_, view);
    if (std::string(view) == "silver") {
      // The metric columns (DOUBLE, one per metric) exist only once there are metrics.
      std::erase_if(populated, [&](const std::string& line) {
        return std::find(empty[view].begin(), empty[view].end(), line) == empty[view].end() &&
               line.ends_with(",DOUBLE");
      });
      EXPECT_GE(Describe(lake_, view).size(), populated.size() + 3);  // temp_c, humidity_pc, vibration_g
    }
    EXPECT_EQ(populated, empty[view]) << "view " << view;
  }
  EXPECT_EQ(empty["anomalies"].size(), 22u + 4u);  // the columns of lake/schema.h + year, month, day, hour
}

// Issue 8: gold stored NaN where a value is absent (threshold of `default` rows, baseline_mean
// of stuck and silence rows), so engines disagreed on `threshold > 3`.
TEST_F(SchemaE2eTest, NoDoubleColumnOfGoldHoldsNaNAndRequiredColumnsAreSet) {
  Populate(*this, lake_);
  for (const char* view : {"anomalies", "gold_summary"}) {
    const std::string cols = Sql(lake_, fmt::format("SELECT string_agg(column_name, ',') FROM (DESCRIBE {}) "
                                                    "WHERE column_type = 'DOUBLE'",
                                                    view));
    std::string list = cols.substr(cols.find('\n') + 1);
    while (!list.empty() && (list.back() == '\n' || list.back() == '"')) list.pop_back();
    if (!list.empty() && list.front() == '"') list.erase(0, 1);
    ASSERT_FALSE(list.empty()) << view;
    size_t start = 0, checked = 0;
    while (start < list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const std::string col = list.substr(start, end - start);
      EXPECT_EQ(SqlInt(lake_, fmt::format("SELECT count(*) FROM {} WHERE isnan(\"{}\") OR isinf(\"{}\")", view, col, col)), 0)
          << view << "." << col << " holds NaN or infinity";
      ++checked;
      start = end + 1;
    }
    EXPECT_GE(checked, std::string(view) == "anomalies" ? 12u : 4u);
  }
  // The rows that used to hold NaN hold NULL, and each column keeps its unit.
  EXPECT_GT(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'default'"), 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(threshold) FROM anomalies WHERE detector = 'default'"), 0);
  EXPECT_GT(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE statistic_name = 'run_length'"), 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(baseline_mean) + count(baseline_std) + count(expected_hi) + count(z) "
                          "FROM anomalies WHERE statistic_name = 'run_length'"),
            0);
  // A silence: its length and timeout in their own columns (seconds), not in z and baseline_std.
  EXPECT_GT(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE statistic_name = 'gap_seconds'"), 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE statistic_name = 'gap_seconds' AND "
                          "(z IS NOT NULL OR baseline_std IS NOT NULL OR baseline_mean IS NOT NULL OR "
                          "gap_seconds IS NULL OR timeout_seconds IS NULL OR gap_seconds <= timeout_seconds "
                          "OR gap_seconds <> statistic)"),
            0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(gap_seconds) + count(timeout_seconds) FROM anomalies "
                          "WHERE statistic_name IS DISTINCT FROM 'gap_seconds'"),
            0);
  // z is a standard score wherever it is set: (value - baseline_mean) / baseline_std.
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE z IS NOT NULL AND detector = 'zscore' AND "
                          "abs(z - (value - baseline_mean) / baseline_std) > 1e-6 * greatest(1, abs(z))"),
            0);
  // Columns lake/schema.h declares NOT NULL are set on every row.
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE event_time IS NULL OR device_id IS NULL OR "
                          "metric IS NULL OR baseline_n IS NULL OR detector IS NULL OR detector_version IS NULL OR "
                          "explanation IS NULL OR score IS NULL OR rule IS NULL"),
            0);
}

// Issue 8: zero-padded partition folders (`month=01/hour=05`) were typed as text by DuckDB's
// default reader; Spark writes `month=1`.
TEST_F(SchemaE2eTest, PartitionFoldersAreSparksAndReadAsIntegers) {
  Populate(*this, lake_);
  for (const auto& f : ListFiles(lake_)) {
    EXPECT_FALSE(std::regex_search(f, std::regex("/(month|day|hour)=0[0-9]"))) << f;
  }
  EXPECT_FALSE(ListFiles(lake_, "silver/year=2024/month=1/day=1/hour=5/").empty());
  EXPECT_FALSE(ListFiles(lake_, "bronze/dt=2024-01-01/hour=5/").empty());
  for (const char* layer : {"silver", "gold", "gold_summary"}) {
    const std::string types = Sql(
        lake_, fmt::format("SELECT DISTINCT typeof(year), typeof(month), typeof(day), typeof(hour) "
                           "FROM read_parquet('{}/{}/**/*.parquet', hive_partitioning = true)",
                           lake_, layer));
    EXPECT_EQ(types.substr(types.find('\n') + 1), "BIGINT,BIGINT,BIGINT,BIGINT\n") << layer;
  }
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver WHERE hour = 5 AND month = 1"),
            SqlInt(lake_, fmt::format("SELECT count(*) FROM read_parquet('{}/silver/**/*.parquet', "
                                      "hive_partitioning = true) WHERE hour = 5 AND month = 1",
                                      lake_)));
}

/// Turns a lake of this version back into the layout of lakes written before issue 8: zero-padded
/// month, day and hour folders, and a commit log naming those keys (as an older iotad wrote it).
void ToPaddedLayout(const fs::path& lake) {
  std::vector<fs::path> dirs;
  for (const char* layer : {"bronze", "silver", "gold", "gold_summary"}) {
    for (const auto& e : fs::recursive_directory_iterator(lake / layer)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
  }
  // Deepest first, so a rename never moves a folder still to be renamed.
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
  });
  const std::regex single("^(month|day|hour)=([0-9])$");
  for (const auto& d : dirs) {
    const std::string name = d.filename().string();
    if (std::regex_match(name, single)) {
      fs::rename(d, d.parent_path() / std::regex_replace(name, single, "$1=0$2"));
    }
  }
  const std::regex in_key("/(month|day|hour)=([0-9])(?=/)");
  for (const auto& e : fs::directory_iterator(lake / "_iotad/log")) {
    WriteFile(e.path(), std::regex_replace(ReadFile(e.path()), in_key, "/$1=0$2"));
  }
  fs::remove(lake / "_iotad/layout");
}

int CountCommits(const fs::path& lake, const std::string& stage) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(lake / "_iotad/log")) {
    if (ReadFile(e.path()).find(fmt::format("\"stage\":\"{}\"", stage)) != std::string::npos) ++n;
  }
  return n;
}

// Issue 8: a lake written with padded folders is migrated by the first writing command, in one
// commit (crash-safe: a crash while applying it is rolled forward), without re-processing
// bronze, and verifies clean afterwards.
TEST_F(SchemaE2eTest, APaddedLakeIsMigratedOnceWithoutReprocessingAndVerifies) {
  Populate(*this, lake_);
  const std::string counts_sql =
      "SELECT (SELECT count(*) FROM silver) || ' ' || (SELECT count(*) FROM quarantine) || ' ' || "
      "(SELECT count(*) FROM anomalies) || ' ' || (SELECT count(*) FROM gold_summary) || ' ' || "
      "(SELECT count(*) FROM bronze)";
  const std::string counts = Sql(lake_, counts_sql);
  ToPaddedLayout(lake_);
  size_t padded = 0;
  for (const auto& f : ListFiles(lake_)) padded += std::regex_search(f, std::regex("/(month|day|hour)=0[0-9]/"));
  ASSERT_GT(padded, 10u);
  ASSERT_EQ(Sql(lake_, counts_sql), counts);  // an older lake reads the same
  const int silver_commits = CountCommits(lake_, "silver");
  const int ingest_commits = CountCommits(lake_, "ingest");

  // A crash after the migration's first move: the next writer rolls the commit forward.
  const CmdResult crashed = RunIotad({"run", "--lake", lake_}, {{"IOTAD_CRASH_AT", "commit.apply.after_first_move"}});
  EXPECT_NE(crashed.exit_code, 0);
  EXPECT_EQ(CountCommits(lake_, "migrate"), 1);

  const CmdResult r = Iotad({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& f : ListFiles(lake_)) {
    EXPECT_FALSE(std::regex_search(f, std::regex("/(month|day|hour)=0[0-9]"))) << f;
  }
  EXPECT_EQ(CountCommits(lake_, "migrate"), 1);
  EXPECT_EQ(CountCommits(lake_, "silver"), silver_commits);  // no bronze file parsed again
  EXPECT_EQ(CountCommits(lake_, "ingest"), ingest_commits);  // the inbox files are known at their new keys
  EXPECT_EQ(Sql(lake_, counts_sql), counts);
  const CmdResult status = Iotad({"status"});
  EXPECT_NE(status.out.find(" 0 pending"), std::string::npos) << status.out;
  const CmdResult verify = Iotad({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Idempotent: nothing left to migrate.
  ASSERT_EQ(Iotad({"run"}).exit_code, 0);
  EXPECT_EQ(CountCommits(lake_, "migrate"), 1);
  EXPECT_EQ(Sql(lake_, counts_sql), counts);
}

}  // namespace
}  // namespace iotad::e2e
