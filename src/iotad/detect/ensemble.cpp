// The `default` ensemble. One series, one pass:
//  0. The scale: counts (a series whose first 30 readings are whole numbers >= 0) are learnt on
//     the square root's, where their spread does not grow with their level (DecideScale).
//  1. Expected value: a winsorised EWMA level, or the time-of-day profile once it has warmed up
//     and explains the series clearly better (a mean squared error below 0.7 of the level's; it
//     keeps its use while no worse than the level); the residual is what is left. The spike
//     member may also use the level with its trend (a ramp, a drift, a cycle the level lags), by
//     the same rule, and the previous value where that explains the series clearly better than
//     the expectation so chosen; a reading after a missed one is judged against two of its usual
//     changes (v26, PreviousValue::Steps: a random walk's sqrt(2)). A machine run in regimes
//     (v28, Setpoints): a reading at a setpoint the series has come to three times from another
//     level is judged against it where that is less surprising, unless the profile, in use,
//     finds the reading surprising too; one that leaves a setpoint for no level the series holds
//     (v29: a spike between the setpoints, a setpoint moved) is judged against the setpoint it
//     left, as rare as such readings are on the series (Setpoints::Departure).
//  2. Model members: spike (|z| of the point against the expectation), CUSUM (a sustained shift
//     of the residual), volatility (the residual's variance over about its last 50 points, the
//     level's horizon, against the long-run one: v22; 5 points before; with the degrees of freedom
//     the residual's autocorrelation leaves: v23; from the series' second point, as CUSUM: v24) and
//     novelty (a value beyond anything the series reached; for readings written to a step, by how
//     far the reading's interval lies beyond the range's: v27, Resolution). Each member's
//     surprise is corrected by that member's own history (SurpriseCalibration): levels the series
//     reaches habitually stop counting as anomalies, new extremes still stand out. CUSUM keeps
//     its habits per side (v15):
//     bursts up, time after time, do not make a shift down a habit (SurpriseCalibration::
//     Borrowing); it flags from its slow baseline's 500th point (kCusumSettled); and it learns a
//     run of surprising points once the run is over (v16), so a growing sum does not make its own
//     next step a habit. The spike member does not learn an episode's end (v19: a step back that
//     undoes the episode's first), so one level shift, up and back, does not make the next a habit,
//     and it learns a run's later points by their surprise against the reading before them where
//     that is less (v20): a shift the expectation follows with a lag counts once, not four times.
//  3. Rule members on the raw value: flatline, physical range, silence. A silence flags
//     whatever the knob; one no longer than the series made before is scored as its habit; one
//     that 6 silences before were about as long as is routine and judged by the knob (v25,
//     JudgeSilence), unless the user set the timeout. The reading after a break (a silence
//     past the automatic timeout, whatever the configured one) starts a new segment (v17): the
//     level, the trend, the previous value and CUSUM's sums start again from it; the series'
//     habits stay (Resume). The model members flag only once the series has reported for the
//     silence member's automatic timeout (v18: 10 intervals, at least 5 minutes; at one reading
//     a second, 30 readings are half a minute).
//  4. The score is the strongest member's surprise. An ongoing episode reports once: a point no
//     more surprising than the episode's fading peak is damped and does not flag again; one that
//     continues the spike member's run of surprising points is news only beyond the run's peak
//     (v21: a move the expectation catches up with is one event).
// The flag limit accounts for the number of members: p < false alarms per day / (points per day
// x members). Every member over the limit is named in the explanation.
// (rate-of-change is not a member: on real data it mostly re-reports what spike and volatility
// see, and its extra false alarms cost more than it finds; it stays available on its own. As
// the spike member's expectation, chosen by the rule above, it costs no extra false alarms: one
// expectation per point, so the member's share of the flag limit is unchanged.)
#include "iotad/detect/ensemble.h"

#include "iotad/detect/checkpoint.h"
#include "iotad/detect/checks.h"
#include "iotad/detect/registry.h"

namespace iotad::detect {
namespace {

enum Member : int { kSpike, kCusum, kNovelty, kVolatility, kFlatline, kRange, kSilent, kMembers };
constexpr int kModelMembers = kVolatility + 1;  // members calibrated by the series' history

/// An expectation that may replace the level: the mean squared error of its forecasts (EW, weight
/// 0.01), starting at the level's when it is first ready (a neutral start: it must earn its use),
/// and whether it is in use. It is adopted below 0.7 of the other's error and kept while no worse:
/// an expectation that flips back and forth steps the residual, and CUSUM and volatility read
/// each step as an anomaly.
struct Adoption {
  static constexpr double kAdopt = 0.7;
  /// The weight of a forecast's squared error in its mean (about 200 points: four times the
  /// level's horizon, so a choice between expectations rests on more than one of their misses).
  static constexpr double kErrorWeight = 0.01;
  double err = 0.0;
  bool ready = false;
  bool in_use = false;

  /// Whether it is the expectation for this point, against `other_err` (`allowed`: no expectation
  /// ahead of it is in use). Decide, then Learn from the point.
  bool Decide(bool allowed, double other_err, double level_err) {
    if (!ready) {
      ready = true;
      err = level_err;
    }
    in_use = allowed && err < (in_use ? 1.0 : kAdopt) * other_err;
    return in_use;
  }
  void Learn(double e) { err += kErrorWeight * (e * e - err); }
};

class Ensemble final : public SeriesDetector {
 public:
  explicit Ensemble(const DetectorOptions& o)
      : fa_per_day_(o.false_alarms_per_day), explain_flags_only_(o.explain_flags_only) {
    range_.lo = o.min_value;
    range_.hi = o.max_value;
    silence_.timeout_us = o.silence_us;
  }
  std::string_view name() const override { return "default"; }
  int version() const override { return DetectorVersion(*FindDetector("default")); }
  size_t state_bytes() const override { return sizeof(*this); }

