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
  /// The typical interval's weight (about 20 intervals) and the most a gap counts for (4
  /// intervals: an outage of hours moves it as a few missed readings do).
  static constexpr double kWeight = 0.05;
  static constexpr double kMaxGapIntervals = 4.0;
  /// Points per day until the cadence is known: one a minute.
  static constexpr double kUnknownPointsPerDay = 1440.0;
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
        interval_us += kWeight * (std::min(dt, kMaxGapIntervals * interval_us) - interval_us);
      }
    }
    if (ts > last_ts) last_ts = ts;
    return gap;
  }
  /// Points per day at this cadence (one a minute until known).
  double PointsPerDay() const {
    return interval_us > 0.0 ? static_cast<double>(kDayUs) / interval_us : kUnknownPointsPerDay;
  }
};

/// Flag limit in surprise units: p < false alarms per day / points per day, recomputed only when
/// the cadence moved (log10 is not free at 20M points/s).
struct FlagLimit {
  static constexpr double kRefresh = 0.01;  // the cadence's share it may move before a recompute
  double limit = 0.0;
  double for_interval = -1.0;

  /// Whether `limit` still holds for the cadence (Get would return it unchanged).
  bool Fresh(const Cadence& c) const {
    return !(std::fabs(c.interval_us - for_interval) > kRefresh * for_interval || for_interval <= 0.0);
  }

  /// Recomputed when the cadence moved by more than 1% (the smoothed interval creeps back toward
  /// the usual one after every gap; a 1% change moves the limit by 0.004).
  double Get(const Cadence& c, double false_alarms_per_day, double tests = 1.0) {
    if (!Fresh(c)) {
      for_interval = c.interval_us;
      limit = std::log10(c.PointsPerDay() * tests / false_alarms_per_day);
    }
    return limit;
  }
};

/// The weight of the n-th point (from 1) of an exponentially weighted estimate: 1 / n (an exact
/// mean) until that falls to alpha. Past 2 / alpha points, 1 / n is far below alpha: the same
/// weight without the division.
inline double EwWeight(int64_t n, double alpha) {
  return static_cast<double>(n) * alpha > 2.0 ? alpha : std::max(alpha, 1.0 / static_cast<double>(n));
}

/// Exponentially weighted mean and variance with winsorised updates: an outlier moves the
/// estimate as if it were `clip` standard deviations away, so spikes do not inflate the baseline.
/// Until `n` reaches 1/alpha the weights are 1/n (an exact running mean), so early estimates are
/// not biased toward the first point.
struct EwStats {
  double mean = 0.0;
  double var = 0.0;
  int64_t n = 0;

  void Add(double x, double alpha, double clip) {
    AddClipped(x, alpha, clip, [this] { return std::sqrt(var); });
  }
  /// Add for a caller that computed std() of this same state: the square root is not taken twice.
  void Add(double x, double alpha, double clip, double std_now) {
    AddClipped(x, alpha, clip, [std_now] { return std_now; });
  }
  double std() const { return std::sqrt(var); }

 private:
  /// `std_now()` is asked for only when the update is clipped (from the third point on).
  template <typename StdFn>
  void AddClipped(double x, double alpha, double clip, StdFn std_now) {
    ++n;
    const double a = EwWeight(n, alpha);
    double d = x - mean;
    if (n > 2 && var > 0.0) {
      const double lim = clip * std_now();
      d = std::clamp(d, -lim, lim);
    }
    mean += a * d;
    var = (1.0 - a) * (var + a * d * d);
  }
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

/// The last N values, kept sorted as of every H-th point: rolling order statistics for a hopping
/// window (N a multiple of H). Each hop's H values are sorted once and kept; when they leave the
/// window N points later they come out already sorted, and one linear merge drops them and adds
/// the new hop: O(N / H + H) per point. H = 1 is an exact rolling window.
template <int N, int H = 1>
struct SortedWindow {
  static_assert(N % H == 0, "the window must be a whole number of hops");
  static constexpr int kHops = N / H;
  double sorted[N] = {};
  int count = 0;                // values in `sorted`
  double hops[kHops][H] = {};   // each hop's values, sorted
  int next_hop = 0;             // the slot the current hop goes to (the oldest once full)
  int hops_full = 0;            // slots holding a hop
  double in[H] = {};
  int n_in = 0;

  /// Returns true when the sorted view was refreshed by this point.
  bool Push(double x) {
    in[n_in++] = x;
    if (n_in < H) return false;
    Refresh();
    return true;
  }

// GCC 12 at -O3 cannot see that n_in <= H and reports a read of `in` as maybe uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
  void Refresh() {
    for (int k = 1; k < H; ++k) {  // insertion sort of the new hop
      const double v = in[k];
      int j = k;
      for (; j > 0 && in[j - 1] > v; --j) in[j] = in[j - 1];
      in[j] = v;
    }
    const double* out = hops[next_hop];
    const int n_out = hops_full == kHops ? H : 0;  // the oldest hop leaves once the window is full
    double merged[N];
    int i = 0, o = 0, t = 0;
    auto take_sorted_up_to = [&](double limit, bool all) {
      for (; i < count && (all || sorted[i] <= limit); ++i) {
        if (o < n_out && sorted[i] == out[o]) ++o;  // a value that left the window
        else merged[t++] = sorted[i];
      }
    };
    for (int p = 0; p < H; ++p) {
      take_sorted_up_to(in[p], false);
      merged[t++] = in[p];
    }
    take_sorted_up_to(0.0, true);
    std::memcpy(sorted, merged, static_cast<size_t>(t) * sizeof(double));
    count = t;
    std::memcpy(hops[next_hop], in, sizeof in);
    next_hop = next_hop + 1 == kHops ? 0 : next_hop + 1;
    if (hops_full < kHops) ++hops_full;
    n_in = 0;
  }
#pragma GCC diagnostic pop

  /// Values in the sorted view (the window as of the last refresh).
  int size() const { return count; }
  double Median() const {
    const int n = count;
    return (n & 1) ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
  /// Median absolute deviation from m. The deviations below m (read leftward) and above m (read
  /// rightward) are two sorted runs; their k-th smallest is found by binary search, O(log N).
  double Mad(double m) const {
    const int n = count;
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
