#pragma once
// The checks behind the detectors. Each check scores a point against what it learned from the
// points before (no look-ahead), fills an Explanation, and then learns from the point. A single
// detector is one check plus the cadence and the flag rule (detectors.cpp); the `default`
// ensemble runs several of them over one series (ensemble.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "iotad/detect/detector.h"
#include "iotad/detect/online.h"

namespace iotad::detect {

/// A spread of exactly zero (a flat series) would make every change infinitely surprising; the
/// floor keeps z finite so scores still rank: a billionth of the level (at least of 1), far below
/// any sensor's resolution and far above a double's rounding.
inline constexpr double kScaleFloor = 1e-9;
/// The band a quiet point's explanation shows: the expectation +- 4 spreads (where a normal
/// reading lies 99.994 % of the time). It draws nothing a flag depends on: a point that can flag
/// is shown the flag limit's band instead (see the detect README).
inline constexpr double kShownSds = 4.0;
inline double ScaleFloor(double scale, double level) {
  return std::max(scale, kScaleFloor * std::max(1.0, std::fabs(level)));
}

/// What every check gets with a point.
struct PointContext {
  int64_t ts = 0;
  int64_t gap = 0;  // time since the previous point (0 for the first or a non-increasing one)
  const Cadence* cadence = nullptr;
};

/// Where a check can write its explanation instead of an Explanation: it keeps whether the check
/// is warming up and drops every other field. The ensemble scores its members so and then
/// explains only the member it reports, again from that member's state before the point (filling
/// seven explanations cost it a hundred stores a point, of which it read one).
struct WarmingUpOnly {
  struct Discard {
    template <typename T>
    constexpr Discard& operator=(const T&) { return *this; }
  };
  Discard detector, rule, expected, lo, hi, center, scale, stat, n, needed;
  bool warming_up = false;
};

/// Learns how often a series' model-based surprise exceeds each level, and corrects the model's
/// p-value by the observed excess: a series whose residuals have heavy tails (recurring spikes)
/// stops alarming on the tenth spike of the same size, but a larger one still stands out.
struct SurpriseCalibration {
  static constexpr int kBins = 64;           // bins of 0.5 over [0, 32)
  static constexpr double kBinWidth = 0.5;
  float count[kBins] = {};                   // points whose raw surprise fell in each bin
  float total = 0.0f;
  float excursions = 0.0f;                   // points at or above kQuietBelow (AtOrAbove's, kept)
  static constexpr float kMemory = 2048.0f;  // points; then counts halve (fading memory)

  /// Calibrated surprise for raw surprise s (before learning from it). Below 2 (p > 1%) a point
  /// is unremarkable either way: most points return here, inline, without the walk over the bins.
  double Calibrate(double s) const { return total <= 0.0f || s < 2.0 ? s : CalibrateTail(s, false); }
  /// The same for a member whose model may have lighter tails than the series (the spike
  /// member's Gaussian z; v30): beyond the highest habitual level L, where L is at least
  /// kHeavyTail, the tail is extrapolated at the series' own slope for up to kMaxDiscount
  /// decades (HeavyDiscount).
  double CalibrateHeavy(double s) const { return total <= 0.0f || s < 2.0 ? s : CalibrateTail(s, true); }
  /// The smallest raw surprise whose calibrated surprise exceeds `target` (infinity if none):
  /// the inverse of Calibrate (of CalibrateHeavy with `heavy`), so a band can be drawn where a
  /// member starts to flag.
  double Invert(double target, bool heavy = false) const;
  /// A heavy tail (v30). Beyond the highest habitual level L, Calibrate extrapolates the
  /// model's tail: p = P(>= L) x 10^-(s - L), as much rarer than the habit as the model says.
  /// A series whose habits reach L >= kHeavyTail makes, routinely, events its model calls
  /// p < 10^-10 (well past the flag limit at any cadence up to a reading a second, 10^-7.5):
  /// its tail is far heavier than the model's (traffic's Student-t noise, counts' bursts), and a
  /// reading a little past its habit is no 10^-(s - L) event. (Lighter heavy tails, whose
  /// habits stop short of it, keep the model's slope: a lognormal series' level shifts and
  /// spikes lie just past its habit; CONSTANTS.md has the levels measured.)
  /// There the tail is extrapolated at the series' own slope, (C - 2) / (L - 2) decades of p
  /// per unit of the model's surprise, from the quiet band's edge (p = 1 % at 2) to the habit
  /// (C: its calibrated surprise), for at most kMaxDiscount decades: a spike far beyond the
  /// habit still stands out by the model's slope past that. Applied to the spike member only:
  /// CUSUM's and volatility's statistics have tails of their own that the model describes.
  static constexpr double kHeavyTail = 10.0;
  static constexpr double kMaxDiscount = 6.0;
  /// Decades of p per unit of the model's surprise past the habitual level `level` (calibrated
  /// `cl`): the series' own slope for a heavy tail, the model's 1 otherwise.
  static double HeavySlope(double level, double cl) {
    if (level < kHeavyTail) return 1.0;
    return std::clamp((cl - kQuietBelow) / (level - kQuietBelow), 0.0, 1.0);
  }
  /// What a surprise `beyond` past the habitual level `level` (calibrated `cl`) loses.
  static double HeavyDiscount(double beyond, double level, double cl) {
    return std::min(kMaxDiscount, (1.0 - HeavySlope(level, cl)) * beyond);
  }
  /// The bin of surprise s (the last holds every s beyond it).
  static int Bin(double s) { return static_cast<int>(std::clamp(s / kBinWidth, 0.0, kBins - 1.0)); }
  /// Points remembered (faded counts are fractions) whose raw surprise fell in s's bin or above.
  float AtOrAbove(double s) const {
    float above = 0.0f;
    for (int b = Bin(s); b < kBins; ++b) above += count[b];
    return above;
  }
  /// This side's habits for a member whose surprises have a side (CUSUM: a shift up or down),
  /// kept per side (v15): this side's counts, plus the other side's in proportion to how often
  /// the series leaves the quiet band on this side against the other, with kPriorExcursions on
  /// each side. A series whose excursions go both ways as often (a symmetric noise; an
  /// autocorrelated one whose sums wander either way) habituates both sides with either, as one
  /// calibration would; a series that bursts up, time after time, does not make a shift down its
  /// habit. Both sides must have learnt every quiet point (their totals are the points seen).
  SurpriseCalibration Borrowing(const SurpriseCalibration& other) const;
  /// Borrowing(other).Calibrate(s), computed without building it.
  double CalibrateBorrowing(double s, const SurpriseCalibration& other) const;
  static constexpr double kPriorExcursions = 4.0;
  static constexpr double kQuietBelow = 2.0;  // surprises below this are quiet (p > 1%)
  /// Counts s (several times per point of every series: inline).
  void Learn(double s) { LearnBin(Bin(s)); }
  /// Counts a surprise by its bin (what Learn keeps of it).
  void LearnBin(int bin) {
    count[bin] += 1.0f;
    total += 1.0f;
    if (bin >= kQuietBin) excursions += 1.0f;
    if (total > kMemory) Fade();
  }
  static constexpr int kQuietBin = 4;  // Bin(kQuietBelow): s >= 2 falls in bin 4 or above
  static_assert(kQuietBin == static_cast<int>(kQuietBelow / kBinWidth));