  Score Update(int64_t ts_us, double value) override {
    Score out;
    out.at_us = ts_us;
    if (std::isnan(value)) return out;
    if (!UsableReading(value)) {  // a rule member's answer, learnt by no member (see UnusableReading)
      out = UnusableReading("range", ts_us);
      out.why.drivers = 1u << kRange;
      return out;
    }
    // The scale the members learn on (v11): counts on the square root's (see DecideScale); the
    // physical range is the user's, on the readings' own scale.
    ++readings_;
    if (scale_ == Scale::kUndecided) DecideScale(value);
    const double x = scale_ == Scale::kSqrt ? SignedSqrt(value) : value;
    resolution_.Observe(value);
    const Rounding rounding{resolution_.half, scale_ == Scale::kSqrt};
    const int64_t last = cadence_.last_ts;
    const double interval = cadence_.interval_us;  // before this point's gap moves it
    const PointContext c{ts_us, cadence_.Observe(ts_us), &cadence_};
    // A reading after a break (a silence past the automatic timeout) starts a segment (v17; Resume).
    if (level_.n > 0 && silence_.Breaks(cadence_, last, ts_us)) Resume(x);
    // What counts as an alarm for the members' own state (CUSUM restarts, stuck reminders,
    // remembered peaks) is fixed, so the scores do not depend on the sensitivity knob: the knob
    // only moves where flags start. Both limits follow the cadence together: one test for both.
    const bool fresh = limit_.Fresh(cadence_) && alarm_.for_interval == limit_.for_interval;
    const double limit = fresh ? limit_.limit : limit_.Get(cadence_, fa_per_day_, kMembers);
    const double alarm = fresh ? alarm_.limit : alarm_.Get(cadence_, kReferenceFalseAlarmsPerDay, kMembers);
    double s[kMembers] = {};
    // The members score into WarmingUpOnly (whether each is warming up); the one reported is
    // explained at the end, from its state before this point (see Explain).
    WarmingUpOnly warm[kMembers];

    // 1. Expected value and residual.
    Explanation seasonal_why;
    // A reading that continues a run the flatline member reported (a stuck sensor) does not teach
    // the time-of-day profile: days later the same hours would look anomalous against it.
    const bool stuck = flatline_.remind_at != 0 && x == flatline_.prev;
    const double s_seasonal = seasonal_.Step(c, x, seasonal_why, !stuck, seasonal_scratch_);
    const EwStats level = level_;  // before this point: the spike member's baseline
    const bool level_ready = level.n >= kMinPoints;
    const double level_std = level.std();  // also the std level_.Add below clips with
    const double level_sd = SpreadWidening(level.n, 1) * ScaleFloor(level_std, level.mean);
    const double r_level = x - level.mean;
    // The profile, once warm, must earn its use against the level (see Adoption).
    bool use_seasonal = false;
    if (!seasonal_why.warming_up) {
      use_seasonal = seasonal_pick_.Decide(true, err_level_, err_level_);
      seasonal_pick_.Learn(x - seasonal_why.expected);
    } else {
      seasonal_pick_.in_use = false;
    }
    const double r = use_seasonal ? x - seasonal_why.expected : r_level;
    // The level with its trend (TrendLevel): the spike member's expectation where the profile is
    // not and it explains the series clearly better than the level, by the same rule (below 0.7
    // of the level's error to be adopted, no worse to be kept): a ramp, a drift, or a cycle the
    // level lags (at one reading a minute it trails a daily cycle by a fifth of its amplitude, and
    // a ramp by its slope x 50 points). CUSUM and volatility stay on the level's residual: on a
    // sharper expectation's (a smooth misfit that lasts hours) they alarmed more.
    const double trend_forecast = trend_.Forecast();
    bool use_trend = false;
    if (trend_.n >= kMinPoints) {
      use_trend = trend_pick_.Decide(!use_seasonal, err_level_, err_level_);
      trend_pick_.Learn(x - trend_forecast);
    } else {
      trend_pick_.in_use = false;
    }
    // (Its spread is needed only where it is the expectation: no square root for the others.)
    const double trend_sd = use_trend ? SpreadWidening(trend_.n, 2) * ScaleFloor(trend_.std(), trend_forecast) : 0.0;
    trend_.Add(x, kWinsorSds);
    // The previous value (PreviousValue): the spike member's expectation wherever it explains the
    // series clearly better than the expectation chosen above, by the same rule (below 0.7 of that
    // one's error to be adopted, no worse to be kept): a series that moves faster than the level
    // or the trend can follow, such as a daily cycle at one reading every 5 minutes before the
    // profile has learnt it (the level trails it by about its amplitude), or a process that
    // wanders. There the level's error is mostly its lag, and a z against it hides a drift's end
    // or a shift of 10 noise sigmas. (v8. It replaced v6's daily harmonics, fitted at slow
    // cadences for the profile's first days: with it they changed no figure of the bench.)
    const double previous = previous_.Forecast();
    bool use_previous = false;
    if (previous_.n >= kMinPoints) {
      const double err_chosen = use_seasonal ? seasonal_pick_.err : use_trend ? trend_pick_.err : err_level_;
      use_previous = previous_pick_.Decide(true, err_chosen, err_level_);
      previous_pick_.Learn(x - previous);
    } else {
      previous_pick_.in_use = false;
    }
    // A reading after a missed one has had two steps to move (v26).
    const double steps = PreviousValue::Steps(c.gap, interval);
    const double previous_sd = use_previous ? SpreadWidening(previous_.n, 1) * ScaleFloor(previous_.std(steps), previous) : 0.0;
    previous_.Add(x, kWinsorSds, steps);
    // The level's error (what the adoption rule weighs the others against) starts at the second
    // point: the first has no level to miss by. Counting its residual, the value itself, left a
    // series far from zero with that square for hundreds of points, and every expectation
    // inherited it when it became ready, so where the adoption came depended on the offset (v9).
    if (level.n > 0) {
      const double a = level_ready ? Adoption::kErrorWeight : 1.0 / static_cast<double>(level.n);
      err_level_ += a * (r_level * r_level - err_level_);
    }

    // 2. Model checks.
    double spike_expected = level.mean;  // what the spike member expected here, and its spread
    double spike_sd = level_sd;
    if (use_previous) {
      s[kSpike] = GaussianSurprise((x - previous) / previous_sd);
      spike_expected = previous;
      spike_sd = previous_sd;
    } else if (use_seasonal) {
      s[kSpike] = s_seasonal;
      spike_expected = seasonal_why.expected;
      spike_sd = seasonal_why.scale;
    } else if (use_trend) {
      s[kSpike] = GaussianSurprise((x - trend_forecast) / trend_sd);
      spike_expected = trend_forecast;
      spike_sd = trend_sd;
    } else if (level_ready) {
      s[kSpike] = GaussianSurprise(r_level / level_sd);
    } else {
      warm[kSpike].warming_up = true;
    }
    // A machine that runs in regimes (Setpoints, v28): a reading at a setpoint the series keeps
    // coming back to is judged against that setpoint, where that is less surprising; not where
    // the time-of-day profile, in use, finds it surprising too (a setpoint at the wrong hour of
    // the week is news: a weekday's rush on a Sunday).
    const bool profile_objects = use_seasonal && s_seasonal >= kQuiet;
    const int at_setpoint = !profile_objects && s[kSpike] >= kQuiet ? setpoints_.At(x) : -1;
    // A reading that leaves a setpoint for no level the series holds (v29, Setpoints::Departure):
    // a spike between or beyond the setpoints, a setpoint moved. The spike member's habits hold
    // the series' switches, jumps as large or larger, and excused it; against the setpoint it
    // left, it is news (at most as surprising as against the expectation, and as rare as the
    // series' readings between its levels are).
    const double departure = s[kSpike] >= kQuiet ? setpoints_.Departure(x, s[kSpike]) : -1.0;
    // The setpoint the reading is judged against: the one it is at, or the one it left (a reading
    // within kJoin sds of a held level leaves none, so never both); explained below.
    const int judged_by = at_setpoint >= 0 ? at_setpoint : departure >= 0.0 ? setpoints_.last : -1;
    const double setpoint = judged_by >= 0 ? setpoints_.mean[judged_by] : 0.0;
    const double setpoint_sd = judged_by >= 0 ? setpoints_.Sd(judged_by) : 0.0;
    const int64_t setpoint_entries = judged_by >= 0 ? std::lround(setpoints_.entries[judged_by]) : 0;
    const double setpoint_surprise =
        at_setpoint >= 0 ? GaussianSurprise((x - setpoint) / setpoint_sd) : INFINITY;
    // A sustained shift at a setpoint (v32, SetpointCusum): a machine in regimes, at a setpoint,
    // whose time-of-day profile is warm and does not explain it (a schedule's levels are the
    // profile's to judge: a daily square wave is regimes too, and its first days are not the
    // machine's): its reading against the setpoint, in the setpoint's long-run spread.
    SetpointCusum setpoint_cusum_before;  // its sums before this reading (its band), where it runs
    const int shift_at = !seasonal_why.warming_up && !use_seasonal ? setpoints_.At(x) : -1;
    double s_setpoint = 0.0;  // its raw surprise (CUSUM's kind)
    bool setpoint_down = false;
    double shift_mean = 0.0, shift_sd = 0.0;
    int64_t shift_weight = 0;
    if (shift_at >= 0) {
      // The change since the last reading, if that was at the same setpoint (flatline's prev: the
      // last usable reading, on the members' scale).
      if (setpoints_.last == shift_at) setpoint_cusum_.LearnChange(x - flatline_.prev, setpoints_.var[shift_at]);
      shift_mean = setpoints_.mean[shift_at];
      shift_sd = setpoint_cusum_.LongRunSd(setpoints_.Var(shift_at));
      shift_weight = std::lround(setpoints_.weight[shift_at]);
      setpoint_cusum_before = setpoint_cusum_;
      s_setpoint = setpoint_cusum_.Step(x, shift_mean, shift_sd, setpoint_down);
    }
    setpoints_.Learn(x, 0.5 * previous_.var);
    level_.Add(x, kLevelWeight, kWinsorSds, level_std);
    if (segment_points_ < kSegmentMean) {  // a new segment's level: the mean of its points so far
      segment_sum_ += x;
      level_.mean = segment_sum_ / ++segment_points_;
    }
    // The reported member is explained, and its "normal" band drawn, from the state before this
    // point taught the members: kept here (a few hundred bytes).
    const CusumCheck cusum_before = cusum_;
    const NoveltyCheck novelty_before = novelty_;
    const VolatilityCheck volatility_before = volatility_;
    const FlatlineCheck flatline_before = flatline_;
    // CUSUM and volatility learn from the second point (CUSUM since v13, volatility since v24): at
    // the first there is no level yet, and the "residual" is the value itself, whose square their
    // spreads then carried for thousands of points (a series far from zero had CUSUM blind to
    // shifts smaller than its offset, and volatility asleep: the same series in Kelvin and in
    // Celsius scored differently).
    if (level.n > 0) {
      s[kCusum] = cusum_.Step(c, r, warm[kCusum], alarm);
      // Its surprises from the 60th point teach its habits; it flags from the 500th (v15), once
      // its slow baseline (weight 0.002) is no longer an exact mean of a few hundred points: an
      // autocorrelated series' sums outrun such a baseline (1 Hz sensors in their first minutes).
      if (cusum_.slow.n < kCusumSettled) warm[kCusum].warming_up = true;
      s[kVolatility] = volatility_.Step(c, r, warm[kVolatility]);
    } else {
      warm[kCusum].warming_up = true;
      warm[kVolatility].warming_up = true;
    }
    // The side of CUSUM's surprise: the larger sum; after an alarm restarted both, the side this
    // point pushed past the alarm level.
    bool cusum_down = cusum_.up == 0.0 && cusum_.down == 0.0 ? r < cusum_before.slow.mean
                                                               : cusum_.down > cusum_.up;
    // A shift at a setpoint is CUSUM's evidence too: the larger of the two is its surprise, judged
    // by CUSUM's habits on that side (v32).
    const bool setpoint_shift = s_setpoint > s[kCusum] && !warm[kCusum].warming_up;
    if (setpoint_shift) {
      s[kCusum] = s_setpoint;
      cusum_down = setpoint_down;
    }
    s[kNovelty] = novelty_.Step(c, x, warm[kNovelty], rounding);
    // Each model member is corrected by its own history: levels it reaches habitually stop
    // counting (see SurpriseCalibration); it learns from this point below, after the band.
    const double fade = PeakFade(c.gap);
    // The model members judge the series against what they learnt of it: not before it has
    // reported for the silence timeout (see InFirstMinutes).
    if (InFirstMinutes()) {
      for (int m = 0; m < kModelMembers; ++m) warm[m].warming_up = true;
    }
    double raw_model[kModelMembers];
    for (int m = 0; m < kModelMembers; ++m) {
      s[m] = std::min(s[m], kMaxSurprise);
      raw_model[m] = s[m];
      if (warm[m].warming_up) {
        s[m] = 0.0;
      } else if (m == kCusum && s[m] >= kQuiet) {
        s[m] = CusumSide(cusum_down).CalibrateBorrowing(s[m], CusumSide(!cusum_down));
      } else {
        // The spike member's Gaussian z may have lighter tails than the series (v30:
        // SurpriseCalibration::HeavyDiscount).
        s[m] = m == kSpike ? calibration_[m].CalibrateHeavy(s[m]) : calibration_[m].Calibrate(s[m]);
      }
    }
    // The switch happened, a habit of the series: the episode's peak is the switch's surprise
    // against the expectation, so what the switch stirs in the other members (volatility, CUSUM)
    // is not news either.
    double spike_episode = s[kSpike];
    const bool setpoint_habit = setpoint_surprise < s[kSpike];
    if (setpoint_habit) s[kSpike] = setpoint_surprise;
    // A departure is its episode's peak too: what it stirs in the other members is the same event.
    const bool departure_news = !warm[kSpike].warming_up && departure > s[kSpike];
    if (departure_news) s[kSpike] = spike_episode = departure;

    // 3. Rules.
    s[kFlatline] = flatline_.Step(c, x, warm[kFlatline], alarm);
    s[kRange] = range_.Step(c, value, warm[kRange]);
    int64_t silent_at = ts_us;
    // A point on time (nearly every one) skips the member: its zero surprise is never the top
    // one. A silence is rare; when it is the member reported, it is explained again below (Gap
    // is a function of the cadence and the two times alone), so an ordinary point builds no
    // explanation for it.
    SilenceJudgement silence_habit;  // how the gap compares with the series' silences before
    if (silence_.first_ts == kNoTime || !silence_.OnTime(cadence_, last, ts_us)) {
      Explanation unused;
      s[kSilent] = silence_.Before(cadence_, last, ts_us, unused, &silent_at);
      // Every gap past the timeout teaches the habit, reported or not (a live Tick may have
      // reported it already; the young series' gaps count too).
      if (!silence_.OnTime(cadence_, last, ts_us)) silence_habit = LearnSilence(ts_us - last);
    }
    if (s[kSilent] > 0.0) {
      // A routine silence is scored as rare as it is and flags past the knob's limit (v25);
      // otherwise a silence is a rule: it always flags, whatever the knob, and its surprise is at
      // least the alarm level's (the knob's limit would make the score depend on the knob).
      s[kSilent] = silence_habit.routine ? std::min(s[kSilent], silence_habit.cap)
                                         : std::max(s[kSilent], alarm + 1e-9);
    }
    for (int m = kFlatline; m < kMembers; ++m) s[m] = std::min(s[m], kMaxSurprise);

    int top = kSpike;
    uint32_t drivers = 0;
    double model_top = 0.0;  // the model members' highest surprise
    for (int m = 0; m < kMembers; ++m) {
      if (s[m] > s[top]) top = m;
      if (m < kModelMembers) model_top = std::max(model_top, s[m]);
      const bool rule = m == kSilent && !silence_habit.routine;  // a silence always flags (above)
      if ((s[m] > limit || (rule && s[m] > 0.0)) && !warm[m].warming_up) drivers |= 1u << m;
    }
    // An ongoing episode reports once: a point no more surprising than the episode's peak so far
    // (fading with a four-hour half-life) is damped, so a flag repeats only when things get
    // clearly worse, when a rule member speaks, or after things calmed down (see NewsAt and Calm).
    for (double& p : peak_) p *= fade;
    Calm(raw_model);
    const double raw = s[top];
    const bool run_continues = run_max_[kSpike] > 0.0 && raw_model[kSpike] >= kQuiet;
    const double news_at = NewsAt(top, alarm, run_continues);
    // The shift at a setpoint alarmed, and is news: its sums start again (the setpoint's mean
    // follows the shift by itself). Not at CUSUM's raw alarm level, nor at an alarm the episode
    // damps: a machine's switches keep its episode's peak high, and its CUSUM's habits, and the
    // evidence of a shift must outgrow them.
    if (setpoint_shift && s[kCusum] > alarm && s[kCusum] > NewsAt(kCusum, alarm, run_continues)) {
      setpoint_cusum_.Restart();
    }
    run_news_peak_ = raw_model[kSpike] >= kQuiet ? std::max(run_continues ? run_news_peak_ : 0.0, model_top) : 0.0;
    const bool news = raw > news_at;
    out.surprise = news ? raw : raw * kDamping;
    out.flag = news && drivers != 0;
    // A silence no longer than one the series already made is a habit: it still flags (a rule),
    // but it is scored as rare as the series' silences are (see JudgeSilence), so it ranks below
    // the series' anomalies and under a threshold chosen for them (v10).
    const bool habitual_silence = top == kSilent && !std::isinf(silence_habit.cap);
    if (habitual_silence) out.surprise = std::min(out.surprise, silence_habit.cap);
    if (explain_flags_only_ && !out.flag) {
      out.why.warming_up = warm[top].warming_up;
    } else {
      // The reported member's explanation, as its Step would have written it for this point.
      switch (top) {
        case kSpike:
          if (level_ready && warm[kSpike].warming_up) {  // the series' first minutes (InFirstMinutes)
            out.why = Explanation{.detector = "ewma", .rule = kFirstMinutes, .n = readings_,
                                  .needed = FirstMinutesReadings(), .warming_up = true};
          } else if (setpoint_habit || departure_news) {
            out.why = Explanation{.detector = "setpoint",
                                  .rule = setpoint_habit ? "|z| vs the setpoint the series runs at"
                                                         : "|z| vs the setpoint it left, for no level the series holds",
                                  .expected = setpoint, .lo = setpoint - kShownSds * setpoint_sd,
                                  .hi = setpoint + kShownSds * setpoint_sd, .center = setpoint, .scale = setpoint_sd,
                                  .stat = (x - setpoint) / setpoint_sd, .n = setpoint_entries};
          } else if (use_previous) {
            out.why = Explanation{.detector = "rate", .rule = "|z| vs the previous value", .expected = previous,
                                  .lo = previous - kShownSds * previous_sd, .hi = previous + kShownSds * previous_sd,
                                  .center = previous, .scale = previous_sd,
                                  .stat = (x - previous) / previous_sd, .n = previous_.n};
          } else if (use_seasonal) {
            out.why = seasonal_why;
          } else if (use_trend) {
            out.why = Explanation{.detector = "ewma", .rule = "|z| vs the EWMA and its trend", .expected = trend_forecast,
                                  .lo = trend_forecast - kShownSds * trend_sd,
                                  .hi = trend_forecast + kShownSds * trend_sd,
                                  .center = trend_forecast, .scale = trend_sd,
                                  .stat = (x - trend_forecast) / trend_sd, .n = trend_.n};
          } else if (level_ready) {
            out.why = Explanation{.detector = "ewma", .rule = "|z| vs the EWMA", .expected = level.mean,
                                  .lo = level.mean - kShownSds * level_sd, .hi = level.mean + kShownSds * level_sd,
                                  .center = level.mean, .scale = level_sd, .stat = r_level / level_sd, .n = level.n};
          } else {
            out.why = Explanation{.detector = "ewma", .rule = "warming up", .n = level.n, .needed = kMinPoints,
                                  .warming_up = true};
          }
          break;
        case kCusum:
          if (setpoint_shift) {
            out.why = Explanation{.detector = "cusum",
                                  .rule = setpoint_down ? "sustained shift down at the setpoint it runs at (CUSUM)"
                                                        : "sustained shift up at the setpoint it runs at (CUSUM)",
                                  .expected = shift_mean, .lo = shift_mean - kShownSds * shift_sd,
                                  .hi = shift_mean + kShownSds * shift_sd, .center = shift_mean, .scale = shift_sd,
                                  .stat = (setpoint_down ? -s_setpoint : s_setpoint) /
                                          (2.0 * SetpointCusum::kReference * kLog10E),  // the sum
                                  .n = shift_weight};
          } else {
            CusumCheck(cusum_before).Step(c, r, out.why, alarm);
          }
          break;
        case kNovelty: NoveltyCheck(novelty_before).Step(c, x, out.why, rounding); break;
        case kVolatility: VolatilityCheck(volatility_before).Step(c, r, out.why); break;
        case kFlatline: FlatlineCheck(flatline_before).Step(c, x, out.why, alarm); break;
        case kRange: range_.Step(c, value, out.why); break;
        default:
          silence_.Gap(cadence_, last, ts_us, out.why, &silent_at);
          if (habitual_silence) {
            out.why.rule = silence_habit.routine ? kRoutineSilence : kHabitualSilence;
          }
          break;
      }
      if (top < kModelMembers && !out.why.warming_up) {
        // The band: the values at which the reported member would flag here, its calibrated
        // surprise over the flag limit and over its episode's faded peak (then it is news). The
        // calibration only ever widens it (Invert(t) >= t) and costs a walk over its bins, so it
        // is applied to points that reach the model's band, which is every point that can flag:
        // a quieter point is inside either band and is shown the model's.
        const double target = std::max(limit, news_at);
        const bool beyond = raw_model[top] > target;
        double needed = target, needed_down = target;  // needed_down: CUSUM's down side
        if (top == kCusum) {
          if (beyond) {
            needed = CusumHabits(false).Invert(target);
            needed_down = CusumHabits(true).Invert(target);
          }
        } else if (beyond && !(top == kSpike && (setpoint_habit || departure_news))) {
          // (the setpoint's surprise is uncalibrated: its band is drawn from the target itself)
          needed = needed_down = calibration_[top].Invert(target, /*heavy=*/top == kSpike);
        }
        if (top == kCusum && setpoint_shift) {
          // Either sum flags: the values outside both bands, CUSUM's (on the residual: offset by
          // the expectation) and the setpoint's (within its reach, as the spike member's band at a
          // setpoint is).
          const auto own = cusum_before.Band(needed, needed_down);
          const auto at = setpoint_cusum_before.Band(shift_mean, shift_sd, needed, needed_down);
          if (std::isnan(own.first) || std::isnan(at.first)) {
            out.why.lo = out.why.hi = NAN;
          } else {
            out.why.lo = std::max(own.first + (x - r), at.first);
            out.why.hi = std::min(own.second + (x - r), at.second);
          }
        } else {
          Band(top, needed, needed_down, x - r, out.why, cusum_before, novelty_before, rounding, volatility_before);
        }
      }
      if (scale_ == Scale::kSqrt) ToReadingScale(top, value, out.why);
    }
    // Peaks are remembered up to twice the alarm level: a second event that is clearly anomalous
    // on its own is news however big the first one was.
    for (int m = 0; m < kMembers; ++m) {
      peak_[m] = std::max(peak_[m], std::min(m == kSpike ? spike_episode : s[m], kNewsAtAlarms * alarm));
    }
    // Calibration learns from warm-up too (a member may compute its surprise before it may flag).
    // It counts episodes more than points: within an episode (the member's raw surprise staying
    // at or below its fading peak) only the first kPerEpisode points and escalations are learned,
    // so a level shift that keeps the spike member surprised for an hour counts a few times, not
    // sixty, and the next shift on the series is still news. The spike member learns a run of
    // surprising points (one event: a shift while the level adapts, a burst) by its first
    // kPerEpisode points, as the others do, and by its peak once the run is over, not escalation
    // by escalation: a growing event does not teach the calibration that its next step is
    // habitual. So a lone spike counts twice, and the next one of its size on the series is
    // habitual (until the fading memory halves the counts: 2048 points), unless it is isolated
    // (v14): its peak was one of the points learnt already, and at most one other remembered
    // point came within kIsolated of it (p within 10^12 of its own). Nothing in the series' own
    // tail comes near such a spike: it is an event, not the tail's far end, and it counts once.
    // Then the second isolated spike of a size is news too, and the third is habitual: twice is
    // a coincidence, three times a habit. A heavy tail reaches every level on the way up to its
    // big values, so its big values are never isolated and still count twice. Learning the peak
    // alone (one event, one exceedance) was tried with v8: the generated fleets at 5 minutes reached
    // 0.94-0.97 for spikes and drifts, but the validation series' false-alarm events rose from
    // 1,054 to 1,525 and the NAB development set fell from 74.37 to 73.28: a heavy tail's second
    // huge value is as common as a fleet's second anomaly, and only the former is normal.
    // (Tried for CUSUM too: fewer false alarms on the NAB set and the validation series, but the
    // generated fleets' level shifts and stuck sensors fell below their targets.)
    for (int m = 0; m < kModelMembers; ++m) {
      const double raw_m = raw_model[m];
      raw_peak_[m] *= fade;
      const bool held = m == kSpike;
      if (raw_m >= kQuiet && raw_peak_[m] < kQuiet) {  // a new episode
        episode_points_[m] = 0;
        if (held) episode_from_ = spike_expected, episode_step_ = x - spike_expected;
      }
      // The spike member does not learn the return from its episode (v19, EndsEpisode): a run of
      // surprising points that undoes the episode's first step is its end, not a second event.
      if (held && raw_m >= kQuiet && run_max_[m] == 0.0 && EndsEpisode(x, spike_expected)) {
        raw_peak_[m] = std::max(raw_peak_[m], raw_m);
        continue;
      }
      // What the member learns of the point: its surprise; for the spike member, a run's later
      // point at most its surprise against the reading before it (v20, RunPointTaught).
      const double learn_m = held && raw_m >= kQuiet && run_max_[m] > 0.0
                                 ? RunPointTaught(raw_m, x, flatline_before.prev, spike_sd)
                                 : raw_m;
      bool learnt = false;
      if (learn_m < kQuiet || (!held && raw_m > raw_peak_[m]) || episode_points_[m] < kPerEpisode) {
        if (m != kCusum) {
          calibration_[m].Learn(learn_m);
        } else if (raw_m < kQuiet) {  // a quiet point counts on both sides (both totals are points)
          calibration_[kCusum].Learn(raw_m);
          cusum_down_.Learn(raw_m);
        } else {
          DeferCusum(raw_m, cusum_down);
        }
        learnt = true;
        if (learn_m >= kQuiet) ++episode_points_[m];
      }
      if (held) {
        if (raw_m >= kQuiet) {
          if (raw_m > run_max_[m]) run_peak_learnt_ = learnt && learn_m == raw_m;
          run_max_[m] = std::max(run_max_[m], raw_m);
        } else if (run_max_[m] > 0.0) {
          // The run's peak, once it is over, unless learnt already and isolated (the peak itself
          // and at most one other point within kIsolated of it; faded counts are fractions).
          const bool isolated = run_peak_learnt_ && calibration_[m].AtOrAbove(run_max_[m] - kIsolated) < kIsolatedBelow;
          if (!isolated) calibration_[m].Learn(run_max_[m]);
          run_max_[m] = 0.0;
          run_peak_learnt_ = false;
        }
      }
      if (raw_m >= kQuiet) raw_peak_[m] = std::max(raw_peak_[m], raw_m);
    }
    if (raw_model[kCusum] < kQuiet) LearnCusumRun();
    out.why.drivers = news ? drivers : 0;
    if (top == kSilent) out.at_us = silent_at;
    out.score = ScoreFromSurprise(out.surprise);
    return out;
  }

