// End-to-end tests of gold on constant, repeated, empty and very wide data: the real binary, real
// lakes. Each lake runs twice (the second run must pass too), then `gold --rebuild` must rewrite
// nothing.
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

class GoldE2eTest : public LakeE2eTest {
 protected:
  /// Drops `text` in the inbox as `name` and runs the pipeline twice: both runs must pass.
  void RunTwice(const std::string& name, const std::string& text) {
    WriteFile(fs::path(lake_) / "inbox" / name, text);
    for (int i = 0; i < 2; ++i) {
      const CmdResult r = Iotad({"run"});
      ASSERT_EQ(r.signal, 0) << "run " << i + 1 << " killed by signal " << r.signal << "\n" << r.err;
      ASSERT_EQ(r.exit_code, 0) << "run " << i + 1 << "\n" << r.out << r.err;
    }
  }
  /// `gold --rebuild` recomputes everything and finds every file unchanged: nothing is rewritten.
  void ExpectIdempotentRebuild() {
    const auto before = ListFiles(lake_, "gold");
    const CmdResult r = Iotad({"gold", "--rebuild"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(" 0 written"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" 0 removed"), std::string::npos) << r.out;
    EXPECT_EQ(ListFiles(lake_, "gold"), before);
  }
  /// Gold's files: every name distinct, each naming its layer and hour.
  void ExpectUniqueNamesWithTheirHour() {
    std::set<std::string> names;
    for (const auto& f : ListFiles(lake_, "gold")) {
      const std::string name = fs::path(f).filename().string();
      EXPECT_TRUE(names.insert(name).second) << "two gold files named " << name;
      // .../year=2024/month=3/day=1/hour=10/summary-20240301T10-<hash>.parquet
      const std::string dir = fs::path(f).parent_path().string() + "/";
      const auto field = [&](const std::string& key) {
        const size_t at = dir.find(key + "=");
        if (at == std::string::npos) return -1;
        const size_t begin = at + key.size() + 1;
        const std::string value = dir.substr(begin, dir.find('/', begin) - begin);
        // Spark's form: no zero padding in the folders (the file names keep theirs).
        EXPECT_TRUE(value.size() == 1 || value[0] != '0') << f;
        return std::stoi(value);
      };
      const std::string stamp =
          fmt::format("{:04d}{:02d}{:02d}T{:02d}", field("year"), field("month"), field("day"), field("hour"));
      const std::string layer = f.starts_with("gold_summary/") ? "summary" : "anomalies";
      EXPECT_EQ(name.rfind(layer + "-" + stamp + "-", 0), 0u) << f;
    }
  }
};

// Issue 7: two hours with identical summaries (a door sensor reading 0) made gold fail with
// "cannot rename into .../summary-<hash>.parquet", and every later run too.
TEST_F(GoldE2eTest, ADoorSensorReadingZeroForTwoHours) {
  ASSERT_NO_FATAL_FAILURE(RunTwice("door.csv",
           "timestamp,device_id,door_open\n2024-03-01T10:00:00Z,d1,0\n2024-03-01T11:00:00Z,d1,0\n"));
  EXPECT_EQ(Sql(lake_, "SELECT hour, device_id, metric, \"rows\", mean FROM gold_summary ORDER BY hour"),
            "hour,device_id,metric,rows,mean\n10,d1,door_open,1,0.0\n11,d1,door_open,1,0.0\n");
  EXPECT_EQ(ListFiles(lake_, "gold_summary/").size(), 2u);
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

TEST_F(GoldE2eTest, ConstantValuesOverManyHours) {
  std::string csv = "timestamp,device_id,temp_c,door_open\n";
  for (int h = 0; h < 48; ++h) {
    for (int m = 0; m < 60; m += 10) {
      for (int d = 1; d <= 3; ++d) {
        csv += fmt::format("2024-03-{:02d}T{:02d}:{:02d}:00Z,d{},21.5,0\n", 1 + h / 24, h % 24, m, d);
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(RunTwice("constant.csv", csv));
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies"), 0);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM gold_summary"), 48 * 3 * 2);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM gold_summary WHERE \"rows\" = 6 AND std = 0 AND min = max"),
            48 * 3 * 2);
  EXPECT_EQ(ListFiles(lake_, "gold_summary/").size(), 48u);
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

TEST_F(GoldE2eTest, TheSameDeviceDataRepeatedAcrossDays) {
  std::string csv = "timestamp,device_id,temp_c,humidity_pc,location\n";
  for (int day = 1; day <= 3; ++day) {
    for (int h = 8; h < 12; ++h) {
      for (int m = 0; m < 60; m += 5) {
        for (int d = 1; d <= 2; ++d) {
          csv += fmt::format("2024-03-{:02d}T{:02d}:{:02d}:00Z,d{},{},{},Oslo\n", day, h, m, d, 20 + (m / 5) % 4,
                             40 + (m / 5) % 3);
        }
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(RunTwice("repeated.csv", csv));
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM gold_summary"), 3 * 4 * 2 * 2);
  // Every day's hour has the same values, so the same summary (but its own file).
  EXPECT_EQ(SqlInt(lake_, "SELECT count(DISTINCT (hour, device_id, metric, \"rows\", mean, std, min, max)) "
                          "FROM gold_summary"),
            4 * 2 * 2);
  EXPECT_EQ(ListFiles(lake_, "gold_summary/").size(), 12u);
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

TEST_F(GoldE2eTest, HoursWithOnlyNullsAndEmptyCells) {
  // d1 has values in hour 10 and only empty cells in hours 11 and 12; `spare` is empty throughout.
  std::string csv = "timestamp,device_id,temp_c,spare\n";
  for (int m = 0; m < 60; m += 10) csv += fmt::format("2024-03-01T10:{:02d}:00Z,d1,{},\n", m, 20 + m / 10);
  for (int h = 11; h <= 12; ++h) {
    for (int m = 0; m < 60; m += 10) csv += fmt::format("2024-03-01T{}:{:02d}:00Z,d1,,\n", h, m);
  }
  ASSERT_NO_FATAL_FAILURE(RunTwice("nulls.csv", csv));
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), 18);
  EXPECT_EQ(Sql(lake_, "SELECT hour, metric, \"rows\", mean FROM gold_summary ORDER BY hour, metric"),
            "hour,metric,rows,mean\n10,spare,0,\n10,temp_c,6,22.5\n11,spare,0,\n11,temp_c,0,\n12,spare,0,\n12,temp_c,0,\n");
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

TEST_F(GoldE2eTest, ALakeWithSilverRowsButNoAnomalies) {
  std::string csv = "timestamp,device_id,temp_c\n";
  for (int h = 0; h < 3; ++h) {
    for (int m = 0; m < 60; ++m) csv += fmt::format("2024-03-01T{:02d}:{:02d}:00Z,d1,{}\n", h, m, 20 + m % 2);
  }
  ASSERT_NO_FATAL_FAILURE(RunTwice("calm.csv", csv));
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies"), 0);
  EXPECT_TRUE(ListFiles(lake_, "gold/").empty());
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM gold_summary"), 3);
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

// Issue 7: gold died with SIGFPE inside DuckDB on ~5,000 metric columns (JSON lines whose keys
// differ) and ran out of memory at 3,000-4,000. Each line has 1-3 of 5,000 keys, every key used.
TEST_F(GoldE2eTest, FiveThousandSparseJsonKeys) {
  constexpr int kKeys = 5000, kLines = 2500;
  // Silver caps a lake at silver.max_metric_columns (1000 by default); gold must hold up on wide
  // silver whatever the cap, so this lake allows them all.
  {
    const fs::path config = fs::path(lake_) / "iotad.toml";
    std::string text = ReadFile(config);
    const size_t at = text.find("max_metric_columns = 1000");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("max_metric_columns = 1000").size(), "max_metric_columns = 10000");
    WriteFile(config, text);
  }
  std::string jsonl;
  std::map<std::tuple<int, std::string, std::string>, std::pair<int64_t, double>> expected;  // hour, device, key
  int64_t values = 0;
  for (int i = 0; i < kLines; ++i) {
    const int second = i * 2;  // 10:00:00 on, one line every two seconds: two hours
    const std::string device = fmt::format("d{}", i % 10);
    const int hour = 10 + second / 3600;
    std::string fields;
    for (int j = 0; j <= i % 3; ++j) {
      const int k = (i * 2 + j) % kKeys;
      const double v = (i * 7 + k) % 13 + 0.5;
      fields += fmt::format(",\"k{:04d}\":{}", k, v);
      auto& [n, sum] = expected[{hour, device, fmt::format("k{:04d}", k)}];
      ++n;
      sum += v;
      ++values;
    }
    jsonl += fmt::format("{{\"ts\":\"2024-03-01T{:02d}:{:02d}:{:02d}Z\",\"device_id\":\"{}\"{}}}\n", hour,
                         second % 3600 / 60, second % 60, device, fields);
  }
  ASSERT_NO_FATAL_FAILURE(RunTwice("wide.jsonl", jsonl));
  ASSERT_EQ(SqlInt(lake_, "SELECT count(*) FROM silver"), kLines);
  // Every value is in the summary, under its own hour, device and metric.
  EXPECT_EQ(SqlInt(lake_, "SELECT sum(\"rows\") FROM gold_summary"), values);
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM gold_summary WHERE \"rows\" > 0"),
            static_cast<long long>(expected.size()));
  const auto& [key, cell] = *expected.rbegin();
  const auto& [hour, device, metric] = key;
  EXPECT_EQ(SqlInt(lake_, fmt::format("SELECT count(*) FROM gold_summary WHERE hour = {} AND device_id = '{}' AND "
                                      "metric = '{}' AND \"rows\" = {} AND abs(mean - {}) < 1e-9",
                                      hour, device, metric, cell.first, cell.second / static_cast<double>(cell.first))),
            1);
  ExpectUniqueNamesWithTheirHour();
  ExpectIdempotentRebuild();
}

}  // namespace
}  // namespace iotad::e2e