 private:
  double CalibrateTail(double s, bool heavy) const;
  /// The share of the other side's counts this side borrows (see Borrowing).
  double BorrowedShare(double other_excursions) const;
  /// What `share` of the other side's count adds to this side's (Borrowing and CalibrateBorrowing
  /// add it alike, so the two agree bit for bit).
  static float Lent(double share, float other_count) { return static_cast<float>(share * other_count); }
  void Fade();  // fading memory: halve everything
};

/// `running_zscore`: the AWS tutorial's z-score over every point of the series so far (the gold stage's
/// batch version uses the whole series at once). Flags |z| > threshold (3) after min_points.
struct ZScoreCheck {
  double threshold = 3.0;
  int64_t min_points = 30;
  RunningMoments m;

  double Step(const PointContext& c, double x, Explanation& why);
};

/// `window_z`: z-score against the mean and standard deviation of the previous `window` points.
struct WindowZCheck {
  static constexpr int kMaxWindow = 256;
  int window = 96;
  int64_t min_points = 30;
  double buf[kMaxWindow];
  int head = 0, size = 0;
  double sum = 0.0, sumsq = 0.0;  // of (x - anchor), recomputed exactly every `window` points
  double anchor = NAN;
  int since_recompute = 0;

  double Step(const PointContext& c, double x, Explanation& why);
  void Recompute(double new_anchor);
};

/// `mad`: robust z-score against the median and MAD of a trailing window of 64 points, refreshed
/// every 16 points (a hopping window: the baseline is at most 15 points old, never newer than the
/// point scored).
struct MadCheck {
  static constexpr int kWindow = 64;
  static constexpr int kHop = 16;
  /// A normal series' MAD is 0.6745 sigma (its quartile's z): sigma = MAD / 0.6745.
  static constexpr double kMadPerSigma = 0.6745;
  int64_t min_points = 32;
  SortedWindow<kWindow, kHop> w;
  double median = NAN, mad = 0.0;

  double Step(const PointContext& c, double x, Explanation& why);
};

/// `ewma`: EWMA/EWMV control chart; the baseline learns with winsorised updates.
struct EwmaCheck {
  double alpha = 0.01;
  double clip = 3.0;
  int64_t min_points = 30;
  EwStats s;

