#pragma once
// `mahalanobis`: one device, all its metrics at once. A reading whose combination of values is
// unusual for this device (each value normal on its own, together impossible: high temperature
// with high humidity on a device where they move opposite) is far from the device's centre in
// Mahalanobis distance. Online, no look-ahead, bounded state (up to kMaxMetrics metrics).
#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "iotad/detect/detector.h"
#include "iotad/detect/online.h"

namespace iotad::detect {

class MahalanobisDetector {
 public:
  static constexpr int kMaxMetrics = 8;
  static constexpr std::string_view kName = "mahalanobis";
  static constexpr int kVersion = 1;

  /// `metrics` values per reading (2..kMaxMetrics).
  static Result<MahalanobisDetector> Make(int metrics, const DetectorOptions& options);

  /// Scores one reading of the device (NaN = that metric missing: the others are scored on their
  /// own joint distribution; fewer than two present scores 0). why.stat is d^2, why.n the points.
  Score Update(int64_t ts_us, std::span<const double> values);
  size_t state_bytes() const { return sizeof(*this); }
  /// Appends the device's state (this build's layout; see SeriesDetector::SaveState).
  void SaveState(std::string& out) const;
  /// Reads back what SaveState wrote into a detector made for as many metrics.
  Status RestoreState(std::string_view& in);
  /// The metric that strayed furthest (in its own standard deviations) at the last Update.
  int top_metric() const { return top_metric_; }

 private:
  MahalanobisDetector(int metrics, double false_alarms_per_day)
      : k_(metrics), fa_per_day_(false_alarms_per_day) {}

  bool Factor(const int* idx, int m, double* l) const;

  static constexpr int kRefactor = 16;
  int k_;
  double fa_per_day_;
  int top_metric_ = 0;
  int factor_age_ = -1;  // readings since chol_ was computed; -1: never
  bool factor_ok_ = false;
  double chol_[kMaxMetrics * kMaxMetrics] = {};
  Cadence cadence_;
  FlagLimit limit_;
  int64_t n_ = 0;
  int64_t min_points_ = 100;
  double alpha_ = 0.005;  // about 200 readings of memory
  std::array<double, kMaxMetrics> mean_{};
  std::array<double, kMaxMetrics * kMaxMetrics> cov_{};  // row-major, full
};

}  // namespace iotad::detect
