// End-to-end: the config's [[detect.rule]]s choose detectors, physical range and sensitivity per
// metric and device group, and gold applies them series by series; `mahalanobis` runs per device.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

constexpr const char* kRules = R"(
[[detect.rule]]
metrics = ["humidity_pc"]
min = 0
max = 100

[[detect.rule]]
devices = ["freezer-*"]
metrics = ["temp_c"]
max = -10
)";

/// A small lake: a freezer and an office sensor, ten hours of readings a minute apart, with a
/// freezer warming to -5 C (normal for the office, out of range for a freezer) and humidity 120.
std::string BuildLake(const TempDir& dir, const std::string& config_extra) {
  const std::string lake = dir / "lake";
  EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
  WriteFile(lake + "/iotad.toml", ReadFile(lake + "/iotad.toml") + config_extra);
  std::string csv = "event_time,device_id,temp_c,humidity_pc,location\n";
  for (int i = 0; i < 600; ++i) {
    for (const std::string dev : {"freezer-1", "office-1"}) {
      const bool freezer = dev == "freezer-1";
      double temp = (freezer ? -20.0 : 21.0) + 0.1 * ((i * 7) % 5);
      double humidity = 40.0 + 0.2 * ((i * 3) % 7);
      if (i >= 500 && i < 505) temp = freezer ? -5.0 + 0.1 * (i - 500) : temp;
      if (i == 550) humidity = 120.0;
      if (i >= 300 && i < 360) humidity = 41.0;  // stuck for an hour, both devices
      csv += fmt::format("2024-01-01T{:02d}:{:02d}:00Z,{},{:.1f},{:.1f},lab\n", i / 60, i % 60, dev, temp, humidity);
    }
  }
  std::filesystem::create_directories(dir / "in");
  WriteFile(dir / "in/readings.csv", csv);
  EXPECT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  EXPECT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  return lake;
}

TEST(DetectRulesE2eTest, RangesApplyPerMetricAndDeviceGroup) {
  TempDir dir;
  const std::string lake = BuildLake(dir, kRules);
  const auto gold = RunIotad({"gold", "--lake", lake, "--detector", "range"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  // The freezer above -10 C: five readings out of its range; the office at the same time: none.
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM anomalies WHERE device_id = 'freezer-1' AND metric = 'temp_c' "
                         "AND rule = 'above the physical maximum' AND expected_hi = -10"),
            5);
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM anomalies WHERE device_id = 'office-1' AND metric = 'temp_c'"), 0);
  // Humidity 120 on both devices: the humidity rule covers every device.
  EXPECT_EQ(SqlInt(lake, "SELECT count(DISTINCT device_id) FROM anomalies WHERE metric = 'humidity_pc' "
                         "AND value = 120"),
            2);
  // The explanation says what the range was.
  EXPECT_NE(Sql(lake, "SELECT explanation FROM anomalies WHERE metric = 'humidity_pc' LIMIT 1")
                .find("allowed 0..100"),
            std::string::npos);
}

TEST(DetectRulesE2eTest, RulesChooseDetectorsPerSeriesAndAChangeRecomputesGold) {
  TempDir dir;
  const std::string lake = BuildLake(dir, std::string(kRules) + R"(
[[detect.rule]]
devices = ["office-*"]
detectors = ["flatline"]
)");
  // Without --detector: gold.detectors (zscore, robust_zscore) everywhere, and the office also
  // runs flatline; the freezer does not. Both had humidity stuck for an hour.
  const auto gold = RunIotad({"gold", "--lake", lake});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  EXPECT_GE(SqlInt(lake, "SELECT count(*) FROM anomalies WHERE detector = 'flatline' AND device_id = 'office-1' "
                         "AND metric = 'humidity_pc'"),
            1);
  EXPECT_EQ(SqlInt(lake, "SELECT count(*) FROM anomalies WHERE detector = 'flatline' AND device_id = 'freezer-1'"),
            0);
  EXPECT_GE(SqlInt(lake, "SELECT count(*) FROM anomalies WHERE detector = 'zscore' AND device_id = 'freezer-1'"), 1);
  // Editing a rule changes what gold computes: it is not "up to date" any more.
  WriteFile(lake + "/iotad.toml", ReadFile(lake + "/iotad.toml") + "\n[[detect.rule]]\nmetrics = [\"temp_c\"]\n"
                                                                     "detectors = [\"zscore\"]\n");
  const auto again = RunIotad({"gold", "--lake", lake});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("up to date"), std::string::npos) << again.out;
}

