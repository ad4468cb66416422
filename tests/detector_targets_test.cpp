// The detector targets of issue 3, held as regression tests (deterministic: fixed seeds, fixed
// data). If a detector change breaks one, the change is wrong or the target moved; not the test.
//  - generated fleets, one anomaly kind each: event-level F1 >= 0.9 with < 0.1 false alarms per
//    device-day for spikes, level shifts, stuck sensors and silent devices (dropouts), and (issue
//    11, since `default` v7 follows a trend) slow drifts, at one reading a minute; every 5 minutes
//    (issue 11, not met yet) at least v8's 0.84 for spikes, level shifts and drifts;
//  - the NAB development set (issue 11): each category held out scores at least 60 at the
//    threshold learnt on the other two.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

/// The first number after `key` in a JSON text.
double Number(const std::string& json, const std::string& key) {
  const auto at = json.find(key);
  EXPECT_NE(at, std::string::npos) << key;
  if (at == std::string::npos) return NAN;
  return std::strtod(json.c_str() + at + key.size(), nullptr);
}

/// A fleet of 40 devices x 4 days with anomalies of one kind (seed 11) at `interval`, through
/// silver, scored by `iotad eval --lake`: at least 40 events, F1 >= min_f1, < 0.1 false alarms per
/// device-day.
void ExpectFleetF1(const std::string& kind, const std::string& interval, double min_f1) {
  TempDir dir;
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  const auto gen = RunIotad({"generate", "--out", dir / "in", "--devices", "40", "--hours", "96", "--interval",
                             interval, "--anomaly-kinds", kind, "--seed", "11"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_EQ(RunIotad({"ingest", "--lake", lake, dir / "in"}).exit_code, 0);
  ASSERT_EQ(RunIotad({"silver", "--lake", lake}).exit_code, 0);
  const auto eval = RunIotad({"eval", "--lake", lake, "--labels", dir / "in/_labels.csv", "--format", "json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const std::string overall = eval.out.substr(eval.out.find(R"("overall":)"));
  EXPECT_GE(Number(overall, R"("events":)"), 40);  // enough events to mean something
  EXPECT_GE(Number(overall, R"("f1":)"), min_f1) << eval.out;
  EXPECT_LT(Number(eval.out, R"("false_alarms_per_device_day":)"), 0.1) << eval.out;
}

class FleetTargetTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FleetTargetTest, F1AtLeast0p9WithFewFalseAlarms) { ExpectFleetF1(GetParam(), "60s", 0.9); }

INSTANTIATE_TEST_SUITE_P(Kinds, FleetTargetTest, ::testing::Values("spike", "level_shift", "stuck", "dropout", "drift"));

// One reading every 5 minutes the issue's 0.9 is not reached yet for spikes, level shifts and
// drifts (v8 on this seed: 0.855 / 0.848 / 0.849). This holds what `default` v8 gained there
// (v7: 0.832 / 0.770 / 0.565; the previous value as an expectation where the level lags the
// daily cycle by about its amplitude), so a change that loses it fails here.
class FiveMinuteFleetTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FiveMinuteFleetTest, F1AtLeast0p84WithFewFalseAlarms) { ExpectFleetF1(GetParam(), "5m", 0.84); }

INSTANTIATE_TEST_SUITE_P(Kinds, FiveMinuteFleetTest, ::testing::Values("spike", "level_shift", "drift"));

fs::path NabDev() {
  if (const char* env = std::getenv("IOTAD_NAB_DEV_DIR"); env != nullptr && *env != '\0') return env;
  return fs::path(IOTAD_SOURCE_DIR) / "tests" / "data" / "nab-dev";
}

TEST(NabTargetTest, EachCategoryHeldOutScoresAtLeast60AtTheThresholdLearntOnTheOthers) {
  // Issue 11: tuned on two categories of the development set, the third scores at least 60
  // (standard profile); a category without windows has no normalised score, and must then raise
  // no false alarm at all. The whole set stays above 70 (published best: HTM 72.30, contextOSE
  // 71.61, ARTime 69.81).
  const fs::path nab = NabDev();
  ASSERT_TRUE(fs::exists(nab / "labels/combined_windows.json")) << "NAB development set missing at " << nab;
  const auto eval = RunIotad({"eval", "--labels", (nab / "labels/combined_windows.json").string(), "--data",
                              (nab / "data").string(), "--detector", "default", "--leave-one-out", "--format",
                              "json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const std::string standard = eval.out.substr(eval.out.find(R"("profile":"standard")"));
  EXPECT_GT(Number(standard, R"("score":)"), 70.0) << eval.out;
  const auto loo_at = eval.out.find(R"("leave_one_out":)");
  ASSERT_NE(loo_at, std::string::npos) << eval.out;
  const std::string loo = eval.out.substr(eval.out.find(R"("profile":"standard")", loo_at));
  const auto category = [&](const std::string& name) {
    const auto at = loo.find(R"("category":")" + name + '"');
    EXPECT_NE(at, std::string::npos) << name;
    return at == std::string::npos ? std::string() : loo.substr(at);
  };
  const std::string none = category("artificialNoAnomaly");
  EXPECT_NE(none.find(R"("score":null)"), std::string::npos) << none.substr(0, 200);
  EXPECT_EQ(Number(none, R"("fa_events":)"), 0) << none.substr(0, 200);
  for (const char* name : {"artificialWithAnomaly", "realAWSCloudwatch"}) {
    const std::string c = category(name);
    EXPECT_GE(Number(c, R"("score":)"), 60.0) << name << ": " << c.substr(0, 300);
  }
}

}  // namespace
}  // namespace iotad::e2e
