#include "iotad/detect/checks.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <vector>

namespace iotad::detect {
namespace {

constexpr std::string_view kWarmingUp = "warming up";
constexpr std::string_view kWithin = "within limits";

double ZSurprise(double z, Explanation& why, std::string_view rule) {
  why.stat = z;
  const double s = GaussianSurprise(z);
  why.rule = rule;
  return s;
}

template <typename Why>
void WarmingUp(Why& why, int64_t n, int64_t needed) {
  why.warming_up = true;
  why.rule = kWarmingUp;
  why.n = n;
  why.needed = needed;
}

template <typename Why>
void SetBaseline(Why& why, double center, double scale, double k_sigma) {
  why.center = center;
  why.scale = scale;
  why.expected = center;
  why.lo = center - k_sigma * scale;
  why.hi = center + k_sigma * scale;
}

}  // namespace

namespace {

/// -log10(erfc(x)) for x = |z| / sqrt 2 beyond the table: the asymptotic series of erfc.
double TailSurprise(double x) {
  const double x2 = x * x;
  const double series = 1.0 - 0.5 / x2 + 0.75 / (x2 * x2);
  return x2 * kLog10E + std::log10(x * 1.7724538509055160 / series);
}

using SurpriseTable = detail::GaussianSurpriseTable;
const SurpriseTable& kSurpriseTable = detail::kGaussianSurpriseTable;

/// For surprise buckets of width 1/kPerUnit: the last table sample at or below the bucket's start
/// (the inverse of the table, for GaussianZForSurprise).
struct SurpriseIndex {
  static constexpr int kPerUnit = 64;
  std::vector<int> start;
  SurpriseIndex(const double* t, int top) {
    const int buckets = static_cast<int>(t[top] * kPerUnit) + 1;
    start.resize(static_cast<size_t>(buckets));
    int i = 0;
    for (int b = 0; b < buckets; ++b) {
      const double at = static_cast<double>(b) / kPerUnit;
      while (i + 1 < top && t[i + 1] <= at) ++i;
      start[static_cast<size_t>(b)] = i;
    }
  }
};

}  // namespace

static double GaussianZUncached(double s);

namespace detail {

GaussianSurpriseTable::GaussianSurpriseTable() {
  for (int i = 0; i < kSize; ++i) s[i] = -std::log10(std::erfc(static_cast<double>(i) / kPerUnit * 0.70710678118654752));
}
const GaussianSurpriseTable kGaussianSurpriseTable;

double GaussianSurpriseTail(double a) {
  // The asymptote, shifted to meet the table at its end (monotonic across the seam); finite even
  // for absurd z.
  static const double kSeam = kSurpriseTable.s[SurpriseTable::kSize - 2] -
                              TailSurprise(SurpriseTable::kMaxZ * 0.70710678118654752);
  return kSeam + TailSurprise(std::min(a, 1e6) * 0.70710678118654752);
}

}  // namespace detail

double StudentSurprise(double t, double nu) {
  // Two-sided p = I_x(nu/2, 1/2) with x = nu / (nu + t^2), the regularised incomplete beta by its
  // continued fraction (modified Lentz), which converges quickly for the small x of a tail.
  const double a = 0.5 * nu, b = 0.5;
  const double x = nu / (nu + t * t);
  if (!(x < (a + 1.0) / (a + b + 2.0))) return GaussianSurprise(t);  // not in the tail: |t| ~< 1
  constexpr double kTiny = 1e-300;
  const auto guard = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
  double c = 1.0, d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
  double cf = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 / guard(1.0 + num * d);
    c = guard(1.0 + num / c);
    cf *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 / guard(1.0 + num * d);
    c = guard(1.0 + num / c);
    const double step = d * c;
    cf *= step;
    if (std::fabs(step - 1.0) < 1e-13) break;
  }
  const double log_p = a * std::log(x) + b * std::log1p(-x) + std::lgamma(a + b) - std::lgamma(a) -
                       std::lgamma(b) + std::log(cf / a);
  return std::max(0.0, -log_p * kLog10E);
}

double SmallSampleWidening(double dof) {
  // Student's t quantile over the normal one at surprise 5 (p = 1e-5, about where the default
  // knob's flags start at one reading every 5 minutes), per whole degree of freedom up to 256
  // (beyond it the two agree within 0.3%).
  constexpr int kMax = 256;
  constexpr double kAt = 5.0;
  static const auto table = [] {
    std::array<double, kMax + 1> f{};
    const double z = GaussianZForSurprise(kAt);
    for (int nu = 1; nu <= kMax; ++nu) {
      double lo = z, hi = 2.0 * z;
      while (StudentSurprise(hi, nu) < kAt) hi *= 2.0;
      for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (StudentSurprise(mid, nu) < kAt ? lo : hi) = mid;
      }
      f[nu] = hi / z;
    }
    return f;
  }();
  if (!(dof >= 1.0)) return table[1];
  if (dof >= kMax) return 1.0;
  return table[static_cast<int>(dof)];
}

double GaussianZForSurprise(double s) {
  if (!(s > 0.0)) return 0.0;
  // Callers ask for the same flag limit point after point: remember the last answer.
  thread_local double last_s = -1.0, last_z = 0.0;
  if (s == last_s) return last_z;
  last_s = s;
  last_z = GaussianZUncached(s);
  return last_z;
}

