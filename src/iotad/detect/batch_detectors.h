#pragma once
// Batch baselines for gold: the AWS tutorial's z-score (mean and sample standard deviation over
// all of a device's data for one metric) and its robust variant (median and MAD). Pure code, no
// I/O: the same Score() serves batch replays and, later, the streaming path.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
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

/// A range of values a batch detector certainly does not flag against one baseline: a value in it
/// skips the division and the comparison (most values of most series). Conservative: it stops
/// short of the threshold by far more than the rounding of z, so a value that Score would flag,
/// or whose z lies within rounding of the threshold, is always outside it and goes to Score.
/// Empty (lo > hi) when nothing can be promised.
struct QuietBand {
  double lo = 1.0, hi = 0.0;

  bool Inside(double x) const { return x >= lo && x <= hi; }  // false for NaN
  static QuietBand All() { return {-INFINITY, INFINITY}; }
  /// Values x with |x - center| / scale > threshold flag: quiet within threshold x scale of the
  /// center, less 1e-9 of that and a margin for the rounding of x - center near a large center.
  static QuietBand Around(double center, double scale, double threshold) {
    const double w = threshold * scale;
    if (!(std::isfinite(center) && std::isfinite(w) && w > 0.0)) return {};
    const double half = w - 1e-9 * w - 1e-15 * std::fabs(center);
    if (!(half > 0.0)) return {};
    return {center - half, center + half};
  }
  /// Where both are quiet.
  QuietBand And(const QuietBand& o) const { return {std::max(lo, o.lo), std::min(hi, o.hi)}; }
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
  /// Values Score certainly does not flag against `b` (see QuietBand).
  QuietBand Quiet(const ZScoreBaseline& b) const {
    if (b.n < min_points_) return QuietBand::All();
    if (!(std::isfinite(b.std) && b.std > 0.0)) return threshold_ >= 0.0 ? QuietBand::All() : QuietBand{};  // z = 0
    return QuietBand::Around(b.mean, b.std, threshold_);
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

/// The k-th smallest value of v (0-based, k < v.size()), exactly the value std::nth_element puts
/// at k, and with `next` the (k+1)-th (NaN when there is none). v is reordered. Values are dealt
/// to buckets by where they lie between the smallest and the largest (a monotonic map, so a
/// bucket holds a run of ranks), and only the bucket holding rank k is searched: a few counting
/// passes without the unpredictable branches of a quickselect. Short inputs, and inputs with NaN,
/// infinities or both signs of zero (which nth_element may order differently), take nth_element.
double SelectKth(std::span<double> v, size_t k, double* next = nullptr);

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
  /// Values Score certainly does not flag against `b` (see QuietBand).
  QuietBand Quiet(const RobustBaseline& b) const {
    if (b.n < min_points_) return QuietBand::All();
    if (!(b.mad > 0.0)) return threshold_ >= 0.0 ? QuietBand::All() : QuietBand{};  // z = 0
    return QuietBand::Around(b.median, b.mad / kConsistency, threshold_);
  }
  std::string Explain(std::string_view metric, double x, const RobustBaseline& b, const Verdict& v) const;

 private:
  double threshold_;
  int64_t min_points_;
};

}  // namespace iotad::detect