  double Step(const PointContext& c, double x, Explanation& why);
};

/// `seasonal`: a time-of-day profile (96 slots of 15 minutes, each a level and a spread) plus an
/// hour-of-week offset, learned per series; z-score of the point against its slot.
struct SeasonalCheck {
  static constexpr int kSlots = 96;
  static constexpr int64_t kSlotUs = kDayUs / kSlots;
  /// What the spread of all slots is worth, in points, beside a slot's own (see Step).
  static constexpr double kPooledPoints = 8.0;
  /// A slot's spread is at least half the typical spread of all slots (a quiet slot does not
  /// make normal noise look anomalous); a slot learns a residual at most 4 of its spreads away;
  /// the typical spread is an exact mean of the slots' spreads until it has 1 / kGlobalWeight
  /// updates, then an EW mean of that weight; an hour-of-week offset moves by half a visit's
  /// mean miss (v4; v3's weight for a day).
  static constexpr double kSlotSpreadFloor = 0.5;
  static constexpr double kLearnSds = 4.0;
  static constexpr double kGlobalWeight = 0.001;
  static constexpr double kWeekStep = 0.5;
  double memory_days = 3.0;  // how many days a slot remembers
  int min_visits = 3;        // days a slot must have seen before it can flag
  float level[kSlots] = {};
  float spread[kSlots] = {};  // EW variance of the residual in the slot
  uint16_t visits[kSlots] = {};
  /// The profile's own miss at each hour of the week (v4): a weekly pattern that a daily profile
  /// of a few days' memory cannot hold (a weekend's other shape; Monday's rush after the quiet
  /// days the profile just learnt). After each visit of an hour (from the slot's warm-up on) its
  /// offset moves by half the visit's mean miss, as v3's day-of-week offset did per day; it is
  /// used from the next visit on, a week later, so it never chases the hour it is in.
  static constexpr int kWeekPerDay = 24;  // 2 or 0.5 hours instead: see the detect README
  static constexpr int kWeekSlots = 7 * kWeekPerDay;
  float week[kWeekSlots] = {};
  double visit_sum = 0.0;  // the residuals of the hour being visited, and their count
  int32_t visit_n = 0;
  int16_t visit_hour = -1;
  int16_t last_slot = -1;
  int64_t last_day = kNoTime;
  int64_t in_visit = 0;      // points in the slot's current visit
  double global_spread = 0.0;  // EW mean of the slots' spreads
  int64_t spread_updates = 0;  // how many points global_spread has averaged

  /// What Step derives from the point's time and the cadence alone, remembered between points
  /// by the caller: the slot the last point fell in (a 15-minute span holds many points) and the
  /// per-visit weights of the last cadence. Not state (never saved): a fresh one is always right.
  struct Scratch {
    int64_t slot_from = 1, slot_to = 0;  // [from, to): the last point's slot; empty at first
    int64_t day = 0;
    int slot = 0, hour_of_week = 0;
    double for_interval = NAN;  // the cadence (and memory) the weights below were computed for
    double for_memory = NAN;
    double per_visit = 1.0;
    double cap = 1.0, inv_cap = 1.0;  // memory_days * per_visit: a slot's points at most, and 1 / it
  };

  /// Scores x against its slot, then learns from it unless `learn` is false (the ensemble skips
  /// readings of a sensor reported stuck: they would teach the slot a flat, wrong profile).
  double Step(const PointContext& c, double x, Explanation& why, bool learn, Scratch& scratch);
  /// With a fresh scratch: the reference the kept one is tested against.
  double Step(const PointContext& c, double x, Explanation& why, bool learn = true) {
    Scratch scratch;
    return Step(c, x, why, learn, scratch);
  }
};

/// `cusum`: two-sided CUSUM of the standardised deviation from a slow baseline (reference
/// k = 0.5 sigma). Its tail is close to exponential, P(S > h) ~ e^-h, which calibrates it. After
/// an alarm the baseline jumps to the new level and the sums restart.
struct CusumCheck {
  double k = 0.5;
  int64_t min_points = 60;
  EwStats slow;   // baseline: weight kSlowWeight
  EwStats fast;   // recent level: weight kFastWeight
  /// The baseline's weight (about 500 points: a shift must outlast the level's horizon many
  /// times over to move it) and the recent level's (about 20 points), which the baseline adopts
  /// at an alarm.
  static constexpr double kSlowWeight = 0.002;
  static constexpr double kFastWeight = 0.05;
  /// A point moves the sums by at most 4 sigmas (one spike counts as a 4-sigma point: only a
  /// sustained shift adds up); the baselines learn it at most 3 sigmas away.
  static constexpr double kWinsorSds = 4.0;
  static constexpr double kLearnSds = 3.0;
  double up = 0.0, down = 0.0;

  /// `Why`: Explanation or WarmingUpOnly (the same surprise and state either way).
  template <typename Why>
  double Step(const PointContext& c, double x, Why& why, double limit);
  /// Before Step: the values of the next point whose CUSUM surprise would exceed `flag_limit`
  /// lie outside [first, second] (infinite where the winsorised step cannot get there; NaN when
  /// every value would). NaN while warming up.
  std::pair<double, double> Band(double flag_limit) const { return Band(flag_limit, flag_limit); }
  /// The same with a limit for each side: a shift up flags past `up_limit`, down past
  /// `down_limit` (the ensemble calibrates each side by its own habits).
  std::pair<double, double> Band(double up_limit, double down_limit) const;
  /// A new segment of the series (after a reported silence): the sums start again from zero and
  /// the recent level from the baseline; the baseline and its spread stay.
  void Restart() {
    up = down = 0.0;
    fast.mean = slow.mean;
  }
};

/// `flatline`: a run of identical readings longer than any the series made lately. The longest
/// run is remembered (fading slowly), so series that idle at one value are not stuck; beyond it,
/// each further repeat costs -log10(p), p being how often a reading repeats the previous one.
struct FlatlineCheck {
  /// The habit of the longest run fades over about ten thousand points; the repeat rate p is
  /// kept within [kMinRepeat, kMaxRepeat] (a series that never repeats still pays for a stuck
  /// run at 1.7 decades a reading, not 30 at once; one that always does at 0.004), learnt with
  /// weight 1 / n down to kRepeatWeight; a stuck run's surprise is capped at kMaxRunSurprise.
  static constexpr double kLongestFade = 1e-4;
  static constexpr double kMinRepeat = 0.02;
  static constexpr double kMaxRepeat = 0.99;
  static constexpr double kRepeatWeight = 0.001;
  static constexpr double kMaxRunSurprise = 30.0;
  int64_t min_points = 50;
  int min_run = 3;
  double prev = NAN;
  double p_repeat = 0.1;
  double longest = 0.0;     // longest run that did not alarm (fading)
  int64_t run = 0;
  int64_t remind_at = 0;    // after an alarm: the run length of the next report (0: none yet)
  int alarmed_runs = 0;     // runs that alarmed (counted up to 2)
  double lo = NAN, hi = NAN;  // the lowest and highest value so far
  bool edge_run = false;    // the current run started at lo or hi (a floor or ceiling)
  int64_t n = 0;