static double GaussianZUncached(double s) {
  constexpr int kTop = static_cast<int>(SurpriseTable::kMaxZ) * SurpriseTable::kPerUnit;  // z = 8
  const double* t = kSurpriseTable.s;
  if (s < t[kTop]) {
    // The table's piecewise-linear curve, inverted exactly: t[lo] <= s < t[lo + 1] (t rises
    // strictly, so lo is unique). An index by surprise gives the sample to start from, then a
    // step or two: the ensemble asks for a new band limit at most points of an episode, and a
    // binary search there was 7% of `iotad gold`.
    static const SurpriseIndex kIndex(t, kTop);
    int lo = kIndex.start[static_cast<int>(s * SurpriseIndex::kPerUnit)];
    while (lo + 1 < kTop && t[lo + 1] <= s) ++lo;
    return (lo + (s - t[lo]) / (t[lo + 1] - t[lo])) / SurpriseTable::kPerUnit;
  }
  // Beyond z = 8 (a flag limit no one sets): bisection on the asymptote.
  double lo = SurpriseTable::kMaxZ, hi = 1e6;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (GaussianSurprise(mid) <= s ? lo : hi) = mid;
  }
  return lo;
}

double ZScoreCheck::Step(const PointContext&, double x, Explanation& why) {
  // The band: the values whose z (against a baseline that includes them, as below) is exactly the
  // threshold. With n0 points of mean mu and squared deviations q before, x = mu +- d where
  // d^2 = t^2 q n^2 / (n0 (n0^2 - t^2 n)), n = n0 + 1; no value reaches it when n0^2 <= t^2 n.
  const double n0 = static_cast<double>(m.n), n = n0 + 1.0, t2 = threshold * threshold;
  const double half = n0 * n0 > t2 * n ? std::sqrt(t2 * m.m2 * n * n / (n0 * (n0 * n0 - t2 * n))) : INFINITY;
  const double mu = m.mean;
  m.Add(x);  // the tutorial's baseline includes the point itself
  why.detector = "running_zscore";
  why.n = m.n;
  const double sd = m.SampleStd();
  if (m.n < min_points) {
    WarmingUp(why, m.n, min_points);
    return 0.0;
  }
  SetBaseline(why, m.mean, sd, threshold);
  why.lo = mu - half;
  why.hi = mu + half;
  const double z = std::isfinite(sd) && sd > 0.0 ? (x - m.mean) / sd : 0.0;
  return ZSurprise(z, why, std::fabs(z) > threshold ? "|z| > threshold" : kWithin);
}

void WindowZCheck::Recompute(double new_anchor) {
  anchor = new_anchor;
  sum = sumsq = 0.0;
  for (int i = 0; i < size; ++i) {
    const double d = buf[i] - anchor;
    sum += d;
    sumsq += d * d;
  }
  since_recompute = 0;
}

double WindowZCheck::Step(const PointContext&, double x, Explanation& why) {
  why.detector = "window_z";
  const int n = size;
  why.n = n;
  double s = 0.0;
  if (n < min_points) {
    WarmingUp(why, n, min_points);
  } else {
    const double mean_d = sum / n;
    const double var = std::max(0.0, (sumsq - sum * mean_d) / (n - 1));
    const double mean = anchor + mean_d;
    const double sd = ScaleFloor(std::sqrt(var), mean);
    SetBaseline(why, mean, sd, kShownSds);
    s = ZSurprise((x - mean) / sd, why, "|z| vs the trailing window");
  }
  if (std::isnan(anchor)) anchor = x;
  if (size == window) {
    const double d = buf[head] - anchor;
    sum -= d;
    sumsq -= d * d;
  } else {
    ++size;
  }
  buf[head] = x;
  head = head + 1 == window ? 0 : head + 1;
  const double d = x - anchor;
  sum += d;
  sumsq += d * d;
  if (++since_recompute >= window) Recompute(x);  // exact sums again, anchored near the level
  return s;
}

double MadCheck::Step(const PointContext&, double x, Explanation& why) {
  why.detector = "mad";
  const int n = w.size();
  why.n = n;
  double s = 0.0;
  if (n < min_points) {
    WarmingUp(why, n, min_points);
  } else {
    const double sigma = ScaleFloor(mad / kMadPerSigma, median);
    SetBaseline(why, median, sigma, kShownSds);
    s = ZSurprise((x - median) / sigma, why, "robust |z| vs the rolling median");
  }
  if (w.Push(x)) {
    median = w.Median();
    mad = w.Mad(median);
  }
  return s;
}

double EwmaCheck::Step(const PointContext&, double x, Explanation& why) {
  why.detector = "ewma";
  why.n = s.n;
  double out = 0.0;
  if (s.n < min_points) {
    WarmingUp(why, s.n, min_points);
  } else {
    const double sd = ScaleFloor(s.std(), s.mean);
    SetBaseline(why, s.mean, sd, kShownSds);
    out = ZSurprise((x - s.mean) / sd, why, "|z| vs the EWMA");
  }
  s.Add(x, alpha, clip);
  return out;
}

