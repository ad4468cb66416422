// End-to-end: the detector registry as gold sees it. Batch detectors take their parameters per
// series from the config's [[detect.rule]]s, and a detector's version (the registry's) is written
// in every row and keys gold's up-to-date check, so a version bump recomputes gold.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "e2e_util.h"
#include "iotad/detect/registry.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/gold.h"

namespace iotad::e2e {
namespace {

/// Two devices, ten hours a minute apart; each has a five-point excursion of about 6 to 8 sigma.
std::string BuildLake(const TempDir& dir, const std::string& config_extra) {
  const std::string lake = dir / "lake";
  EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
  WriteFile(lake + "/iotad.toml", ReadFile(lake + "/iotad.toml") + config_extra);
  std::string csv = "event_time,device_id,temp_c,location\n";
  for (int i = 0; i < 600; ++i) {
    for (const std::string dev : {"freezer-1", "office-1"}) {
      double temp = (dev == "freezer-1" ? -20.0 : 21.0) + 0.1 * ((i * 7) % 5);
      if (i >= 500 && i < 505) temp += 1.0;
      csv += fmt::format("2024-01-01T{:02d}:{:02d}:00Z,{},{:.1f},lab\n", i / 60, i % 60, dev, temp);
    }
  }
  std::filesystem::create_directories(dir / "in");
  WriteFile(dir / "in/readings.csv", csv);
  EXPECT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  EXPECT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  return lake;
}

long long Count(const std::string& lake, const std::string& where) {
  return SqlInt(lake, "SELECT count(*) FROM anomalies WHERE " + where);
}

// Issue 8: `params = {"zscore.threshold" = 100}` was accepted and had no effect in gold.
TEST(RegistryE2eTest, BatchDetectorParametersApplyPerSeriesInGold) {
  TempDir plain_dir, ruled_dir;
  const std::string plain = BuildLake(plain_dir, "");
  ASSERT_EQ(RunIotad({"gold", "--lake", plain}).exit_code, 0);
  const long long freezer_z = Count(plain, "detector = 'zscore' AND device_id = 'freezer-1'");
  const long long office_z = Count(plain, "detector = 'zscore' AND device_id = 'office-1'");
  const long long office_robust = Count(plain, "detector = 'robust_zscore' AND device_id = 'office-1'");
  ASSERT_GE(freezer_z, 5);
  ASSERT_GE(office_z, 5);
  ASSERT_GE(office_robust, 5);

  const std::string ruled = BuildLake(ruled_dir, R"(
[[detect.rule]]
devices = ["freezer-*"]
params = { "zscore.threshold" = 100, "robust_zscore.min_points" = 100000 }

[[detect.rule]]
devices = ["office-*"]
params = { "zscore.threshold" = 1.1 }
)");
  const auto gold = RunIotad({"gold", "--lake", ruled});
  ASSERT_EQ(gold.exit_code, 0) << gold.err;
  // The freezer: nothing is 100 sigma out, and its robust_zscore never warms up.
  EXPECT_EQ(Count(ruled, "detector = 'zscore' AND device_id = 'freezer-1'"), 0);
  EXPECT_EQ(Count(ruled, "detector = 'robust_zscore' AND device_id = 'freezer-1'"), 0);
  // The office: a lower threshold flags more, each row with the threshold it was judged by and the
  // band that threshold gives; its robust_zscore keeps the defaults.
  const long long office_low = Count(ruled, "detector = 'zscore' AND device_id = 'office-1'");
  EXPECT_GT(office_low, office_z);
  EXPECT_EQ(Count(ruled, "detector = 'zscore' AND device_id = 'office-1' AND threshold = 1.1 AND abs(z) > 1.1 "
                         "AND abs(expected_hi - (baseline_mean + 1.1 * baseline_std)) < 1e-9"),
            office_low);
  EXPECT_EQ(Count(ruled, "detector = 'robust_zscore' AND device_id = 'office-1'"), office_robust);
  // Same rules, same silver: up to date.
  EXPECT_NE(RunIotad({"gold", "--lake", ruled}).out.find("up to date"), std::string::npos);

  // A batch parameter out of its range or unknown is refused by config check and gold alike.
  WriteFile(ruled + "/iotad.toml",
            ReadFile(ruled + "/iotad.toml") + "\n[[detect.rule]]\nparams = { \"zscore.min_points\" = 2.5 }\n");
  const auto bad = RunIotad({"gold", "--lake", ruled});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("detector zscore: parameter min_points must be a whole number"), std::string::npos)
      << bad.err;
}

// Issue 8: every version was hard-coded to 1, so a changed detector left gold "up to date".
TEST(RegistryE2eTest, AVersionBumpMakesGoldRecomputeAndIsWrittenInTheRows) {
  TempDir dir;
  const std::string lake = BuildLake(dir, "");
  ASSERT_EQ(RunIotad({"gold", "--lake", lake}).exit_code, 0);
  const long long zscore_rows = Count(lake, "detector = 'zscore'");
  const long long default_rows = Count(lake, "detector = 'default'");
  ASSERT_GT(zscore_rows, 0);
  ASSERT_GT(default_rows, 0);
  // Every row carries its detector's registry version.
  for (const detect::DetectorSpec& d : detect::Detectors()) {
    EXPECT_EQ(Count(lake, fmt::format("detector = '{}' AND detector_version <> {}", d.name, d.version)), 0)
        << d.name;
  }
  // A bump of `default` past its registry version (derived, so a real bump needs no edit here).
  const int next_default = detect::FindDetector("default")->version + 1;
  {
    auto opened = lake::Lake::Open(lake);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    lake::Lake& l = **opened;
    ASSERT_TRUE(l.BeginWrite().ok());
    auto same = pipeline::RunGold(l, {}, "registry-test-1");
    ASSERT_TRUE(same.ok()) << same.status().message();
    EXPECT_TRUE(same->up_to_date);
    {
      const detect::ScopedVersionOverride bump("zscore", 7);
      auto bumped = pipeline::RunGold(l, {}, "registry-test-2");
      ASSERT_TRUE(bumped.ok()) << bumped.status().message();
      EXPECT_FALSE(bumped->up_to_date);
      EXPECT_GT(bumped->commit_seq, 0);
    }
    {
      const detect::ScopedVersionOverride bump("default", next_default);
      auto bumped = pipeline::RunGold(l, {}, "registry-test-3");
      ASSERT_TRUE(bumped.ok()) << bumped.status().message();
      EXPECT_FALSE(bumped->up_to_date);
    }
  }
  // The last run wrote the bumped default (zscore back at its registry version), same rows otherwise.
  EXPECT_EQ(Count(lake, fmt::format("detector = 'default' AND detector_version = {}", next_default)), default_rows);
  EXPECT_EQ(Count(lake, fmt::format("detector = 'zscore' AND detector_version = {}",
                                    detect::FindDetector("zscore")->version)),
            zscore_rows);
  // Back at the registry's versions: recomputed once more, then up to date.
  EXPECT_EQ(RunIotad({"gold", "--lake", lake}).out.find("up to date"), std::string::npos);
  EXPECT_NE(RunIotad({"gold", "--lake", lake}).out.find("up to date"), std::string::npos);
}

}  // namespace
}  // namespace iotad::e2e
