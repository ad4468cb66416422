#include "iotad/detect/batch_detectors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace iotad::detect {

TEST(MomentStatsTest, MatchesTheTextbookSampleStd) {
  MomentStats s;
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) s.Add(x);
  EXPECT_EQ(s.n, 8);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.SampleStd(), 2.138089935299395, 1e-12);
  EXPECT_EQ(s.min, 2.0);
  EXPECT_EQ(s.max, 9.0);
}

TEST(MomentStatsTest, MergingHalvesEqualsAddingAll) {
  MomentStats all, a, b;
  for (int i = 0; i < 1000; ++i) {
    const double x = 20.0 + 0.01 * i + ((i * 7919) % 13) * 0.5;
    all.Add(x);
    (i < 377 ? a : b).Add(x);
  }
  a.Merge(b);
  EXPECT_EQ(a.n, all.n);
  EXPECT_NEAR(a.mean, all.mean, 1e-9);
  EXPECT_NEAR(a.SampleStd(), all.SampleStd(), 1e-9);
  EXPECT_EQ(a.min, all.min);
  EXPECT_EQ(a.max, all.max);
}

TEST(MomentStatsTest, SingleValueHasUndefinedStd) {
  MomentStats s;
  s.Add(3.0);
  EXPECT_TRUE(std::isnan(s.SampleStd()));
}

TEST(ZScoreDetectorTest, FlagsOnlyBeyondTheThreshold) {
  const ZScoreDetector det(3.0, 3);
  const ZScoreBaseline b{100, 20.0, 2.0};
  EXPECT_FALSE(det.Score(b, 26.0).flagged);  // z = 3 exactly is not > 3
  EXPECT_TRUE(det.Score(b, 26.2).flagged);
  EXPECT_TRUE(det.Score(b, 13.0).flagged);
  EXPECT_NEAR(det.Score(b, 13.0).z, -3.5, 1e-12);
}

TEST(ZScoreDetectorTest, ZeroOrUndefinedStdGivesZeroAndNoFlag) {
  const ZScoreDetector det(3.0, 3);
  EXPECT_EQ(det.Score({10, 5.0, 0.0}, 500.0).z, 0.0);
  EXPECT_FALSE(det.Score({10, 5.0, 0.0}, 500.0).flagged);
  EXPECT_EQ(det.Score({1, 5.0, NAN}, 500.0).z, 0.0);
}

TEST(ZScoreDetectorTest, WarmUpNeverFlags) {
  const ZScoreDetector det(3.0, 10);
  EXPECT_FALSE(det.Score({5, 0.0, 1.0}, 100.0).flagged);
  EXPECT_TRUE(det.Score({10, 0.0, 1.0}, 100.0).flagged);
}

TEST(ZScoreDetectorTest, ExplanationNamesValueBaselineAndRule) {
  const ZScoreDetector det(3.0, 3);
  const ZScoreBaseline b{50, 20.0, 2.0};
  const auto text = det.Explain("temp_c", 60.0, b, det.Score(b, 60.0));
  EXPECT_NE(text.find("temp_c = 60"), std::string::npos) << text;
  EXPECT_NE(text.find("20.00 standard deviations above"), std::string::npos) << text;
  EXPECT_NE(text.find("n = 50"), std::string::npos) << text;
  EXPECT_NE(text.find("|z| > 3"), std::string::npos) << text;
}

TEST(RobustBaselineTest, MedianAndMadOfOddAndEvenSets) {
  std::vector<double> odd{1, 2, 3, 4, 100};
  const auto a = FitRobustBaseline(odd);
  EXPECT_EQ(a.median, 3.0);
  EXPECT_EQ(a.mad, 1.0);  // deviations 2,1,0,1,97
  std::vector<double> even{1, 2, 3, 4};
  const auto b = FitRobustBaseline(even);
  EXPECT_EQ(b.median, 2.5);
  EXPECT_EQ(b.mad, 1.0);  // deviations 1.5,0.5,0.5,1.5
}

TEST(RobustZScoreDetectorTest, OutliersDoNotMaskEachOther) {
  // Ten big outliers inflate the std so much that the tutorial's z-score misses them all; the
  // median/MAD baseline does not move.
  std::vector<double> values;
  for (int i = 0; i < 90; ++i) values.push_back(20.0 + (i % 5) * 0.1);
  for (int i = 0; i < 10; ++i) values.push_back(60.0);
  MomentStats m;
  for (double x : values) m.Add(x);
  const ZScoreDetector z(3.0, 3);
  EXPECT_FALSE(z.Score({m.n, m.mean, m.SampleStd()}, 60.0).flagged);
  auto copy = values;
  const auto rb = FitRobustBaseline(copy);
  const RobustZScoreDetector r(3.5, 3);
  EXPECT_TRUE(r.Score(rb, 60.0).flagged);
  EXPECT_FALSE(r.Score(rb, 20.2).flagged);
}

}  // namespace iotad::detect