  /// A reading after a break (v17): a silence past the silence member's automatic timeout (10
  /// intervals, at least 5 minutes; a configured timeout only moves the alert) on a series that
  /// has reported for 12 of them (SilenceCheck::Breaks). A machine restarted, a device back from
  /// an outage or from sleep, often at another operating point. What the series did
  /// just before the gap is no expectation for it: the level, the trend and the previous value
  /// start again from this reading (the level as the mean of the new segment's points, up to
  /// kSegmentMean of them, so one noisy first reading does not offset it for hours) and CUSUM's
  /// sums from zero. What the series taught about itself stays: the spreads, every member's
  /// habits, novelty's range, the time-of-day profile, the cadence and the silence habit. So a
  /// reading far beyond anything seen, or off the time-of-day profile, is still news; the gap
  /// itself is the silence member's to report (a rule: past its timeout it flags, unless
  /// routine), and a series too young for a silence to be news keeps comparing across the gap,
  /// as before.
  void Resume(double x) {
    level_.mean = x;
    segment_points_ = 0;
    segment_sum_ = 0.0;
    trend_.level = x;
    trend_.slope = 0.0;
    previous_.last = x;
    cusum_.Restart();
    setpoint_cusum_.Restart();
    // A reading after a break comes from no setpoint: a machine restarted at another level did
    // not switch to it (the setpoints are kept, as the other habits are).
    setpoints_.last = -1;
    setpoints_.held = -1;
  }
  /// The series' first minutes (v18): until it has reported for the silence member's automatic
  /// timeout (10 intervals, at least 5 minutes), the model members compute their surprises (their
  /// calibration learns them) but do not flag; the rules do. At one reading a minute or slower the
  /// members' own warm-ups (30 points and more) are longer and this changes nothing. At one a
  /// second, 30 readings are half a minute: the spread, the level and the habits rest on a
  /// stretch too short to hold a process's ordinary moves (a machine settling after a start, a
  /// transient every few minutes), while the knob's limit there asks for p < 3e-8, eight decades
  /// beyond what those points show. Five minutes is the shortest span the ensemble reasons about
  /// in time: a gap shorter than it is never a silence.
  /// The span is counted in readings at the cadence (readings_ x the typical interval), not
  /// between timestamps, so a clock that jumps (one reading stamped years ahead, then the right
  /// time again: "the next observation") cannot hold the members back for good. A segment after
  /// a break does not wait again: an outage's return is no new series (waiting there hid the
  /// demo's anomalies that begin a minute or two after a device comes back).
  static constexpr std::string_view kFirstMinutes = "warming up (readings since the series began)";
  /// The readings the timeout holds at the series' cadence (0 while the cadence is unknown).
  int64_t FirstMinutesReadings() const {
    if (!(cadence_.interval_us > 0.0)) return 0;
    return static_cast<int64_t>(std::ceil(static_cast<double>(SilenceCheck::AutomaticTimeout(cadence_)) / cadence_.interval_us));
  }
  /// The same test without a division: readings x interval short of the timeout. Latched (v20):
  /// once past, a series does not fall back into its first minutes when its cadence quickens (a
  /// device that reported once a minute for an hour and then once a second has been judged on
  /// an hour of readings; without the latch, its few hundred readings x the new interval were
  /// short of the timeout again until the new cadence had filled it).
  bool InFirstMinutes() {
    if (past_first_minutes_ || !(cadence_.interval_us > 0.0)) return false;
    if (static_cast<double>(readings_) * cadence_.interval_us <
        static_cast<double>(SilenceCheck::AutomaticTimeout(cadence_))) {
      return true;
    }
    past_first_minutes_ = true;
    return false;
  }
  static constexpr int32_t kSegmentMean = 50;  // 1 / the level's weight (0.02): its horizon
  int32_t segment_points_ = kSegmentMean;     // points of the segment's mean (kSegmentMean: none)
  SetpointCusum setpoint_cusum_;              // a shift at a setpoint (v32; here, it fills padding)
  double segment_sum_ = 0.0;

