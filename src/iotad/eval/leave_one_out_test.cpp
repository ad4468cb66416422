#include "iotad/eval/leave_one_out.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace iotad::eval {
namespace {

constexpr int64_t kStep = 5 * kMicrosPerMinute;
constexpr TimestampUs kT0 = 1'400'000'000 * kMicrosPerSecond;
const NabProfile kStandard{"standard", 1.0, 0.11, 1.0};

TimestampUs At(int64_t row) { return kT0 + row * kStep; }

/// A 40-row file (probation: rows 0-5), scores 0 but at `fired` (row, score), and one window over
/// rows 10-19 when `windowed`.
struct File {
  File(std::string file_name, bool windowed, std::vector<std::pair<int, double>> fired)
      : name(std::move(file_name)), scores(40, 0.0) {
    for (int i = 0; i < 40; ++i) timestamps.push_back(At(i));
    if (windowed) windows.push_back({At(10), At(19)});
    for (const auto& [row, score] : fired) scores[row] = score;
  }
  NabFileRows Rows() const { return {name, timestamps, scores, windows}; }
  std::string name;
  std::vector<TimestampUs> timestamps;
  std::vector<double> scores;
  std::vector<NabWindow> windows;
};

/// What a row earns inside the 10-row window, at `row` (the window ends at row 19).
double HitScore(int row) { return NabScaledSigmoid(-(19.0 - row + 1) / 10) / NabScaledSigmoid(-1); }

// Three categories, b's file first so that document order is b, a, c:
//   b/1: window hit at row 15 by a 0.7 (earns HitScore(15) = 0.8598)
//   a/1: window hit at row 10 by a 0.9 (earns 1), and a 0.5 at row 30, 11 rows after the window
//   c/1: no window, a 0.8 at row 20 (a false positive before any window: -0.11)
//   a/2: no window, all zero
std::vector<File> Corpus() {
  return {File("b/1.csv", true, {{15, 0.7}}), File("a/1.csv", true, {{10, 0.9}, {30, 0.5}}),
          File("c/1.csv", false, {{20, 0.8}}), File("a/2.csv", false, {})};
}

std::vector<LeaveOneOut> LeaveOut(const std::vector<File>& files) {
  std::vector<NabFileRows> rows;
  for (const File& f : files) rows.push_back(f.Rows());
  const std::vector<NabProfile> profiles = {kStandard};
  auto out = LeaveOneCategoryOut(rows, profiles);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : std::vector<LeaveOneOut>{};
}

TEST(LeaveOneOutTest, CategoryIsTheFirstFolder) {
  EXPECT_EQ(NabCategory("realAWSCloudwatch/ec2_x.csv"), "realAWSCloudwatch");
  EXPECT_EQ(NabCategory("a/b/c.csv"), "a");
  EXPECT_EQ(NabCategory("flat.csv"), "flat.csv");
}

TEST(LeaveOneOutTest, EachCategoryIsScoredAtTheThresholdLearntOnTheOthers) {
  const std::vector<LeaveOneOut> out = LeaveOut(Corpus());
  ASSERT_EQ(out.size(), 1u);
  const std::vector<LeaveOneOutFold>& folds = out[0].folds;
  ASSERT_EQ(folds.size(), 3u);
  EXPECT_EQ(folds[0].category, "b");
  EXPECT_EQ(folds[1].category, "a");
  EXPECT_EQ(folds[2].category, "c");

  // b out: learnt on a and c. At 0.9 a's window is hit (+2 over missing it); going down to 0.8
  // adds c's false positive, to 0.5 a's: 0.9 is best. b's 0.7 does not fire: a miss.
  EXPECT_EQ(folds[0].files, 1);
  EXPECT_EQ(folds[0].train_files, 3);
  EXPECT_EQ(folds[0].rows, 40);
  EXPECT_DOUBLE_EQ(folds[0].score.threshold, 0.9);
  EXPECT_DOUBLE_EQ(folds[0].score.raw, -1.0);
  EXPECT_EQ(folds[0].score.windows_hit, 0);
  EXPECT_EQ(folds[0].score.windows, 1);
  EXPECT_DOUBLE_EQ(folds[0].score.normalized, 0.0);

  // a out: learnt on b and c. 0.8 alone is c's false positive (worse than firing nothing); 0.7
  // adds b's hit: 0.7 is best. a's 0.9 fires at the window start, its 0.5 does not fire.
  EXPECT_EQ(folds[1].files, 2);
  EXPECT_EQ(folds[1].train_files, 2);
  EXPECT_DOUBLE_EQ(folds[1].score.threshold, 0.7);
  EXPECT_DOUBLE_EQ(folds[1].score.raw, 1.0);
  EXPECT_EQ(folds[1].score.windows_hit, 1);
  EXPECT_EQ(folds[1].score.fa_events, 0);
  EXPECT_DOUBLE_EQ(folds[1].score.normalized, 100.0);

  // c out: learnt on a and b. 0.9 earns 2, 0.7 another 1 + HitScore(15), 0.5 adds a's false
  // positive: 0.7 is best, and c's 0.8 fires: one false alarm, no window, so no normalised score.
  EXPECT_DOUBLE_EQ(folds[2].score.threshold, 0.7);
  EXPECT_NEAR(folds[2].score.raw, -0.11, 1e-12);
  EXPECT_EQ(folds[2].score.windows, 0);
  EXPECT_EQ(folds[2].score.fa_events, 1);
  EXPECT_EQ(folds[2].score.fp_rows, 1);
  EXPECT_TRUE(std::isnan(folds[2].score.normalized));

  // Pooled: raw -1 + 1 - 0.11, null -2, perfect 2: 100 (1.89 / 4).
  const NabScore& pooled = out[0].pooled;
  EXPECT_NEAR(pooled.raw, -0.11, 1e-12);
  EXPECT_DOUBLE_EQ(pooled.null_score, -2.0);
  EXPECT_DOUBLE_EQ(pooled.perfect, 2.0);
  EXPECT_NEAR(pooled.normalized, 47.25, 1e-9);
  EXPECT_EQ(pooled.windows, 2);
  EXPECT_EQ(pooled.windows_hit, 1);
  EXPECT_EQ(pooled.fa_events, 1);
  EXPECT_EQ(pooled.files.size(), 4u);
  EXPECT_TRUE(std::isnan(pooled.threshold));
}

TEST(LeaveOneOutTest, TheHeldOutFigureIsTheHeldOutCorpusAtTheLearntThreshold) {
  // Cross-check against NabCorpus directly: c out means a and b learn, c is scored.
  const std::vector<File> files = Corpus();
  NabCorpus train, test;
  for (const File& f : files) {
    NabCorpus& into = f.name.starts_with("c/") ? test : train;
    ASSERT_TRUE(into.AddFile(f.name, f.timestamps, f.scores, f.windows).ok());
  }
  const double threshold = train.OptimalThreshold(kStandard);
  EXPECT_DOUBLE_EQ(threshold, 0.7);
  EXPECT_NEAR(train.ScoreAt(kStandard, threshold).raw, 1.0 + HitScore(15), 1e-12);
  const NabScore expected = test.ScoreAt(kStandard, threshold);
  const std::vector<LeaveOneOut> out = LeaveOut(files);  // kept: the fold is a reference into it
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].folds.size(), 3u);
  const LeaveOneOutFold& fold = out[0].folds[2];
  EXPECT_DOUBLE_EQ(fold.score.raw, expected.raw);
  EXPECT_EQ(fold.score.fp_rows, expected.fp_rows);
}

TEST(LeaveOneOutTest, OneCategoryIsAnError) {
  const File f("a/1.csv", true, {{10, 0.9}});
  const std::vector<NabFileRows> rows = {f.Rows()};
  const std::vector<NabProfile> profiles = {kStandard};
  const auto out = LeaveOneCategoryOut(rows, profiles);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("at least two categories"), std::string::npos);
}

}  // namespace
}  // namespace iotad::eval