TEST(DetectRulesE2eTest, DetectorParametersPerDeviceGroup) {
  TempDir dir;
  const std::string lake = BuildLake(dir, std::string(kRules) + R"(
[[detect.rule]]
devices = ["office-*"]
params = { "window_z.window" = 16 }
)");
  const auto gold = RunIotad({"gold", "--lake", lake, "--detector", "window_z"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  // The office's baselines come from 16 points, the freezer's from the default 96.
  EXPECT_EQ(SqlInt(lake, "SELECT max(baseline_n) FROM anomalies WHERE device_id = 'office-1'"), 16);
  EXPECT_GT(SqlInt(lake, "SELECT max(baseline_n) FROM anomalies WHERE device_id = 'freezer-1'"), 16);
  // A wrong parameter name is an error that says where it came from.
  WriteFile(lake + "/iotad.toml",
            ReadFile(lake + "/iotad.toml") + "\n[[detect.rule]]\nparams = { \"window_z.windw\" = 8 }\n");
  const auto bad = RunIotad({"gold", "--lake", lake, "--detector", "window_z"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown parameter 'windw'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("detect.rule"), std::string::npos) << bad.err;
}

TEST(DetectRulesE2eTest, MahalanobisRunsPerDeviceAcrossMetrics) {
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  ASSERT_EQ(RunIotad({"generate", "--out", dir / "in", "--devices", "5", "--hours", "48", "--anomaly-rate", "0"})
                .exit_code,
            0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  const auto gold = RunIotad({"gold", "--lake", lake, "--detector", "mahalanobis"});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  // Normal data: few flags, and each names the metric that strayed most.
  EXPECT_LE(SqlInt(lake, "SELECT count(*) FROM anomalies"), 10);
  const auto eval = RunIotad({"eval", "--lake", lake, "--labels", dir / "in/_labels.csv", "--detector", "mahalanobis"});
  EXPECT_EQ(eval.exit_code, 0) << eval.err;
  const auto bad = RunIotad({"gold", "--lake", lake, "--detector", "mahalanobiss"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("mahalanobis"), std::string::npos);
}

TEST(ReplayBucketsTest, AMemoryBudgetSplitsTheReplayWithoutChangingGold) {
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  ASSERT_EQ(RunIotad({"generate", "--out", dir / "in", "--devices", "12", "--hours", "24", "--anomaly-rate", "4"})
                .exit_code,
            0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  ASSERT_EQ(RunIotad({"gold", "--lake", lake, "--detector", "default"}).exit_code, 0);
  const std::string digest = "SELECT count(*), sum(hash(device_id, metric, event_time, score)) FROM anomalies";
  const std::string whole = Sql(lake, digest);
  EXPECT_GT(SqlInt(lake, "SELECT count(*) FROM anomalies"), 12);
  // 12 devices x 3 metrics = 36 series of `default` (a few KiB of state each): a budget of 10,000
  // points (80 KB, half of it per thread) makes several buckets, each replayed on its own.
  std::string config = ReadFile(lake + "/iotad.toml");
  const auto at = config.find("max_baseline_points = ");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, config.find('\n', at) - at, "max_baseline_points = 10000");
  WriteFile(lake + "/iotad.toml", config);
  const auto again = RunIotad({"gold", "--lake", lake, "--detector", "default", "--rebuild"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 written"), std::string::npos) << again.out;  // same content, same files
  EXPECT_EQ(Sql(lake, digest), whole);
}

/// Sets gold.max_baseline_points in a lake's config.
void SetBaselineBudget(const std::string& lake, const std::string& points) {
  std::string config = ReadFile(lake + "/iotad.toml");
  const auto at = config.find("max_baseline_points = ");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, config.find('\n', at) - at, "max_baseline_points = " + points);
  WriteFile(lake + "/iotad.toml", config);
}

// The robust baselines are gathered by gold itself (spilled by bucket when they outgrow the
// budget): each must be exactly DuckDB's median and median absolute deviation of the series.
TEST(RobustBaselinesTest, AreDuckDbsMedianAndMadWhateverTheMemoryBudget) {
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  // Dirty input: empty cells and quarantined rows give the series odd and even counts.
  ASSERT_EQ(RunIotad({"generate", "--out", dir / "in", "--devices", "9", "--hours", "5", "--anomaly-rate", "4",
                      "--dirty", "--seed", "5"})
                .exit_code,
            0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  // A threshold low enough that every series has flagged points, which carry its baseline.
  WriteFile(lake + "/iotad.toml", ReadFile(lake + "/iotad.toml") +
                                      "\n[[detect.rule]]\nparams = { \"robust_zscore.threshold\" = 0.1 }\n");
  const std::string reference =
      "WITH v AS (UNPIVOT (SELECT device_id, temp_c, humidity_pc, vibration_g FROM silver) "
      "ON temp_c, humidity_pc, vibration_g INTO NAME metric VALUE x), "
      "m AS (SELECT device_id, metric, median(x) AS med, count(x) AS n FROM v GROUP BY ALL), "
      "d AS (SELECT device_id, metric, any_value(m.med) AS med, median(abs(x - m.med)) / 0.6745 AS mad, "
      "any_value(m.n) AS n FROM v JOIN m USING (device_id, metric) GROUP BY ALL) ";
  const std::string compared = reference +
                               "SELECT count(*) FROM anomalies a JOIN d USING (device_id, metric) "
                               "WHERE a.detector = 'robust_zscore'";
  const std::string differing = compared +
                                " AND (a.baseline_mean IS DISTINCT FROM d.med OR a.baseline_std IS DISTINCT FROM d.mad"
                                " OR a.baseline_n IS DISTINCT FROM d.n)";
  // Both parities of count occur, so both ways of taking a median are checked.
  EXPECT_GT(SqlInt(lake, reference + "SELECT count(*) FROM d WHERE n % 2 = 0"), 0);
  EXPECT_GT(SqlInt(lake, reference + "SELECT count(*) FROM d WHERE n % 2 = 1"), 0);
  const std::string series = "SELECT count(DISTINCT (device_id, metric)) FROM anomalies WHERE detector = 'robust_zscore'";
  std::string digest;
  for (const std::string budget : {"8000000", "1000"}) {  // one bucket; about twenty, spilled
    SetBaselineBudget(lake, budget);
    const auto gold = RunIotad({"gold", "--lake", lake, "--detector", "robust_zscore", "--rebuild"});
    ASSERT_EQ(gold.exit_code, 0) << gold.err;
    // (A series whose MAD is 0 has no robust z, so no flag.)
    EXPECT_EQ(SqlInt(lake, series), SqlInt(lake, reference + "SELECT count(*) FROM d WHERE mad > 0")) << "budget " << budget;
    EXPECT_EQ(SqlInt(lake, differing), 0) << "budget " << budget;
    const std::string now = Sql(lake, "SELECT count(*), sum(hash(device_id, metric, event_time, score)) FROM anomalies");
    if (digest.empty()) digest = now;
    EXPECT_EQ(now, digest) << "budget " << budget;
  }
  // No scratch file is left behind.
  for (const auto& f : ListFiles(lake)) EXPECT_EQ(f.find("robust"), std::string::npos) << f;
}

// Silver stores each hour partition in (device, time) order, and the replay streams it hour by
// hour without sorting. An hour written in several files (rows that arrived later) interleaves in
// time and is put in order first: the flags are those of the same rows stored in one go.
TEST(ReplayBucketsTest, AnHourStoredInSeveralFilesReplaysAsIfStoredAtOnce) {
  TempDir dir;
  ASSERT_EQ(RunIotad({"generate", "--out", dir / "in", "--devices", "6", "--hours", "30", "--anomaly-rate", "6",
                      "--seed", "9"})
                .exit_code,
            0);
  // The same rows split in two halves, every other line: each half covers every hour.
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "in")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("fleet-", 0) != 0) continue;
    std::istringstream in(ReadFile(entry.path()));
    std::string header, line, a, b;
    std::getline(in, header);
    for (int i = 0; std::getline(in, line); ++i) (i % 2 == 0 ? a : b) += line + "\n";
    WriteFile(std::filesystem::path(dir / "a") / name, header + "\n" + a);
    WriteFile(std::filesystem::path(dir / "b") / ("late-" + name), header + "\n" + b);
    ++files;
  }
  ASSERT_GT(files, 0);
  const std::string once = dir / "once", twice = dir / "twice";
  for (const auto& lake : {once, twice}) ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", once, dir / "a"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", once, dir / "b"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", once}).exit_code, 0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", twice, dir / "a"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", twice}).exit_code, 0);
  ASSERT_EQ(RunIotad({"ingest", "--lake", twice, dir / "b"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", twice}).exit_code, 0);
  // Same rows; every hour of `twice` in two files.
  const std::string rows = "SELECT count(*), sum(hash(device_id, event_time, temp_c, humidity_pc, vibration_g)) FROM silver";
  ASSERT_EQ(Sql(twice, rows), Sql(once, rows));
  EXPECT_EQ(ListFiles(twice, "silver/").size(), 2 * ListFiles(once, "silver/").size());
  const std::string digest =
      "SELECT count(*), sum(hash(device_id, metric, event_time, score, explanation)) FROM anomalies";
  for (const auto& lake : {once, twice}) {
    const auto gold = RunIotad({"gold", "--lake", lake, "--detector", "default"});
    ASSERT_EQ(gold.exit_code, 0) << gold.err;
  }
  EXPECT_GT(SqlInt(once, "SELECT count(*) FROM anomalies"), 5);
  EXPECT_EQ(Sql(twice, digest), Sql(once, digest));
}

}  // namespace
}  // namespace iotad::e2e
