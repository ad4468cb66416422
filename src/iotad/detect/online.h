#pragma once
// Building blocks of the online detectors: bounded-state estimators that learn from one point at
// a time. Each is a plain value type (no heap), so a detector's state is one fixed-size block
// that can be copied, saved and restored (streaming checkpoints, roadmap).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace iotad::detect {

inline constexpr int64_t kDayUs = 86'400'000'000;
inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
inline constexpr double kLog10E = 0.43429448190325176;

/// The series' cadence: a smoothed typical interval between points, robust to gaps.
struct Cadence {
  int64_t last_ts = kNoTime;
  double interval_us = 0.0;  // 0 until two points with increasing timestamps were seen

  /// Returns the gap since the previous point (0 for the first or a non-increasing one).
  int64_t Observe(int64_t ts) {
    int64_t gap = 0;
    if (last_ts != kNoTime && ts > last_ts) {
      gap = ts - last_ts;
      const double dt = static_cast<double>(gap);
      if (interval_us == 0.0) {
        interval_us = dt;
      } else {
        interval_us += 0.05 * (std::min(dt, 4.0 * interval_us) - interval_us);
      }
    }
    if (ts > last_ts) last_ts = ts;
    return gap;
  }
  /// Points per day at this cadence (one a minute until known).
  double PointsPerDay() const { return interval_us > 0.0 ? static_cast<double>(kDayUs) / interval_us : 1440.0; }
};

/// Flag limit in surprise units: p < false alarms per day / points per day, recomputed only when
/// the cadence moved (log10 is not free at 20M points/s).
struct FlagLimit {
  double limit = 0.0;
  double for_interval = -1.0;

  double Get(const Cadence& c, double false_alarms_per_day, double tests = 1.0) {
    if (c.interval_us != for_interval) {
      for_interval = c.interval_us;
      limit = std::log10(c.PointsPerDay() * tests / false_alarms_per_day);
    }
    return limit;
  }
};

/// Exponentially weighted mean and variance with winsorised updates: an outlier moves the
/// estimate as if it were `clip` standard deviations away, so spikes do not inflate the baseline.
/// Until `n` reaches 1/alpha the weights are 1/n (an exact running mean), so early estimates are
/// not biased toward the first point.
struct EwStats {
  double mean = 0.0;
  double var = 0.0;
  int64_t n = 0;

  void Add(double x, double alpha, double clip) {
    ++n;
    const double a = std::max(alpha, 1.0 / static_cast<double>(n));
    double d = x - mean;
    if (n > 2 && var > 0.0) {
      const double lim = clip * std::sqrt(var);
      d = std::clamp(d, -lim, lim);
    }
    mean += a * d;
    var = (1.0 - a) * (var + a * d * d);
  }
  double std() const { return std::sqrt(var); }
};

/// Welford over every point so far (the tutorial's baseline, restricted to the past).
struct RunningMoments {
  int64_t n = 0;
  double mean = 0.0;
  double m2 = 0.0;

  void Add(double x) {
    ++n;
    const double d = x - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (x - mean);
  }
  double SampleStd() const { return n > 1 ? std::sqrt(m2 / static_cast<double>(n - 1)) : NAN; }
};

/// The last N values, oldest first when full.
template <int N>
struct Ring {
  double v[N];
  int head = 0;   // next slot to write
  int size = 0;

  /// Pushes x; returns the value that fell out (NaN when not full yet).
  double Push(double x) {
    double out = NAN;
    if (size == N) out = v[head]; else ++size;
    v[head] = x;
    head = head + 1 == N ? 0 : head + 1;
    return out;
  }
};

/// First element of [first, first + n) not less than key (upper: greater than key). Branchless
/// (conditional moves): the order of noisy data defeats the branch predictor of std::lower_bound.
template <bool kUpper>
inline double* BranchlessBound(double* first, int n, double key) {
  if (n <= 0) return first;
  double* base = first;
  while (n > 1) {
    const int half = n / 2;
    base = (kUpper ? base[half] <= key : base[half] < key) ? base + half : base;
    n -= half;
  }
  return base + (kUpper ? *base <= key : *base < key);
}

/// The last N values kept sorted, for rolling order statistics: O(N) memmove per point, which for
/// N <= 128 is a few nanoseconds.
template <int N>
struct SortedWindow {
  Ring<N> ring;
  double sorted[N];

  void Push(double x) {
    const double out = ring.Push(x);
    const int n = ring.size;
    if (std::isnan(out)) {  // growing: plain insertion
      double* q = BranchlessBound<true>(sorted, n - 1, x);
      std::memmove(q + 1, q, static_cast<size_t>(sorted + n - 1 - q) * sizeof(double));
      *q = x;
      return;
    }
    // Full: the value that left and the one that came in trade places, shifting only the values
    // between them (one short shift instead of a delete and an insert).
    double* p = BranchlessBound<false>(sorted, n, out);
    if (x >= out) {
      double* q = BranchlessBound<true>(p + 1, static_cast<int>(sorted + n - (p + 1)), x);
      for (; p + 1 < q; ++p) p[0] = p[1];
      *p = x;
    } else {
      double* q = BranchlessBound<true>(sorted, static_cast<int>(p - sorted), x);
      for (; p > q; --p) p[0] = p[-1];
      *q = x;
    }
  }
  int size() const { return ring.size; }
  double Median() const {
    const int n = ring.size;
    return (n & 1) ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
  /// Median absolute deviation from m. The deviations below m (read leftward) and above m (read
  /// rightward) are two sorted runs; their k-th smallest is found by binary search, O(log N).
  double Mad(double m) const {
    const int n = ring.size;
    const int split = static_cast<int>(BranchlessBound<false>(const_cast<double*>(sorted), n, m) - sorted);
    const int na = split, nb = n - split;
    auto a = [&](int i) { return m - sorted[split - 1 - i]; };  // i-th smallest deviation below m
    auto b = [&](int j) { return sorted[split + j] - m; };      // j-th smallest deviation above m
    const int k = (n - 1) / 2;  // 0-based rank of the (lower) median deviation
    int lo = std::max(0, k + 1 - nb), hi = std::min(k + 1, na);
    while (lo < hi) {  // how many of the k + 1 smallest come from below m
      const int ta = (lo + hi) / 2;
      const int tb = k + 1 - ta;
      if (ta < na && tb > 0 && b(tb - 1) > a(ta)) lo = ta + 1;
      else hi = ta;
    }
    const int ta = lo, tb = k + 1 - lo;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    const double kth = std::max(ta > 0 ? a(ta - 1) : -kInf, tb > 0 ? b(tb - 1) : -kInf);
    if (n & 1) return kth;
    const double next = std::min(ta < na ? a(ta) : kInf, tb < nb ? b(tb) : kInf);
    return 0.5 * (kth + next);
  }
};

}  // namespace iotad::detect