double SeasonalCheck::Step(const PointContext& c, double x, Explanation& why, bool learn, Scratch& sc) {
  why.detector = "seasonal";
  const int64_t ts = c.ts;
  if (ts < sc.slot_from || ts >= sc.slot_to) {  // a new slot: where it lies in the day and week
    sc.day = ts >= 0 ? ts / kDayUs : (ts - kDayUs + 1) / kDayUs;
    sc.slot = static_cast<int>((ts - sc.day * kDayUs) / kSlotUs);
    const int d7 = static_cast<int>(((sc.day % 7) + 7) % 7);
    sc.hour_of_week = d7 * kWeekPerDay + sc.slot / (kSlots / kWeekPerDay);
    sc.slot_from = sc.day * kDayUs + sc.slot * kSlotUs;
    sc.slot_to = sc.slot_from + kSlotUs;
  }
  const int64_t day = sc.day;
  const int slot = sc.slot;
  if (slot != last_slot || day != last_day) {
    if (visits[slot] < UINT16_MAX) ++visits[slot];
    last_slot = static_cast<int16_t>(slot);
    last_day = day;
    in_visit = 0;
  }
  ++in_visit;
  double out = 0.0;
  const int seen = visits[slot] - 1;
  why.n = seen;
  const double expected = static_cast<double>(level[slot]) + static_cast<double>(week[sc.hour_of_week]);
  // The points per visit of a slot (15 minutes' worth at the series' cadence): for the cadence
  // they were last computed for.
  if (!(c.cadence->interval_us == sc.for_interval && memory_days == sc.for_memory)) {
    sc.for_interval = c.cadence->interval_us;
    sc.for_memory = memory_days;
    sc.per_visit = c.cadence->interval_us > 0.0
                       ? std::max(1.0, static_cast<double>(kSlotUs) / c.cadence->interval_us)
                       : 1.0;
    sc.cap = memory_days * sc.per_visit;
    sc.inv_cap = 1.0 / sc.cap;
  }
  const double per_visit = sc.per_visit;
  if (seen < min_visits) {
    WarmingUp(why, seen, min_visits);
    why.rule = "warming up (days seen in this time-of-day slot)";
  } else {
    // A slot's spread comes from a few days of points; it may not be below half the typical
    // spread of all slots (global_spread), or a quiet slot makes normal noise look anomalous.
    // The slot's spread rests on the points it learned (an exponential memory of N points weighs
    // like 2N - 1): a few dozen at one reading a minute, a handful at one every 15 minutes or
    // slower. It is pooled with the spread of all slots, worth kPooledPoints points, and a z
    // against that is Student's t, not Gaussian: the spread is widened by their ratio at the
    // flag's level, so slow series do not flag on the luck of a few points.
    const double learned = std::min(static_cast<double>(seen) * per_visit, sc.cap);
    const double k = std::max(0.0, 2.0 * learned - 1.0);
    const double slot_var = std::max(static_cast<double>(spread[slot]), kSlotSpreadFloor * global_spread);
    const double pooled = (k * slot_var + kPooledPoints * global_spread) / (k + kPooledPoints);
    const double sd = SmallSampleWidening(k + kPooledPoints - 1.0) *
                      ScaleFloor(std::sqrt(global_spread > 0.0 ? pooled : slot_var), expected);
    SetBaseline(why, expected, sd, kShownSds);
    out = ZSurprise((x - expected) / sd, why, "|z| vs the time-of-day profile");
  }
  if (!learn) return out;
  // Learn. Per-slot weights: an exact mean over the first days, then `memory_days` of memory.
  const double points = static_cast<double>(seen) * per_visit + static_cast<double>(in_visit);
  const double a = points >= sc.cap ? sc.inv_cap : 1.0 / points;  // 1 / min(points, cap)
  double r = x - expected;
  if (seen >= 1 && spread[slot] > 0.0f) {
    const double lim = kLearnSds * std::sqrt(static_cast<double>(spread[slot]));
    r = std::clamp(r, -lim, lim);
  }
  level[slot] = SaturatedFloat(static_cast<double>(level[slot]) + a * r);
  if (points > 1.0) {
    spread[slot] = SaturatedFloat((1.0 - a) * (static_cast<double>(spread[slot]) + a * r * r));
  }
  if (seen >= 1) {  // an exact mean until it has a thousand updates, then a slow EW mean
    ++spread_updates;
    // (Past 2000 updates 1 / n is far below 0.001: the same weight without the division.)
    const double w = spread_updates > 2000 ? kGlobalWeight
                                           : std::max(kGlobalWeight, 1.0 / static_cast<double>(spread_updates));
    global_spread += w * (static_cast<double>(spread[slot]) - global_spread);
  }
  if (seen >= min_visits) {
    // The offset learns from the residual the slot learns from, once its hour's visit is over:
    // over the weeks the profile keeps what every day has and the offset what an hour of the
    // week adds (a decomposition the pattern's repeating makes the same each week).
    if (sc.hour_of_week != visit_hour) {
      if (visit_n > 0) {
        float& offset = week[visit_hour];
        offset = SaturatedFloat(static_cast<double>(offset) + kWeekStep * visit_sum / visit_n);
      }
      visit_hour = static_cast<int16_t>(sc.hour_of_week);
      visit_sum = 0.0;
      visit_n = 0;
    }
    visit_sum += r;
    ++visit_n;
  }
  return out;
}

