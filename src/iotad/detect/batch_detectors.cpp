#include "iotad/detect/batch_detectors.h"

#include <algorithm>

#include <fmt/format.h>

namespace iotad::detect {

void MomentStats::Merge(const MomentStats& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double total = static_cast<double>(n + o.n);
  const double delta = o.mean - mean;
  mean += delta * static_cast<double>(o.n) / total;
  m2 += o.m2 + delta * delta * static_cast<double>(n) * static_cast<double>(o.n) / total;
  n += o.n;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
}

std::string ZScoreDetector::Explain(std::string_view metric, double x, const ZScoreBaseline& b,
                                    const Verdict& v) const {
  return fmt::format(
      "{} = {:.6g} is {:.2f} standard deviations {} this device's mean {:.6g} (std {:.4g}, n = {}); "
      "expected {:.6g} to {:.6g}; rule |z| > {:g}",
      metric, x, std::fabs(v.z), v.z >= 0 ? "above" : "below", b.mean, b.std, b.n,
      b.mean - threshold_ * b.std, b.mean + threshold_ * b.std, threshold_);
}

RobustBaseline FitRobustBaseline(std::vector<double>& values) {
  RobustBaseline b;
  b.n = static_cast<int64_t>(values.size());
  if (values.empty()) return b;
  auto median_of = [](std::vector<double>& v) {
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) {
      // The lower middle is the largest of the lower half.
      m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2.0;
    }
    return m;
  };
  b.median = median_of(values);
  for (double& x : values) x = std::fabs(x - b.median);
  b.mad = median_of(values);
  return b;
}

std::string RobustZScoreDetector::Explain(std::string_view metric, double x, const RobustBaseline& b,
                                          const Verdict& v) const {
  const double half_width = threshold_ * b.mad / kConsistency;
  return fmt::format(
      "{} = {:.6g} has robust z {:.2f}: {} this device's median {:.6g} (MAD {:.4g}, n = {}); "
      "expected {:.6g} to {:.6g}; rule |0.6745 (x - median) / MAD| > {:g}",
      metric, x, v.z, v.z >= 0 ? "above" : "below", b.median, b.mad, b.n, b.median - half_width,
      b.median + half_width, threshold_);
}

}  // namespace iotad::detect
