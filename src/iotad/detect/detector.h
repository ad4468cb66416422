#pragma once
// The online detector library: one series (one device and metric) in time order, one point at a
// time, no look-ahead, bounded state. Every detector answers each point with a calibrated score,
// a flag and an explanation. Pure code: no I/O, no clock, no randomness, so the same points give
// the same answers live and in batch replays.
//
// Calibration. Every detector turns its evidence into a surprise s = -log10(p), p being the
// probability of seeing evidence at least this strong at one point of a normal series under the
// detector's model (s = 3: one point in a thousand). The score is s / (s + 6): in [0, 1), 0.5 at
// p = 1e-6, monotonic, never exactly 1, so scores rank even among strong anomalies. A point is
// flagged when p < (expected false alarms per day) / (points per day), the one sensitivity knob.
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::detect {

/// Why a point got its score. Numbers, not text: formatting happens only for flagged points.
struct Explanation {
  std::string_view detector;   // the detector that drove the score (for the ensemble: a member)
  std::string_view rule;       // what fired or what is going on, e.g. "|z| > limit", "warming up"
  double expected = NAN;       // the value the detector expected here
  double lo = NAN, hi = NAN;   // the range it would not have flagged: a value outside it, here,
                               // reaches the flag limit (infinite where no value would)
  double center = NAN;         // baseline level (mean, median, seasonal level...)
  double scale = NAN;          // baseline spread (std, MAD-based sigma...)
  double stat = NAN;           // the test statistic (z, CUSUM sum, run length, d^2...)
  int64_t n = 0;               // points behind the baseline
  int64_t needed = 0;          // while warming up: points needed before the first flag
  bool warming_up = false;
  uint32_t drivers = 0;        // ensemble: bit i set when member i was over the flag limit
};

/// Members of the `default` ensemble, in the order of the bits of Explanation::drivers.
inline constexpr std::string_view kEnsembleMembers[] = {"spike", "cusum", "novelty", "volatility", "flatline", "range", "silent"};

struct Score {
  double score = 0.0;     // in [0, 1): s / (s + 6)
  double surprise = 0.0;  // s = -log10(p) >= 0
  bool flag = false;
  int64_t at_us = 0;      // when the anomaly happened: the point's time, or for silence the moment
                          // the gap became anomalous
  Explanation why;
};

/// The largest surprise a detector reports (p = 10^-1e6, far beyond what a double holds). A model's
/// surprise grows with z^2 or a record's overshoot and has no bound of its own: one reading of
/// 1e84 made a surprise of 1e83, whose score rounds to 1, and an infinite one would turn sums,
/// peaks and JSON into nonsense. Every detector caps what it reports here (score <= 0.999994).
inline constexpr double kMaxSurprise = 1e6;

/// The surprise that scores 0.5 (p = 1e-6): a monotonic map's midpoint, not a threshold (every
/// threshold moves with it, no ranking does).
inline constexpr double kHalfScoreSurprise = 6.0;
/// s -> score; monotonic, 0.5 at s = kHalfScoreSurprise, never 1 for a finite s up to kMaxSurprise.
inline double ScoreFromSurprise(double s) { return s <= 0.0 ? 0.0 : s / (s + kHalfScoreSurprise); }
namespace detail {
/// -log10(erfc(|z| / sqrt 2)) sampled every 1/128 of z over [0, 8] (filled at start-up, in
/// checks.cpp); linear interpolation between samples keeps the curve monotonic and within 1e-5
/// of the exact value.
struct GaussianSurpriseTable {
  static constexpr int kPerUnit = 128;
  static constexpr double kMaxZ = 8.0;
  static constexpr int kSize = static_cast<int>(kMaxZ) * kPerUnit + 2;
  double s[kSize];
  GaussianSurpriseTable();
};
extern const GaussianSurpriseTable kGaussianSurpriseTable;
/// GaussianSurprise beyond the table (a >= kMaxZ, or NaN): the asymptote, joined to the table.
double GaussianSurpriseTail(double a);
}  // namespace detail

/// Surprise of a two-sided Gaussian tail |Z| >= z: -log10(erfc(|z| / sqrt 2)), accurate far out.
/// Inline: several members of the ensemble ask at every point.
inline double GaussianSurprise(double z) {
  using T = detail::GaussianSurpriseTable;
  const double a = std::fabs(z);
  if (a < T::kMaxZ) {
    const double pos = a * T::kPerUnit;
    const int i = static_cast<int>(pos);
    const double f = pos - i;
    const double* s = detail::kGaussianSurpriseTable.s;
    return s[i] + f * (s[i + 1] - s[i]);
  }
  return detail::GaussianSurpriseTail(a);
}
/// The inverse: the |z| whose GaussianSurprise is s (exact for the interpolated curve), so a band
/// can be drawn where a z-based detector starts to flag: center +- GaussianZForSurprise(limit) * scale.
double GaussianZForSurprise(double s);
/// Surprise of |t| under Student's t with nu degrees of freedom (two-sided).
double StudentSurprise(double t, double nu);
/// How much wider Student's t with `dof` degrees of freedom is than the normal at surprise 5
/// (p = 1e-5): the factor a spread estimated from few points is widened by (1 beyond 256).
double SmallSampleWidening(double dof);

/// Knobs shared by all detectors. Everything has a default that works for typical telemetry.
struct DetectorOptions {
  /// Expected false alarms per series per day on normal data: the one sensitivity knob.
  double false_alarms_per_day = 0.02;
  /// Physical range of the metric (range detector); NaN = unbounded on that side.
  double min_value = NAN;
  double max_value = NAN;
  /// A series is silent after this long without a point (0 = 10 typical intervals, at least 5 min).
  int64_t silence_us = 0;
  /// Named overrides of detector parameters, e.g. {"window", 128}; unknown names are an error.
  std::vector<std::pair<std::string, double>> params;
  /// The `default` ensemble explains flagged points only: a quiet point's `why` is empty but for
  /// `warming_up`. For callers that keep flags only (gold's replay): explaining the reported
  /// member again from its state before the point, and drawing its band (a calibration walk and
  /// an inverse surprise), is work per point. Scores, flags and a flag's explanation are the
  /// same either way.
  bool explain_flags_only = false;
};

/// The largest magnitude a detector learns from. Beyond it (and for +-infinity) a reading is
/// garbage no sensor sends (a unit, parse or firmware error): its square, summed over a series'
/// life, could overflow a double and leave every statistic infinite or NaN, blinding the detector
/// for good. Such a reading is flagged as unusable and not learned (UnusableReading).
inline constexpr double kMaxUsableReading = 1e100;
inline bool UsableReading(double value) { return std::fabs(value) <= kMaxUsableReading; }
/// The answer to a reading that is not NaN and not usable: a rule that always flags (surprise
/// 30, whatever the knob), explained, with the detector's state left as it was.
Score UnusableReading(std::string_view detector, int64_t ts_us);

/// One series' detector. Cheap to create; state is a fixed-size block (see state_bytes()).
class SeriesDetector {
 public:
  virtual ~SeriesDetector() = default;
  virtual std::string_view name() const = 0;
  virtual int version() const = 0;
  /// Scores the next point. NaN values (empty cells) score 0 and leave the state unchanged; a
  /// value beyond kMaxUsableReading (or infinite) is flagged by UnusableReading and leaves it
  /// unchanged too.
  /// Points with a timestamp not after the previous one are simply the next observation.
  virtual Score Update(int64_t ts_us, double value) = 0;
  /// Time passes without a point: only the silence detectors answer; others return an empty
  /// score. A silence that ends is also reported by the first point after the gap (at_us = when
  /// the gap became anomalous); one that lasts to the end of a batch replay is reported by the
  /// replay's final Tick.
  virtual Score Tick(int64_t now_us) { (void)now_us; return {}; }
  /// Bytes of per-series state (the object itself; no heap beyond it).
  virtual size_t state_bytes() const = 0;
  /// Appends the series' state (this build's layout, parameters included) to `out`: what a
  /// checkpoint keeps (DeviceScorer::Save). The name and version are the caller's to record.
  virtual void SaveState(std::string& out) const = 0;
  /// Reads back what SaveState wrote into a detector made with the same name and options,
  /// consuming it from the front of `in`; a short input is an error and leaves `in` as it was.
  virtual Status RestoreState(std::string_view& in) = 0;
};

/// One sentence for a user: the value, what was expected, the rule and the baseline.
std::string Describe(const Score& s, double value);

/// Names accepted by MakeSeriesDetector, "default" (the ensemble) first.
std::span<const std::string_view> SeriesDetectorNames();

/// Creates the named detector for one series; unknown names or parameters are an error.
Result<std::unique_ptr<SeriesDetector>> MakeSeriesDetector(std::string_view name, const DetectorOptions& options);

}  // namespace iotad::detect
