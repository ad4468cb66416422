#include "iotad/eval/nab.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "iotad/eval/nab_labels.h"

namespace iotad::eval {
namespace {

constexpr int64_t kStep = 5 * kMicrosPerMinute;
constexpr TimestampUs kT0 = 1'400'000'000 * kMicrosPerSecond;
const NabProfile kStandard{"standard", 1.0, 0.11, 1.0};
const NabProfile kLowFn{"reward_low_FN_rate", 1.0, 0.11, 2.0};

TimestampUs At(int64_t row) { return kT0 + row * kStep; }

/// `n` rows five minutes apart; the window covers rows [first, last].
struct OneFile {
  explicit OneFile(int64_t n, int64_t first = 10, int64_t last = 19) : scores(n, 0.0) {
    for (int64_t i = 0; i < n; ++i) timestamps.push_back(At(i));
    windows.push_back({At(first), At(last)});
  }
  OneFile& Fire(std::initializer_list<int64_t> rows) {
    for (const int64_t r : rows) scores[r] = 1.0;
    return *this;
  }
  NabScore ScoreAt(const NabProfile& profile = kStandard, double threshold = 0.5) const {
    NabCorpus corpus;
    EXPECT_TRUE(corpus.AddFile("f.csv", timestamps, scores, windows).ok());
    return corpus.ScoreAt(profile, threshold);
  }
  std::vector<TimestampUs> timestamps;
  std::vector<double> scores;
  std::vector<NabWindow> windows;
};

/// What a false positive `distance` rows after a window of `width` rows costs (standard).
double FalsePositiveCost(double distance, double width) {
  return 0.11 * (2.0 / (1.0 + std::exp(5.0 * distance / (width - 1))) - 1.0);
}

TEST(NabTest, ProbationIsFifteenPercentCappedAt750Rows) {
  EXPECT_EQ(NabProbationRows(0), 0);
  EXPECT_EQ(NabProbationRows(40), 6);
  EXPECT_EQ(NabProbationRows(4032), 604);
  EXPECT_EQ(NabProbationRows(5000), 750);
  EXPECT_EQ(NabProbationRows(22695), 750);
}

TEST(NabTest, ScaledSigmoidMatchesNab) {
  EXPECT_NEAR(NabScaledSigmoid(-1.0), 0.98661429815, 1e-10);
  EXPECT_NEAR(NabScaledSigmoid(-0.5), 0.84828363995, 1e-10);
  EXPECT_DOUBLE_EQ(NabScaledSigmoid(0.0), 0.0);
  EXPECT_NEAR(NabScaledSigmoid(3.0), -0.99999938819, 1e-10);
  EXPECT_EQ(NabScaledSigmoid(3.0001), -1.0);
}

TEST(NabTest, AHitAtTheWindowStartScoresOne) {
  const NabScore s = OneFile(40).Fire({10}).ScoreAt();
  EXPECT_DOUBLE_EQ(s.raw, 1.0);
  EXPECT_EQ(s.windows_hit, 1);
  EXPECT_EQ(s.fa_events, 0);
  EXPECT_DOUBLE_EQ(s.null_score, -1.0);
  EXPECT_DOUBLE_EQ(s.perfect, 1.0);
  EXPECT_DOUBLE_EQ(s.normalized, 100.0);
}

TEST(NabTest, OnlyTheEarliestFiringInAWindowCounts) {
  const NabScore late = OneFile(40).Fire({19}).ScoreAt();
  // Position -(19 - 19 + 1) / 10 = -0.1 in a 10-row window.
  EXPECT_NEAR(late.raw, NabScaledSigmoid(-0.1) / NabScaledSigmoid(-1.0), 1e-12);
  const NabScore both = OneFile(40).Fire({12, 19}).ScoreAt();
  EXPECT_NEAR(both.raw, NabScaledSigmoid(-0.8) / NabScaledSigmoid(-1.0), 1e-12);
  EXPECT_EQ(both.windows_hit, 1);
}

TEST(NabTest, AMissedWindowCostsTheFalseNegativeWeight) {
  EXPECT_DOUBLE_EQ(OneFile(40).ScoreAt(kStandard).raw, -1.0);
  const NabScore low_fn = OneFile(40).ScoreAt(kLowFn);
  EXPECT_DOUBLE_EQ(low_fn.raw, -2.0);
  EXPECT_DOUBLE_EQ(low_fn.normalized, 0.0);
  EXPECT_EQ(low_fn.windows_hit, 0);
}

TEST(NabTest, AFalsePositiveFarFromWindowsCostsTheFullWeight) {
  // Before any window: the full -A_FP.
  EXPECT_DOUBLE_EQ(OneFile(40).Fire({10, 8}).ScoreAt().raw, 1.0 - 0.11);
  // More than 3 window widths after the window: the full -A_FP too (80 rows: probation is 12).
  const NabScore far = OneFile(80, 20, 29).Fire({20, 29 + 31}).ScoreAt();
  EXPECT_DOUBLE_EQ(far.raw, 1.0 - 0.11);
  EXPECT_EQ(far.fa_events, 1);
  EXPECT_EQ(far.fp_rows, 1);
}

TEST(NabTest, AFalsePositiveRightAfterAWindowCostsLess) {
  const NabScore s = OneFile(80, 20, 29).Fire({20, 30}).ScoreAt();
  const double cost = FalsePositiveCost(1, 10);
  EXPECT_NEAR(s.raw, 1.0 + cost, 1e-12);
  EXPECT_LT(cost, 0.0);
  EXPECT_GT(cost, -0.11 / 2);
  // Further away costs more.
  EXPECT_LT(OneFile(80, 20, 29).Fire({20, 35}).ScoreAt().raw, s.raw);
}

TEST(NabTest, ConsecutiveFalsePositivesAreOneFalseAlarmEvent) {
  const NabScore s = OneFile(80, 20, 29).Fire({40, 41, 42, 50, 60, 61}).ScoreAt();
  EXPECT_EQ(s.fp_rows, 6);
  EXPECT_EQ(s.fa_events, 3);
  EXPECT_EQ(s.windows_hit, 0);
}

TEST(NabTest, ProbationRowsAreIgnored) {
  // 40 rows: rows 0..5 are probation; firing there costs nothing.
  EXPECT_DOUBLE_EQ(OneFile(40).Fire({10, 0, 3, 5}).ScoreAt().raw, 1.0);
  EXPECT_EQ(OneFile(40).Fire({0, 3, 5}).ScoreAt().fa_events, 0);
  // A window whose rows are all probation is not scored, but still counts as a possible hit.
  const NabScore early = OneFile(40, 1, 4).Fire({2}).ScoreAt();
  EXPECT_DOUBLE_EQ(early.raw, 0.0);
  EXPECT_DOUBLE_EQ(early.null_score, 0.0);
  EXPECT_DOUBLE_EQ(early.perfect, 1.0);
  EXPECT_EQ(early.windows_hit, 0);
  // A window starting in probation: only its rows after probation can hit.
  const NabScore straddling = OneFile(40, 4, 13).Fire({5, 6}).ScoreAt();
  EXPECT_NEAR(straddling.raw, NabScaledSigmoid(-0.8) / NabScaledSigmoid(-1.0), 1e-12);
}

TEST(NabTest, RepeatedTimestampsAreSeparateRowsAndWindowEdgesMatchTheFirst) {
  // Rows: 0..9 ordinary, then the window start time twice, ..., the end time twice.
  std::vector<TimestampUs> ts;
  for (int64_t i = 0; i < 10; ++i) ts.push_back(At(i));
  ts.push_back(At(10));                                    // row 10: window start
  ts.push_back(At(10));                                    // row 11: same time, inside the window
  for (int64_t i = 11; i <= 15; ++i) ts.push_back(At(i));  // rows 12..16, row 16 = the end
  ts.push_back(At(15));  // row 17: the end time again, outside: the window closed at row 16
  for (int64_t i = 16; i < 30; ++i) ts.push_back(At(i));
  const NabWindow w{At(10), At(15)};
  const auto labels = LabelNabRows(ts, std::span(&w, 1));
  ASSERT_TRUE(labels.ok()) << labels.status().message();
  EXPECT_EQ(labels->window[9], NabRowLabels::kOutside);
  EXPECT_EQ(labels->window[10], 0);
  EXPECT_EQ(labels->window[11], 0);
  EXPECT_EQ(labels->window[16], 0);
  EXPECT_EQ(labels->window[17], NabRowLabels::kOutside);
  // Width = 16 - 10 + 1 = 7 rows: the start row sits at -(16 - 10 + 1) / 7 = -1.
  EXPECT_DOUBLE_EQ(labels->position_score[10], NabScaledSigmoid(-1.0));
  EXPECT_DOUBLE_EQ(labels->position_score[11], NabScaledSigmoid(-6.0 / 7));
  EXPECT_DOUBLE_EQ(labels->position_score[17], NabScaledSigmoid(1.0 / 6));
}

TEST(NabTest, AWindowEdgeThatIsNoRowIsAnError) {
  OneFile file(40);
  file.windows[0].end_us += 1;
  NabCorpus corpus;
  const Status s = corpus.AddFile("f.csv", file.timestamps, file.scores, file.windows);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("f.csv"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no row's timestamp"), std::string::npos) << s.message();
}

TEST(NabTest, TheOptimiserPoolsFilesAndPicksTheBestThreshold) {
  NabCorpus corpus;
  OneFile a(40), b(40);
  a.scores[10] = 0.9;  // a hit at 0.9
  b.scores[30] = 0.8;  // a false positive at 0.8 (after b's window)
  b.scores[12] = 0.7;  // b's hit at 0.7 outweighs it
  ASSERT_TRUE(corpus.AddFile("a.csv", a.timestamps, a.scores, a.windows).ok());
  ASSERT_TRUE(corpus.AddFile("b.csv", b.timestamps, b.scores, b.windows).ok());
  EXPECT_DOUBLE_EQ(corpus.OptimalThreshold(kStandard), 0.7);
  const NabScore s = corpus.Score(kStandard);
  EXPECT_EQ(s.windows_hit, 2);
  EXPECT_EQ(s.fa_events, 1);
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_DOUBLE_EQ(s.files[0].raw, 1.0);
  EXPECT_NEAR(s.raw, s.files[0].raw + s.files[1].raw, 1e-12);
  // With a false positive that costs more than b's late hit earns, stop at 0.9.
  const NabProfile harsh{"harsh", 1.0, 5.0, 0.1};
  EXPECT_DOUBLE_EQ(corpus.OptimalThreshold(harsh), 0.9);
}

TEST(NabTest, FiringNothingWinsWhenEveryFiringHurts) {
  NabCorpus corpus;
  OneFile a(40);
  a.scores[30] = 0.9;  // only a false positive ever fires
  ASSERT_TRUE(corpus.AddFile("a.csv", a.timestamps, a.scores, a.windows).ok());
  EXPECT_TRUE(std::isinf(corpus.OptimalThreshold(kStandard)));
  EXPECT_DOUBLE_EQ(corpus.Score(kStandard).raw, -1.0);
}

TEST(NabTest, TiesGoToTheHigherThreshold) {
  NabCorpus corpus;
  OneFile a(40);
  a.scores[10] = 0.9;  // the hit
  a.scores[15] = 0.6;  // later rows of the hit window change nothing
  ASSERT_TRUE(corpus.AddFile("a.csv", a.timestamps, a.scores, a.windows).ok());
  EXPECT_DOUBLE_EQ(corpus.OptimalThreshold(kStandard), 0.9);
}

TEST(NabLabelsTest, ParsesWindowsAndProfilesInDocumentOrder) {
  const auto windows =
      ParseNabWindows(R"({"b/x.csv": [["2014-04-10 07:15:00.000000", "2014-04-11 16:45:00.000000"]],
                                           "a/y.csv": []})",
                      "w.json");
  ASSERT_TRUE(windows.ok()) << windows.status().message();
  ASSERT_EQ(windows->size(), 2u);
  EXPECT_EQ((*windows)[0].file, "b/x.csv");
  ASSERT_EQ((*windows)[0].windows.size(), 1u);
  EXPECT_EQ(FormatTimestamp((*windows)[0].windows[0].start_us), "2014-04-10T07:15:00Z");
  EXPECT_EQ(FormatTimestamp((*windows)[0].windows[0].end_us), "2014-04-11T16:45:00Z");
  EXPECT_TRUE((*windows)[1].windows.empty());

  const auto profiles = ParseNabProfiles(
      R"({"p": {"CostMatrix": {"tpWeight": 1, "fnWeight": 2.0, "fpWeight": 0.5, "tnWeight": 1}}})",
      "p.json");
  ASSERT_TRUE(profiles.ok()) << profiles.status().message();
  ASSERT_EQ(profiles->size(), 1u);
  EXPECT_EQ((*profiles)[0].name, "p");
  EXPECT_EQ((*profiles)[0].fp_weight, 0.5);
  EXPECT_EQ((*profiles)[0].fn_weight, 2.0);

  EXPECT_FALSE(ParseNabWindows(R"({"x.csv": [["nope", "2014-04-11 16:45:00"]]})", "w.json").ok());
  EXPECT_FALSE(ParseNabProfiles(R"({"p": {"CostMatrix": {"tpWeight": 1}}})", "p.json").ok());
  EXPECT_FALSE(ParseNabWindows("[1, 2]", "w.json").ok());
}

}  // namespace
}  // namespace iotad::eval