template <typename Why>
double CusumCheck::Step(const PointContext&, double x, Why& why, double limit) {
  why.detector = "cusum";
  why.n = slow.n;
  double out = 0.0;
  double slow_std = -1.0;  // slow.std() once taken (its variance does not change before slow.Add)
  if (slow.n < min_points) {
    WarmingUp(why, slow.n, min_points);
  } else {
    slow_std = slow.std();
    const double sd = ScaleFloor(slow_std, slow.mean);
    // Winsorised at 4 sigma: one spike moves the sums like a 4-sigma point, so only a sustained
    // shift adds up (spikes are the spike check's business).
    const double z = std::clamp((x - slow.mean) / sd, -kWinsorSds, kWinsorSds);
    up = std::max(0.0, up + z - k);
    down = std::max(0.0, down - z - k);
    const double sum = std::max(up, down);
    out = sum * 2.0 * k * kLog10E;  // P(S > h) ~ exp(-2 k h)
    SetBaseline(why, slow.mean, sd, kShownSds);
    why.expected = slow.mean;
    why.stat = up >= down ? sum : -sum;
    why.rule = up >= down ? "sustained shift up (CUSUM)" : "sustained shift down (CUSUM)";
    if (out > limit) {  // alarm: adopt the new level, restart the sums
      slow.mean = fast.mean;
      up = down = 0.0;
    }
  }
  if (slow_std >= 0.0) {
    slow.Add(x, kSlowWeight, kLearnSds, slow_std);
  } else {
    slow.Add(x, kSlowWeight, kLearnSds);
  }
  fast.Add(x, kFastWeight, kLearnSds);
  return out;
}

namespace {

/// The values of the next point whose CUSUM (sums `up` and `down`, reference `k`, a point
/// winsorised at `winsor` sds of `sd` around `mean`) passes `up_limit` above or `down_limit`
/// below: flagged when up' = up + z - k > h_up or down' = down - z - k > h_down.
std::pair<double, double> SumsBand(double mean, double sd, double up, double down, double k, double winsor,
                                   double up_limit, double down_limit) {
  const double per_unit = 2.0 * k * kLog10E;
  const double a = up_limit / per_unit - up + k, b = down_limit / per_unit - down + k;
  if (a < -b || a < -winsor || b < -winsor) return {NAN, NAN};  // some side is past h whatever the value
  return {b >= winsor ? -INFINITY : mean - b * sd, a >= winsor ? INFINITY : mean + a * sd};
}

}  // namespace

std::pair<double, double> CusumCheck::Band(double up_limit, double down_limit) const {
  if (slow.n < min_points) return {NAN, NAN};
  return SumsBand(slow.mean, ScaleFloor(slow.std(), slow.mean), up, down, k, kWinsorSds, up_limit, down_limit);
}

double SetpointCusum::Step(double x, double mean, double sd, bool& is_down) {
  const double z = std::clamp((x - mean) / sd, -kWinsorSds, kWinsorSds);
  up = static_cast<float>(std::max(0.0, up + z - kReference));
  down = static_cast<float>(std::max(0.0, down - z - kReference));
  is_down = down > up;
  return std::max(up, down) * 2.0 * kReference * kLog10E;  // P(S > h) ~ exp(-2 k h), as CUSUM's
}

std::pair<double, double> SetpointCusum::Band(double mean, double sd, double up_limit, double down_limit) const {
  return SumsBand(mean, sd, up, down, kReference, kWinsorSds, up_limit, down_limit);
}

template <typename Why>
double FlatlineCheck::Step(const PointContext&, double x, Why& why, double limit) {
  why.detector = "flatline";
  const bool same = n > 0 && x == prev;
  if (same) {
    ++run;
  } else {
    // A run ended. One stuck stretch must not make the next look usual, so a run that alarmed
    // teaches what is normal only once it is the second such (then it is a habit of the series).
    if (remind_at != 0 && alarmed_runs < 2) ++alarmed_runs;
    if (remind_at == 0 || alarmed_runs >= 2) longest = std::max(longest, static_cast<double>(run));
    run = 0;
    remind_at = 0;
    // A run starts. At the series' floor or ceiling (the lowest or highest value it ever had: zero
    // counts at night, a percentage at 100, a saturated sensor) repeats are the limit's, not a
    // stuck sensor's: such a run never alarms (the range rule watches the limits themselves).
    edge_run = n > 0 && (x == lo || x == hi);
  }
  if (n == 0 || x < lo) lo = x;
  if (n == 0 || x > hi) hi = x;
  longest *= 1.0 - kLongestFade;  // old habits fade over about ten thousand points
  ++n;
  prev = x;
  why.n = n;
  why.stat = static_cast<double>(run);
  why.expected = x;
  why.hi = longest;
  double out = 0.0;
  const double excess = static_cast<double>(run) - std::max(longest, static_cast<double>(min_run - 1));
  if (n < min_points) {
    WarmingUp(why, n, min_points);
  } else if (excess > 0.0 && run > n - min_points) {
    why.rule = "identical readings since warm-up";  // a series flat from the start is not stuck
  } else if (excess > 0.0 && edge_run) {
    why.rule = "identical readings at the series' floor or ceiling";
  } else if (excess > 0.0 && run >= remind_at) {
    out = std::min(kMaxRunSurprise, excess * -std::log10(p_repeat));
    why.rule = "value stuck (identical readings)";
    why.scale = p_repeat;
    // Reported: the next report only when the run doubles (reminders, not a report per point).
    if (out > limit) remind_at = 2 * run;
  } else {
    why.rule = excess > 0.0 ? "value still stuck (reported)" : kWithin;
  }
  if (excess <= 0.0) {  // learn how often readings repeat, but not from a stuck stretch
    // (From n = 1000 on, 1 / n is at most 0.001: the same weight without the division.)
    const double a = n >= 1000 ? kRepeatWeight : std::max(kRepeatWeight, 1.0 / static_cast<double>(n));
    p_repeat = std::clamp(p_repeat + a * ((same ? 1.0 : 0.0) - p_repeat), kMinRepeat, kMaxRepeat);
  }
  return out;
}