  /// Counts (v11). A count's spread grows with its level (Poisson: the variance is the mean), so a
  /// spread learnt over quiet nights and busy days is too wide for the one and too narrow for the
  /// other. The square root makes it even (Poisson: sd 1/2 at any level) and keeps every z the
  /// same for a series multiplied by a constant. A series is taken for counts when its first
  /// kMinPoints readings are whole numbers >= 0 (the members are warming up over them, so nothing
  /// has flagged yet); the members then forget those readings and learn again on the square
  /// root, while the clock, the rules and the silence habit carry on. Later readings of any kind
  /// stay on that scale (a negative one as -sqrt(-x): still monotonic).
  enum class Scale : int8_t { kUndecided, kPlain, kSqrt };
  void DecideScale(double value) {
    if (!(value >= 0.0 && value == std::floor(value))) {
      scale_ = Scale::kPlain;
      return;
    }
    if (++whole_readings_ < kMinPoints) return;
    Ensemble fresh{DetectorOptions{}};
    fresh.fa_per_day_ = fa_per_day_;
    fresh.explain_flags_only_ = explain_flags_only_;
    fresh.cadence_ = cadence_;
    fresh.limit_ = limit_;
    fresh.alarm_ = alarm_;
    fresh.range_ = range_;
    fresh.silence_ = silence_;
    fresh.silence_longest_us_ = silence_longest_us_;
    fresh.silences_ = silences_;
    std::copy(std::begin(silences_by_length_), std::end(silences_by_length_), fresh.silences_by_length_);
    fresh.readings_ = readings_;
    fresh.past_first_minutes_ = past_first_minutes_;
    fresh.whole_readings_ = whole_readings_;
    fresh.resolution_ = resolution_;
    fresh.scale_ = Scale::kSqrt;
    *this = fresh;
  }
  /// An explanation from the square-root scale back on the readings': the values (expected,
  /// band, centre) squared back, the spread as the reading one spread above the centre less the
  /// centre; statistics (z, sums, ratios) are the same on both.
  static void ToReadingScale(int top, double value, Explanation& why) {
    if (top == kFlatline) {
      why.expected = value;  // its other fields are a run length and a probability
      return;
    }
    if (top >= kModelMembers) return;  // range and silence: the readings' scale or none
    why.scale = FromSqrt(why.center + why.scale) - FromSqrt(why.center);
    why.expected = FromSqrt(why.expected);
    why.center = FromSqrt(why.center);
    why.lo = FromSqrt(why.lo);
    why.hi = FromSqrt(why.hi);
  }