  template <typename Why>  // Explanation or WarmingUpOnly
  double Step(const PointContext& c, double x, Why& why, double limit);
};

/// `rate`: a change between consecutive points far larger than the series' usual changes.
struct RateCheck {
  /// The mean |change| of a normal series' changes is sigma sqrt(2 / pi): its spread is that
  /// mean times sqrt(pi / 2). A change is learnt at most 5 times that mean (after 10 points).
  static constexpr double kSpreadPerMeanAbs = 1.2533;
  static constexpr double kWinsorMeans = 5.0;
  static constexpr int64_t kWinsorFrom = 10;
  double alpha = 0.01;
  int64_t min_points = 30;
  double prev = NAN;
  double mean_abs = 0.0;  // EW mean of |delta|, winsorised at 5x itself
  int64_t n = 0;

  double Step(const PointContext& c, double x, Explanation& why);
};

/// `volatility`: the recent variance (EW, weight kShort) far above the long-run one (weight
/// kLong, about 500 points); Wilson-Hilferty turns the ratio, a scaled chi-square with
/// (2 - kShort) / kShort degrees of freedom, fewer for an autocorrelated input (Dof), into a z.
struct VolatilityCheck {
  /// The recent variance's weight (`default` v22): about the last 50 points, the horizon of the
  /// level whose residual it watches (weight 0.02), 99 degrees of freedom. A change of volatility
  /// is a spread that stays; a burst of a few wild points is the spike member's (each adds at
  /// most 16 long-run variances, so 16 x 0.02 to the ratio). Up to v21 the weight was 0.2 (about
  /// 5 points, 9 degrees of freedom): two points at 4 sigmas in a row made a ratio of 6.4 (raw
  /// surprise 7.7), while a spread half as wide again, for good (a ratio of 2.25), never passed
  /// the flag limit.
  static constexpr double kShort = 0.02;
  static constexpr double kLong = 0.002;
  static constexpr double kDof = (2.0 - kShort) / kShort;  // degrees of freedom of short_var, independent input
  /// One wild point adds at most (4 long-run sigmas)^2 to the recent variance (and moves the
  /// autocovariance as a 4-sigma deviation): a single spike is not a change of volatility.
  static constexpr double kWildSds = 4.0;
  /// Below 1.25 times the usual variance nothing is remarkable (z < 0.7 at kDof): no cube roots.
  static constexpr double kQuietRatio = 1.25;
  int64_t min_points = 100;
  double mean = 0.0;
  double short_var = 0.0, long_var = 0.0;
  /// The input's lag-1 autocovariance (EW at the long-run weight, deviations winsorised at 4
  /// long-run sigmas) and the previous deviation so winsorised (v23).
  double lag_cov = 0.0, prev_dev = 0.0;
  int64_t n = 0;

  /// The recent variance's degrees of freedom (v23). Those of independent input (kDof) hold only
  /// for it: a residual with lag-1 autocorrelation rho (a sensor's slow noise, which the level
  /// cannot follow point by point) has squares autocorrelated about rho^2 at lag 1, rho^4 at lag
  /// 2..., and an EW mean of weight w over them varies (1 + (1 - w) rho^2) / (1 - (1 - w) rho^2)
  /// times as much: the variance ratio of such a series wanders far wider than a chi-square of
  /// kDof, and up to v22 volatility flagged it (the demo fleet's temperatures at one reading a
  /// minute: 74 of its 97 false alerts). No constant is fitted: w is kShort, rho the input's own.
  double Dof() const {
    const double rho = long_var > 0.0 ? lag_cov / long_var : 0.0;
    const double a = (1.0 - kShort) * std::min(1.0, rho * rho);
    return kDof * (1.0 - a) / (1.0 + a);
  }
  /// Wilson-Hilferty: the variance of the cube root of a chi-square of `dof` over dof.
  static double CubeRootVariance(double dof) { return 2.0 / (9.0 * dof); }

  template <typename Why>  // Explanation or WarmingUpOnly
  double Step(const PointContext& c, double x, Why& why);
  /// Before Step: the next values whose surprise would exceed `flag_limit` lie outside the band
  /// (see CusumCheck::Band).
  std::pair<double, double> Band(double flag_limit) const;
};

/// The step the readings are written in (v27): the largest 10^-d, d = 0 to 6, of which every
/// reading so far is a whole multiple (whole numbers: 1; one decimal: 0.1), or none once a
/// reading fits no such step (a measured value with all its digits). A reading so written stands
/// for every true value within half a step of it: after a highest count of 4, a count of 5 may be
/// a true 4.6 after a true 4.4.
struct Resolution {
  static constexpr int kMaxDecimals = 6;
  static constexpr int8_t kNone = -1;
  int8_t decimals = 0;  // kNone: no step fits
  double scale = 1.0;   // 10^decimals (exact)
  double half = 0.5;    // half the step (0 with none)