double RateCheck::Step(const PointContext&, double x, Explanation& why) {
  why.detector = "rate";
  why.n = n;
  double out = 0.0;
  if (n > 0) {
    const double delta = x - prev;
    if (n < min_points) {
      WarmingUp(why, n, min_points);
    } else {
      const double sd = ScaleFloor(kSpreadPerMeanAbs * mean_abs, prev);
      SetBaseline(why, prev, sd, kShownSds);
      out = ZSurprise(delta / sd, why, "change since the previous point");
    }
    const double a = std::max(alpha, 1.0 / static_cast<double>(n));
    double m = std::fabs(delta);
    if (n > kWinsorFrom && mean_abs > 0.0) m = std::min(m, kWinsorMeans * mean_abs);
    mean_abs += a * (m - mean_abs);
  } else {
    WarmingUp(why, 0, min_points);
  }
  ++n;
  prev = x;
  return out;
}

template <typename Why>
double VolatilityCheck::Step(const PointContext&, double x, Why& why) {
  why.detector = "volatility";
  why.n = n;
  ++n;
  // (From n = 500 on, 1 / n is at most kLong: the same weight without the division.)
  const double a_long = n >= 500 ? kLong : std::max(kLong, 1.0 / static_cast<double>(n));
  const double d = x - mean;
  mean += a_long * d;
  // One wild point adds at most a (4 sigma)^2 to the recent variance: a single spike is not a
  // change of volatility, a run of large deviations is.
  const bool warm = n > min_points;
  const bool wild = warm && d * d > kWildSds * kWildSds * long_var;
  const double d2 = wild ? kWildSds * kWildSds * long_var : d * d;
  double out = 0.0;
  if (!warm) {
    WarmingUp(why, n - 1, min_points);
  } else {
    const double next_short = (1.0 - kShort) * short_var + kShort * d2;
    const double ratio = next_short / std::max(long_var, 1e-300);
    why.stat = ratio;
    if constexpr (std::is_same_v<Why, Explanation>) SetBaseline(why, mean, std::sqrt(long_var), kShownSds);
    // Below 1.25 times the usual variance nothing is remarkable (z < 0.7 at kDof, less with fewer
    // degrees of freedom): skip the cube roots.
    if (ratio > kQuietRatio) {
      const double cv = CubeRootVariance(Dof());
      out = GaussianSurprise((std::cbrt(ratio) - (1.0 - cv)) / std::sqrt(cv));
      why.rule = "variance far above its usual level";
    } else {
      why.rule = kWithin;
    }
  }
  // The lag-1 autocovariance, from deviations winsorised as the squares are (one wild point
  // moves it as a 4-sigma one; the square root only then).
  const double dev = wild ? std::copysign(kWildSds * std::sqrt(long_var), d) : d;
  if (n > 1) lag_cov = (1.0 - a_long) * lag_cov + a_long * dev * prev_dev;
  prev_dev = dev;
  short_var = n <= 1 ? 0.0 : (1.0 - kShort) * short_var + kShort * d2;
  long_var = (1.0 - a_long) * long_var + a_long * d2;
  return out;
}

std::pair<double, double> VolatilityCheck::Band(double flag_limit) const {
  if (n + 1 <= min_points) return {NAN, NAN};
  if (std::isinf(flag_limit)) return {-INFINITY, INFINITY};  // no value can flag
  // Flagged when the ratio passes the one whose Wilson-Hilferty z has surprise flag_limit, i.e.
  // when the squared deviation d^2 (winsorised at 16 long_var) passes d2.
  const double z = GaussianZForSurprise(flag_limit);
  const double cv = CubeRootVariance(Dof());
  const double root = z * std::sqrt(cv) + (1.0 - cv);
  const double ratio = std::max(kQuietRatio, root * root * root);
  const double d2 = (ratio * std::max(long_var, 1e-300) - (1.0 - kShort) * short_var) / kShort;
  if (d2 < 0.0) return {NAN, NAN};                                         // any value flags
  if (d2 >= kWildSds * kWildSds * long_var) return {-INFINITY, INFINITY};  // no value can
  const double half = std::sqrt(d2);  // d = x - mean, the mean before this point updates it
  return {mean - half, mean + half};
}

std::pair<double, double> NoveltyCheck::Band(double flag_limit, const Rounding& rounding) const {
  if (n < min_points) return {NAN, NAN};
  const double width = ScaleFloor(hi - lo, hi);  // a range of one value: the floor
  const double excess = std::max(0.0, (flag_limit - std::log10(static_cast<double>(n) / 2.0)) * width / PerDecade());
  // The readings whose intervals lie `excess` beyond the range's (see Step).
  return {rounding.Lower(rounding.Lower(lo) - excess), rounding.Upper(rounding.Upper(hi) + excess)};
}