  /// Sets why.lo/hi of model member m: where its raw surprise passes `needed` (CUSUM's shift down:
  /// `needed_down`). `offset` turns the residual (which CUSUM and volatility watch) back into values.
  static void Band(int m, double needed, double needed_down, double offset, Explanation& why,
                   const CusumCheck& cusum, const NoveltyCheck& novelty, const Rounding& rounding,
                   const VolatilityCheck& volatility) {
    std::pair<double, double> band;
    switch (m) {
      case kSpike: {
        const double half = std::isinf(needed) ? INFINITY : GaussianZForSurprise(needed) * why.scale;
        band = {why.expected - half, why.expected + half};
        offset = 0.0;
        break;
      }
      case kCusum: band = cusum.Band(needed, needed_down); break;
      case kVolatility: band = volatility.Band(needed); break;
      default: band = novelty.Band(needed, rounding), offset = 0.0; break;
    }
    why.lo = band.first + offset;
    why.hi = band.second + offset;
    why.expected += offset;
    why.center += offset;
  }

  // Everything but the options (fa_per_day_; the range and timeout live in their checks and are
  // kept, as a single detector's parameters are).
  void SaveState(std::string& out) const override {
    SaveBlocks(out, peak_, raw_peak_, run_max_, episode_points_, episode_from_, episode_step_, run_peak_learnt_,
               past_first_minutes_, calm_points_, run_news_peak_, fade_gap_, fade_, silence_longest_us_, silences_,
               silences_by_length_, readings_, scale_, whole_readings_, resolution_, setpoints_, cadence_, limit_, alarm_, level_, err_level_, seasonal_pick_, trend_,
               trend_pick_, previous_, previous_pick_, seasonal_, cusum_, novelty_, calibration_, cusum_down_,
               cusum_run_, cusum_run_n_, volatility_, flatline_, range_, silence_, segment_points_, segment_sum_,
               setpoint_cusum_);
  }
  Status RestoreState(std::string_view& in) override {
    return RestoreBlocks(in, name(), peak_, raw_peak_, run_max_, episode_points_, episode_from_, episode_step_,
                         run_peak_learnt_, past_first_minutes_, calm_points_, run_news_peak_, fade_gap_, fade_,
                         silence_longest_us_, silences_, silences_by_length_, readings_, scale_, whole_readings_,
                         resolution_, setpoints_, cadence_, limit_, alarm_, level_, err_level_, seasonal_pick_, trend_, trend_pick_, previous_, previous_pick_,
                         seasonal_, cusum_, novelty_, calibration_, cusum_down_, cusum_run_, cusum_run_n_,
                         volatility_, flatline_, range_, silence_, segment_points_, segment_sum_,
                         setpoint_cusum_);
  }

