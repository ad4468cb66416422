// The `default` ensemble. One series, one pass:
//  1. Expected value: a winsorised EWMA level, or the time-of-day profile once it has warmed up
//     and explains the series better (lower mean squared error); the residual is what is left.
//  2. Model checks on the residual: spike (|z| of the residual), CUSUM (sustained shift away from
//     the expectation) and rate (jump between consecutive residuals). Their strongest surprise is
//     corrected by the series' own history (SurpriseCalibration): levels the series reaches
//     habitually stop counting as anomalies.
//  3. Rule checks on the raw value: flatline, physical range, silence.
// The score is the strongest surprise; the flag limit accounts for the number of members (p <
// false alarms per day / (points per day x members)). Every member over the limit is named.
#include "iotad/detect/ensemble.h"

#include "iotad/detect/checks.h"

namespace iotad::detect {
namespace {

enum Member : int { kSpike, kCusum, kRate, kNovelty, kFlatline, kRange, kSilent, kMembers };

class Ensemble final : public SeriesDetector {
 public:
  explicit Ensemble(const DetectorOptions& o) : fa_per_day_(o.false_alarms_per_day) {
    range_.lo = o.min_value;
    range_.hi = o.max_value;
    silence_.timeout_us = o.silence_us;
  }
  std::string_view name() const override { return "default"; }
  int version() const override { return 1; }
  size_t state_bytes() const override { return sizeof(*this); }

  Score Update(int64_t ts_us, double x) override {
    Score out;
    out.at_us = ts_us;
    if (std::isnan(x)) return out;
    const int64_t last = cadence_.last_ts;
    const PointContext c{ts_us, cadence_.Observe(ts_us), &cadence_};
    const double limit = limit_.Get(cadence_, fa_per_day_, kMembers);
    double s[kMembers] = {};
    Explanation why[kMembers];

    // 1. Expected value and residual.
    Explanation seasonal_why;
    const double s_seasonal = seasonal_.Step(c, x, seasonal_why);
    const bool level_ready = level_.n >= kMinPoints;
    const double level_sd = std::max(level_.std(), 1e-9 * std::max(1.0, std::fabs(level_.mean)));
    const double r_level = x - level_.mean;
    if (!seasonal_why.warming_up && !seasonal_ready_) {
      seasonal_ready_ = true;
      err_seasonal_ = err_level_;  // neutral start: the profile must earn its use
    }
    const bool use_seasonal = !seasonal_why.warming_up && err_seasonal_ < 0.7 * err_level_;
    const double r = use_seasonal ? x - seasonal_why.expected : r_level;
    if (!seasonal_why.warming_up) { const double e = x - seasonal_why.expected; err_seasonal_ += 0.01 * (e * e - err_seasonal_); }
    err_level_ += (level_ready ? 0.01 : 1.0 / static_cast<double>(level_.n + 1)) * (r_level * r_level - err_level_);

    // 2. Model checks.
    if (use_seasonal) {
      s[kSpike] = s_seasonal;
      why[kSpike] = seasonal_why;
    } else if (level_ready) {
      const double z = r_level / level_sd;
      s[kSpike] = GaussianSurprise(z);
      why[kSpike] = Explanation{.detector = "ewma", .rule = "|z| vs the EWMA", .expected = level_.mean,
                                .lo = level_.mean - 4 * level_sd, .hi = level_.mean + 4 * level_sd,
                                .center = level_.mean, .scale = level_sd, .stat = z, .n = level_.n};
    } else {
      why[kSpike] = Explanation{.detector = "ewma", .rule = "warming up", .n = level_.n, .needed = kMinPoints,
                                .warming_up = true};
    }
    level_.Add(x, 0.02, 3.0);
    s[kCusum] = cusum_.Step(c, r, why[kCusum], limit);
    s[kRate] = rate_.Step(c, r, why[kRate]);
    s[kNovelty] = novelty_.Step(c, x, why[kNovelty]);
    const double raw_model = std::max({s[kSpike], s[kCusum], s[kRate], s[kNovelty]});
    const double calibrated = calibration_.Calibrate(raw_model);
    if (calibrated < raw_model) {
      for (int m : {kSpike, kCusum, kRate, kNovelty}) s[m] = std::min(s[m], calibrated);
    }
    if (!why[kSpike].warming_up) calibration_.Learn(raw_model);

    // 3. Rules.
    s[kFlatline] = flatline_.Step(c, x, why[kFlatline], limit);
    s[kRange] = range_.Step(c, x, why[kRange]);
    int64_t silent_at = ts_us;
    if (last != kNoTime) s[kSilent] = silence_.Gap(cadence_, last, ts_us, why[kSilent], &silent_at);
    if (s[kSilent] > 0.0) s[kSilent] = std::max(s[kSilent], limit + 1e-9);  // silence is a rule: always flags

    int top = kSpike;
    uint32_t drivers = 0;
    for (int m = 0; m < kMembers; ++m) {
      if (s[m] > s[top]) top = m;
      if (s[m] > limit && !why[m].warming_up) drivers |= 1u << m;
    }
    out.surprise = s[top];
    out.why = why[top];
    out.why.drivers = drivers;
    out.flag = drivers != 0;
    if (top == kSilent) out.at_us = silent_at;
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }

  Score Tick(int64_t now_us) override {
    Score out;
    out.at_us = now_us;
    if (cadence_.last_ts == kNoTime || cadence_.last_ts == silence_reported_) return out;
    out.surprise = silence_.Gap(cadence_, cadence_.last_ts, now_us, out.why, &out.at_us);
    out.flag = out.surprise > 0.0;
    if (out.flag) {
      silence_reported_ = cadence_.last_ts;
      out.why.drivers = 1u << kSilent;
    }
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }

 private:
  static constexpr int64_t kMinPoints = 30;
  double fa_per_day_;
  Cadence cadence_;
  FlagLimit limit_;
  EwStats level_;
  double err_level_ = 0.0, err_seasonal_ = 0.0;
  bool seasonal_ready_ = false;
  SeasonalCheck seasonal_;
  CusumCheck cusum_;
  RateCheck rate_;
  NoveltyCheck novelty_;
  SurpriseCalibration calibration_;
  FlatlineCheck flatline_;
  RangeCheck range_;
  SilenceCheck silence_;
  int64_t silence_reported_ = kNoTime;
};

}  // namespace

Result<std::unique_ptr<SeriesDetector>> MakeEnsemble(const DetectorOptions& options) {
  if (!options.params.empty()) {
    return Error(Errc::kInvalidArgument, "detector default: takes no parameters (got '{}'); tune it with the "
                 "false-alarm rate, or choose single detectors", options.params.front().first);
  }
  return std::unique_ptr<SeriesDetector>(std::make_unique<Ensemble>(options));
}

}  // namespace iotad::detect