template <typename Why>
double NoveltyCheck::Step(const PointContext& c, double x, Why& why, const Rounding& rounding) {
  why.detector = "novelty";
  why.n = n;
  why.lo = lo;
  why.hi = hi;
  double out = 0.0;
  if (first_ts == kNoTime) first_ts = c.ts;
  if (n < min_points) {
    WarmingUp(why, n, min_points);
  } else {
    const double width = ScaleFloor(hi - lo, hi);  // a range of one value: the floor
    if (x > hi || x < lo) {
      // The overshoot: how far the reading's interval lies beyond the range's (v27; for readings
      // of no step, beyond the range). A reading one step past the range is a record by rounding
      // alone: a series of small counts sets one now and then without any change.
      const double beyond = std::max(0.0, x > hi ? rounding.Lower(x) - rounding.Upper(hi)
                                                 : rounding.Lower(lo) - rounding.Upper(x));
      why.stat = beyond / width;
      // In a stationary series the n-th point sets a record with chance ~2/n, and overshoots by
      // a fraction of the range, exponentially distributed with the series' own mean overshoot
      // (see PerDecade; for normal noise each further 1/15 of the range is a tenfold rarer event).
      out = std::log10(static_cast<double>(n) / 2.0) + PerDecade() * beyond / width;
      if (c.ts - first_ts >= kDayUs) {  // the range is formed: learn from the record
        overshoot_sum += std::min(beyond / width, kMaxOvershoot);
        records += 1.0;
      }
      why.rule = x > hi ? "above anything seen before" : "below anything seen before";
    } else {
      why.stat = 0.0;
      why.rule = kWithin;
    }
    // A daily cycle sets records all through its first day: no flags before a full day (the
    // surprise is still computed, so the ensemble's calibration learns from it).
    if (c.ts - first_ts < kDayUs) WarmingUp(why, n, min_points);
  }
  ++n;
  if (n == 1) lo = hi = x;
  // The record range fades toward recent values (time constant 1 / kFade points), so old
  // extremes do not mask new ones forever.
  const double mid = 0.5 * (lo + hi);
  hi = std::max(x, hi - kFade * (hi - mid));
  lo = std::min(x, lo + kFade * (mid - lo));
  return out;
}

int Setpoints::At(double x) const {
  int at = -1;
  double nearest = INFINITY;
  for (int k = 0; k < kCentres; ++k) {
    if (weight[k] >= kHeld && std::fabs(x - mean[k]) < nearest) at = k, nearest = std::fabs(x - mean[k]);
  }
  if (at < 0 || entries[at] < kEntries) return -1;
  // Compared squared (the ensemble asks at every reading of a machine, v32): no square root.
  const double var_at = Var(at);
  if (nearest * nearest > kJoin * kJoin * var_at) return -1;
  bool other = false;
  for (int j = 0; j < kCentres; ++j) {
    if (j == at || weight[j] < kHeld) continue;
    const double apart = mean[j] - mean[at];
    if (apart * apart < kApart * kApart * std::max(var_at, Var(j))) return -1;  // no regimes
    other = true;
  }
  return other ? at : -1;
}

bool Setpoints::Leaves(double x) const {
  if (last < 0 || last >= kCentres || weight[last] < kHeld) return false;
  // Within kJoin sds of centre k: At's test, so a reading at a setpoint never leaves it.
  const auto near = [&](int k) { return std::fabs(x - mean[k]) <= kJoin * Sd(k); };
  if (near(last)) return false;
  for (int j = 0; j < kCentres; ++j) {
    if (j != last && weight[j] >= kHeld && near(j)) return false;
  }
  return true;
}

double Setpoints::Departure(double x, double raw) {
  if (!Leaves(x)) return -1.0;
  const float before = off;
  off += 1.0f;
  if (At(mean[last]) != last) return -1.0;
  double s = std::min(raw, GaussianSurprise((x - mean[last]) / Sd(last)));
  if (before >= 2.0f) {
    double readings = 0.0;
    for (const float w : weight) readings += w;
    s = std::min(s, -std::log10((before - 1.0) / std::max(readings, static_cast<double>(before))));
  }
  return s;
}

void Setpoints::Learn(double x, double noise_var) {
  // The weights and entries fade every kEvery readings, by as much (not each reading).
  if (++tick == kEvery) {
    tick = 0;
    Tidy();
  }
  int k = -1;
  double nearest = INFINITY;
  for (int j = 0; j < kCentres; ++j) {
    if (weight[j] > 0.0f && std::fabs(x - mean[j]) < nearest) k = j, nearest = std::fabs(x - mean[j]);
  }
  if (k >= 0 && nearest * nearest <= kJoin * kJoin * std::max(static_cast<double>(var[k]), noise_var)) {
    weight[k] += 1.0f;
    const double a = weight[k] >= kMinWeightFrom ? kMinWeight : 1.0 / static_cast<double>(weight[k]);
    const double d = x - mean[k];
    mean[k] += a * d;
    var[k] = static_cast<float>(std::max(var[k] + a * (d * d - var[k]), kMinNoiseShare * noise_var));
  } else {
    k = 0;
    for (int j = 1; j < kCentres; ++j) {
      if (weight[j] < weight[k]) k = j;
    }
    mean[k] = x;
    var[k] = static_cast<float>(kFirstNoiseShare * noise_var);
    weight[k] = 1.0f;
    entries[k] = 0.0f;
    if (last == k) last = -1;
    if (held == k) held = -1;
    // (Its first variance, kFirstNoiseShare x the noise's, may reach the nearest centre: Merge takes that in.)
  }
  // An entry: into another centre than the last reading's, from the level the series held last
  // (v29; v28 counted from the last reading's centre only if held, and a ramp's readings between
  // the levels held none). A spike's return to the level it left is none.
  if (k != last && k != held && held >= 0 && held < kCentres && weight[held] >= kHeld) entries[k] += 1.0f;
  last = static_cast<int8_t>(k);
  if (weight[k] >= kHeld) held = static_cast<int8_t>(k);
  Merge(k);
}