  Score Tick(int64_t now_us) override {
    // Live, the gap so far is judged against the silences before (it is learnt when it ends). A
    // routine one does not flag yet: a later tick, once the gap has outgrown the routine, does.
    // A gap still within the timeout (nearly every tick) is no silence: no judgement to make.
    const int64_t last = cadence_.last_ts;
    if (silence_.OnTime(cadence_, last, now_us)) return silence_.Tick(cadence_, now_us);
    const SilenceJudgement habit = JudgeSilence(now_us - last);
    // (On a copy: the cached limit is the points' own, and a tick must not move it.)
    const double limit = habit.routine ? FlagLimit(limit_).Get(cadence_, fa_per_day_, kMembers) : 0.0;
    Score out = silence_.Tick(cadence_, now_us, [&](double surprise) {
      return !habit.routine || std::min(surprise, habit.cap) > limit;
    });
    if (out.surprise > 0.0 && !std::isinf(habit.cap)) {
      out.surprise = std::min(out.surprise, habit.cap);
      out.score = ScoreFromSurprise(out.surprise);
      out.why.rule = habit.routine ? kRoutineSilence : kHabitualSilence;
    }
    if (out.flag) out.why.drivers = 1u << kSilent;
    return out;
  }

 private:
  static constexpr int64_t kMinPoints = 30;
  /// The level, the trend and the previous value learn a reading at most this many of their
  /// spreads away (one wild reading moves them as a 3-sigma one).
  static constexpr double kWinsorSds = 3.0;
  /// The spike member's spread (the level's or the trend's) is an exponentially weighted mean
  /// square with weight 0.02: worth (2 - 0.02) / 0.02 = 99 points, and n while it is an exact mean
  /// of its first n. A z against a spread estimated from so few is Student's t, not normal: the
  /// spread is widened by their ratio at the flag's level (SmallSampleWidening, as the profile's
  /// slots are), `fitted` being the numbers fitted besides it (the level: 1; with its trend: 2).
  /// About 6% at 99 points: a 5-sigma reading in the Gaussian noise of a sharp expectation is
  /// one in 3.5 million, and a spread known to +-10% makes it one in 300,000.
  static constexpr double kSpreadPoints = 99.0;
  static double SpreadWidening(int64_t n, int fitted) {
    static const double kSettled[3] = {1.0, SmallSampleWidening(kSpreadPoints - 1.0), SmallSampleWidening(kSpreadPoints - 2.0)};
    return n >= kSpreadPoints ? kSettled[fitted] : SmallSampleWidening(static_cast<double>(n) - fitted);
  }
  static constexpr double kDamping = 0.3;
  static constexpr double kEscalation = 2.0;  // see NewsAt
  /// Twice the alarm level is news however big the episode was (NewsAt), and a remembered
  /// peak is kept no higher.
  static constexpr double kNewsAtAlarms = 2.0;
  // Where the members' own state alarms (CUSUM restarts, stuck reminders, remembered peaks): half
  // the default knob (gold.false_alarms_per_day = 0.02), so a CUSUM does not restart before its
  // sums reach the default flag limit (at 0.05 it did: the limit was out of its reach).
  static constexpr double kReferenceFalseAlarmsPerDay = 0.01;
  static constexpr double kPeakHalfLifeUs = 4 * 3600e6;
  static constexpr std::string_view kHabitualSilence =
      "no data for longer than the timeout, but no longer than a silence the series made before (a habit)";
  static constexpr std::string_view kRoutineSilence =
      "no data for longer than the timeout, but the series has often been silent as long before (a routine)";

