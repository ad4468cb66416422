#include "iotad/detect/multivariate.h"

#include <algorithm>
#include <cmath>

#include "iotad/detect/checkpoint.h"

namespace iotad::detect {

Result<MahalanobisDetector> MahalanobisDetector::Make(int metrics, const DetectorOptions& options) {
  if (metrics < 2 || metrics > kMaxMetrics) {
    return Error(Errc::kInvalidArgument, "detector mahalanobis: needs 2 to {} metrics, got {}", kMaxMetrics, metrics);
  }
  if (!(options.false_alarms_per_day > 0.0)) {
    return Error(Errc::kInvalidArgument, "detector mahalanobis: false alarms per day must be > 0");
  }
  if (!options.params.empty()) {
    return Error(Errc::kInvalidArgument, "detector mahalanobis: takes no parameters (got '{}')",
                 options.params.front().first);
  }
  return MahalanobisDetector(metrics, options.false_alarms_per_day);
}

bool MahalanobisDetector::Factor(const int* idx, int m, double* l) const {
  double trace = 0.0;
  for (int a = 0; a < m; ++a) trace += cov_[idx[a] * kMaxMetrics + idx[a]];
  const double ridge = 1e-6 * std::max(trace / m, 1e-300);
  bool ok = true;
  for (int a = 0; a < m; ++a) {
    for (int b = 0; b <= a; ++b) {
      double sum = cov_[idx[a] * kMaxMetrics + idx[b]] + (a == b ? ridge : 0.0);
      for (int c = 0; c < b; ++c) sum -= l[a * kMaxMetrics + c] * l[b * kMaxMetrics + c];
      if (a == b) {
        if (!(sum > 0.0)) ok = false;
        l[a * kMaxMetrics + a] = std::sqrt(std::max(sum, 1e-300));
      } else {
        l[a * kMaxMetrics + b] = sum / l[b * kMaxMetrics + b];
      }
    }
  }
  return ok;
}

Score MahalanobisDetector::Update(int64_t ts_us, std::span<const double> values) {
  Score out;
  out.at_us = ts_us;
  out.why.detector = kName;
  int idx[kMaxMetrics];
  int m = 0;
  for (int i = 0; i < k_ && i < static_cast<int>(values.size()); ++i) {
    if (UsableReading(values[i])) idx[m++] = i;  // NaN is no value; garbage is the per-metric detectors' to flag
  }
  if (m < 2) return out;
  cadence_.Observe(ts_us);
  const double limit = limit_.Get(cadence_, fa_per_day_);
  double d[kMaxMetrics];
  for (int a = 0; a < m; ++a) d[a] = values[idx[a]] - mean_[idx[a]];
  double d2 = 0.0;
  if (n_ < min_points_) {
    out.why.warming_up = true;
    out.why.rule = "warming up";
    out.why.n = n_;
    out.why.needed = min_points_;
  } else {
    // Cholesky of the covariance of the present metrics, with a small ridge so a constant metric
    // (zero variance) does not make it singular; then d^2 = |L^-1 d|^2. With every metric present
    // (the usual case) the factor is cached and refreshed every kRefactor readings: the
    // covariance moves slowly (alpha 0.005).
    const bool all = m == k_;
    double scratch[kMaxMetrics * kMaxMetrics];
    bool ok = true;
    double* l = scratch;
    if (all) {
      if (factor_age_ < 0 || ++factor_age_ >= kRefactor) {
        factor_ok_ = Factor(idx, m, chol_);
        factor_age_ = 0;
      }
      l = chol_;
      ok = factor_ok_;
    } else {
      ok = Factor(idx, m, scratch);
    }
    double y[kMaxMetrics];
    for (int a = 0; a < m; ++a) {
      double sum = d[a];
      for (int c = 0; c < a; ++c) sum -= l[a * kMaxMetrics + c] * y[c];
      y[a] = sum / l[a * kMaxMetrics + a];
      d2 += y[a] * y[a];
    }
    if (!ok) d2 = 0.0;
    // Wilson-Hilferty: (d^2 / m)^(1/3) is close to normal for a chi-square with m degrees of freedom.
    const double c = 2.0 / (9.0 * m);
    const double z = (std::cbrt(d2 / m) - (1.0 - c)) / std::sqrt(c);
    out.surprise = z > 0.0 ? std::clamp(GaussianSurprise(z) - std::log10(2.0), 0.0, kMaxSurprise) : 0.0;  // one-sided
    out.flag = out.surprise > limit;
    out.score = ScoreFromSurprise(out.surprise);
    out.why.stat = d2;
    out.why.n = n_;
    out.why.rule = out.flag ? "unusual combination of the device's metrics (Mahalanobis)" : "within limits";
    double worst = -1.0;
    for (int a = 0; a < m; ++a) {
      const double sd = std::sqrt(std::max(cov_[idx[a] * kMaxMetrics + idx[a]], 1e-300));
      const double zabs = std::fabs(d[a]) / sd;
      if (zabs > worst) {
        worst = zabs;
        top_metric_ = idx[a];
        out.why.expected = mean_[idx[a]];
        out.why.center = mean_[idx[a]];
        out.why.scale = sd;
        out.why.lo = mean_[idx[a]] - 4.0 * sd;
        out.why.hi = mean_[idx[a]] + 4.0 * sd;
      }
    }
  }
  // Learn: EW mean and covariance over the present metrics, a far outlier winsorised to d^2 = 25
  // so anomalies do not blow up the covariance.
  ++n_;
  const double a = std::max(alpha_, 1.0 / static_cast<double>(n_));
  const double shrink = (n_ > min_points_ && d2 > 25.0) ? std::sqrt(25.0 / d2) : 1.0;
  for (int p = 0; p < m; ++p) d[p] *= shrink;
  for (int p = 0; p < m; ++p) mean_[idx[p]] += a * d[p];
  for (int p = 0; p < m; ++p) {
    for (int q = 0; q < m; ++q) {
      double& cv = cov_[idx[p] * kMaxMetrics + idx[q]];
      cv = (1.0 - a) * (cv + a * d[p] * d[q]);
    }
  }
  return out;
}

void MahalanobisDetector::SaveState(std::string& out) const {
  SaveBlocks(out, k_, top_metric_, factor_age_, factor_ok_, chol_, cadence_, limit_, n_, min_points_, alpha_, mean_,
             cov_);
}

Status MahalanobisDetector::RestoreState(std::string_view& in) {
  std::string_view probe = in;
  int k = 0;
  IOTAD_TRY(RestoreBlocks(probe, kName, k));
  if (k != k_) {
    return Error(Errc::kCorrupt, "checkpoint: detector mahalanobis was saved over {} metrics, expected {}", k, k_);
  }
  return RestoreBlocks(in, kName, k_, top_metric_, factor_age_, factor_ok_, chol_, cadence_, limit_, n_, min_points_,
                       alpha_, mean_, cov_);
}

}  // namespace iotad::detect