void Setpoints::Merge(int k) {
  // Two centres within kJoin sds of each other are one: k, which just moved, takes the other in.
  for (int j = 0; j < kCentres; ++j) {
    if (j == k || weight[j] <= 0.0f) continue;
    const double d = mean[j] - mean[k];
    if (d * d >= kJoin * kJoin * std::max(var[j], var[k])) continue;
    const double total = static_cast<double>(weight[k]) + weight[j];
    const double m = (weight[k] * mean[k] + weight[j] * mean[j]) / total;
    var[k] = static_cast<float>((weight[k] * (var[k] + (mean[k] - m) * (mean[k] - m)) +
                                 weight[j] * (var[j] + (mean[j] - m) * (mean[j] - m))) / total);
    mean[k] = m;
    weight[k] = static_cast<float>(total);
    entries[k] = std::max(entries[k], entries[j]);
    weight[j] = 0.0f;
    entries[j] = 0.0f;
    if (last == j) last = static_cast<int8_t>(k);
    if (held == j) held = static_cast<int8_t>(k);
    break;
  }
}

void Setpoints::Tidy() {
  static const float kFade = std::pow(1.0f - 1.0f / kMemory, static_cast<float>(kEvery));
  for (float& w : weight) w *= kFade;
  for (float& e : entries) e *= kFade;
  off *= kFade;
}

template <typename Why>
double RangeCheck::Step(const PointContext&, double x, Why& why) const {
  why.detector = "range";
  why.lo = lo;
  why.hi = hi;
  if (std::isnan(lo) && std::isnan(hi)) {
    why.rule = "no physical range configured";
    return 0.0;
  }
  double excess = 0.0;
  if (!std::isnan(lo) && x < lo) excess = lo - x, why.rule = "below the physical minimum";
  if (!std::isnan(hi) && x > hi) excess = x - hi, why.rule = "above the physical maximum";
  if (excess <= 0.0) {
    why.rule = kWithin;
    return 0.0;
  }
  const double width = (!std::isnan(lo) && !std::isnan(hi)) ? hi - lo : std::max(1.0, std::fabs(std::isnan(lo) ? hi : lo));
  why.stat = excess;
  return kBase + std::min(kMaxExtra, std::log10(1.0 + excess / std::max(width, 1e-12)) * kPerDecade);
}

double SilenceCheck::Gap(const Cadence& c, int64_t last, int64_t now, Explanation& why, int64_t* at) const {
  why.detector = "silent";
  if (last == kNoTime || now <= last) return 0.0;
  const int64_t timeout = Timeout(c);
  const int64_t gap = now - last;
  why.stat = static_cast<double>(gap) / 1e6;  // seconds
  why.scale = static_cast<double>(timeout) / 1e6;
  if (gap <= timeout) {
    why.rule = kWithin;
    return 0.0;
  }
  if (!Lived(last, timeout)) {
    why.rule = "no data for longer than the timeout, but the series is too young to have a habit";
    return 0.0;
  }
  *at = last + timeout;
  why.rule = "no data for longer than the timeout";
  const double intervals = c.interval_us > 0.0 ? static_cast<double>(gap) / c.interval_us : 10.0;
  return intervals * kLog10E;
}

namespace {

/// SurpriseCalibration::CalibrateTail over the counts `count(b)` of its bins and `total` points.
template <typename Count>
double CalibratedTail(double s, float total, Count count, bool heavy = false) {
  const int bin = SurpriseCalibration::Bin(s);
  // Walk down from the top: `above` = points at or above bin b. The first exceedance of a level
  // may itself have been an anomaly; from the second on the level is a habit of the series, and
  // p is at least (exceedances - 1) / points seen.
  double above = 0.0;
  int b = SurpriseCalibration::kBins - 1;
  for (; b >= 0; --b) {
    above += count(b);
    if (b <= bin && above >= 2.0) break;
  }
  const double n = static_cast<double>(total) + 1.0;
  if (b < 0) return s;  // nothing habitual at or below this level
  if (b == bin) return std::min(s, -std::log10((above - 1.0) / n));
  // s is beyond the highest habitual level L: extrapolate the model's tail from there, as much
  // rarer than L as the model says: p = P(>= L) * 10^-(s - L).
  // A heavy tail, for the spike member: at the series' own slope, for at most kMaxDiscount
  // decades (SurpriseCalibration::HeavyDiscount).
  const double level = b * SurpriseCalibration::kBinWidth;
  const double cl = -std::log10((above - 1.0) / n);
  const double out = std::min(s, s - level + cl);
  return heavy ? out - SurpriseCalibration::HeavyDiscount(s - level, level, cl) : out;
}

/// Invert's answer beyond the highest habitual level `level` (calibrated `cl`): the raw surprise
/// at which the calibrated one reaches `target` (Invert takes the larger of it and the level's
/// bin's end).
double BeyondHabit(double target, double level, double cl, bool heavy) {
  const double shift = std::max(0.0, level - cl);  // Calibrate(s) = s - shift there
  const double slope = heavy ? SurpriseCalibration::HeavySlope(level, cl) : 1.0;
  if (slope >= 1.0) return target + shift;
  // CalibrateHeavy(level + d) = level - shift + slope x d up to the knee, d = kMaxDiscount /
  // (1 - slope), and s - shift - kMaxDiscount beyond it.
  const double knee = SurpriseCalibration::kMaxDiscount / (1.0 - slope);
  const double at_knee = level - shift + slope * knee;
  if (target >= at_knee) return target + shift + SurpriseCalibration::kMaxDiscount;
  if (slope > 0.0) return level + (target - (level - shift)) / slope;
  return level;  // flat up to the knee, above the target: the level's bin's end
}

}  // namespace

