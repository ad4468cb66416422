#pragma once
// Batch baselines for gold: the AWS tutorial's z-score (mean and sample standard deviation over
// all of a device's data for one metric) and its robust variant (median and MAD). Pure code, no
// I/O: the same Score() serves batch replays and, later, the streaming path.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iotad::detect {

/// Running count, mean and sum of squared deviations (Welford); mergeable (Chan et al.), so
/// per-hour statistics combine exactly into per-series ones.
struct MomentStats {
  int64_t n = 0;
  double mean = 0.0;
  double m2 = 0.0;
  double min = INFINITY;
  double max = -INFINITY;

  void Add(double x) {
    ++n;
    const double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  void Merge(const MomentStats& o);
  /// Sample variance (n - 1); NaN below two points, as SQL's var_samp gives NULL.
  double SampleVariance() const { return n > 1 ? m2 / static_cast<double>(n - 1) : NAN; }
  double SampleStd() const { return std::sqrt(SampleVariance()); }
};

/// What a detector says of one value.
struct Verdict {
  double z = 0.0;        // signed score in standard deviations (robust: modified z)
  bool flagged = false;  // |z| > threshold after warm-up
};

/// Baseline of one device and metric for the tutorial's detector.
struct ZScoreBaseline {
  int64_t n = 0;
  double mean = 0.0;
  double std = NAN;  // sample standard deviation; NaN when undefined (n < 2)
};

/// The AWS tutorial's detector, exactly: z = (x - mean) / std over all of the series, anomaly
/// when |z| > threshold, z = 0 where std is 0 or undefined.
class ZScoreDetector {
 public:
  static constexpr std::string_view kName = "zscore";
  static constexpr int kVersion = 1;

  ZScoreDetector(double threshold, int64_t min_points) : threshold_(threshold), min_points_(min_points) {}
  double threshold() const { return threshold_; }

  Verdict Score(const ZScoreBaseline& b, double x) const {
    Verdict v;
    if (std::isfinite(b.std) && b.std > 0.0) v.z = (x - b.mean) / b.std;
    v.flagged = b.n >= min_points_ && std::fabs(v.z) > threshold_;
    return v;
  }
  /// One sentence a user can read: value, expected range, baseline, rule.
  std::string Explain(std::string_view metric, double x, const ZScoreBaseline& b, const Verdict& v) const;

 private:
  double threshold_;
  int64_t min_points_;
};

/// Baseline for the robust variant: median and median absolute deviation.
struct RobustBaseline {
  int64_t n = 0;
  double median = 0.0;
  double mad = 0.0;
};

/// Fits a robust baseline; reorders `values` (nth_element). Empty input gives n = 0.
RobustBaseline FitRobustBaseline(std::vector<double>& values);

/// Robust z-score (Iglewicz and Hoaglin): z = 0.6745 (x - median) / MAD, anomaly when
/// |z| > threshold (3.5 by default). Outliers do not move the baseline, unlike the mean/std.
/// z = 0 where the MAD is 0 (more than half the values equal).
class RobustZScoreDetector {
 public:
  static constexpr std::string_view kName = "robust_zscore";
  static constexpr int kVersion = 1;
  static constexpr double kConsistency = 0.6745;

  RobustZScoreDetector(double threshold, int64_t min_points)
      : threshold_(threshold), min_points_(min_points) {}
  double threshold() const { return threshold_; }

  Verdict Score(const RobustBaseline& b, double x) const {
    Verdict v;
    if (b.mad > 0.0) v.z = kConsistency * (x - b.median) / b.mad;
    v.flagged = b.n >= min_points_ && std::fabs(v.z) > threshold_;
    return v;
  }
  std::string Explain(std::string_view metric, double x, const RobustBaseline& b, const Verdict& v) const;

 private:
  double threshold_;
  int64_t min_points_;
};

}  // namespace iotad::detect
