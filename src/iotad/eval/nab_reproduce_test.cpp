// Reproduces the published NAB v1.1 scores of six detectors on the nab-dev set from their
// published result files. The data set must be there: a missing folder fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "iotad/eval/nab_eval.h"

namespace iotad::eval {
namespace {

namespace fs = std::filesystem;

struct Published {
  const char* detector;
  double standard, low_fp, low_fn;
  int64_t windows_hit;
  int64_t fa_events;
};

// The table of nab-dev/README.md: normalised scores, windows hit and false-alarm events at the
// standard profile's threshold.
constexpr Published kPublished[] = {
    {"numenta", 72.30, 69.12, 75.98, 30, 40},          {"contextOSE", 71.61, 67.25, 75.52, 30, 30},
    {"ARTime", 69.81, 59.97, 75.24, 31, 68},           {"knncad", 57.05, 46.57, 62.11, 26, 70},
    {"windowedGaussian", 26.52, 2.24, 37.12, 21, 173}, {"null", 0.00, 0.00, 0.00, 0, 0},
};

class NabReproduceTest : public ::testing::TestWithParam<Published> {};

TEST_P(NabReproduceTest, MatchesThePublishedTable) {
  const fs::path dev(IOTAD_NAB_DEV_DIR);
  ASSERT_TRUE(fs::is_directory(dev / "results"))
      << "the NAB dev set is missing: " << dev << " (set -DIOTAD_NAB_DEV_DIR)";
  const Published& p = GetParam();
  NabEvalOptions options;
  options.labels_path = (dev / "labels/combined_windows.json").string();
  options.profiles_path = (dev / "labels/profiles.json").string();
  options.results_dir = (dev / "results" / p.detector).string();
  const auto report = RunNabEval(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->detector, p.detector);
  EXPECT_EQ(report->files, 28);
  ASSERT_EQ(report->nab.size(), 3u);
  EXPECT_EQ(report->nab[0].profile.name, "standard");
  EXPECT_EQ(report->nab[1].profile.name, "reward_low_FP_rate");
  EXPECT_EQ(report->nab[2].profile.name, "reward_low_FN_rate");
  EXPECT_NEAR(report->nab[0].normalized, p.standard, 0.005);
  EXPECT_NEAR(report->nab[1].normalized, p.low_fp, 0.005);
  EXPECT_NEAR(report->nab[2].normalized, p.low_fn, 0.005);
  EXPECT_EQ(report->nab[0].windows, 36);
  EXPECT_EQ(report->nab[0].windows_hit, p.windows_hit);
  EXPECT_EQ(report->nab[0].fa_events, p.fa_events);
  for (const NabScore& s : report->nab) {
    std::printf("%-18s %-20s %7.3f threshold %.9g raw %.4f hit %lld fa %lld fp rows %lld\n",
                p.detector, s.profile.name.c_str(), s.normalized, s.threshold, s.raw,
                static_cast<long long>(s.windows_hit), static_cast<long long>(s.fa_events),
                static_cast<long long>(s.fp_rows));
  }
}

INSTANTIATE_TEST_SUITE_P(PublishedDetectors, NabReproduceTest, ::testing::ValuesIn(kPublished),
                         [](const auto& info) { return std::string(info.param.detector); });

}  // namespace
}  // namespace iotad::eval