  void Observe(double v) {
    if (decimals == kNone) return;  // most measured series: one compare a point
    while (!OnGrid(v)) {
      if (++decimals > kMaxDecimals) {
        decimals = kNone;
        half = 0.0;
        return;
      }
      scale *= 10.0;
      half = 0.5 / scale;
    }
  }
  bool OnGrid(double v) const {
    const double s = std::fabs(v * scale);
    if (s >= 0x1p52) return true;  // every double this large is whole
    // s rounded to the nearest whole number without a call into libm (nearbyint is one on
    // baseline x86-64): adding 2^52 leaves no bits for a fraction.
    const double whole = (s + 0x1p52) - 0x1p52;
    return std::fabs(s - whole) <= 1e-12 * std::max(1.0, s);
  }
};

/// The signed square root (the scale counts are learnt on: monotonic for negative readings too)
/// and its inverse.
inline double SignedSqrt(double x) { return std::copysign(std::sqrt(std::fabs(x)), x); }
inline double FromSqrt(double y) { return std::copysign(y * y, y); }

/// The interval of true values a written reading x stands for (see Resolution), on the scale the
/// checks learn on (the readings' own, or the signed square root's for counts): [Lower, Upper].
struct Rounding {
  double half = 0.0;  // half the readings' step, on the readings' scale (0: none)
  bool sqrt = false;  // x is the signed square root of the reading
  double Lower(double x) const { return Move(x, -half); }
  double Upper(double x) const { return Move(x, half); }

 private:
  double Move(double x, double by) const {
    if (by == 0.0) return x;
    return sqrt ? SignedSqrt(FromSqrt(x) + by) : x + by;
  }
};

/// `novelty`: a value beyond the range the series has ever reached (the range fades slowly).
/// Warming up for its first day, but still returning its surprise (for calibration).
struct NoveltyCheck {
  int64_t min_points = 100;  // and a full day: a daily cycle sets records all through its first day
  double lo = NAN, hi = NAN;
  int64_t n = 0;
  int64_t first_ts = kNoTime;
  /// How far a record overshoots the range, in units of its width, learned from the series' own
  /// records (from its second day on): light tails overshoot by little, heavy tails (latency,
  /// bursty counts) by much, and a record is as surprising as the series' own records make it.
  /// Starts from the normal tail's mean overshoot (extreme-value theory: sigma / sqrt(2 ln n)
  /// over a range of ~8 sigma at n ~ 10^4) worth kPriorRecords records; one record counts at most
  /// kMaxOvershoot, so an anomaly far beyond the range does not teach a heavy tail at once.
  static constexpr double kNormalOvershoot = 0.029;
  static constexpr double kPriorRecords = 32.0;
  static constexpr double kMaxOvershoot = 0.5;
  double overshoot_sum = kPriorRecords * kNormalOvershoot;
  double records = kPriorRecords;
  static constexpr double kFade = 1e-5;

  /// Surprise per width of overshoot: each further mean overshoot is e times rarer (an exponential
  /// tail), i.e. 1 / (mean overshoot x ln 10) decades per width (15 for the normal tail).
  double PerDecade() const { return records / (overshoot_sum * 2.302585092994046); }

  /// A record is judged by how far its reading's interval lies beyond the range's (`rounding`,
  /// v27): a count one above the highest is a record, but by no overshoot.
  template <typename Why>  // Explanation or WarmingUpOnly
  double Step(const PointContext& c, double x, Why& why, const Rounding& rounding = {});
  /// Before Step: the next values whose surprise would exceed `flag_limit` lie outside the band.
  std::pair<double, double> Band(double flag_limit, const Rounding& rounding = {}) const;
};

/// A double kept in the time-of-day profile's floats, saturated at the largest float: a reading
/// beyond it (usable up to kMaxUsableReading) would make an infinity (and the profile's arithmetic
/// NaN from then on), and casting it is undefined. Values a float holds are unchanged.
inline float SaturatedFloat(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(v, -kMax, kMax));
}

/// The `default` ensemble's level's weight (about 50 points: a few hours at one reading every
/// 5 minutes, a minute at one a second); the trend and the previous value's spread share it
/// (TrendLevel::kLambda, PreviousValue::kLambda).
inline constexpr double kLevelWeight = 0.02;

/// A level with its trend: Brown's double exponential smoothing (Holt's linear method with
/// alpha = lambda (2 - lambda), beta x alpha = lambda^2), in the error-correction form, with the
/// level's memory (lambda = 0.02, 50 points). The one-step forecast follows a ramp and a smooth
/// cycle without the lag of a plain EWMA (which trails a ramp by its slope x 50 points); its
/// forecast errors are winsorised at `clip` sigma, so an outlier bends neither level nor trend,
/// and their spread is their mean square around zero over the same 50 points.
/// Starts at the first value with no trend (weights 1/n until n reaches 1/lambda), so it does
/// not depend on where the series lies: a constant added to every value adds it to the forecast.
struct TrendLevel {
  static constexpr double kLambda = kLevelWeight;
  double level = 0.0, slope = 0.0, var = 0.0;
  int64_t n = 0;