double SurpriseCalibration::CalibrateTail(double s, bool heavy) const {
  return CalibratedTail(s, total, [this](int b) { return count[b]; }, heavy);
}

double SurpriseCalibration::CalibrateBorrowing(double s, const SurpriseCalibration& other) const {
  if (s < kQuietBelow) return s;
  // Borrowing(other).Calibrate(s), without building it (CUSUM asks for every surprising point):
  // the same float sums, bin by bin.
  const double share = BorrowedShare(other.excursions);
  const float merged_total = total + Lent(share, other.excursions);
  if (merged_total <= 0.0f) return s;
  return CalibratedTail(s, merged_total, [&](int b) {
    return b >= kQuietBin ? count[b] + Lent(share, other.count[b]) : count[b];
  });
}

double SurpriseCalibration::Invert(double target, bool heavy) const {
  // Calibrate(s) is s below 2 or with no habitual level; else, with A[b] the points at or above
  // bin b and B the highest bin with A[B] >= 2, min(s, C(A[j])) for s in a bin j <= B and
  // s - max(0, L_B - C(A[B])) above, C(a) = -log10((a - 1) / n): non-decreasing in s. With
  // `heavy`, less the heavy tail's discount above (BeyondHabit): still non-decreasing.
  if (target < 2.0 || total <= 0.0f) return std::max(target, 0.0);
  const int first = Bin(target);  // the bin of target
  double above[kBins];
  double acc = 0.0;
  int top = -1;
  int b = kBins - 1;
  // Down to the target's bin, summing in Calibrate's order (so the sums are bit for bit its own).
  for (; b >= first; --b) {
    acc += count[b];
    above[b] = acc;
  }
  for (int j = kBins - 1; j >= first && top < 0; --j) {
    if (above[j] >= 2.0) top = j;
  }
  const double n = static_cast<double>(total) + 1.0;
  const auto cap = [n](double a) { return -std::log10((a - 1.0) / n); };
  if (top >= 0) {
    // cap(a) > target <=> (a - 1) / n < 10^-target: decided without a logarithm unless it is too
    // close to call, then exactly as Calibrate computes it.
    const double p = std::pow(10.0, -target);
    const auto passes = [&](double a) {
      const double q = (a - 1.0) / n;
      if (q < p * (1.0 - 1e-9)) return true;
      if (q > p * (1.0 + 1e-9)) return false;
      return cap(a) > target;
    };
    // The first bin j in [first, top] whose cap passes the target: caps grow with j (A[j] falls),
    // so a binary search.
    int lo = first, hi = top + 1;
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (passes(above[mid])) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (lo <= top) return std::max(target, lo * kBinWidth);
    if (top == kBins - 1) return INFINITY;  // the last bin holds every s beyond it: capped for good
    return std::max(BeyondHabit(target, top * kBinWidth, cap(above[top]), heavy), (top + 1) * kBinWidth);
  }
  // Nothing habitual at or above the target's bin: the highest habitual level below it, if any.
  for (; b >= 0 && acc < 2.0; --b) {
    acc += count[b];
    if (acc >= 2.0) top = b;
  }
  if (top < 0) return target;
  return std::max(BeyondHabit(target, top * kBinWidth, cap(acc), heavy), (top + 1) * kBinWidth);
}

double SurpriseCalibration::BorrowedShare(double other_excursions) const {
  return std::min(1.0, (excursions + kPriorExcursions) / (other_excursions + kPriorExcursions));
}

SurpriseCalibration SurpriseCalibration::Borrowing(const SurpriseCalibration& other) const {
  const double share = BorrowedShare(other.excursions);
  SurpriseCalibration out = *this;
  for (int b = kQuietBin; b < kBins; ++b) out.count[b] += Lent(share, other.count[b]);
  out.total += Lent(share, other.excursions);
  out.excursions += Lent(share, other.excursions);
  return out;
}

void SurpriseCalibration::Fade() {
  for (float& c : count) c *= 0.5f;
  total *= 0.5f;
  excursions *= 0.5f;
}

// The two kinds of explanation each templated check writes (see WarmingUpOnly).
#define IOTAD_CHECK_STEPS(Why)                                                                       \
  template double CusumCheck::Step(const PointContext&, double, Why&, double);                   \
  template double FlatlineCheck::Step(const PointContext&, double, Why&, double);                \
  template double VolatilityCheck::Step(const PointContext&, double, Why&);                      \
  template double NoveltyCheck::Step(const PointContext&, double, Why&, const Rounding&);        \
  template double RangeCheck::Step(const PointContext&, double, Why&) const;
IOTAD_CHECK_STEPS(Explanation)
IOTAD_CHECK_STEPS(WarmingUpOnly)
#undef IOTAD_CHECK_STEPS

}  // namespace iotad::detect