namespace iotad::detect {

TEST(QuietBandTest, AValueInsideIsNeverFlaggedAndAFlaggedOneNeverInside) {
  // Gold skips Score for values inside the band of every detector of a series, so the band must
  // never hold a value Score flags: checked at the threshold's edge, ulp by ulp, for centers
  // small and large against their scale, both detectors, and odd baselines.
  const double centers[] = {0.0, 21.5, -3.25, 1e6, -7.5e9, 1e15, 3e-300};
  const double scales[] = {1e-12, 0.37, 2.0, 1e3, 5e-310};
  const double thresholds[] = {3.0, 3.5, 0.5, 0.0, -1.0};
  int inside = 0, flagged = 0, checked = 0;
  for (const double c : centers) {
    for (const double sc : scales) {
      for (const double t : thresholds) {
        const ZScoreDetector z(t, 2);
        const RobustZScoreDetector rz(t, 2);
        const ZScoreBaseline zb{.n = 10, .mean = c, .std = sc};
        const RobustBaseline rb{.n = 10, .median = c, .mad = sc * RobustZScoreDetector::kConsistency};
        const QuietBand qz = z.Quiet(zb), qr = rz.Quiet(rb);
        const QuietBand both = qz.And(qr);
        for (const double side : {-1.0, 1.0}) {
          for (const double k : {0.0, 0.5, 0.999999, 1.0 - 1e-9, 1.0 - 1e-12, 1.0, 1.0 + 1e-12, 1.5}) {
            double x = c + side * k * t * sc;
            for (int step = 0; step < 40; ++step) {
              x = std::nextafter(x, side * INFINITY);
              const bool fz = z.Score(zb, x).flagged, fr = rz.Score(rb, x).flagged;
              ++checked;
              inside += qz.Inside(x);
              flagged += fz;
              ASSERT_FALSE(qz.Inside(x) && fz) << c << " " << sc << " " << t << " " << x;
              ASSERT_FALSE(qr.Inside(x) && fr) << c << " " << sc << " " << t << " " << x;
              ASSERT_FALSE(both.Inside(x) && (fz || fr)) << x;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(inside, checked / 10);  // the band is not empty where it can hold something
  const QuietBand usual = ZScoreDetector(3.0, 30).Quiet(ZScoreBaseline{.n = 900, .mean = 21.5, .std = 0.37});
  EXPECT_TRUE(usual.Inside(21.5 + 2.99 * 0.37));
  EXPECT_TRUE(usual.Inside(21.5 - 2.999999 * 0.37));
  EXPECT_FALSE(usual.Inside(21.5 + 3.0 * 0.37));
  EXPECT_GT(flagged, checked / 10);
  // Before warm-up nothing flags; a spread of zero gives z = 0; NaN is never inside.
  EXPECT_TRUE(ZScoreDetector(3.0, 30).Quiet(ZScoreBaseline{.n = 5, .mean = 1.0, .std = 0.1}).Inside(1e300));
  EXPECT_TRUE(ZScoreDetector(3.0, 2).Quiet(ZScoreBaseline{.n = 5, .mean = 1.0, .std = 0.0}).Inside(-1e300));
  EXPECT_FALSE(ZScoreDetector(-1.0, 2).Quiet(ZScoreBaseline{.n = 5, .mean = 1.0, .std = 0.0}).Inside(1.0));
  EXPECT_FALSE(QuietBand::All().Inside(NAN));
}

}  // namespace iotad::detect

namespace iotad::detect {

TEST(SelectKthTest, GivesNthElementsValuesForEveryRankAndShape) {
  // Against std::nth_element, bit for bit, at every rank (and the next rank's value): shapes
  // that make the buckets uneven (one far outlier, heavy tails, many ties, a narrow range near a
  // large value, subnormals), zeros of one sign, and the inputs that must fall back (NaN,
  // infinities, both zeros).
  uint64_t state = 12345;
  const auto uniform = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
  };
  std::vector<std::vector<double>> inputs;
  for (const size_t n : {1ul, 2ul, 127ul, 128ul, 129ul, 990ul, 5000ul}) {
    std::vector<double> normal, outlier, ties, tails, narrow, tiny, zeros, mixed_zeros, special;
    for (size_t i = 0; i < n; ++i) {
      const double u = uniform();
      normal.push_back(20.0 + 3.0 * (u + uniform() + uniform() - 1.5));
      outlier.push_back(i == n / 2 ? 1e12 : u);
      ties.push_back(std::floor(u * 4.0) * 0.25 - 0.5);
      tails.push_back(std::pow(1.0 - u, -3.0) * (i % 2 ? 1 : -1));
      narrow.push_back(1e9 + std::floor(u * 64.0) * 1.1920928955078125e-7);
      tiny.push_back(u * 4.9406564584124654e-322);
      zeros.push_back(i % 3 == 0 ? -0.0 : -u);
      mixed_zeros.push_back(i % 3 == 0 ? (i % 2 ? 0.0 : -0.0) : u - 0.5);
      special.push_back(i == 1 ? INFINITY : (i == 3 ? NAN : u));
    }
    for (auto* v : {&normal, &outlier, &ties, &tails, &narrow, &tiny, &zeros, &mixed_zeros, &special}) {
      inputs.push_back(*v);
    }
  }
  const auto bits = [](double x) { uint64_t b; std::memcpy(&b, &x, sizeof b); return b; };
  int checked = 0;
  for (const auto& input : inputs) {
    const bool has_nan = std::any_of(input.begin(), input.end(), [](double x) { return std::isnan(x); });
    for (size_t k = 0; k < input.size(); k += 1 + input.size() / 97) {
      std::vector<double> ref = input, got = input, got2 = input;
      std::nth_element(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(k), ref.end());
      const double want_next = k + 1 < ref.size() ? *std::min_element(ref.begin() + static_cast<std::ptrdiff_t>(k) + 1, ref.end()) : NAN;
      double next = 0.0;
      const double kth = SelectKth(got, k, &next);
      const double kth_only = SelectKth(got2, k);
      if (has_nan) continue;  // nth_element's order of NaN is its own: only the fallback is used
      ASSERT_EQ(bits(kth), bits(ref[k])) << checked << " k " << k << " of " << input.size();
      ASSERT_EQ(bits(kth_only), bits(ref[k]));
      ASSERT_EQ(bits(next), bits(want_next)) << checked << " k " << k << " of " << input.size();
      ++checked;
    }
  }
  EXPECT_GT(checked, 2000);
}

}  // namespace iotad::detect