  double Forecast() const { return level + slope; }
  double std() const { return std::sqrt(var); }
  /// Learns x; returns its (unclipped) forecast error x - Forecast() from before it.
  double Add(double x, double clip) {
    ++n;
    if (n == 1) {
      level = x;
      return 0.0;
    }
    const double lambda = std::max(kLambda, 1.0 / static_cast<double>(n));
    const double f = level + slope;
    const double e = x - f;
    double d = e;
    // (The square root only for a point that is clipped.)
    if (n > 3 && var > 0.0 && d * d > clip * clip * var) d = std::copysign(clip * std::sqrt(var), d);
    level = f + lambda * (2.0 - lambda) * d;
    slope += lambda * lambda * d;
    const double a = std::max(kLambda, 1.0 / static_cast<double>(n - 1));
    var = (1.0 - a) * var + a * d * d;
    return e;
  }
};

/// The previous value as the expectation (the random walk's forecast), winsorised: a change
/// larger than `clip` sigma moves it by `clip` sigma only, so after a spike the expectation is
/// back within a few sigma of the series, and after a level shift it catches up in a few points.
/// Its spread is the mean square of those (clipped) changes over the level's 99 points. Where a
/// series moves faster than the level can follow (a daily cycle at one reading every 5 minutes,
/// which the level trails by about its amplitude; a wandering process) it is the sharpest
/// expectation a point has: the change since the previous reading against the usual change.
/// Offset-free: a constant added to every value adds it to the forecast.
/// A reading after a missed one (`default` v26) has had two steps to move: as a random walk's,
/// its change is judged against sqrt(2) usual changes, and teaches the spread as much. A series
/// that reports irregularly (traffic sensors, ad exchanges: gaps of 3 to 15 minutes) otherwise
/// took each change across a long gap for a surprising one.
struct PreviousValue {
  static constexpr double kLambda = kLevelWeight;
  /// The most steps a gap counts for: one missed reading. A longer gap is a silence in the
  /// making (a dropout shorter than the silence timeout), and a jump at its end is the return's:
  /// news, not the wander of the readings it missed.
  static constexpr double kMaxSteps = 2.0;
  double last = 0.0, var = 0.0;
  int64_t n = 0;

  /// The steps a gap of `gap_us` is at the typical interval before it, from 1 (a reading on
  /// time or early) to kMaxSteps.
  static double Steps(int64_t gap_us, double interval_us) {
    const double gap = static_cast<double>(gap_us);
    // (Nearly every reading is on time: no division.)
    if (!(gap > interval_us) || !(interval_us > 0.0)) return 1.0;
    return std::min(gap / interval_us, kMaxSteps);
  }
  double Forecast() const { return last; }
  /// The spread of a change over `steps` steps.
  double std(double steps = 1.0) const { return std::sqrt(var * steps); }
  void Add(double x, double clip, double steps = 1.0) {
    ++n;
    if (n == 1) {
      last = x;
      return;
    }
    double d = x - last;
    // (The square root only for a point that is clipped.)
    if (n > 3 && var > 0.0 && d * d > clip * clip * var * steps) d = std::copysign(clip * std::sqrt(var * steps), d);
    last += d;
    const double a = std::max(kLambda, 1.0 / static_cast<double>(n - 1));
    var = (1.0 - a) * var + a * (steps == 1.0 ? d * d : d * d / steps);
  }
};

/// The setpoints a machine runs at (v28): a compressor on and off, a pump at idle, part and full
/// load. Up to four centres, each the faded mean and spread of the readings that joined it: a
/// reading within kJoin sds of the nearest centre joins it, any other starts a centre in place of
/// the lightest, and two centres within kJoin sds of each other become one. A centre is a setpoint
/// once it holds kHeld readings' weight and the series has come to it from the level it held
/// before (v29: through readings between them or not, a ramp or a jump) kEntries times lately
/// (weights and entries fade with a memory of kMemory readings): twice a
/// coincidence, three times a habit, so a level shift that returns to where it began, or a second
/// shift to the level of the first, is no habit yet, nor are three shifts days apart. Where every
/// other setpoint lies kApart sds or more from the one a reading is at, the series runs in
/// regimes, and a switch to a known setpoint is its habit, not news (the ensemble's spike member:
/// Ensemble::Update); a series of one level, or whose readings spread continuously over several
/// centres, has no such setpoint. A reading that leaves a setpoint for no level the series holds
/// (v29: a spike between or beyond the setpoints, a setpoint moved) is judged against the
/// setpoint it left (Departure): the switches the series makes are no excuse for it.
struct Setpoints {
  static constexpr int kCentres = 4;
  static constexpr double kJoin = 4.0;     // sds
  static constexpr double kApart = 8.0;    // sds
  static constexpr float kHeld = 30.0f;    // readings
  static constexpr float kEntries = 2.5f;  // three entries lately (faded, they count less than 3)
  static constexpr float kMemory = 4096.0f;  // readings
  static constexpr double kMinWeight = 1.0 / 256.0;  // a centre's mean and spread: at least this EW weight
  static constexpr float kMinWeightFrom = 256.0f;     // (1 / kMinWeight: from this weight on, no division)
  double mean[kCentres] = {};
  float var[kCentres] = {};
  float weight[kCentres] = {};
  float entries[kCentres] = {};  // entries from the level held before (fading as the weights do)
  /// Surprising readings that left a held level for none (Departure), fading as the weights do
  /// (v29): the series' habit of readings between its levels (a machine that ramps from one
  /// setpoint to the next).
  float off = 0.0f;
  int8_t last = -1;  // the centre of the last reading (-1: none yet)
  int8_t held = -1;  // the held centre the series was at last (-1: none, or none since a break)
  uint8_t tick = 0;  // readings since the last Tidy
  static constexpr uint8_t kEvery = 64;
  /// A centre's variance: at least a quarter of the noise's (its spread at least half the
  /// noise's sd, so a few identical readings do not make a point-like setpoint), and a new
  /// centre's starts at 4 times it (twice the sd: it can gather the readings near it).
  static constexpr double kMinNoiseShare = 0.25;
  static constexpr double kFirstNoiseShare = 4.0;

