#include "iotad/detect/batch_detectors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

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

namespace {

double NthElement(std::span<double> v, size_t k, double* next) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  if (next != nullptr) *next = k + 1 < v.size() ? *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(k) + 1, v.end()) : NAN;
  return v[k];
}

}  // namespace

double SelectKth(std::span<double> v, size_t k, double* next) {
  constexpr size_t kShort = 128;  // below this nth_element is as quick
  const size_t n = v.size();
  if (n < kShort) return NthElement(v, k, next);
  double lo = v[0], hi = v[0];
  size_t not_finite = 0, neg_zeros = 0, pos_zeros = 0;
  for (const double x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    not_finite += !(x - x == 0.0);  // NaN or infinite
    neg_zeros += x == 0.0 && std::signbit(x);
    pos_zeros += x == 0.0 && !std::signbit(x);
  }
  if (not_finite > 0 || (neg_zeros > 0 && pos_zeros > 0)) return NthElement(v, k, next);

  thread_local std::vector<uint32_t> counts;
  thread_local std::vector<double> buffers[2];
  std::span<double> cur = v;  // the values holding ranks [first, first + cur.size()) of v
  size_t rank = k;            // k's rank within cur
  for (int level = 0; level < 3 && cur.size() >= kShort; ++level) {
    if (level > 0) {
      lo = hi = cur[0];
      for (const double x : cur) lo = std::min(lo, x), hi = std::max(hi, x);
    }
    if (lo == hi) break;  // one value: nth_element below is immediate
    const size_t buckets = std::clamp<size_t>(std::bit_floor(cur.size() / 4), 32, 4096);
    const double scale = static_cast<double>(buckets) / (hi - lo);
    if (!std::isfinite(scale)) break;  // a range too narrow to divide
    // Monotonic: x <= y gives bucket(x) <= bucket(y), and equal values share a bucket.
    const auto bucket = [&](double x) { return std::min(buckets - 1, static_cast<size_t>((x - lo) * scale)); };
    counts.assign(buckets, 0);
    for (const double x : cur) ++counts[bucket(x)];
    size_t b = 0, before = 0;
    while (before + counts[b] <= rank) before += counts[b++];
    std::vector<double>& into = buffers[level % 2];
    into.clear();
    into.reserve(counts[b]);
    for (const double x : cur) {
      if (bucket(x) == b) into.push_back(x);
    }
    rank -= before;
    cur = into;
  }
  double more = NAN;
  const double kth = NthElement(cur, rank, next != nullptr ? &more : nullptr);
  if (next != nullptr) {
    if (rank + 1 < cur.size() || cur.data() == v.data()) {
      *next = more;
    } else {
      // k is the last rank of its bucket, which holds every value equal to it: the next rank is
      // the smallest value above it (v is still as the caller gave it).
      *next = NAN;
      for (const double x : v) {
        if (x > kth && !(x >= *next)) *next = x;
      }
    }
  }
  return kth;
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