  /// How many silences about as long a gap must follow to be routine (JudgeSilence). Fewer cost
  /// the generated fleets' dropouts (0.5 to 6 hours, at random about a day apart; seeds 11-13 at
  /// 1 and 5 minutes), which are anomalies: with 3, up to 0.06 of event F1 (0.874 on seed 11
  /// every 5 minutes, against the 0.9 every kind must keep), with 5, 0.007; from 6 on, nothing.
  /// The pump stand-in's 34 runs as one device (breaks of 35 to 45 minutes) lose the same 46 of
  /// their 62 silence alerts with 4, 6 or 8.
  static constexpr int64_t kRoutineSilences = 6;
  /// The series' silences by length (v25): half-octave bins from kSilenceBin0Us (5 minutes, the
  /// automatic timeout's floor); the last holds every longer one (over 10 days).
  static constexpr int kSilenceBins = 24;
  static constexpr double kSilenceBin0Us = 300e6;
  static int SilenceBin(int64_t gap_us) {
    const double octaves = std::log2(std::max(1.0, static_cast<double>(gap_us) / kSilenceBin0Us));
    return static_cast<int>(std::min(2.0 * octaves, kSilenceBins - 1.0));
  }
  /// The silences the series made before that were about as long as `gap_us` or longer: in its
  /// half-octave bin, the one below or any above (at least half as long; without the bin below, a
  /// routine whose lengths straddle a bin's edge, the pump's breaks of 37 to 44 minutes, counted
  /// only the longer half).
  int64_t SilencesAsLong(int64_t gap_us) const {
    int64_t as_long = 0;
    for (int b = std::max(0, SilenceBin(gap_us) - 1); b < kSilenceBins; ++b) {
      as_long += silences_by_length_[b];
    }
    return as_long;
  }
  /// How a gap past the timeout is judged against the series' silences before it.
  struct SilenceJudgement {
    double cap = INFINITY;  // finite: the surprise it is capped at (a habit of the series)
    bool routine = false;   // judged by the knob as the model members are, not always a flag
  };
  /// A gap longer than every silence the series made before is news: a rule, it always flags.
  /// One no longer than a silence before is a habit, as rare as the series' silences are (v10): it
  /// still flags, but it is scored at p = silences so far / readings so far (as the model members'
  /// calibration takes a level reached before as a habit), so it ranks below the series' anomalies
  /// and under a threshold chosen for them. A gap that kRoutineSilences silences before were
  /// about as long as (or longer: SilencesAsLong) is routine (v25): a device that sleeps at night,
  /// a machine run in sessions. Unless the user set the timeout (a rule they asked for), it is
  /// scored at p = those silences / readings and flags only past the knob's limit, as a level the
  /// model members reach habitually. Until v25 every one flagged: an alert per night or session.
  SilenceJudgement JudgeSilence(int64_t gap_us) const {
    SilenceJudgement j;
    if (silences_ == 0 || gap_us > silence_longest_us_) return j;
    // Each silence ends with a reading, so silences_ <= readings_ and p <= 1.
    j.cap = std::log10(static_cast<double>(readings_) / static_cast<double>(silences_));
    const int64_t as_long = SilencesAsLong(gap_us);
    if (silence_.timeout_us == 0 && as_long >= kRoutineSilences) {
      j.routine = true;
      j.cap = std::log10(static_cast<double>(std::max(readings_, as_long)) / static_cast<double>(as_long));
    }
    return j;
  }
  /// JudgeSilence for a gap that ended, which then teaches the habit.
  SilenceJudgement LearnSilence(int64_t gap_us) {
    const SilenceJudgement j = JudgeSilence(gap_us);
    silence_longest_us_ = std::max(silence_longest_us_, gap_us);
    ++silences_;
    ++silences_by_length_[SilenceBin(gap_us)];
    return j;
  }