  /// The setpoint x is at (within kJoin sds of it, every other setpoint kApart sds away), or -1.
  int At(double x) const;
  /// The spread of centre k (never 0: a flat setpoint's is its level's floor).
  double Sd(int k) const { return ScaleFloor(std::sqrt(static_cast<double>(var[k])), mean[k]); }
  /// Its square, without the square root.
  double Var(int k) const {
    const double floor = kScaleFloor * std::max(1.0, std::fabs(mean[k]));
    return std::max(static_cast<double>(var[k]), floor * floor);
  }
  /// Whether x leaves a held level for none (v29): the last reading's centre holds kHeld readings'
  /// weight, and x lies beyond kJoin sds of every centre that does. Before Learn(x).
  bool Leaves(double x) const;
  /// For a reading the spike member finds surprising (`raw`, its surprise against its expectation,
  /// kQuiet or more; before Learn(x)): where x leaves a held level for none (Leaves), counts it
  /// (off) and returns its surprise against that level if it is a setpoint (At), -1 otherwise.
  /// At most `raw` (a reading its expectation saw coming, on a ramp or a daily cycle, is no
  /// departure), and at most the series' habit of such readings: from the second one lately, p is
  /// at least (off - 1) / the readings remembered (the calibration's rule: the first may have been
  /// an anomaly; from the second on they are the series' way between its levels).
  double Departure(double x, double raw);
  /// Learns x; `noise_var`, the series' usual variance around its level (from half the usual
  /// change between readings), is a new centre's spread (x4) and every centre's floor (/4).
  void Learn(double x, double noise_var);

 private:
  void Tidy();  // fades the weights and entries by kEvery readings' worth
  void Merge(int k);  // k takes in a centre within kJoin sds of it (at most one)
};

/// A sustained shift at a setpoint (v32): a two-sided CUSUM (CusumCheck's reference k, its
/// 4-sigma winsorising) of a machine's readings against the setpoint each is at (Setpoints::At),
/// in the setpoint's long-run spread. Within its 4-sd reach a setpoint moved by less than that
/// is the same setpoint to Setpoints (it joins it, and the spike member judges the reading
/// against it), and CUSUM's sums on the level's residual are swamped by the switches, so a
/// machine whose setpoint crept or shifted by 2 to 4 sds went unseen. The readings at a setpoint
/// are autocorrelated (a process, not independent draws): a z of (x - mean) / sd adds up like a
/// shift over any slow wander, so z is taken in the long-run spread, sd x sqrt((1 + rho) /
/// (1 - rho)), rho the lag-1 autocorrelation, from the changes between consecutive readings at
/// one setpoint: their mean square is 2 (1 - rho) of the setpoint's variance (a ratio shared by
/// the setpoints, whose spreads may differ: a machine off and on). The ensemble restarts its sums
/// once it is past the alarm level and news, not at the raw alarm level as CUSUM's: a machine's
/// switches keep CUSUM's habits at that level, and the setpoint's mean follows a shift by itself.
struct SetpointCusum {
  float up = 0.0f, down = 0.0f;
  float change_ratio = 0.0f;  // EW mean square of a change at one setpoint over its variance
  /// CusumCheck's reference (k = 0.5 sigma) and winsorising (4 sigma a reading).
  static constexpr double kReference = 0.5;
  static constexpr double kWinsorSds = CusumCheck::kWinsorSds;
  /// The ratio's weight: about 100 changes (the level's spread's horizon, 1 / 0.01).
  static constexpr double kRatioWeight = 0.01;
  /// A change is winsorised at 3 of its usual spreads (the ensemble's kWinsorSds): a ratio of 9.
  static constexpr double kMaxChangeRatio = 9.0;
  /// rho at most this (the long-run spread at most 6.2 times the setpoint's): a numeric guard
  /// for a setpoint whose readings barely change, not a fitted value.
  static constexpr double kMaxRho = 0.95;
  /// Learns the change `d` between two consecutive readings at one setpoint of variance `var`.
  void LearnChange(double d, double var) {
    if (!(var > 0.0)) return;
    const double q = d * d / var;
    if (change_ratio <= 0.0f) {
      change_ratio = static_cast<float>(q);
      return;
    }
    const double ratio = change_ratio;
    change_ratio = static_cast<float>(ratio + kRatioWeight * (std::min(q, kMaxChangeRatio * ratio) - ratio));
  }
  /// The long-run spread of a setpoint of variance `var` (Setpoints::Var: never 0): its spread x
  /// sqrt((1 + rho) / (1 - rho)), with one square root.
  double LongRunSd(double var) const {
    const double rho = change_ratio > 0.0f ? std::clamp(1.0 - 0.5 * change_ratio, 0.0, kMaxRho) : 0.0;
    return std::sqrt(var * (1.0 + rho) / (1.0 - rho));
  }
  /// The raw surprise (CusumCheck's e^-2kh tail) after reading x at a setpoint of mean `mean`
  /// and long-run spread `sd`; `is_down` says which side it is.
  double Step(double x, double mean, double sd, bool& is_down);
  /// Before Step: the readings at a setpoint of mean `mean` and long-run spread `sd` whose
  /// surprise would pass `up_limit` (above) or `down_limit` (below) lie outside the band
  /// (CusumCheck::Band's sums; infinite where no reading can get there; NaN where any does).
  std::pair<double, double> Band(double mean, double sd, double up_limit, double down_limit) const;
  void Restart() { up = down = 0.0f; }
};

/// `range`: outside the metric's physical range [min, max] (NaN = open side).
struct RangeCheck {
  /// A reading outside the physical range is scored kBase (p = 10^-12, past any flag limit)
  /// plus kPerDecade for each tenfold of its excess over the range's width (or over the limit's
  /// size, at least 1, with one limit), at most kMaxExtra more: it ranks by how far out it is.
  static constexpr double kBase = 12.0;
  static constexpr double kPerDecade = 4.0;
  static constexpr double kMaxExtra = 20.0;
  double lo = NAN, hi = NAN;

  template <typename Why>  // Explanation or WarmingUpOnly
  double Step(const PointContext& c, double x, Why& why) const;
};

/// `silent`: no point for longer than the timeout. Reported by the first point after the gap
/// (at_us = last point + timeout) or by Tick when time passes in live use.
struct SilenceCheck {
  int64_t timeout_us = 0;  // 0: kTimeoutIntervals typical intervals, at least kMinTimeoutUs
  /// The automatic timeout: 10 typical intervals, at least 5 minutes. A rule, not fitted: the
  /// dropout fleets hold it (see the detect README's constants).
  static constexpr double kTimeoutIntervals = 10.0;
  static constexpr int64_t kMinTimeoutUs = 300'000'000;
  int64_t reported_for = kNoTime;  // last point whose silence was already reported by Tick
  int64_t first_ts = kNoTime;      // the series' first point
  /// A silence is news only against a habit of reporting: the series must have reported for
  /// this many timeouts first (an hour at the 5-minute floor). A test run of 20 minutes, or a
  /// device seen briefly, that stops is not a device gone dark.
  static constexpr int64_t kMinLifeTimeouts = 12;

  int64_t Timeout(const Cadence& c) const { return timeout_us > 0 ? timeout_us : AutomaticTimeout(c); }
  /// The timeout when none is configured: 10 typical intervals, at least 5 minutes.
  static int64_t AutomaticTimeout(const Cadence& c) {
    return std::max<int64_t>(static_cast<int64_t>(kTimeoutIntervals * c.interval_us), kMinTimeoutUs);
  }
  /// No silence ends at `now` (Gap would return 0 before explaining anything): the usual point.
  bool OnTime(const Cadence& c, int64_t last, int64_t now) const {
    return last == kNoTime || now <= last || now - last <= Timeout(c);
  }
  /// The series is old enough for a silence of `timeout` to be news: it has reported for
  /// kMinLifeTimeouts of them up to `last`, its last point before the gap.
  bool Lived(int64_t last, int64_t timeout) const {
    return first_ts != kNoTime && last != kNoTime && last - first_ts >= kMinLifeTimeouts * timeout;
  }
  /// A point at `now` ends a break in the series: a gap past the automatic timeout, whatever the
  /// configured one, on a series old enough for such a silence to be news. (The ensemble starts
  /// a new segment there; a user who lengthens the timeout to stop the alerts of a machine run
  /// in sessions still has each session judged from where it starts.)
  bool Breaks(const Cadence& c, int64_t last, int64_t now) const {
    const int64_t timeout = AutomaticTimeout(c);
    return last != kNoTime && now > last && now - last > timeout && Lived(last, timeout);
  }
  /// Surprise of a gap; sets *at to when it became anomalous.
  double Gap(const Cadence& c, int64_t last, int64_t now, Explanation& why, int64_t* at) const;
  /// The silence that ended with a point at `now`: 0 when Tick already reported it.
  double Before(const Cadence& c, int64_t last, int64_t now, Explanation& why, int64_t* at) {
    if (first_ts == kNoTime) first_ts = now;
    return last == reported_for ? 0.0 : Gap(c, last, now, why, at);
  }
  /// Live: the silence going on at `now`, once per gap.
  Score Tick(const Cadence& c, int64_t now) { return Tick(c, now, [](double) { return true; }); }
  /// The same, reported only where `flags(surprise)` says so; a gap not reported is judged again
  /// at the next tick (the ensemble's routine silences, which flag once they outgrow the routine).
  template <typename Flags>
  Score Tick(const Cadence& c, int64_t now, Flags flags) {
    Score out;
    out.at_us = now;
    if (c.last_ts == kNoTime || c.last_ts == reported_for) return out;
    out.surprise = Gap(c, c.last_ts, now, out.why, &out.at_us);
    out.flag = out.surprise > 0.0 && flags(out.surprise);
    if (out.flag) reported_for = c.last_ts;  // one report per silence
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }
};

}  // namespace iotad::detect