  /// The surprise a point of member m must exceed to be news (not damped). The model members
  /// share one episode: a spike that also raises the volatility is one event, reported once.
  /// Once the episode reached the alarm level, its next report must be clearly worse: twice the
  /// surprise (the square of its p-value), or twice the alarm level, where anything is news
  /// however big the episode was. On the validation series and the NAB development set, 10 to 20
  /// per cent of the false alarms were such repeats within a few points of the last one.
  /// `run_continues`: the point continues the spike member's run of surprising points (one move
  /// while the expectation catches up). For a model member it is then news only beyond the run's
  /// own peak, however far past twice the alarm level that is: the same event, not a second one.
  double NewsAt(int m, double alarm, bool run_continues) const {
    double peak = peak_[m];
    if (m < kModelMembers) peak = std::max({peak_[kSpike], peak_[kCusum], peak_[kNovelty], peak_[kVolatility]});
    const double at = peak > alarm ? std::max(peak, std::min(kEscalation * peak, kNewsAtAlarms * alarm)) : peak;
    return run_continues && m < kModelMembers ? std::max(at, run_news_peak_) : at;
  }
  /// An episode of the model members is over once every one of them has found kCalmPoints
  /// points in a row quiet (raw surprise below 2, p > 1 %; v31): their remembered peaks are
  /// forgotten, and the next surprising point is judged as news against the flag limit, not
  /// against twice the alarm level. The peaks fade with a half-life of four hours, in time: at a
  /// reading every 5 minutes or slower, 30 quiet points are 2.5 hours and more, and this changes
  /// little; at a reading a second, a benign dip flagged a minute before a valve closed hid the
  /// closure for hours unless the closure was clearly worse (the pump stand-in: 2 of its 34
  /// faults, each after a false alarm in its run). A noisy series rarely makes 30 quiet points
  /// in a row on all four members, and keeps the faded peaks as before.
  void Calm(const double (&raw_model)[kModelMembers]) {
    double top = 0.0;
    for (int m = 0; m < kModelMembers; ++m) top = std::max(top, raw_model[m]);
    calm_points_ = top < kQuiet ? std::min(calm_points_ + 1, kCalmPoints + 1) : 0;  // no overflow
    if (calm_points_ == kCalmPoints) {
      for (int m = 0; m < kModelMembers; ++m) peak_[m] = 0.0;
    }
  }
  static constexpr int32_t kCalmPoints = 30;
  /// 2^(-gap / half-life), cached for the series' usual gap (exp is not free per point).
  double PeakFade(int64_t gap) {
    if (gap <= 0) return 1.0;
    if (gap != fade_gap_) {
      fade_gap_ = gap;
      fade_ = std::exp2(-static_cast<double>(gap) / kPeakHalfLifeUs);
    }
    return fade_;
  }
  double peak_[kMembers] = {};
  double raw_peak_[kModelMembers] = {};  // per model member: its raw surprise's fading peak
  double run_max_[kModelMembers] = {};  // spike: the peak of the current run >= kQuiet
  int episode_points_[kModelMembers] = {};
  double episode_from_ = 0.0;  // spike: its expectation at its episode's first surprising point
  double episode_step_ = 0.0;  // spike: that point less that expectation (see EndsEpisode)
  bool run_peak_learnt_ = false;  // spike: the run's peak was one of its episode's points learnt
  bool past_first_minutes_ = false;  // the series has reported for the timeout (InFirstMinutes)
  int8_t cusum_run_n_ = 0;  // CUSUM's points waiting in cusum_run_ (kCusumRun; here, it fills padding)
  int32_t calm_points_ = 0;  // consecutive points every model member found quiet (Calm)
  double run_news_peak_ = 0.0;  // the model members' highest surprise in the spike member's run
  static constexpr double kQuiet = SurpriseCalibration::kQuietBelow;  // raw surprise below: an ordinary point
  // CUSUM flags from this point of its slow baseline on (1 / its weight 0.002; see Update).
  static constexpr int64_t kCusumSettled = 500;
  /// CUSUM's surprising points are learnt once their run is over (v16): its sums grow point by
  /// point through a shift, and each step learnt as it came made the next one, a little higher,
  /// a level just seen (the calibration extrapolates from the highest level seen twice). A
  /// sustained shift of 2 sigmas was so never flagged: the calibrated surprise stayed near 3
  /// while the raw one passed 6. The points learnt are the same (the episode's first points and
  /// its escalations), only later; kCusumRun of them wait (bins, the top bit the side), the
  /// oldest (the lowest) learnt at once beyond that.
  static constexpr int kCusumRun = 16;
  uint8_t cusum_run_[kCusumRun] = {};
  void DeferCusum(double raw, bool down) {
    if (cusum_run_n_ == kCusumRun) {
      LearnCusumPoint(cusum_run_[0]);
      std::copy(cusum_run_ + 1, cusum_run_ + kCusumRun, cusum_run_);
      --cusum_run_n_;
    }
    cusum_run_[cusum_run_n_++] = static_cast<uint8_t>(SurpriseCalibration::Bin(raw) | (down ? 0x80 : 0));
  }
  void LearnCusumPoint(uint8_t point) {
    CusumSide((point & 0x80) != 0).LearnBin(point & 0x7f);
  }
  void LearnCusumRun() {
    for (int j = 0; j < cusum_run_n_; ++j) LearnCusumPoint(cusum_run_[j]);
    cusum_run_n_ = 0;
  }
  /// CUSUM's habits for a shift down (`down`) or up: that side's, borrowing the other side's
  /// (SurpriseCalibration::Borrowing).
  SurpriseCalibration CusumHabits(bool down) const { return CusumSide(down).Borrowing(CusumSide(!down)); }
  /// CUSUM's calibration for shifts down (`down`) or up.
  SurpriseCalibration& CusumSide(bool down) { return down ? cusum_down_ : calibration_[kCusum]; }
  const SurpriseCalibration& CusumSide(bool down) const { return down ? cusum_down_ : calibration_[kCusum]; }
  static constexpr int kPerEpisode = 4;  // per member: a different kind of evidence is news
  /// What the spike member learns of a point of a run of surprising points after the run's first
  /// (v20): its surprise `raw`, or its surprise against the reading before it (`before`, the
  /// flatline member's previous reading; with the member's spread `sd`) where that is less. An
  /// expectation follows a move with a lag (the level winsorised at 3 spreads a point, the
  /// previous value as well, the trend and the profile slower still), so each of a level shift's
  /// first points is surprising against it; learnt at that, they were four exceedances of the
  /// shift's size (the episode's first kPerEpisode points), and the series' next shift of that
  /// size or less was a habit after one. The series did one surprising thing, then stayed:
  /// against the reading before it, a point that stays is quiet. A burst whose readings jump
  /// about still teaches each jump, so a heavy tail's big values still count as often as they
  /// come (counting a run once, as v14's trial did, raised the validation series' false alarms).
  static double RunPointTaught(double raw, double x, double before, double sd) {
    if (std::isnan(before) || !(sd > 0.0)) return raw;
    return std::min(raw, GaussianSurprise((x - before) / sd));
  }
  /// Whether x, the first point of a run of surprising points within the spike member's episode
  /// (`expected` the member's expectation here), is the episode's end (v19): a step the other way
  /// from the episode's first, that undoes it (within half its size) or that brings the series
  /// nearer to where the episode began than to where it just was. A level shift's return or a
  /// burst's end is no second exceedance of the shift's size: learnt, it made the next shift of
  /// that size on the series a habit after one shift, not after two, wherever the spike member
  /// follows the series closely (the previous value, the trend: each step its own run). Both
  /// tests are needed: a daily cycle carries a series along under a shift of hours, so its return
  /// is off where the shift began but undoes its step (at 5 minutes, the fleets' humidity); where
  /// the expectation has only partly followed the shift, the return is a smaller step than the
  /// first but lands near where the episode began.
  /// A spike's return, the next point, is in the spike's own run and is learnt as before (a heavy
  /// tail's bursts still count twice: their second big value is as common as a fleet's second
  /// anomaly), and a step the same way as the first is news as before.
  bool EndsEpisode(double x, double expected) const {
    const double step = x - expected;
    if ((step > 0.0) == (episode_step_ > 0.0)) return false;
    return std::fabs(step + episode_step_) < kUndone * std::fabs(episode_step_) ||
           std::fabs(x - episode_from_) < std::fabs(step);
  }
  /// A step back undoes the episode's first step when it is nearer to undoing it than to not
  /// (half way) and than to undoing it twice over (EndsEpisode).
  static constexpr double kUndone = 0.5;
  // A spike whose peak is this far (in decades of p) beyond all but one point the series' spike
  // member remembers is isolated and counts once (v14; see Update).
  static constexpr double kIsolated = 12.0;
  /// Isolated: the run's peak and at most one other point within kIsolated of it, in faded
  /// counts (fractions once the memory has halved): fewer than two and a half.
  static constexpr float kIsolatedBelow = 2.5f;
  int64_t fade_gap_ = -1;
  double fade_ = 1.0;
  int64_t silence_longest_us_ = 0;  // the longest gap past the timeout so far (LearnSilence)
  int64_t silences_ = 0;             // gaps past the timeout so far
  int32_t silences_by_length_[kSilenceBins] = {};  // the same by length (SilenceBin)
  int64_t readings_ = 0;             // usable readings so far (the silence habit's points)
  Scale scale_ = Scale::kUndecided;   // the scale the members learn on (DecideScale)
  int32_t whole_readings_ = 0;        // readings that were whole numbers >= 0, up to kMinPoints
  Resolution resolution_;             // the step the readings are written in (v27)
  Setpoints setpoints_;               // the levels a machine runs at (v28)
  double fa_per_day_;
  bool explain_flags_only_;
  Cadence cadence_;
  FlagLimit limit_;
  FlagLimit alarm_;
  EwStats level_;
  double err_level_ = 0.0;       // the level's mean squared error (EW, weight 0.01)
  Adoption seasonal_pick_;        // the profile as the expectation (see Update)
  TrendLevel trend_;
  Adoption trend_pick_;           // the level with its trend as the spike member's expectation
  PreviousValue previous_;
  Adoption previous_pick_;        // the previous value as the spike member's expectation
  SeasonalCheck seasonal_;
  SeasonalCheck::Scratch seasonal_scratch_;  // derived from time and cadence only: not saved
  CusumCheck cusum_;
  NoveltyCheck novelty_;
  SurpriseCalibration calibration_[kModelMembers];  // CUSUM's: its shifts up (v15)
  SurpriseCalibration cusum_down_;                   // CUSUM's shifts down
  VolatilityCheck volatility_;
  FlatlineCheck flatline_;
  RangeCheck range_;
  SilenceCheck silence_;
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
